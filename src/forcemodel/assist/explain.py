"""Why a requirement is not operational by its needed-by date, in plain words.

Each requirement short on its needed-by date gets one or more reasons, read from the case and
the plan, in the order a coordinator would look:

- ``no_pledge``: nothing pledged (nor funds that could buy) serves it;
- ``incompatible_standard``: what is pledged for it, or for its systems' ammunition and spares,
  is of another standard or family (e.g. 152 mm Soviet-era rounds for a 155 mm howitzer);
- ``late``: the pledges that serve it cannot arrive by the date (available-from, route times);
- ``hub_capacity``: a hub or route on its way was full on days before the date;
- ``allocated_elsewhere``: its pledges went to other requirements (higher priority or date);
- ``training_bottleneck``: delivered systems without enough trained crews (or no course);
- ``supplies``: delivered systems without enough ammunition or spares of their family.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forcemodel.assist.compile import records
from forcemodel.assist.model import (
    AssistanceCase,
    Course,
    Item,
    Requirement,
    requirement_serves,
)
from forcemodel.assist.plan_index import MainArcs, PlanIndex
from forcemodel.assist.result import MatchResult

REASONS: tuple[str, ...] = (
    "no_pledge",
    "incompatible_standard",
    "late",
    "hub_capacity",
    "allocated_elsewhere",
    "training_bottleneck",
    "supplies",
)


def unmet_requirements(result: MatchResult) -> pd.DataFrame:
    """One row per reason a requirement is short on its needed-by date.

    Columns: ``requirement``, ``needed_by``, ``quantity``, ``operational_by_due``,
    ``shortfall``, ``reason`` (one of :data:`REASONS`) and ``detail`` (in words).
    """
    case = result.case
    rows: list[dict[str, object]] = []
    summary = {str(row["requirement"]): row for row in records(result.requirements)}
    index: PlanIndex | None = None
    for r in case.requirements:
        s = summary[r.id]
        if float(s["shortfall"]) <= 1e-6:
            continue
        if index is None:  # built only when something is short
            index = PlanIndex.of(result)
        for reason, detail in _reasons(case, result, r, index):
            rows.append(
                {
                    "requirement": r.id,
                    "needed_by": r.needed_by.isoformat(),
                    "quantity": float(r.quantity),
                    "operational_by_due": float(s["operational_by_due"]),
                    "shortfall": float(s["shortfall"]),
                    "reason": reason,
                    "detail": detail,
                }
            )
    columns = [
        "requirement",
        "needed_by",
        "quantity",
        "operational_by_due",
        "shortfall",
        "reason",
        "detail",
    ]
    return pd.DataFrame(rows, columns=columns)


def _wants(r: Requirement) -> str:
    if r.item is not None:
        return f"'{r.item}'"
    return f"{r.capability}" + (f" of standard {r.standard}" if r.standard else "")


def _reasons(
    case: AssistanceCase, res: MatchResult, r: Requirement, ix: PlanIndex
) -> list[tuple[str, str]]:
    items = ix.items
    serving = {it.id for it in case.items if requirement_serves(r, it)}
    funded = ix.any_funds and any(items[i].price_eur is not None for i in serving)
    due = case.day(r.needed_by)
    date = r.needed_by.isoformat()
    if ix.pledged_of(serving) <= 0 and not funded:
        cap = items[r.item].capability if r.item is not None else r.capability
        others = sorted(
            {
                f"{it.id} ({it.standard})"
                for it in case.items
                if it.capability == cap and it.id not in serving and ix.pledged_of({it.id}) > 0
            }
        )
        if others:
            return [
                (
                    "incompatible_standard",
                    f"needs {_wants(r)}; pledged for {cap} only: {', '.join(others)}",
                )
            ]
        return [("no_pledge", f"no pledge of {_wants(r)} and no funds that could buy one")]

    out: list[tuple[str, str]] = []
    prog = ix.progress_at_due(r.id)
    delivered = float(prog["delivered"].sum())
    operational = float(prog["operational"].sum())
    comp = res.compiled
    # Arcs that can bring its items: by item, so that the same rows serve the per-arc model
    # (arcs per line) and the pool model (arcs per source and route only); a bound above the
    # requirement's quantity is cut to it where it is used.
    arcs = ix.arcs_of(ix.line_items.get(r.id, set()))
    if delivered < r.quantity - 1e-6:
        pledged = min(_pledged_for(case, serving, ix), r.quantity)
        if pledged < r.quantity - 1e-6:
            out.append(
                (
                    "no_pledge",
                    f"only {pledged:g} of {r.quantity:g} pledged"
                    + (" (with what funds can buy)" if arcs.funded.any() else ""),
                )
            )
        in_time = arcs.take(arcs.earliest <= due)
        reachable = min(_can_get(in_time), r.quantity)
        if reachable < min(pledged, r.quantity) - 1e-6:
            first = int(arcs.earliest.min()) if len(arcs) else None
            when = (
                f"; the first could arrive {case.date(first).isoformat()}"
                if first is not None
                else ""
            )
            out.append(
                (
                    "late",
                    f"only {reachable:g} of {r.quantity:g} can arrive by {date} "
                    f"(available-from dates and route times){when}",
                )
            )
        if delivered < min(reachable, r.quantity) - 1e-6:
            full = _full_capacity(res, in_time, due, ix)
            if full:
                out.append(("hub_capacity", f"full before {date}: {full}"))
            else:
                # A source may hold several identical pledges (merged): look at them all.
                held = comp.sources["members"].to_numpy()
                in_time_pledges = {m for si in set(in_time.source.tolist()) for m in held[si]}
                went: set[str] = set()
                for pl in in_time_pledges:
                    went |= ix.pledge_requirements.get(str(pl), set())
                to = sorted(went - {r.id})
                what = f" to {', '.join(to)}" if to else ""
                out.append(
                    (
                        "allocated_elsewhere",
                        f"pledges that could serve it went{what} "
                        f"(higher priority, or worth more there)",
                    )
                )
    if operational < delivered - 1e-6:
        out.extend(_not_operational(case, res, r, due, prog, ix))
    if not out:
        out.append(
            (
                "allocated_elsewhere",
                "the plan serves other requirements first (priority-weighted share by date)",
            )
        )
    return out


def _pledged_for(case: AssistanceCase, serving: set[str], ix: PlanIndex) -> float:
    """Items pledged that serve, plus the most that each pledge of funds can buy of them."""
    total = ix.pledged_of(serving)
    prices = [it.price_eur for it in case.items if it.id in serving and it.price_eur]
    if prices:
        total += ix.funds_buy(min(prices))
    return total


def _can_get(arcs: MainArcs) -> float:
    """Most the sources of ``arcs`` can give (each source once; funds by what they buy)."""
    if not len(arcs):
        return 0.0
    sources, at, inv = np.unique(arcs.source, return_index=True, return_inverse=True)
    per_source = np.full(sources.size, -np.inf)
    np.maximum.at(per_source, inv, arcs.bound)
    # Sources of one pledge of funds share its money: count the largest of them only (pledges
    # in sorted order, as a group-by would sum them).
    pledges, inv2 = np.unique(arcs.pledge[at], return_inverse=True)
    per_pledge = np.full(pledges.size, -np.inf)
    np.maximum.at(per_pledge, inv2, per_source)
    return float(per_pledge.sum())


def _full_capacity(res: MatchResult, arcs: MainArcs, due: int, ix: PlanIndex) -> str:
    """Hubs and capped routes of ``arcs`` that were full on some day before ``due``."""
    found: list[str] = []
    for hub in sorted(set(arcs.hub.tolist())):
        mine = arcs.hub == hub
        lo = int((arcs.earliest[mine] - arcs.onward[mine]).min())
        hi = int((due - arcs.onward[mine]).max())
        if str(hub) not in ix.hub_full:
            continue
        cap, days, full_before = ix.hub_full[str(hub)]
        # Full days in [lo, hi]: a difference of the cumulative count (days are sorted).
        a, b = np.searchsorted(days, lo, side="left"), np.searchsorted(days, hi, side="right")
        n = int(full_before[max(a, b)] - full_before[a])
        if n:
            found.append(f"hub {hub} ({cap:g} t/day) on {n} day{'s' if n != 1 else ''}")
    routes = {rt.id: rt for rt in res.case.routes}
    for rid in sorted(set(arcs.route.tolist())):
        rt = routes[str(rid)]
        if rt.t_per_day is None:
            continue
        load = ix.route_load[rt.id]
        n = int((load[load.index <= due] >= rt.t_per_day * (1 - 1e-6)).sum())
        if n:
            found.append(f"route {rid} ({rt.t_per_day:g} t/day) on {n} day{'s' if n != 1 else ''}")
    return "; ".join(found)


def _not_operational(
    case: AssistanceCase,
    res: MatchResult,
    r: Requirement,
    due: int,
    prog: pd.DataFrame,
    ix: PlanIndex,
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    items = ix.items
    date = r.needed_by.isoformat()
    for row in records(prog):
        it = items[str(row["item"])]
        idle = float(row["delivered"]) - float(row["operational"])
        if idle <= 1e-6 or not row["system"]:
            continue
        supplied = True
        for s in it.supplies:
            fed = ix.supplies.get((r.id, s.family))
            got = (
                float(fed.loc[fed["delivery_day"] <= due, "quantity"].sum())
                if fed is not None
                else 0.0
            )
            need = float(row["delivered"]) * s.per_system
            if got >= need - 1e-6:
                continue
            supplied = False
            fitting = {i.id for i in case.items if i.family == s.family}
            kinds = {items[i].capability for i in fitting} | {items[i].category for i in fitting}
            other = sorted(
                {
                    f"{i.family} ({i.standard})"
                    for i in case.items
                    if i.family != s.family
                    and i.category != "system"
                    and (i.capability in kinds)
                    and ix.pledged_of({i.id}) > 0
                }
            )
            short = f"{got:g} of the {need:g} {s.family} its delivered {it.id} need by {date}"
            if other:
                out.append(
                    (
                        "incompatible_standard",
                        f"{short}; also pledged but not fitting: {', '.join(other)}",
                    )
                )
            elif ix.pledged_of(fitting) <= 0:
                out.append(("no_pledge", f"{short}: no {s.family} pledged"))
            else:
                out.append(("supplies", short))
        if it.crew:
            out.extend(_training(case, res, it, due, date, supplied, ix))
    return out


def _training(
    case: AssistanceCase,
    res: MatchResult,
    it: Item,
    due: int,
    date: str,
    supplied: bool,
    ix: PlanIndex,
) -> list[tuple[str, str]]:
    """A training bottleneck for ``it`` by ``due``, if there is one.

    Training is the bottleneck when even every cohort that can end by the date, at its full
    size, trains fewer people than the delivered systems need; or when fewer are trained
    although supplies are not short (courses shared with other systems, prerequisites).
    """
    courses = [c for c in case.courses if it.id in c.qualifies]
    if not courses:
        return [("training_bottleneck", f"no course trains crews for {it.id}")]
    tr = res.training
    trained = float(tr[(tr["item"] == it.id) & (tr["end"] <= due)]["trainees"].sum())
    need = ix.delivered_on.get((it.id, due), 0.0) * it.crew
    if trained >= need - 1e-6:
        return []
    co = res.compiled.cohorts
    most = 0.0
    for c in courses:
        # A cohort can fill only once every prerequisite course has had graduates.
        ready = max((ix.first_end.get(q, math.inf) for q in c.prerequisites), default=0)
        n = int(((co["course"] == c.id) & (co["end"] <= due) & (co["start"] >= ready)).sum())
        if c.max_cohorts is not None:
            n = min(n, c.max_cohorts)
        most += n * c.cohort_size
    what = ", ".join(_course_words(c) for c in courses)
    if most < need - 1e-6:
        return [
            (
                "training_bottleneck",
                f"at most {most:g} of the {need:g} crew members the delivered {it.id} need "
                f"can be trained by {date}: {what}",
            )
        ]
    if supplied:
        return [
            (
                "training_bottleneck",
                f"{trained:g} of the {need:g} crew members the delivered {it.id} need are "
                f"trained by {date} (courses shared with other systems, or prerequisites): "
                f"{what}",
            )
        ]
    return []


def _course_words(c: Course) -> str:
    limit = ""
    if c.max_cohorts is not None:
        limit = f", at most {c.max_cohorts} cohort{'s' if c.max_cohorts != 1 else ''}"
    after = f", after {', '.join(c.prerequisites)}" if c.prerequisites else ""
    return f"{c.id} ({c.cohort_size} a cohort, {c.duration_days} days{limit}{after})"


def reason_counts(unmet: pd.DataFrame) -> dict[str, int]:
    """How many requirements each reason applies to."""
    if unmet.empty:
        return {}
    counts = unmet.groupby("reason")["requirement"].nunique()
    return {str(k): int(v) for k, v in counts.items() if k in REASONS}


__all__ = ["REASONS", "reason_counts", "unmet_requirements"]
