"""Explanations indexed per requirement give the same rows as the scan they replace.

``_ref_*`` below is :mod:`forcemodel.assist.explain` as it was before the index (one scan of
the progress table, the deliveries and all pledges per short requirement), kept verbatim as
the reference.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from forcemodel.assist import load_case, load_case_data
from forcemodel.assist.compile import TOL, records
from forcemodel.assist.explain import unmet_requirements
from forcemodel.assist.model import AssistanceCase, Course, Item, Requirement, requirement_serves
from forcemodel.assist.result import MatchResult
from forcemodel.assist.solve import solve
from forcemodel.assist.synthetic import synthetic_case


@pytest.mark.parametrize("size", [None, (200, 40, 10), (400, 80, 12)])
def test_indexed_explanations_match_the_scan(size: tuple[int, int, int] | None) -> None:
    if size is None:
        res = solve(load_case("example"))
    else:
        case = load_case_data(synthetic_case(*size, seed=0))
        # Stopped by work: the comparison holds for whatever plan the solver stops at.
        res = solve(
            case, formulation="pool", step=7, mip_gap=1e-2, time_limit=math.inf, node_limit=200
        )
    new = unmet_requirements(res)
    assert len(new) > 0
    pd.testing.assert_frame_equal(new, _ref_unmet_requirements(res))


def _ref_unmet_requirements(result: MatchResult) -> pd.DataFrame:
    """One row per reason a requirement is short on its needed-by date.

    Columns: ``requirement``, ``needed_by``, ``quantity``, ``operational_by_due``,
    ``shortfall``, ``reason`` (one of :data:`REASONS`) and ``detail`` (in words).
    """
    case = result.case
    rows: list[dict[str, object]] = []
    summary = {str(row["requirement"]): row for row in records(result.requirements)}
    for r in case.requirements:
        s = summary[r.id]
        if float(s["shortfall"]) <= 1e-6:
            continue
        for reason, detail in _ref_reasons(case, result, r):
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


def _ref_wants(r: Requirement) -> str:
    if r.item is not None:
        return f"'{r.item}'"
    return f"{r.capability}" + (f" of standard {r.standard}" if r.standard else "")


def _ref_pledged(case: AssistanceCase, ok: set[str]) -> float:
    return sum(float(p.quantity or 0.0) for p in case.pledges if p.item in ok)


def _ref_reasons(case: AssistanceCase, res: MatchResult, r: Requirement) -> list[tuple[str, str]]:
    items = {it.id: it for it in case.items}
    serving = {it.id for it in case.items if requirement_serves(r, it)}
    funded = any(p.funds_eur is not None for p in case.pledges) and any(
        items[i].price_eur is not None for i in serving
    )
    due = case.day(r.needed_by)
    date = r.needed_by.isoformat()
    if _ref_pledged(case, serving) <= 0 and not funded:
        cap = items[r.item].capability if r.item is not None else r.capability
        others = sorted(
            {
                f"{it.id} ({it.standard})"
                for it in case.items
                if it.capability == cap and it.id not in serving and _ref_pledged(case, {it.id}) > 0
            }
        )
        if others:
            return [
                (
                    "incompatible_standard",
                    f"needs {_ref_wants(r)}; pledged for {cap} only: {', '.join(others)}",
                )
            ]
        return [("no_pledge", f"no pledge of {_ref_wants(r)} and no funds that could buy one")]

    out: list[tuple[str, str]] = []
    prog = res.progress[(res.progress["requirement"] == r.id) & (res.progress["day"] == due)]
    delivered = float(prog["delivered"].sum())
    operational = float(prog["operational"].sum())
    comp = res.compiled
    # Arcs that can bring its items: by item, so that the same rows serve the per-arc model
    # (arcs per line) and the pool model (arcs per source and route only); a bound above the
    # requirement's quantity is cut to it where it is used.
    its = set(comp.lines.loc[comp.lines["requirement"] == r.id, "item"])
    arcs = comp.arcs[comp.arcs["item"].isin(its) & (comp.arcs["role"] == "main")]
    funds = {p.id for p in case.pledges if p.funds_eur is not None}
    if delivered < r.quantity - 1e-6:
        pledged = min(_ref_pledged_for(case, serving), r.quantity)
        if pledged < r.quantity - 1e-6:
            out.append(
                (
                    "no_pledge",
                    f"only {pledged:g} of {r.quantity:g} pledged"
                    + (" (with what funds can buy)" if (arcs["pledge"].isin(funds)).any() else ""),
                )
            )
        in_time = arcs[arcs["earliest"] <= due]
        reachable = min(_ref_can_get(in_time), r.quantity)
        if reachable < min(pledged, r.quantity) - 1e-6:
            first = int(arcs["earliest"].min()) if len(arcs) else None
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
            full = _ref_full_capacity(res, in_time, due)
            if full:
                out.append(("hub_capacity", f"full before {date}: {full}"))
            else:
                # A source may hold several identical pledges (merged): look at them all.
                held = comp.sources["members"].to_numpy()
                in_time_pledges = {m for si in set(in_time["source"]) for m in held[int(si)]}
                taken = res.deliveries[
                    res.deliveries["pledge"].isin(in_time_pledges)
                    & (res.deliveries["requirement"] != r.id)
                ]
                to = sorted(set(taken["requirement"]))
                what = f" to {', '.join(to)}" if to else ""
                out.append(
                    (
                        "allocated_elsewhere",
                        f"pledges that could serve it went{what} "
                        f"(higher priority, or worth more there)",
                    )
                )
    if operational < delivered - 1e-6:
        out.extend(_ref_not_operational(case, res, r, due, prog, items))
    if not out:
        out.append(
            (
                "allocated_elsewhere",
                "the plan serves other requirements first (priority-weighted share by date)",
            )
        )
    return out


def _ref_pledged_for(case: AssistanceCase, serving: set[str]) -> float:
    """Items pledged that serve, plus the most that each pledge of funds can buy of them."""
    total = _ref_pledged(case, serving)
    prices = [it.price_eur for it in case.items if it.id in serving and it.price_eur]
    if prices:
        cheapest = min(prices)
        total += sum(float(p.funds_eur or 0.0) // cheapest for p in case.pledges)
    return total


def _ref_can_get(arcs: pd.DataFrame) -> float:
    """Most the sources of ``arcs`` can give (each source once; funds by what they buy)."""
    if arcs.empty:
        return 0.0
    per_source = arcs.groupby("source").agg(bound=("bound", "max"), pledge=("pledge", "first"))
    # Sources of one pledge of funds share its money: count the largest of them only.
    return float(per_source.groupby("pledge")["bound"].max().sum())


def _ref_full_capacity(res: MatchResult, arcs: pd.DataFrame, due: int) -> str:
    """Hubs and capped routes of ``arcs`` that were full on some day before ``due``."""
    found: list[str] = []
    hubs = res.hubs
    for hub in sorted(set(arcs["hub"])):
        mine = arcs[arcs["hub"] == hub]
        lo = int((mine["earliest"] - mine["onward"]).min())
        hi = int((due - mine["onward"]).max())
        h = hubs[(hubs["hub"] == hub) & (hubs["day"] >= lo) & (hubs["day"] <= hi)]
        n = int((h["tons"] >= h["capacity"] * (1 - 1e-6) - TOL).sum())
        if n:
            cap = float(h["capacity"].iloc[0])
            found.append(f"hub {hub} ({cap:g} t/day) on {n} day{'s' if n != 1 else ''}")
    routes = {rt.id: rt for rt in res.case.routes}
    for rid in sorted(set(arcs["route"])):
        rt = routes[str(rid)]
        if rt.t_per_day is None:
            continue
        d = res.deliveries[res.deliveries["route"] == rid]
        tons = {it.id: it.tons for it in res.case.items}
        load = (d["quantity"] * d["item"].map(tons)).groupby(d["delivery_day"]).sum()
        n = int((load[load.index <= due] >= rt.t_per_day * (1 - 1e-6)).sum())
        if n:
            found.append(f"route {rid} ({rt.t_per_day:g} t/day) on {n} day{'s' if n != 1 else ''}")
    return "; ".join(found)


def _ref_not_operational(
    case: AssistanceCase,
    res: MatchResult,
    r: Requirement,
    due: int,
    prog: pd.DataFrame,
    items: dict[str, Item],
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    date = r.needed_by.isoformat()
    for row in records(prog):
        it = items[str(row["item"])]
        idle = float(row["delivered"]) - float(row["operational"])
        if idle <= 1e-6 or not row["system"]:
            continue
        supplied = True
        for s in it.supplies:
            fed = res.deliveries[
                (res.deliveries["role"] == "supply")
                & (res.deliveries["requirement"] == r.id)
                & (res.deliveries["delivery_day"] <= due)
                & (res.deliveries["item"].map(lambda i: items[str(i)].family) == s.family)
            ]
            got = float(fed["quantity"].sum())
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
                    and _ref_pledged(case, {i.id}) > 0
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
            elif _ref_pledged(case, fitting) <= 0:
                out.append(("no_pledge", f"{short}: no {s.family} pledged"))
            else:
                out.append(("supplies", short))
        if it.crew:
            out.extend(_ref_training(case, res, it, due, date, supplied))
    return out


def _ref_training(
    case: AssistanceCase, res: MatchResult, it: Item, due: int, date: str, supplied: bool
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
    prog = res.progress
    need = float(prog[(prog["item"] == it.id) & (prog["day"] == due)]["delivered"].sum()) * it.crew
    if trained >= need - 1e-6:
        return []
    co = res.compiled.cohorts
    first_end = co.groupby("course")["end"].min().to_dict()
    most = 0.0
    for c in courses:
        # A cohort can fill only once every prerequisite course has had graduates.
        ready = max((first_end.get(q, math.inf) for q in c.prerequisites), default=0)
        n = int(((co["course"] == c.id) & (co["end"] <= due) & (co["start"] >= ready)).sum())
        if c.max_cohorts is not None:
            n = min(n, c.max_cohorts)
        most += n * c.cohort_size
    what = ", ".join(_ref_course_words(c) for c in courses)
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


def _ref_course_words(c: Course) -> str:
    limit = ""
    if c.max_cohorts is not None:
        limit = f", at most {c.max_cohorts} cohort{'s' if c.max_cohorts != 1 else ''}"
    after = f", after {', '.join(c.prerequisites)}" if c.prerequisites else ""
    return f"{c.id} ({c.cohort_size} a cohort, {c.duration_days} days{limit}{after})"
