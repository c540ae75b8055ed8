"""Requirements to capability targets, and targets against the allies' offers.

* The alliance's minimum requirement per capability is the sum over the scenario's regions of
  the peak of each region's requirement curve, plus the capability file's extra requirements.
* Offers: each ally's power per capability in the scenario, units (force offers) and forces
  in place, plus the acquisitions that count by the file's year.
* Targets: the requirement apportioned by fair share (module :mod:`.shares`), in whole steps
  where the file asks (module :mod:`.plan`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forcemodel.capability.errors import CapabilityInputError, Issue, Path_
from forcemodel.capability.load import Tables
from forcemodel.capability.model import CapabilityFile
from forcemodel.capability.plan import whole_targets
from forcemodel.capability.shares import (
    RULE_COLUMN,
    bound_issues,
    figures,
    water_fill,
    weights,
)
from forcemodel.scenario.model import CAPABILITIES, Scenario


@dataclass(frozen=True)
class TargetsResult:
    """Tidy tables of one apportionment (saved by the CLI as files)."""

    requirements: pd.DataFrame  # capability, regions, extra, requirement, step, apportioned
    shares: pd.DataFrame  # ally, weight, figure columns
    targets: pd.DataFrame  # ally, capability, fair, floor, cap, target, offer, balance
    unattributed: pd.DataFrame  # nation, capability, offer: offers of non-allies (e.g. XX)
    year: int
    rule: str
    as_of: int


def requirements(scenario: Scenario, plan: CapabilityFile) -> pd.DataFrame:
    """The alliance's minimum requirement per capability (regions' peaks + extra)."""
    rows = []
    for cap in CAPABILITIES:
        regions = sum(
            max((v for _, v in getattr(r.requirement, cap)), default=0.0) for r in scenario.regions
        )
        extra = sum(e.power for e in plan.requirements if e.capability == cap)
        rows.append({"capability": cap, "regions": regions, "extra": extra})
    out = pd.DataFrame(rows)
    out["requirement"] = out["regions"] + out["extra"]
    return out


def offers(scenario: Scenario, plan: CapabilityFile, year: int | None = None) -> pd.DataFrame:
    """Each nation's power per capability: units, forces in place, and the file's acquisitions
    that count by ``year`` (default: the file's year). Columns: nation, capability, offer."""
    year = plan.year if year is None else year
    rows: list[tuple[str, str, float]] = []
    for u in scenario.units:
        rows += [(u.nation, c, float(getattr(u.power, c))) for c in CAPABILITIES]
    for r in scenario.regions:
        for f in r.in_place:
            rows += [(f.nation, c, float(getattr(f.power, c)) * f.count) for c in CAPABILITIES]
    ids = {u.id for u in scenario.units}
    for k, a in enumerate(plan.acquisitions):
        # A scenario built by force_as_of already holds the acquisition as a unit: once only.
        if a.year <= year and not (a.unit is not None and a.unit_id(k) in ids):
            rows.append((a.ally, a.capability, a.power))
    frame = pd.DataFrame(rows, columns=["nation", "capability", "offer"])
    return frame.groupby(["nation", "capability"], as_index=False).agg(offer=("offer", "sum"))


def _allies(
    scenario: Scenario, plan: CapabilityFile, tables: Tables, figs: pd.DataFrame, year: int
) -> tuple[list[str], list[str]]:
    """The allies sharing the targets, and the offering nations left out (with why)."""
    members = tables.allies[tables.allies["member_since"] <= year]["ally"].tolist()
    members += [f.ally for f in plan.figures if f.year == year and f.ally not in members]
    if plan.allies is not None:
        issues = [
            Issue(
                ("allies", i),
                f"{a} is not a NATO ally in {year} (allies.csv) and the file "
                f"gives no figures for it",
            )
            for i, a in enumerate(plan.allies)
            if a not in members
        ]
        if issues:
            raise CapabilityInputError(issues)
        return list(dict.fromkeys(plan.allies)), []
    nations = sorted(
        {u.nation for u in scenario.units}
        | {f.nation for r in scenario.regions for f in r.in_place}
        | {a.ally for a in plan.acquisitions}
    )
    col = RULE_COLUMN
    needed = (
        [col[plan.share.rule]]
        if plan.share.rule != "blend"
        else [col[k] for k, w in (plan.share.blend or {}).items() if w > 0]
    )
    have = figs.set_index("ally")[needed].notna().all(axis=1)
    chosen, left = [], []
    for n in nations:
        if n not in members:
            left.append(f"{n}: not a NATO ally in {year}")
        elif not bool(have.get(n, False)):
            left.append(
                f"{n}: no {'/'.join(k for k, c in col.items() if c in needed)} figure for {year}"
            )
        else:
            chosen.append(n)
    return chosen, left


def _bounds(
    plan: CapabilityFile, cap: str, allies: list[str], requirement: float
) -> tuple[np.ndarray, np.ndarray, list[Path_], list[Path_]]:
    n = len(allies)
    lo, hi = np.zeros(n), np.full(n, plan.cap_share * requirement)
    lo_from: list[Path_] = [("floors",)] * n
    hi_from: list[Path_] = [("cap_share",)] * n
    pos = {a: i for i, a in enumerate(allies)}
    for k, b in enumerate(plan.floors):
        if b.capability in (None, cap) and b.ally in pos and b.power > lo[pos[b.ally]]:
            lo[pos[b.ally]], lo_from[pos[b.ally]] = b.power, ("floors", k, "power")
    for k, b in enumerate(plan.caps):
        if b.capability in (None, cap) and b.ally in pos and b.power < hi[pos[b.ally]]:
            hi[pos[b.ally]], hi_from[pos[b.ally]] = b.power, ("caps", k, "power")
    return lo, hi, lo_from, hi_from


def apportion(scenario: Scenario, plan: CapabilityFile, tables: Tables) -> TargetsResult:
    """Capability targets per ally by fair share, compared with the allies' offers.

    Raises :class:`CapabilityInputError` naming the ally and the bound when floors and caps
    cannot be met, or the ally whose figure the rule needs is missing.
    """
    year = plan.year
    figs = figures(tables.spending, plan, year, tables.economy)
    allies, left = _allies(scenario, plan, tables, figs, year)
    issues: list[Issue] = []
    for k, b in enumerate([*plan.floors, *plan.caps]):
        field = "floors" if k < len(plan.floors) else "caps"
        j = k if k < len(plan.floors) else k - len(plan.floors)
        if b.ally not in allies:
            issues.append(
                Issue(
                    (field, j, "ally"),
                    f"{b.ally} is not among the allies sharing "
                    f"the targets ({', '.join(allies) or 'none'})",
                )
            )
    if not allies:
        issues.append(
            Issue(("year",), f"no ally to share the targets in {year}: " + "; ".join(left))
        )
    if issues:
        raise CapabilityInputError(issues)
    w = weights(figs, allies, plan, year)
    req = requirements(scenario, plan)
    offer = offers(scenario, plan, plan.as_of if plan.as_of is not None else year)
    rows = []
    for cap, r in zip(req["capability"], req["requirement"], strict=True):
        if r <= 0:  # nothing to apportion: no rows (the requirements table shows the 0)
            continue
        lo, hi, lo_from, hi_from = _bounds(plan, cap, allies, float(r))
        step = plan.steps.get(cap)
        found = bound_issues(cap, float(r), allies, lo, hi, lo_from, hi_from, step)
        if found:
            issues += found
            continue
        fair = w.to_numpy() * float(r)
        t = water_fill(float(r), w.to_numpy(), lo, hi)
        if step:
            t = whole_targets(t, step, lo, hi, float(r))
        for i, a in enumerate(allies):
            rows.append(
                {
                    "ally": a,
                    "capability": cap,
                    "fair": fair[i],
                    "floor": lo[i],
                    "cap": hi[i],
                    "target": t[i],
                }
            )
    if issues:
        raise CapabilityInputError(issues)
    targets = pd.DataFrame(rows, columns=["ally", "capability", "fair", "floor", "cap", "target"])
    by = offer.rename(columns={"nation": "ally"})
    targets = targets.merge(by, on=["ally", "capability"], how="left").fillna({"offer": 0.0})
    targets["balance"] = targets["offer"] - targets["target"]
    req["step"] = [plan.steps.get(c) for c in req["capability"]]
    req["apportioned"] = (
        targets.groupby("capability")["target"].sum().reindex(req["capability"]).to_numpy()
    )
    shares = figs.set_index("ally").reindex(allies).reset_index()
    shares.insert(1, "weight", w.to_numpy())
    unattributed = offer[~offer["nation"].isin(allies) & (offer["offer"] > 0)]
    unattributed = unattributed.reset_index(drop=True).copy()
    reason = {s.split(":")[0]: s.split(": ", 1)[1] for s in left}
    unattributed["why"] = [
        reason.get(n, "not among the allies named") for n in unattributed["nation"]
    ]
    as_of = plan.as_of if plan.as_of is not None else year
    return TargetsResult(req, shares, targets, unattributed, year, plan.share.rule, as_of)
