"""Assessment: what results mean (assess), two runs side by side (compare), why (explain).

Re-exports only; each module says what it computes. Pure computation over
:class:`~forcemodel.results.Results`: nothing here reads a file or prints.
"""

from forcemodel.assessment.assess import (
    AT_CAPACITY,
    Assessment,
    assess,
    bottleneck_table,
    capability_table,
    force_ratio_table,
    region_table,
    tier_table,
)
from forcemodel.assessment.changes import element_use, headline, scenario_changes
from forcemodel.assessment.compare import (
    Comparison,
    check_labels,
    compare,
    default_labels,
)
from forcemodel.assessment.explain import ExplainError, Explanation, explain

__all__ = [
    "AT_CAPACITY",
    "Assessment",
    "Comparison",
    "ExplainError",
    "Explanation",
    "assess",
    "bottleneck_table",
    "capability_table",
    "check_labels",
    "compare",
    "default_labels",
    "element_use",
    "explain",
    "force_ratio_table",
    "headline",
    "region_table",
    "scenario_changes",
    "tier_table",
]
