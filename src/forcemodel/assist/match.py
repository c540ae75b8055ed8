"""Match pledges to requirements and explain what stays unmet: the matcher's entry point.

:func:`match_case` solves the case (:func:`forcemodel.assist.solve.solve`: compile, build with
linopy, run HiGHS, read the plan) and explains every unmet requirement
(:mod:`forcemodel.assist.explain`). The maths and what is left out: docs/assistance.md.
"""

from __future__ import annotations

import dataclasses

from forcemodel.assist.explain import unmet_requirements
from forcemodel.assist.model import AssistanceCase
from forcemodel.assist.result import MatchResult
from forcemodel.assist.solve import solve

__all__ = ["MatchResult", "match_case"]


def match_case(
    case: AssistanceCase,
    *,
    time_limit: float = 60.0,
    mip_gap: float = 1e-4,
    relax: bool = False,
) -> MatchResult:
    """Match pledges to requirements and explain what stays unmet.

    Args:
        case: a loaded case (:func:`load_case`).
        time_limit: seconds the solver may run; at the limit the best plan found is returned.
        mip_gap: relative optimality gap at which the MIP stops.
        relax: solve the LP relaxation (fractional systems, cohorts that half run).

    Raises:
        ValueError: a solver setting that cannot be used.
        forcemodel.mip.errors.InfeasibleError: recorded deliveries that no plan can honour.
        forcemodel.mip.errors.NoSolutionError: the solver stopped before it found a plan.
    """
    result = solve(case, time_limit=time_limit, mip_gap=mip_gap, relax=relax)
    return dataclasses.replace(result, unmet=unmet_requirements(result))
