"""The result of a matching: the plan's tables and what the solver said."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from forcemodel.assist.compile import Compiled
from forcemodel.assist.model import AssistanceCase


@dataclass(frozen=True)
class MatchResult:
    """The matching plan and what it achieves.

    - ``deliveries``: one row per arc and delivery day: pledge, donor, item, requirement, role
      (``main``: the item itself; ``supply``: e.g. ammunition as a system's first load), route,
      hub, quantity, ship/hub/delivery day and date, and the day the row is all operational
      (systems: delivered, supplied and crewed; other items: on delivery; supplies: blank).
    - ``progress``: per requirement, item and day: delivered and operational quantities.
    - ``requirements``: per requirement: quantity, priority, needed-by day, delivered and
      operational by then, shortfall, and the first day it is fully operational.
    - ``training``: cohorts that run, their trainees per item.
    - ``hubs``: per hub and day: tons through, capacity.
    - ``unmet``: why requirements are short (filled by :mod:`forcemodel.assist.explain`).
    """

    case: AssistanceCase
    compiled: Compiled
    termination: str
    objective: float
    mip_gap: float | None
    runtime_s: float | None
    log: str
    deliveries: pd.DataFrame
    progress: pd.DataFrame
    requirements: pd.DataFrame
    training: pd.DataFrame
    hubs: pd.DataFrame
    unmet: pd.DataFrame = field(default_factory=pd.DataFrame)
