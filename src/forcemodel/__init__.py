"""forcemodel: open planning of an alliance's deterrence and defence posture."""

from importlib.metadata import PackageNotFoundError, version

from forcemodel.scenario import (
    Problem,
    Scenario,
    ScenarioError,
    bundled_scenarios,
    load_scenario,
    load_scenario_data,
)

try:
    __version__ = version("forcemodel")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = [
    "Problem",
    "Scenario",
    "ScenarioError",
    "__version__",
    "bundled_scenarios",
    "load_scenario",
    "load_scenario_data",
]
