"""The capability-planning API: targets, spending, industry and the force of a later year."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from forcemodel.capability.acquisitions import force_as_of
from forcemodel.capability.errors import CapabilityError, CapabilityInputError
from forcemodel.capability.industry import (
    IndustryResult,
)
from forcemodel.capability.industry import industry as _industry
from forcemodel.capability.load import (
    Loaded,
    Tables,
    bundled_tables,
    field_message,
    load_capability_data,
    load_capability_file,
)
from forcemodel.capability.model import CapabilityFile
from forcemodel.capability.spending import (
    by_ally,
    counts,
    guideline_list,
    real_growth,
    shortfall_costs,
)
from forcemodel.capability.targets import TargetsResult, apportion
from forcemodel.common.errors import Problem
from forcemodel.scenario import Scenario, load_scenario

#: Whole units per capability for ``whole=True``: a brigade, an artillery battalion (0.3 of a
#: brigade's fires, catalogue), an air-defence battalion, a squadron, a task group, a team.
DEFAULT_STEPS: dict[str, float] = {
    "land": 1.0,
    "fires": 0.3,
    "air_defence": 1.0,
    "air": 1.0,
    "maritime": 1.0,
    "cyber": 1.0,
}

#: Option name -> how the CLI spells it (for located messages).
_OPTION_LABELS = {
    "year": "--year",
    "as_of": "--as-of",
    "share": "--rule",
    "cap_share": "--cap-share",
    "allies": "--allies",
    "steps": "--whole",
}


@dataclass(frozen=True)
class SpendingResult:
    """Spending tables: per ally and guideline, counts, and the cost of the shortfalls."""

    by_ally: pd.DataFrame
    counts: pd.DataFrame
    costs: pd.DataFrame
    targets: TargetsResult
    #: The guidelines' shares of GDP (%), for charts.
    share_lines: list[float]
    #: Per ally and year: expenditure at 2015 prices and its real change (``real_growth``).
    real: pd.DataFrame


Source = str | Path | Scenario


def load_scenario_source(scenario: Source) -> Scenario:
    """A loaded scenario as it is, or one loaded from a path or a bundled name."""
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def _inputs(
    scenario: Source,
    capability: str | Path | Loaded | CapabilityFile | dict[str, Any] | None,
    year: int | None,
    as_of: int | None,
    rule: str | None,
    cap_share: float | None,
    allies: list[str] | None,
    whole: bool,
) -> tuple[Scenario, Loaded]:
    sc = load_scenario_source(scenario)
    if isinstance(capability, Loaded):
        loaded = capability
    elif isinstance(capability, CapabilityFile):
        loaded = Loaded(capability)
    elif isinstance(capability, dict):
        loaded = load_capability_data(capability)
    else:
        loaded = load_capability_file(capability)
    update: dict[str, Any] = {}
    if year is not None:
        update["year"] = year
    if as_of is not None:
        update["as_of"] = as_of
    if rule is not None:
        update["share"] = {"rule": rule}
    if cap_share is not None:
        update["cap_share"] = cap_share
    if allies is not None:
        update["allies"] = allies
    if whole:
        update["steps"] = {**DEFAULT_STEPS, **loaded.plan.steps}
    if not update:
        return sc, loaded
    data = loaded.plan.model_dump(exclude_unset=True)
    data.update(update)
    options = {k: _OPTION_LABELS[k] for k in update}
    try:
        plan = CapabilityFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            key = str(loc[0]) if loc else ""
            msg = field_message(err)
            if key in options:
                problems.append(Problem(options[key], None, "", msg))
            else:
                problems.append(loaded.problem(loc, msg))
        raise CapabilityError(problems) from None
    return sc, Loaded(plan, loaded.label, loaded.locs, options)


def _run(loaded: Loaded, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except CapabilityInputError as exc:
        raise loaded.located(exc) from None


def targets(
    scenario: Source,
    capability: str | Path | Loaded | CapabilityFile | dict[str, Any] | None = None,
    *,
    year: int | None = None,
    as_of: int | None = None,
    rule: str | None = None,
    cap_share: float | None = None,
    allies: list[str] | None = None,
    whole: bool = False,
    tables: Tables | None = None,
) -> TargetsResult:
    """Capability targets per ally by fair share, with each ally's offers and balance."""
    sc, loaded = _inputs(scenario, capability, year, as_of, rule, cap_share, allies, whole)
    result: TargetsResult = _run(loaded, apportion, sc, loaded.plan, tables or bundled_tables())
    return result


def spending(
    scenario: Source,
    capability: str | Path | Loaded | CapabilityFile | dict[str, Any] | None = None,
    *,
    years: list[int] | None = None,
    year: int | None = None,
    as_of: int | None = None,
    rule: str | None = None,
    cap_share: float | None = None,
    allies: list[str] | None = None,
    whole: bool = False,
    tables: Tables | None = None,
) -> SpendingResult:
    """Allies meeting each guideline (by year) and the cost of each ally's shortfall."""
    sc, loaded = _inputs(scenario, capability, year, as_of, rule, cap_share, allies, whole)
    tab = tables or bundled_tables()
    plan = loaded.plan
    result: TargetsResult = _run(loaded, apportion, sc, plan, tab)
    all_years = years or sorted(int(y) for y in tab.spending["year"].unique())
    return SpendingResult(
        by_ally=by_ally(tab, plan, plan.year),
        counts=counts(tab, plan, all_years),
        costs=shortfall_costs(result, tab, plan),
        targets=result,
        share_lines=sorted(
            {g.share_gdp_pct for g in guideline_list(plan) if g.share_gdp_pct is not None}
        ),
        real=real_growth(tab, plan, all_years),
    )


def industry(
    scenario: Source,
    capability: str | Path | Loaded | CapabilityFile | dict[str, Any] | None = None,
    *,
    days: int | None = None,
    tables: Tables | None = None,
) -> IndustryResult:
    """How long each stockpile lasts under the scenario, with today's lines and the pledge."""
    sc, loaded = _inputs(scenario, capability, None, None, None, None, None, False)
    if days is not None and days < 1:
        raise CapabilityError([Problem("--days", None, "", f"must be 1 or more, got {days}")])
    result: IndustryResult = _run(
        loaded, _industry, sc, loaded.plan, tables or bundled_tables(), days
    )
    return result


def force(
    scenario: Source,
    capability: str | Path | Loaded | CapabilityFile | dict[str, Any] | None = None,
    *,
    as_of: int | None = None,
) -> Scenario:
    """The scenario as of a year (``as_of``, else the file's ``as_of`` or ``year``): the
    acquisitions delivered by then that name a ``unit`` added as units, for the simulation."""
    sc, loaded = _inputs(scenario, capability, None, as_of, None, None, None, False)
    plan = loaded.plan
    year = plan.as_of if plan.as_of is not None else plan.year
    result: Scenario = _run(loaded, force_as_of, sc, plan, year)
    return result
