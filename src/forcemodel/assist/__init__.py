"""assist: security-assistance coordination for a partner nation.

Donors pledge items (or funds to buy them); the partner states requirements; items carry a
standard so that systems, ammunition and spares must match; deliveries pass logistics hubs with
daily capacities; a system is operational only when delivered, supplied with compatible
ammunition and crewed by people trained on it. :func:`match_case` allocates pledges to
requirements and schedules hub throughput and training cohorts with a MIP (linopy + HiGHS), then
explains every unmet requirement. The maths and what is left out: docs/assistance.md.
"""

from __future__ import annotations

from forcemodel.assist.compile import compile_case
from forcemodel.assist.explain import REASONS, reason_counts, unmet_requirements
from forcemodel.assist.kiel import KielImport, import_kiel
from forcemodel.assist.load import AssistError, bundled_cases, load_case, load_case_data, table_csv
from forcemodel.assist.match import match_case
from forcemodel.assist.model import AssistanceCase
from forcemodel.assist.report import STAGES, fleet_mix, result_tables, status_table
from forcemodel.assist.result import MatchResult

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
    "unmet_requirements",
]
