"""Match pledges to requirements: a daily time-expanded MIP built with linopy, solved by HiGHS.

The case is first compiled into tables (:func:`compile_case`): **sources** (item pledges, and
for each pledge of funds one source per priced item), **lines** (a requirement served by one
item), **slots** (what each system of a line needs besides crews, e.g. its first load of
ammunition), **arcs** (a source to a line or slot along one route through one hub), training
**cohorts** and training **rows** (a cohort's trainees for one item). The model then chooses,
per arc and day, the cumulative quantity delivered, the trainees of every cohort, and how many
systems of every line are operational each day. The maths is in docs/assistance.md.

Every constraint is built as a sparse sum of (row, variable, coefficient) terms, so the model
is vectorised whatever the shape of the case. No file is read and nothing is printed here.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from forcemodel.assist.model import AssistanceCase, Category, requirement_serves
from forcemodel.mip.errors import InfeasibleError, NoSolutionError
from forcemodel.mip.solve import SolveOutcome, SolverSettings, run_highs
from forcemodel.mip.terms import Terms

#: Weight of a delivered (not yet operational) item against an operational one.
DELIVERED_WEIGHT = 0.1
#: Weight of all days' progress (every day up to the horizon) against the needed-by date.
EARLY_WEIGHT = 0.1
#: Scale of the tie-breaking costs (supplies, trainees, cohorts) against one requirement.
TIE_WEIGHT = 1e-3
#: Quantities below this count as zero when the solution is read.
TOL = 1e-6


#: Columns of :attr:`Compiled.sources`; ``members`` are the pledges a source holds (several
#: when identical pledges were merged), with their quantities and donors.
SOURCE_COLUMNS = [
    "pledge",
    "donor",
    "item",
    "quantity",
    "funds",
    "price",
    "available",
    "location",
    "members",
    "member_quantities",
    "member_donors",
]


#: ``formulation="auto"`` switches to the pool model above this many per-arc delivery
#: variables (arcs x days): the per-arc model's size where it still solves in about a minute.
#: Below it the per-arc model is the faster of the two (both give the same optimum).
AUTO_POOL_VARIABLES = 2_000_000
#: ``auto`` puts the pool model on a grid of ``AUTO_STEP`` days (a restriction,
#: docs/assistance.md) above this many daily pool variables (:func:`pool_size`): 1.9 million at
#: 10,000 pledges x 2,000 requirements x 50 courses, whose daily model HiGHS cannot even relax
#: within a minute.
AUTO_GRID_VARIABLES = 800_000
AUTO_STEP = 7
#: Pool MIPs with more variables than this are improved part by part from the greedy start
#: (:mod:`forcemodel.assist.parts`) instead of by HiGHS on the whole MIP, which does not
#: finish its root LP at those sizes: ``AUTO_PARTS_ROUNDS`` rounds over the groups, each
#: group's MIP limited by work (:data:`forcemodel.assist.parts.GROUP_MAX_NODES`), not by time,
#: so that the plan is the same on every machine and under any load (docs/assistance.md).
AUTO_PARTS_VARIABLES = 150_000
AUTO_PARTS_ROUNDS = 1

#: HiGHS's ``presolve_rule_off`` bit of its "dominated column" presolve reduction (rule 5 in
#: HiGHS 1.16; ``presolve_rule_logging`` names it). With it, HiGHS 1.16 cuts the optimum off
#: both matching models and reports a worse plan as optimal at gap 0 (the bundled example
#: without its deliveries: 10.2135 and 10.2260 instead of 10.3507; docs/assistance.md,
#: "Correctness of the solver"). It is switched off for every matching MIP.
DOMINATED_COLUMN_RULE = 1 << 5


@dataclass(frozen=True)
class MatchSettings(SolverSettings):
    """The solver settings of a matching MIP: the user's, with HiGHS's dominated-column
    presolve reduction off (:data:`DOMINATED_COLUMN_RULE`)."""

    def highs_options(self, *, mip: bool) -> dict[str, Any]:
        opts = super().highs_options(mip=mip)
        if mip:
            opts["presolve_rule_off"] = DOMINATED_COLUMN_RULE
        return opts


@dataclass(frozen=True)
class Compiled:
    """The case as index tables for the model (see the module docstring)."""

    horizon: int
    sources: pd.DataFrame
    lines: pd.DataFrame
    slots: pd.DataFrame
    arcs: pd.DataFrame
    cohorts: pd.DataFrame
    training: pd.DataFrame


def compile_case(case: AssistanceCase, *, per_line: bool = True) -> Compiled:
    """Index the case: sources, lines, slots, arcs, cohorts and training rows.

    ``per_line=False`` (the pool model, :mod:`forcemodel.assist.pool`) makes one arc per
    source and route only (``role`` ``main``, no line, slot or requirement, bounded by what the
    source holds): lines draw from item pools there, so arcs to each line are not needed.
    """
    horizon = case.meta.horizon_days
    items = {it.id: it for it in case.items}
    src: list[dict[str, Any]] = []
    # Item pledges of the same item, location and availability day are interchangeable in the
    # model (only their quantities count), so they become one source holding their sum; a
    # pledge named by a recorded delivery keeps a source of its own. For systems (integer
    # deliveries) the sum is of whole items per pledge, which is what each pledge can give.
    recorded = {d.pledge for d in case.deliveries}
    grouped: dict[tuple[str, str, int], int] = {}
    for p in case.pledges:
        avail = max(0, case.day(p.available_from))
        if p.item is not None:
            whole = items[p.item].category == Category.system
            qty = float(p.quantity or 0.0)
            if whole:
                qty = float(math.floor(qty + TOL))
            key = (p.item, str(p.location), avail)
            if p.id not in recorded and key in grouped:
                row = src[grouped[key]]
                row["quantity"] += qty
                row["members"] = (*row["members"], p.id)
                row["member_quantities"] = (*row["member_quantities"], qty)
                row["member_donors"] = (*row["member_donors"], p.donor)
                continue
            if p.id not in recorded:
                grouped[key] = len(src)
            src.append(
                {
                    "pledge": p.id,
                    "donor": p.donor,
                    "item": p.item,
                    "quantity": qty,
                    "funds": "",
                    "price": math.nan,
                    "available": avail,
                    "location": p.location,
                    "members": (p.id,),
                    "member_quantities": (qty,),
                    "member_donors": (p.donor,),
                }
            )
            continue
        for it in case.items:
            if it.price_eur is None:
                continue
            src.append(
                {
                    "pledge": p.id,
                    "donor": p.donor,
                    "item": it.id,
                    "quantity": math.inf,
                    "funds": p.id,
                    "price": float(it.price_eur),
                    "available": avail + it.lead_days,
                    "location": it.made_at,
                    "members": (p.id,),
                    "member_quantities": (math.inf,),
                    "member_donors": (p.donor,),
                }
            )
    sources = _frame(src, SOURCE_COLUMNS)
    has_source = set(sources["item"])
    ln: list[dict[str, Any]] = []
    for r in case.requirements:
        for it in case.items:
            if requirement_serves(r, it) and it.id in has_source:
                ln.append(
                    {
                        "requirement": r.id,
                        "item": it.id,
                        "system": it.category == Category.system,
                        "crew": it.crew,
                        "standard": str(it.standard),
                        "quantity": float(r.quantity),
                        "due": case.day(r.needed_by),
                        "priority": float(r.priority),
                    }
                )
    lines = _frame(
        ln, ["requirement", "item", "system", "crew", "standard", "quantity", "due", "priority"]
    )
    sl: list[dict[str, Any]] = []
    for li, line in enumerate(ln):
        for s in items[str(line["item"])].supplies:
            sl.append({"line": li, "family": s.family, "per_system": float(s.per_system)})
    slots = _frame(sl, ["line", "family", "per_system"])
    funds_of = {p.id: float(p.funds_eur or 0.0) for p in case.pledges if p.funds_eur is not None}
    routes_from: dict[str, list[int]] = {}
    for ri, rt in enumerate(case.routes):
        routes_from.setdefault(rt.origin, []).append(ri)
    ar: list[dict[str, Any]] = []

    def add_arcs(si: int, role: str, li: int, slot: int, cap: float) -> None:
        s = src[si]
        it = items[str(s["item"])]
        for ri in routes_from.get(str(s["location"]), []):
            rt = case.routes[ri]
            earliest = int(s["available"]) + rt.to_hub_days + rt.onward_days
            if earliest > horizon:
                continue
            bound = min(float(s["quantity"]), cap)
            if s["funds"]:
                bound = min(bound, funds_of[str(s["funds"])] / float(s["price"]))
            integer = role == "main" and it.category == Category.system
            if integer:
                bound = math.floor(bound + TOL)
            ar.append(
                {
                    "source": si,
                    "pledge": s["pledge"],
                    "item": it.id,
                    "role": role,
                    "line": li,
                    "slot": slot,
                    "requirement": ln[li]["requirement"] if li >= 0 else "",
                    "route": rt.id,
                    "hub": rt.hub,
                    "to_hub": rt.to_hub_days,
                    "onward": rt.onward_days,
                    "earliest": earliest,
                    "tons": it.tons,
                    "integer": integer,
                    "bound": bound,
                }
            )

    # Sources by item and by the family they can supply (indexes, not a scan per line).
    by_item: dict[str, list[int]] = {}
    by_family: dict[str, list[int]] = {}
    for si, source in enumerate(src):
        it = items[str(source["item"])]
        by_item.setdefault(it.id, []).append(si)
        if it.category != Category.system:
            by_family.setdefault(it.family, []).append(si)
    if per_line:
        for li, line in enumerate(ln):
            for si in by_item.get(str(line["item"]), []):
                add_arcs(si, "main", li, -1, float(line["quantity"]))
        for k, slot in enumerate(sl):
            cap = float(ln[slot["line"]]["quantity"]) * float(slot["per_system"])
            for si in by_family.get(str(slot["family"]), []):
                add_arcs(si, "supply", int(slot["line"]), k, cap)
    else:
        for si in range(len(src)):
            add_arcs(si, "main", -1, -1, math.inf)
    arcs = _frame(
        ar,
        [
            "source",
            "pledge",
            "item",
            "role",
            "line",
            "slot",
            "requirement",
            "route",
            "hub",
            "to_hub",
            "onward",
            "earliest",
            "tons",
            "integer",
            "bound",
        ],
    )
    co: list[dict[str, Any]] = []
    tr: list[dict[str, Any]] = []
    for c in case.courses:
        first = case.day(c.first_start)
        every = c.every_days or c.duration_days
        start = first
        while start + c.duration_days <= horizon:
            k = len(co)
            co.append(
                {
                    "course": c.id,
                    "start": start,
                    "end": start + c.duration_days,
                    "size": c.cohort_size,
                }
            )
            for q in c.qualifies or ("",):
                tr.append(
                    {
                        "cohort": k,
                        "course": c.id,
                        "start": start,
                        "end": start + c.duration_days,
                        "item": q,
                    }
                )
            start += every
    cohorts = _frame(co, ["course", "start", "end", "size"])
    training = _frame(tr, ["cohort", "course", "start", "end", "item"])
    return Compiled(horizon, sources, lines, slots, arcs, cohorts, training)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], frame.to_dict("records"))


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


@dataclass
class BuiltModel:
    """A linopy model with the label tables needed to read its solution."""

    model: linopy.Model
    compiled: Compiled
    x: np.ndarray  # (arc, day -1..H) labels of cumulative deliveries
    op: np.ndarray  # (line, day 0..H) labels of operational systems
    trainees: np.ndarray  # (training row,) labels
    runs: np.ndarray  # (cohort,) labels
    mip: bool


def build_model(case: AssistanceCase, comp: Compiled, *, relax: bool = False) -> BuiltModel:
    """The linopy model of a compiled case (docs/assistance.md, "The matching model").

    Call under linopy's v1 semantics (:func:`forcemodel.assist.match_case` does).
    """
    H = comp.horizon
    days = np.arange(H + 1)
    n_arc, n_line = len(comp.arcs), len(comp.lines)
    arcs, lines, slots = comp.arcs, comp.lines, comp.slots
    m = linopy.Model()

    # Cumulative deliveries X[arc, d], d = -1..H: 0 before an arc's earliest delivery day.
    day_ext = np.arange(-1, H + 1)
    earliest = arcs["earliest"].to_numpy(int)
    bound = arcs["bound"].to_numpy(float)
    # Sparse in time: an arc has variables from its earliest delivery day on only; before that
    # its label is -1, which every constraint and the objective read as a zero.
    live = day_ext[None, :] >= earliest[:, None]
    ub = np.where(live, bound[:, None], 0.0)
    x = np.full((n_arc, H + 2), -1, dtype=np.int64)
    integer = arcs["integer"].to_numpy(bool) & (not relax)
    for name, sel in (("deliver_int", integer), ("deliver", ~integer)):
        idx = np.flatnonzero(sel)
        if idx.size == 0:
            continue
        arc_ix = pd.Index(idx, name=f"arc_{name}")
        day_ix = pd.Index(day_ext, name="day")
        var = m.add_variables(
            lower=0.0,
            upper=xr.DataArray(ub[idx], coords=[arc_ix, day_ix]),
            integer=name == "deliver_int",
            name=name,
            mask=xr.DataArray(live[idx], coords=[arc_ix, day_ix]),
        )
        x[idx] = var.labels.to_numpy()

    # Operational systems O[line, d]: at most the requirement's quantity.
    qty = lines["quantity"].to_numpy(float)
    op = np.full((n_line, H + 1), -1, dtype=np.int64)
    # A line is operational only from the first day something is delivered to it.
    first = np.full(n_line, H + 1, dtype=np.int64)
    main_arcs = (arcs["role"] == "main").to_numpy()
    np.minimum.at(first, arcs["line"].to_numpy(int)[main_arcs], earliest[main_arcs])
    op_live = days[None, :] >= first[:, None]
    systems = lines["system"].to_numpy(bool) & (not relax)
    for name, sel in (("operational_int", systems), ("operational", ~systems)):
        idx = np.flatnonzero(sel)
        if idx.size == 0:
            continue
        line_ix = pd.Index(idx, name=f"line_{name}")
        ubq = np.floor(qty[idx] + TOL) if name == "operational_int" else qty[idx]
        var = m.add_variables(
            lower=0.0,
            upper=xr.DataArray(np.repeat(ubq[:, None], H + 1, axis=1), coords=[line_ix, days]),
            integer=name == "operational_int",
            name=name,
            mask=xr.DataArray(op_live[idx], coords=[line_ix, days]),
        )
        op[idx] = var.labels.to_numpy()

    trainees, runs = training_variables(m, comp, relax=relax)
    tr, co = comp.training, comp.cohorts

    def constrain(t: Terms, sign: str, rhs: np.ndarray | float, name: str) -> None:
        add_rows(m, t, sign, rhs, name)

    arc_rows = np.arange(n_arc)
    arc_req = arcs["requirement"].to_numpy()
    main = (arcs["role"] == "main").to_numpy()
    line_of = arcs["line"].to_numpy(int)
    slot_of = arcs["slot"].to_numpy(int)
    last = x[:, H + 1]
    D = pd.Index(days, name="day")

    # (1) Deliveries only grow.
    if n_arc:
        t = Terms([pd.RangeIndex(n_arc, name="arc"), D])
        rows = arc_rows[:, None] * (H + 1) + days[None, :]
        t.add(rows, x[:, 1:], 1.0)
        t.add(rows, x[:, :-1], -1.0)
        constrain(t, ">=", 0.0, "deliver_monotone")

    # (2) A pledge gives at most its quantity; funds buy at most their value.
    sources = comp.sources
    if n_arc:
        src_of = arcs["source"].to_numpy(int)
        t = Terms([pd.RangeIndex(len(sources), name="source")])
        t.add(src_of, last, 1.0)
        held = sources["quantity"].to_numpy(float)
        expr, mask = t.build(m)
        keep = mask & xr.DataArray(np.isfinite(held), coords=t.coords)
        if bool(keep.any()):
            rhs = xr.DataArray(np.where(np.isfinite(held), held, 0.0), coords=t.coords)
            m.add_constraints(expr <= rhs, name="pledge_quantity", mask=keep)
        funds = sorted({str(f) for f in sources["funds"] if f})
        if funds:
            fund_ix = pd.Index(funds, name="fund")
            pos = {f: i for i, f in enumerate(funds)}
            fsel = sources["funds"].to_numpy()[src_of] != ""
            t = Terms([fund_ix])
            price = sources["price"].to_numpy(float)[src_of]
            row = np.array([pos[str(f)] for f in sources["funds"].to_numpy()[src_of][fsel]])
            # Each row in units of the cheapest item its funds buy, not in euros (coefficients
            # near 1, not up to 4e5 against right-hand sides of 5e7: a badly scaled LP).
            unit = np.full(len(funds), np.inf)
            np.minimum.at(unit, row, price[fsel])
            t.add(row, last[fsel], price[fsel] / unit[row])
            value = {p.id: float(p.funds_eur or 0.0) for p in case.pledges}
            constrain(t, "<=", np.array([value[f] for f in funds]) / unit, "funds")

    # (3) A requirement takes at most its quantity (all its lines together).
    req_ids = [r.id for r in case.requirements]
    req_pos = {r: i for i, r in enumerate(req_ids)}
    if n_arc and main.any():
        t = Terms([pd.Index(req_ids, name="requirement")])
        t.add([req_pos[str(r)] for r in arcs["requirement"][main]], last[main], 1.0)
        constrain(t, "<=", np.array([r.quantity for r in case.requirements]), "requirement")

    # (4) A line takes supplies for the systems it receives only.
    per = slots["per_system"].to_numpy(float)
    if len(slots) and n_arc:
        t = Terms([pd.RangeIndex(len(slots), name="slot")])
        sup = ~main
        t.add(slot_of[sup], last[sup], 1.0)
        for k, slot in enumerate(records(slots)):
            feed = main & (line_of == int(slot["line"]))
            t.add(np.full(feed.sum(), k), last[feed], -float(slot["per_system"]))
        constrain(t, "<=", 0.0, "supply_for_systems")

    # (5) Operational <= delivered; (6) <= supplies / per system; operational never falls.
    if n_line:
        t = Terms([pd.RangeIndex(n_line, name="line"), D])
        t.add(np.arange(n_line)[:, None] * (H + 1) + days[None, :], op, 1.0)
        rows = line_of[main][:, None] * (H + 1) + days[None, :]
        t.add(rows, x[main][:, 1:], -1.0)
        constrain(t, "<=", 0.0, "operational_delivered")
        t = Terms([pd.RangeIndex(n_line, name="line"), pd.Index(days[1:], name="day")])
        rows = np.arange(n_line)[:, None] * H + days[None, :-1]
        t.add(rows, op[:, 1:], 1.0)
        t.add(rows, op[:, :-1], -1.0)
        constrain(t, ">=", 0.0, "operational_monotone")
    if len(slots):
        t = Terms([pd.RangeIndex(len(slots), name="slot"), D])
        sline = slots["line"].to_numpy(int)
        rows = np.arange(len(slots))[:, None] * (H + 1) + days[None, :]
        t.add(rows, op[sline], per[:, None])
        sup = ~main
        t.add(slot_of[sup][:, None] * (H + 1) + days[None, :], x[sup][:, 1:], -1.0)
        constrain(t, "<=", 0.0, "operational_supplied")

    # (7)-(9) Crews, cohorts and prerequisites.
    training_constraints(m, case, comp, op, days, trainees, runs)

    # (10) Hub throughput on the day loads pass the hub; route capacity on the delivery day.
    tons = arcs["tons"].to_numpy(float)
    arc_hub, arc_route = arcs["hub"].to_numpy(), arcs["route"].to_numpy()
    hubs = [h.id for h in case.hubs]
    if n_arc and hubs:
        hpos = {h: k for k, h in enumerate(hubs)}
        t = Terms([pd.Index(hubs, name="hub"), D])
        onward = arcs["onward"].to_numpy(int)
        heavy = np.flatnonzero(tons > 0)
        # Arc a passes the hub on day h = d - onward_a: one row per (hub, h), all arcs at once.
        d = days[None, :] + onward[heavy][:, None]  # delivery day of each (arc, hub day)
        ok = d <= H
        hub_row = np.array([hpos[str(h)] for h in arc_hub[heavy]], dtype=np.int64)
        rows = hub_row[:, None] * (H + 1) + days[None, :]
        dd = np.minimum(d, H)
        now = np.where(ok, x[heavy[:, None], dd + 1], -1)
        before = np.where(ok, x[heavy[:, None], dd], -1)
        t.add(rows, now, tons[heavy][:, None])
        t.add(rows, before, -tons[heavy][:, None])
        cap = np.repeat([[h.t_per_day] for h in case.hubs], H + 1, axis=1)
        constrain(t, "<=", cap, "hub_capacity")
    capped = [rt for rt in case.routes if rt.t_per_day is not None]
    if n_arc and capped:
        rpos = {rt.id: k for k, rt in enumerate(capped)}
        t = Terms([pd.Index(list(rpos), name="route"), D])
        on_capped = np.flatnonzero((tons > 0) & np.isin(arc_route, list(rpos)))
        route_row = np.array([rpos[str(r)] for r in arc_route[on_capped]], dtype=np.int64)
        rows = route_row[:, None] * (H + 1) + days[None, :]
        t.add(rows, x[on_capped, 1:], tons[on_capped][:, None])
        t.add(rows, x[on_capped, :-1], -tons[on_capped][:, None])
        cap = np.repeat([[float(rt.t_per_day or 0.0)] for rt in capped], H + 1, axis=1)
        constrain(t, "<=", cap, "route_capacity")

    # (11) Recorded deliveries are honoured.
    _recorded(case, comp, m, x)

    # Objective: priority-weighted share of each requirement operational by its needed-by date,
    # a tenth for delivered items, a tenth spread over every day (earlier is better), minus
    # small tie-breaking costs.
    w_req = {r.id: r.priority / r.quantity for r in case.requirements}
    due = {r.id: case.day(r.needed_by) for r in case.requirements}
    obj = Terms([])
    spread = EARLY_WEIGHT / (H + 1)
    if n_line:
        w_line = np.array([w_req[str(r)] for r in lines["requirement"]])
        obj.add(0, op[np.arange(n_line), lines["due"].to_numpy(int)], w_line)
        obj.add(0, op, w_line[:, None] * spread)
    if main.any():
        mi = np.flatnonzero(main)
        w_arc = np.array([w_req[str(r)] for r in arc_req[mi]])
        due_arc = np.array([due[str(r)] for r in arc_req[mi]], dtype=np.int64)
        obj.add(0, x[mi, due_arc + 1], w_arc * DELIVERED_WEIGHT)
        obj.add(0, x[mi, 1:], w_arc[:, None] * DELIVERED_WEIGHT * spread)
    # Trainees and cohorts are worth something only through crewed systems: their costs are
    # scaled by the least weight of a crewed line, so they never outweigh what they give.
    crewed = [w_req[str(r)] for r, c in zip(lines["requirement"], lines["crew"], strict=True) if c]
    w_min = min(crewed, default=1.0)
    if (~main).any():
        # A cost on supplies sent (none without a use), less a smaller reward for early ones.
        si = np.flatnonzero(~main)
        w_sup = np.array([w_req[str(r)] for r in arc_req[si]]) / per[slot_of[si]]
        obj.add(0, last[si], -TIE_WEIGHT * w_sup)
        obj.add(0, x[si, 1:], TIE_WEIGHT * w_sup[:, None] * spread)
    if len(tr):
        crew_max = max(1, int(lines["crew"].max()) if n_line else 1)
        obj.add(0, trainees, -TIE_WEIGHT * w_min / crew_max)
        obj.add(0, runs, -TIE_WEIGHT * w_min)
    expr, _ = obj.build(m)
    m.add_objective(expr, sense="max")
    mip = not relax and (bool(integer.any()) or bool(systems.any()) or len(co) > 0)
    return BuiltModel(m, comp, x, op, trainees, runs, mip)


def add_rows(m: linopy.Model, t: Terms, sign: str, rhs: np.ndarray | float, name: str) -> None:
    """Add ``t sign rhs`` for every row of ``t`` that has a term (empty rows are left out)."""
    expr, mask = t.build(m)
    rhs_da = xr.DataArray(np.broadcast_to(rhs, t.shape).copy(), coords=t.coords)
    if not bool(mask.any()):
        return
    if sign == "<=":
        m.add_constraints(expr <= rhs_da, name=name, mask=mask)
    else:
        m.add_constraints(expr >= rhs_da, name=name, mask=mask)


def training_variables(
    m: linopy.Model, comp: Compiled, *, relax: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Trainees per training row and whether each cohort runs (labels; -1: none)."""
    # Trainees per training row, and whether each cohort runs.
    tr, co = comp.training, comp.cohorts
    trainees = np.full(len(tr), -1, dtype=np.int64)
    runs = np.full(len(co), -1, dtype=np.int64)
    if len(co):
        size = co["size"].to_numpy(float)
        row_ix = pd.RangeIndex(len(tr), name="training_row")
        cap = size[tr["cohort"].to_numpy(int)]
        t_var = m.add_variables(
            lower=0.0, upper=xr.DataArray(cap, coords=[row_ix]), name="trainees"
        )
        trainees = t_var.labels.to_numpy()
        co_ix = pd.RangeIndex(len(co), name="cohort")
        u_var = (
            m.add_variables(lower=0.0, upper=1.0, coords=[co_ix], name="cohort_runs")
            if relax
            else m.add_variables(coords=[co_ix], binary=True, name="cohort_runs")
        )
        runs = u_var.labels.to_numpy()

    return trainees, runs


def training_constraints(
    m: linopy.Model,
    case: AssistanceCase,
    comp: Compiled,
    op: np.ndarray,
    grid: np.ndarray,
    trainees: np.ndarray,
    runs: np.ndarray,
) -> None:
    """Constraints (7)-(9): crews by each day of ``grid`` (``op``: labels (line, grid point)),
    cohorts and prerequisites."""
    lines, tr, co = comp.lines, comp.training, comp.cohorts
    n = len(grid)
    D = pd.Index(grid, name="day")

    def constrain(t: Terms, sign: str, rhs: np.ndarray | float, name: str) -> None:
        add_rows(m, t, sign, rhs, name)

    # (7) Crews: operational systems of an item need crew x systems people trained by then.
    crew_items = sorted({str(i) for i, c in zip(lines["item"], lines["crew"], strict=True) if c})
    if crew_items:
        ipos = {i: k for k, i in enumerate(crew_items)}
        t = Terms([pd.Index(crew_items, name="item"), D])
        for li, line in enumerate(records(lines)):
            if line["crew"]:
                rows = ipos[str(line["item"])] * n + np.arange(n)
                t.add(rows, op[li], float(line["crew"]))
        for k, row in enumerate(records(tr)):
            if str(row["item"]) in ipos:
                d = np.flatnonzero(grid >= int(row["end"]))
                t.add(ipos[str(row["item"])] * n + d, trainees[k], -1.0)
        constrain(t, "<=", 0.0, "crews")

    # (8) Cohorts: trainees only in a cohort that runs, at most its size; at most max_cohorts.
    if len(co):
        t = Terms([pd.RangeIndex(len(co), name="cohort")])
        t.add(tr["cohort"].to_numpy(int), trainees, 1.0)
        t.add(np.arange(len(co)), runs, -co["size"].to_numpy(float))
        constrain(t, "<=", 0.0, "cohort_size")
        limited = [c for c in case.courses if c.max_cohorts is not None]
        if limited:
            t = Terms([pd.Index([c.id for c in limited], name="course")])
            cpos = {c.id: k for k, c in enumerate(limited)}
            for k, c_id in enumerate(co["course"]):
                if c_id in cpos:
                    t.add(cpos[str(c_id)], runs[k], 1.0)
            constrain(
                t, "<=", np.array([float(c.max_cohorts or 0) for c in limited]), "max_cohorts"
            )

    # (9) Prerequisites: entrants of the courses that need q, by each of their start days, are
    # at most the graduates of q by then.
    pre = [(c.id, q) for c in case.courses for q in c.prerequisites]
    if pre and len(tr):
        keys: list[tuple[str, int]] = []
        course_of, start_of = co["course"].to_numpy(), co["start"].to_numpy(int)
        for q in sorted({p for _, p in pre}):
            needing = {c for c, qq in pre if qq == q}
            starts = sorted(
                {int(d0) for c, d0 in zip(course_of, start_of, strict=True) if c in needing}
            )
            keys.extend((q, st) for st in starts)
        t = Terms([pd.RangeIndex(len(keys), name="prerequisite")])
        for k, (q, st) in enumerate(keys):
            needing = {c for c, qq in pre if qq == q}
            enter = tr["course"].isin(needing).to_numpy() & (tr["start"].to_numpy() <= st)
            done = (tr["course"] == q).to_numpy() & (tr["end"].to_numpy() <= st)
            t.add(k, trainees[enter], 1.0)
            t.add(k, trainees[done], -1.0)
        constrain(t, "<=", 0.0, "prerequisites")


def _recorded(case: AssistanceCase, comp: Compiled, m: linopy.Model, x: np.ndarray) -> None:
    """Constraints that honour the recorded deliveries (allocated, shipped, delivered)."""
    H = comp.horizon
    arcs = comp.arcs
    to_hub, onward = arcs["to_hub"].to_numpy(int), arcs["onward"].to_numpy(int)
    for k, d in enumerate(case.deliveries):
        sel = (
            (arcs["pledge"] == d.pledge)
            & (arcs["requirement"] == d.requirement)
            & (arcs["role"] == "main")
        )
        if d.route is not None:
            sel &= arcs["route"] == d.route
        idx = np.flatnonzero(sel.to_numpy())
        what = (
            f"recorded delivery {k + 1} ({d.quantity:g} of pledge '{d.pledge}' "
            f"to '{d.requirement}')"
        )
        t = Terms([pd.RangeIndex(1, name="recorded")])
        if d.status == "allocated":
            t.add(0, x[idx, H + 1], 1.0)
        else:
            for a in idx:
                day = case.day(d.date)
                if d.status == "shipped":
                    day += int(to_hub[a]) + int(onward[a])
                if day <= H:
                    t.add(0, x[a, day + 1], 1.0)
                    t.add(0, x[a, day], -1.0)
        expr, mask = t.build(m)
        if not bool(mask.any()):
            raise InfeasibleError(
                "no plan can honour the recorded deliveries",
                [f"{what}: no route brings it within the horizon"],
            )
        m.add_constraints(expr >= xr.DataArray([d.quantity], coords=t.coords), name=f"recorded_{k}")


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


def solve(
    case: AssistanceCase,
    *,
    time_limit: float = 60.0,
    mip_gap: float = 1e-4,
    relax: bool = False,
    formulation: str = "auto",
    step: int | None = None,
) -> MatchResult:
    """Build, solve and read the matching model (without explanations).

    ``formulation``: ``pool`` (:mod:`forcemodel.assist.pool`: far fewer variables), ``arcs``
    (the per-arc model), or ``auto``: the per-arc model unless it would exceed
    ``AUTO_POOL_VARIABLES`` and the case has no recorded deliveries (which name pledges and
    requirements: per-arc only). Both are exact (the same optimum); the per-arc model stays
    the choice where it fits because HiGHS solves it faster there (docs/assistance.md, "The
    pool model"). ``step``: days between the pool model's decision days (1: daily; more: a
    restriction, docs/assistance.md); ``None`` (default): daily, unless ``auto`` chose the pool
    model and the daily one would exceed ``AUTO_GRID_VARIABLES``: then ``AUTO_STEP`` days.
    A pool MIP above ``AUTO_PARTS_VARIABLES`` variables is not handed to HiGHS whole: its
    greedy start is improved part by part (:mod:`forcemodel.assist.parts`) for
    ``AUTO_PARTS_ROUNDS`` rounds of work-limited MIPs, and the result's termination is
    ``feasible`` (a plan, not proven optimal; :func:`forcemodel.assist.parts.daily_bound`
    bounds it), the same plan on every run. ``time_limit`` is then only a safety net: should
    it cut the improvement short, the termination is ``time_limit`` and the log says that the
    plan may depend on the machine.

    Raises :class:`InfeasibleError` when recorded deliveries cannot be honoured, and
    :class:`NoSolutionError` when the solver stops without a plan.
    """
    if formulation not in ("auto", "pool", "arcs"):
        raise ValueError(f"unknown formulation '{formulation}': use auto, pool or arcs")
    if formulation == "pool" and case.deliveries:
        raise ValueError("the pool model does not keep recorded deliveries: use 'arcs'")
    if step is not None and step < 1:
        raise ValueError(f"the time step must be 1 day or more, got {step}")
    # ``auto`` sizes the per-arc model from the pool's compile, which is far cheaper (at the
    # target size the per-arc compile alone took seconds, only to be thrown away).
    pooled = None
    if formulation == "pool" or (formulation == "auto" and not case.deliveries):
        pooled = compile_case(case, per_line=False)
    if pooled is not None and (
        formulation == "pool"
        or arc_count(case, pooled) * (pooled.horizon + 1) > AUTO_POOL_VARIABLES
    ):
        if step is None:
            step = AUTO_STEP if pool_size(pooled) > AUTO_GRID_VARIABLES else 1
        return _solve_pool(
            case, pooled, time_limit=time_limit, mip_gap=mip_gap, relax=relax, step=step
        )
    if step not in (None, 1):
        raise ValueError("a time step other than 1 day is for the pool model only")
    comp = compile_case(case)
    with linopy.options as opts:
        opts(semantics="v1")
        built = build_model(case, comp, relax=relax)
        settings = MatchSettings(time_limit=time_limit, mip_gap=mip_gap)
        if built.model.nvars == 0:
            # Nothing to decide (no pledge reaches any requirement): the empty plan is optimal.
            settings.check(mip=built.mip)
            outcome = SolveOutcome("ok", "optimal", True, 0.0, None, 0.0, "nothing to decide\n")
            return _read(case, built, outcome)
        outcome = run_highs(built.model, settings, mip=built.mip)
        if outcome.termination in ("infeasible", "infeasible_or_unbounded"):
            raise InfeasibleError(
                "no plan honours every recorded delivery",
                [
                    "a recorded delivery needs more than its pledge holds, or more than the "
                    "hubs and routes carry on its day; check the deliveries table",
                    f"solver status: {outcome.termination}",
                ],
            )
        if not outcome.has_solution:
            raise NoSolutionError(
                f"the solver stopped without a plan ({outcome.termination.replace('_', ' ')})",
                ["give it more time (time_limit) or a larger gap (mip_gap)"],
            )
        return _read(case, built, outcome)


def arc_count(case: AssistanceCase, pooled: Compiled) -> int:
    """How many arcs the per-arc model (:func:`compile_case`) has, counted from the pool
    model's compile (``per_line=False``: one arc per source and route): each of those once per
    line of its item, and, for items other than systems, once per slot of its family."""
    if not len(pooled.arcs):
        return 0
    per_item = pooled.arcs.groupby("item").size()
    items = {it.id: it for it in case.items}
    per_family: dict[str, int] = {}
    for item, n in per_item.items():
        it = items[str(item)]
        if it.category != Category.system:
            per_family[it.family] = per_family.get(it.family, 0) + int(n)
    main = sum(int(per_item.get(i, 0)) for i in pooled.lines["item"])
    supply = sum(per_family.get(str(f), 0) for f in pooled.slots["family"])
    return main + supply


def pool_size(comp: Compiled) -> int:
    """About how many variables the daily pool model of a compiled case (``per_line=False``)
    has: flows, draws, operational systems and supply draws, one per day each."""
    flows = len(comp.arcs.groupby(["item", "route"])) if len(comp.arcs) else 0
    return (flows + 2 * len(comp.lines) + len(comp.slots)) * (comp.horizon + 1)


def _solve_pool(
    case: AssistanceCase,
    comp: Compiled,
    *,
    time_limit: float,
    mip_gap: float,
    relax: bool,
    step: int,
) -> MatchResult:
    """:func:`solve` with the pool model (imported here: it builds on this module), its MIP
    started from the greedy plan (:mod:`forcemodel.assist.greedy`) and, above
    ``AUTO_PARTS_VARIABLES``, improved part by part instead (:mod:`forcemodel.assist.parts`)."""
    from forcemodel.assist import pool

    with linopy.options as opts:
        opts(semantics="v1")
        pm = pool.build_pool(case, step=step, relax=relax, comp=comp)
        settings = MatchSettings(time_limit=time_limit, mip_gap=mip_gap)
        settings.check(mip=pm.mip)
        if pm.model.nvars == 0:
            outcome = SolveOutcome("ok", "optimal", True, 0.0, None, 0.0, "nothing to decide\n")
            return pool.read_pool(pm, outcome)
        if pm.mip:
            # HiGHS's own heuristics find poor plans at large sizes (and its LP relaxation
            # takes longer than the time budget there): start from the greedy plan, which is
            # feasible by construction and costs seconds (docs/assistance.md).
            from forcemodel.assist.greedy import greedy_values

            values = greedy_values(pm)
            if pm.model.nvars > AUTO_PARTS_VARIABLES:
                return _solve_by_parts(pm, values, time_limit)
            with tempfile.TemporaryDirectory(prefix="forcemodel-match-") as tmp:
                start = Path(tmp) / "start.sol"
                write_start(pm.model, values, start)
                outcome = run_highs(pm.model, settings, mip=True, start=start, names=True)
        else:
            outcome = run_highs(pm.model, settings, mip=pm.mip)
        if not outcome.has_solution:
            raise NoSolutionError(
                f"the solver stopped without a plan ({outcome.termination.replace('_', ' ')})",
                ["give it more time (time_limit) or a larger gap (mip_gap)"],
            )
        return pool.read_pool(pm, outcome)


def _solve_by_parts(pm: Any, values: np.ndarray, time_limit: float) -> MatchResult:
    """The greedy plan ``values`` of pool model ``pm`` improved part by part
    (``AUTO_PARTS_ROUNDS`` rounds; ``time_limit``: the safety net of
    :func:`forcemodel.assist.parts.improve`)."""
    from forcemodel.assist import parts, pool

    began = time.perf_counter()
    split = parts.split_parts(pm)
    groups = parts.neighbourhoods(pm, split)
    got = parts.improve(
        split,
        values[split.labels],
        rounds=AUTO_PARTS_ROUNDS,
        groups=groups,
        time_limit=max(0.0, time_limit - (time.perf_counter() - began)),
    )
    x, log = got.x, got.log
    out = values.copy()
    out[split.labels] = x
    n_groups = int(np.unique(groups[groups >= 0]).size)
    tried = len({k for k, _, _ in log})
    better = len({k for k, b, a in log if a > b})
    # No time in the text: the log is part of the result, which must be the same every run.
    text = (
        f"greedy start improved part by part: {tried} of {n_groups} groups tried "
        f"({len(log)} solves, {got.rounds} of {AUTO_PARTS_ROUNDS} rounds), {better} improved; "
        f"objective {float(split.cost @ values[split.labels]):.6g} -> "
        f"{float(split.cost @ x):.6g}\n"
    )
    if got.timed_out:
        text += (
            f"stopped by the time limit ({time_limit:g} s, a safety net) before the work "
            "limits: this plan may depend on the machine's speed and load\n"
        )
    outcome = SolveOutcome(
        "ok",
        "time_limit" if got.timed_out else "feasible",
        True,
        float(split.cost @ x),
        None,
        time.perf_counter() - began,
        text,
    )
    return pool.read_pool(pm, outcome, out)


def write_start(m: linopy.Model, values: np.ndarray, path: Path) -> None:
    """A HiGHS solution file giving every variable of ``m`` its value in ``values`` (by label),
    for :func:`forcemodel.mip.solve.run_highs` (``start``, with ``names=True``: HiGHS
    then knows the columns as ``x<label>`` and matches them by name)."""
    labels = np.concatenate([m.variables[name].labels.to_numpy().ravel() for name in m.variables])
    labels = np.sort(labels[labels >= 0])
    with path.open("w", encoding="utf-8") as out:
        out.write("Model status\nNot Set\n\n# Primal solution values\nFeasible\nObjective 0\n")
        out.write(f"# Columns {labels.size}\n")
        out.writelines(f"x{lab} {float(values[lab])!r}\n" for lab in labels.tolist())


def _read(
    case: AssistanceCase,
    built: BuiltModel,
    outcome: SolveOutcome,
) -> MatchResult:
    comp = built.compiled
    m = built.model
    value_of = _label_values(m)
    X = _lookup(value_of, built.x)
    op = _lookup(value_of, built.op)
    T = _lookup(value_of, built.trainees)
    U = _lookup(value_of, built.runs)
    arcs, lines = comp.arcs, comp.lines
    # Integer variables come back within the solver's tolerance: round them.
    X = np.where(arcs["integer"].to_numpy(bool)[:, None], np.round(X), X)
    op = np.where(lines["system"].to_numpy(bool)[:, None], np.round(op), op)
    flow = np.diff(X, axis=1)  # (arc, day 0..H)
    flow[np.abs(flow) < TOL] = 0.0
    rows: list[dict[str, Any]] = []
    for a, d in zip(*np.nonzero(flow > TOL), strict=True):
        arc = arcs.iloc[int(a)]
        rows.append(
            {
                "source": int(arc["source"]),
                "pledge": arc["pledge"],
                "donor": comp.sources.at[int(arc["source"]), "donor"],
                "item": arc["item"],
                "requirement": arc["requirement"],
                "role": arc["role"],
                "line": int(arc["line"]),
                "route": arc["route"],
                "hub": arc["hub"],
                "quantity": float(flow[a, d]),
                "ship_day": int(d) - int(arc["onward"]) - int(arc["to_hub"]),
                "hub_day": int(d) - int(arc["onward"]),
                "delivery_day": int(d),
            }
        )
    return finish_result(case, comp, rows, op, T, U, outcome)


def finish_result(
    case: AssistanceCase,
    comp: Compiled,
    rows: list[dict[str, Any]],
    op: np.ndarray,
    T: np.ndarray,
    U: np.ndarray,
    outcome: SolveOutcome,
) -> MatchResult:
    """The result tables from delivery rows (one per source, route, line or slot and delivery
    day: what the plan sends), operational systems per line and day (``op``), trainees per
    training row (``T``) and cohorts run (``U``)."""
    H = comp.horizon
    lines = comp.lines
    # Delivered per line and day: the cumulative sum of the rows of the line's own item.
    delivered = np.zeros((len(lines), H + 1))
    for row in rows:
        if row["role"] == "main":
            delivered[int(row["line"]), int(row["delivery_day"])] += float(row["quantity"])
    delivered = np.cumsum(delivered, axis=1)
    days = np.arange(H + 1)
    progress = pd.DataFrame(
        {
            "requirement": np.repeat(lines["requirement"].to_numpy(), H + 1),
            "item": np.repeat(lines["item"].to_numpy(), H + 1),
            "standard": np.repeat(lines["standard"].to_numpy(), H + 1),
            "system": np.repeat(lines["system"].to_numpy(bool), H + 1),
            "day": np.tile(days, len(lines)),
            "delivered": delivered.ravel(),
            "operational": np.minimum(op, delivered).ravel(),
        }
    )
    # Hub loads from what the rows send through each hub on their hub day.
    tons_of = {it.id: it.tons for it in case.items}
    load: dict[str, np.ndarray] = {h.id: np.zeros(H + 1) for h in case.hubs}
    for row in rows:
        hd = int(row["hub_day"])
        if str(row["hub"]) in load and 0 <= hd <= H:
            load[str(row["hub"])][hd] += tons_of[str(row["item"])] * float(row["quantity"])

    rows = _split_merged(rows, comp.sources)
    cols = [
        "pledge",
        "donor",
        "item",
        "requirement",
        "role",
        "line",
        "route",
        "hub",
        "quantity",
        "ship_day",
        "hub_day",
        "delivery_day",
    ]
    dl = pd.DataFrame(rows, columns=cols).sort_values(
        ["line", "delivery_day", "pledge"], kind="stable"
    )
    is_system = lines["system"].to_numpy(bool)
    # A system row is split by the day its systems become operational, first delivered first.
    split: list[dict[str, Any]] = []
    done: dict[int, float] = {}
    for row in records(dl):
        li = int(row["line"])
        if row["role"] != "main":
            split.append({**row, "operational_day": None})
            continue
        if not bool(is_system[li]):
            split.append({**row, "operational_day": int(row["delivery_day"])})
            continue
        before = done.get(li, 0.0)
        done[li] = before + float(row["quantity"])
        batches: dict[int | None, float] = {}
        for k in range(round(before) + 1, round(done[li]) + 1):
            ok = np.flatnonzero(op[li] >= k - 1e-6)
            when = max(int(ok[0]), int(row["delivery_day"])) if ok.size else None
            batches[when] = batches.get(when, 0.0) + 1.0
        for when, n in batches.items():
            split.append({**row, "quantity": n, "operational_day": when})
    dl = pd.DataFrame(split, columns=[*cols, "operational_day"])
    dl["operational_day"] = dl["operational_day"].astype("Int64")
    for col in ("ship_day", "hub_day", "delivery_day"):
        dl[col.replace("_day", "_date")] = [case.date(int(v)).isoformat() for v in dl[col]]
    dl["operational_date"] = [
        None if pd.isna(v) else case.date(int(v)).isoformat() for v in dl["operational_day"]
    ]
    dl = dl.drop(columns=["line"]).reset_index(drop=True)

    req_rows: list[dict[str, Any]] = []
    for r in case.requirements:
        mine = (lines["requirement"] == r.id).to_numpy()
        due = case.day(r.needed_by)
        d_tot = delivered[mine].sum(axis=0) if mine.any() else np.zeros(H + 1)
        o_tot = np.minimum(op[mine], delivered[mine]).sum(axis=0) if mine.any() else d_tot * 0
        full = np.flatnonzero(o_tot >= r.quantity - 1e-6)
        req_rows.append(
            {
                "requirement": r.id,
                "wants": r.item or f"{r.capability}" + (f" ({r.standard})" if r.standard else ""),
                "quantity": float(r.quantity),
                "priority": float(r.priority),
                "needed_by": r.needed_by.isoformat(),
                "due_day": due,
                "delivered_by_due": float(d_tot[due]),
                "operational_by_due": float(o_tot[due]),
                "shortfall": max(0.0, float(r.quantity - o_tot[due])),
                "operational_day": int(full[0]) if full.size else None,
            }
        )
    requirements = pd.DataFrame(
        req_rows,
        columns=[
            "requirement",
            "wants",
            "quantity",
            "priority",
            "needed_by",
            "due_day",
            "delivered_by_due",
            "operational_by_due",
            "shortfall",
            "operational_day",
        ],
    )
    requirements["operational_day"] = requirements["operational_day"].astype("Int64")

    tr = comp.training.copy()
    tr["trainees"] = T
    tr["runs"] = np.round(U[tr["cohort"].to_numpy(int)]) if len(tr) else []
    tr = tr[(tr["runs"] > 0.5) & (tr["trainees"] > TOL)].drop(columns=["cohort", "runs"])
    tr["start_date"] = [case.date(int(v)).isoformat() for v in tr["start"]]
    tr["end_date"] = [case.date(int(v)).isoformat() for v in tr["end"]]

    hub_rows = []
    for h in case.hubs:
        for d in days:
            hub_rows.append(
                {"hub": h.id, "day": int(d), "tons": float(load[h.id][d]), "capacity": h.t_per_day}
            )
    hubs = pd.DataFrame(hub_rows, columns=["hub", "day", "tons", "capacity"])
    return MatchResult(
        case=case,
        compiled=comp,
        termination=outcome.termination,
        objective=float(outcome.objective or 0.0),
        mip_gap=outcome.mip_gap,
        runtime_s=outcome.runtime_s,
        log=outcome.log,
        deliveries=dl,
        progress=progress,
        requirements=requirements,
        training=tr.reset_index(drop=True),
        hubs=hubs,
    )


def _split_merged(rows: list[dict[str, Any]], sources: pd.DataFrame) -> list[dict[str, Any]]:
    """Delivery rows of merged sources shared out to their pledges, in pledge order.

    The pledges of a merged source are identical but for their quantities, so any share that
    gives no pledge more than it holds is a plan of the unmerged case with the same value; whole
    numbers stay whole (systems: whole deliveries from pledges of whole items).
    """
    left: dict[int, list[float]] = {}
    out: list[dict[str, Any]] = []
    held = sources["members"].to_numpy()
    amounts = sources["member_quantities"].to_numpy()
    givers = sources["member_donors"].to_numpy()
    for row in rows:
        si = int(row.pop("source"))
        members: tuple[str, ...] = held[si]
        if len(members) == 1:
            out.append(row)
            continue
        room = left.setdefault(si, list(amounts[si]))
        donors: tuple[str, ...] = givers[si]
        qty = float(row["quantity"])
        for k, pledge in enumerate(members):
            last = k == len(members) - 1
            take = qty if last else min(qty, room[k])
            if take > TOL:
                out.append({**row, "pledge": pledge, "donor": donors[k], "quantity": take})
                room[k] -= take
                qty -= take
            if qty <= TOL:
                break
    return out


def _label_values(m: linopy.Model) -> np.ndarray:
    """Solution value of every variable label of the model (NaN where none)."""
    n = int(m._xCounter)
    out = np.full(n, np.nan)
    for name in m.variables:
        var = m.variables[name]
        lab = var.labels.to_numpy().ravel()
        val = var.solution.to_numpy().ravel()
        ok = lab >= 0
        out[lab[ok]] = val[ok]
    return out


def _lookup(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    out = np.zeros(labels.shape)
    ok = labels >= 0
    out[ok] = values[labels[ok]]
    return np.nan_to_num(out)
