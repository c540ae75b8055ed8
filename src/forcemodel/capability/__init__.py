"""Capability planning: the defence plans' requirements as fair-share capability targets per
ally, the spending behind them, and the industry that refills the stockpiles (docs/capability.md).

The API: :func:`targets`, :func:`spending`, :func:`industry`; each takes a scenario (a loaded
:class:`~forcemodel.Scenario`, a path or a bundled name), an optional capability file and
options that win over the file's values (``year``, ``as_of``, ``rule``, ``cap_share``, ``allies``,
``whole``). Bad input raises :class:`CapabilityError` with located problems.
"""

from __future__ import annotations

from forcemodel.capability.api import (
    DEFAULT_STEPS,
    SpendingResult,
    force,
    industry,
    load_scenario_source,
    spending,
    targets,
)
from forcemodel.capability.errors import CapabilityError
from forcemodel.capability.industry import (
    IndustryResult,
    results_after_runout,
    scale_power_after_runout,
)
from forcemodel.capability.load import bundled_tables, load_capability_data, load_capability_file
from forcemodel.capability.model import CapabilityFile
from forcemodel.capability.targets import TargetsResult

__all__ = [
    "DEFAULT_STEPS",
    "CapabilityError",
    "CapabilityFile",
    "IndustryResult",
    "SpendingResult",
    "TargetsResult",
    "bundled_tables",
    "force",
    "industry",
    "load_capability_data",
    "load_capability_file",
    "load_scenario_source",
    "results_after_runout",
    "scale_power_after_runout",
    "spending",
    "targets",
]
