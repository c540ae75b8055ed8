"""forcemodel: open planning of an alliance's deterrence and defence posture.

The names below are imported on first use (PEP 562), so that ``import forcemodel`` and the
command line's ``--help`` do not pay for the engines (Numba, linopy, pandas) they do not use.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("forcemodel")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

if TYPE_CHECKING:
    from forcemodel import assessment, optimize, report
    from forcemodel.assessment import Assessment, Comparison, assess, compare
    from forcemodel.common.errors import Problem, ScenarioError
    from forcemodel.flow import UnreachableError, simulate
    from forcemodel.results import Results, ResultsError
    from forcemodel.scenario.load import bundled_scenarios, load_scenario, load_scenario_data
    from forcemodel.scenario.model import Scenario

#: Public name -> the module that defines it.
_WHERE = {
    "Assessment": "forcemodel.assessment",
    "assess": "forcemodel.assessment",
    "Comparison": "forcemodel.assessment",
    "compare": "forcemodel.assessment",
    "Problem": "forcemodel.common.errors",
    "ScenarioError": "forcemodel.common.errors",
    "UnreachableError": "forcemodel.flow",
    "simulate": "forcemodel.flow",
    "Results": "forcemodel.results",
    "ResultsError": "forcemodel.results",
    "bundled_scenarios": "forcemodel.scenario.load",
    "load_scenario": "forcemodel.scenario.load",
    "load_scenario_data": "forcemodel.scenario.load",
    "Scenario": "forcemodel.scenario.model",
}

__all__ = [
    "Assessment",
    "Comparison",
    "Problem",
    "Results",
    "ResultsError",
    "Scenario",
    "ScenarioError",
    "UnreachableError",
    "__version__",
    "assess",
    "assessment",
    "bundled_scenarios",
    "compare",
    "load_scenario",
    "load_scenario_data",
    "optimize",
    "report",
    "simulate",
]


#: Subpackages reachable as attributes without an import of their own:
#: ``forcemodel.optimize.optimize(s)``, ``forcemodel.report.write_report(results)``.
_SUBPACKAGES = ("assessment", "optimize", "report")


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"forcemodel.{name}")
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'forcemodel' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
