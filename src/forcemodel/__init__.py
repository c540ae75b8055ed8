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

# Engines and results after the version: they record it in every results folder.
from forcemodel.assessment import Assessment, assess
from forcemodel.flow import UnreachableError, simulate
from forcemodel.results import Results, ResultsError

__all__ = [
    "Assessment",
    "Problem",
    "Results",
    "ResultsError",
    "Scenario",
    "ScenarioError",
    "UnreachableError",
    "__version__",
    "assess",
    "bundled_scenarios",
    "load_scenario",
    "load_scenario_data",
    "simulate",
]
