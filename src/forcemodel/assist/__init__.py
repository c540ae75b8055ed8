"""assist: security-assistance coordination for a partner nation.

Donors pledge items (or funds to buy them); the partner states requirements; items carry a
standard so that systems, ammunition and spares must match; deliveries pass logistics hubs with
daily capacities; a system is operational only when delivered, supplied with compatible
ammunition and crewed by people trained on it. :func:`match_case` allocates pledges to
requirements and schedules hub throughput and training cohorts with a MIP (linopy + HiGHS), then
explains every unmet requirement. The maths and what is left out: docs/assistance.md.
"""

from __future__ import annotations

import dataclasses

from forcemodel.assist.explain import REASONS, reason_counts, unmet_requirements
from forcemodel.assist.kiel import KielImport, import_kiel
from forcemodel.assist.load import AssistError, bundled_cases, load_case, load_case_data, table_csv
from forcemodel.assist.match import MatchResult, compile_case, solve
from forcemodel.assist.model import AssistanceCase
from forcemodel.assist.report import STAGES, fleet_mix, result_tables, status_table

__all__ = [
    "REASONS",
    "STAGES",
    "AssistError",
    "AssistanceCase",
    "KielImport",
    "MatchResult",
    "bundled_cases",
    "compile_case",
    "fleet_mix",
    "import_kiel",
    "load_case",
    "load_case_data",
    "match_case",
    "reason_counts",
    "result_tables",
    "status_table",
    "table_csv",
]


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
        forcemodel.optimize.InfeasibleError: recorded deliveries that no plan can honour.
        forcemodel.optimize.NoSolutionError: the solver stopped before it found a plan.
    """
    result = solve(case, time_limit=time_limit, mip_gap=mip_gap, relax=relax)
    return dataclasses.replace(result, unmet=unmet_requirements(result))
