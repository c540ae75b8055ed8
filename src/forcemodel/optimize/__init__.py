"""optimize: choose each unit's region and pre-positioned set to close the requirement gaps.

A daily time-expanded model (linopy, :mod:`.model`) solved by HiGHS within a budget
(:mod:`.search`, :mod:`.stopping`), its plans checked by simulation (:mod:`.safeguard`,
:mod:`.simulated`). The maths and what the model leaves out are in docs/optimization.md.
This package only re-exports; re-planning is :mod:`forcemodel.optimize.replan`.
"""

from forcemodel.mip.errors import InfeasibleError, NoSolutionError, OptimizationError
from forcemodel.mip.solve import METHODS
from forcemodel.optimize.api import (
    MODEL_FORMATS,
    SEARCHES,
    ExtraFunctionality,
    optimize,
    write_model_file,
)
from forcemodel.optimize.explain import CAPACITY_KINDS
from forcemodel.optimize.model import BuiltModel, Choice, Weights
from forcemodel.optimize.plan import OptimizationResult, planned_scenario_data
from forcemodel.optimize.safeguard import bundled_closure_days
from forcemodel.optimize.search import LARGE_OPTIONS
from forcemodel.optimize.spans import capacity_spans
from forcemodel.optimize.stopping import WorkLimits

__all__ = [
    "CAPACITY_KINDS",
    "LARGE_OPTIONS",
    "METHODS",
    "MODEL_FORMATS",
    "SEARCHES",
    "BuiltModel",
    "Choice",
    "ExtraFunctionality",
    "InfeasibleError",
    "NoSolutionError",
    "OptimizationError",
    "OptimizationResult",
    "Weights",
    "WorkLimits",
    "bundled_closure_days",
    "capacity_spans",
    "optimize",
    "planned_scenario_data",
    "write_model_file",
]
