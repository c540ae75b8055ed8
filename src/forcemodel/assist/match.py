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
from dataclasses import dataclass, field
from typing import Any, cast

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from forcemodel.assist.model import AssistanceCase, Category, requirement_serves
from forcemodel.optimize.errors import InfeasibleError, NoSolutionError
from forcemodel.optimize.solve import SolveOutcome, SolverSettings, run_highs

#: Weight of a delivered (not yet operational) item against an operational one.
DELIVERED_WEIGHT = 0.1
#: Weight of all days' progress (every day up to the horizon) against the needed-by date.
EARLY_WEIGHT = 0.1
#: Scale of the tie-breaking costs (supplies, trainees, cohorts) against one requirement.
TIE_WEIGHT = 1e-3
#: Quantities below this count as zero when the solution is read.
TOL = 1e-6


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


def compile_case(case: AssistanceCase) -> Compiled:
    """Index the case: sources, lines, slots, arcs, cohorts and training rows."""
    horizon = case.meta.horizon_days
    items = {it.id: it for it in case.items}
    src: list[dict[str, Any]] = []
    for p in case.pledges:
        avail = max(0, case.day(p.available_from))
        if p.item is not None:
            src.append(
                {
                    "pledge": p.id,
                    "donor": p.donor,
                    "item": p.item,
                    "quantity": float(p.quantity or 0.0),
                    "funds": "",
                    "price": math.nan,
                    "available": avail,
                    "location": p.location,
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
                }
            )
    sources = _frame(
        src, ["pledge", "donor", "item", "quantity", "funds", "price", "available", "location"]
    )
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
                funds = next(p.funds_eur for p in case.pledges if p.id == s["funds"])
                bound = min(bound, float(funds or 0.0) / float(s["price"]))
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
                    "requirement": ln[li]["requirement"],
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

    for li, line in enumerate(ln):
        for si, source in enumerate(src):
            if source["item"] == line["item"]:
                add_arcs(si, "main", li, -1, float(line["quantity"]))
    for k, slot in enumerate(sl):
        cap = float(ln[slot["line"]]["quantity"]) * float(slot["per_system"])
        for si, source in enumerate(src):
            it = items[str(source["item"])]
            if it.family == slot["family"] and it.category != Category.system:
                add_arcs(si, "supply", int(slot["line"]), k, cap)
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


class _Terms:
    """Sparse (row, variable label, coefficient) terms; rows are cells of the given coords."""

    def __init__(self, coords: list[pd.Index]) -> None:
        self.coords = coords
        self.shape = tuple(len(c) for c in coords)
        self.rows: list[np.ndarray] = []
        self.labels: list[np.ndarray] = []
        self.coeffs: list[np.ndarray] = []

    def add(self, rows: object, labels: object, coeffs: object) -> None:
        r, lab, c = np.broadcast_arrays(
            np.asarray(rows, dtype=np.int64),
            np.asarray(labels, dtype=np.int64),
            np.asarray(coeffs, dtype=float),
        )
        keep = (lab >= 0) & (c != 0)
        self.rows.append(r[keep].ravel())
        self.labels.append(lab[keep].ravel())
        self.coeffs.append(c[keep].ravel())

    def build(self, m: linopy.Model) -> tuple[linopy.LinearExpression, xr.DataArray]:
        """The expression over the coords, and the mask of rows that have any term."""
        n = int(np.prod(self.shape)) if self.shape else 1
        rows = np.concatenate(self.rows) if self.rows else np.zeros(0, np.int64)
        labels = np.concatenate(self.labels) if self.labels else np.zeros(0, np.int64)
        coeffs = np.concatenate(self.coeffs) if self.coeffs else np.zeros(0)
        order = np.argsort(rows, kind="stable")
        rows, labels, coeffs = rows[order], labels[order], coeffs[order]
        counts = np.bincount(rows, minlength=n)
        width = max(1, int(counts.max()) if counts.size else 1)
        starts = np.cumsum(counts) - counts
        pos = np.arange(rows.size) - np.repeat(starts, counts)
        v = np.full((n, width), -1, dtype=np.int64)
        c = np.zeros((n, width))
        v[rows, pos] = labels
        c[rows, pos] = coeffs
        dims = [str(ix.name) for ix in self.coords]
        shape = (*self.shape, width)
        ds = xr.Dataset(
            {
                "vars": ([*dims, "_term"], v.reshape(shape)),
                "coeffs": ([*dims, "_term"], c.reshape(shape)),
            },
            coords={d: ix for d, ix in zip(dims, self.coords, strict=True)},
        )
        mask = xr.DataArray((counts > 0).reshape(self.shape), coords=self.coords)
        return linopy.LinearExpression(ds, m), mask


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
    ub = np.where(day_ext[None, :] >= earliest[:, None], bound[:, None], 0.0)
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
        )
        x[idx] = var.labels.to_numpy()

    # Operational systems O[line, d]: at most the requirement's quantity.
    qty = lines["quantity"].to_numpy(float)
    op = np.full((n_line, H + 1), -1, dtype=np.int64)
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
        )
        op[idx] = var.labels.to_numpy()

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

    def constrain(t: _Terms, sign: str, rhs: np.ndarray | float, name: str) -> None:
        expr, mask = t.build(m)
        rhs_da = xr.DataArray(np.broadcast_to(rhs, t.shape).copy(), coords=t.coords)
        if not bool(mask.any()):
            return
        if sign == "<=":
            m.add_constraints(expr <= rhs_da, name=name, mask=mask)
        else:
            m.add_constraints(expr >= rhs_da, name=name, mask=mask)

    arc_rows = np.arange(n_arc)
    arc_req = arcs["requirement"].to_numpy()
    main = (arcs["role"] == "main").to_numpy()
    line_of = arcs["line"].to_numpy(int)
    slot_of = arcs["slot"].to_numpy(int)
    last = x[:, H + 1]
    D = pd.Index(days, name="day")

    # (1) Deliveries only grow.
    if n_arc:
        t = _Terms([pd.RangeIndex(n_arc, name="arc"), D])
        rows = arc_rows[:, None] * (H + 1) + days[None, :]
        t.add(rows, x[:, 1:], 1.0)
        t.add(rows, x[:, :-1], -1.0)
        constrain(t, ">=", 0.0, "deliver_monotone")

    # (2) A pledge gives at most its quantity; funds buy at most their value.
    sources = comp.sources
    if n_arc:
        src_of = arcs["source"].to_numpy(int)
        t = _Terms([pd.RangeIndex(len(sources), name="source")])
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
            t = _Terms([fund_ix])
            price = sources["price"].to_numpy(float)[src_of]
            t.add(
                [pos[str(f)] for f in sources["funds"].to_numpy()[src_of][fsel]],
                last[fsel],
                price[fsel],
            )
            value = {p.id: float(p.funds_eur or 0.0) for p in case.pledges}
            constrain(t, "<=", np.array([value[f] for f in funds]), "funds")

    # (3) A requirement takes at most its quantity (all its lines together).
    req_ids = [r.id for r in case.requirements]
    req_pos = {r: i for i, r in enumerate(req_ids)}
    if n_arc and main.any():
        t = _Terms([pd.Index(req_ids, name="requirement")])
        t.add([req_pos[str(r)] for r in arcs["requirement"][main]], last[main], 1.0)
        constrain(t, "<=", np.array([r.quantity for r in case.requirements]), "requirement")

    # (4) A line takes supplies for the systems it receives only.
    per = slots["per_system"].to_numpy(float)
    if len(slots) and n_arc:
        t = _Terms([pd.RangeIndex(len(slots), name="slot")])
        sup = ~main
        t.add(slot_of[sup], last[sup], 1.0)
        for k, slot in enumerate(records(slots)):
            feed = main & (line_of == int(slot["line"]))
            t.add(np.full(feed.sum(), k), last[feed], -float(slot["per_system"]))
        constrain(t, "<=", 0.0, "supply_for_systems")

    # (5) Operational <= delivered; (6) <= supplies / per system; operational never falls.
    if n_line:
        t = _Terms([pd.RangeIndex(n_line, name="line"), D])
        t.add(np.arange(n_line)[:, None] * (H + 1) + days[None, :], op, 1.0)
        rows = line_of[main][:, None] * (H + 1) + days[None, :]
        t.add(rows, x[main][:, 1:], -1.0)
        constrain(t, "<=", 0.0, "operational_delivered")
        t = _Terms([pd.RangeIndex(n_line, name="line"), pd.Index(days[1:], name="day")])
        rows = np.arange(n_line)[:, None] * H + days[None, :-1]
        t.add(rows, op[:, 1:], 1.0)
        t.add(rows, op[:, :-1], -1.0)
        constrain(t, ">=", 0.0, "operational_monotone")
    if len(slots):
        t = _Terms([pd.RangeIndex(len(slots), name="slot"), D])
        sline = slots["line"].to_numpy(int)
        rows = np.arange(len(slots))[:, None] * (H + 1) + days[None, :]
        t.add(rows, op[sline], per[:, None])
        sup = ~main
        t.add(slot_of[sup][:, None] * (H + 1) + days[None, :], x[sup][:, 1:], -1.0)
        constrain(t, "<=", 0.0, "operational_supplied")

    # (7) Crews: operational systems of an item need crew x systems people trained by then.
    crew_items = sorted({str(i) for i, c in zip(lines["item"], lines["crew"], strict=True) if c})
    if crew_items:
        ipos = {i: k for k, i in enumerate(crew_items)}
        t = _Terms([pd.Index(crew_items, name="item"), D])
        for li, line in enumerate(records(lines)):
            if line["crew"]:
                rows = ipos[str(line["item"])] * (H + 1) + days
                t.add(rows, op[li], float(line["crew"]))
        for k, row in enumerate(records(tr)):
            if str(row["item"]) in ipos:
                d = days[days >= int(row["end"])]
                t.add(ipos[str(row["item"])] * (H + 1) + d, trainees[k], -1.0)
        constrain(t, "<=", 0.0, "crews")

    # (8) Cohorts: trainees only in a cohort that runs, at most its size; at most max_cohorts.
    if len(co):
        t = _Terms([pd.RangeIndex(len(co), name="cohort")])
        t.add(tr["cohort"].to_numpy(int), trainees, 1.0)
        t.add(np.arange(len(co)), runs, -co["size"].to_numpy(float))
        constrain(t, "<=", 0.0, "cohort_size")
        limited = [c for c in case.courses if c.max_cohorts is not None]
        if limited:
            t = _Terms([pd.Index([c.id for c in limited], name="course")])
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
        t = _Terms([pd.RangeIndex(len(keys), name="prerequisite")])
        for k, (q, st) in enumerate(keys):
            needing = {c for c, qq in pre if qq == q}
            enter = tr["course"].isin(needing).to_numpy() & (tr["start"].to_numpy() <= st)
            done = (tr["course"] == q).to_numpy() & (tr["end"].to_numpy() <= st)
            t.add(k, trainees[enter], 1.0)
            t.add(k, trainees[done], -1.0)
        constrain(t, "<=", 0.0, "prerequisites")

    # (10) Hub throughput on the day loads pass the hub; route capacity on the delivery day.
    tons = arcs["tons"].to_numpy(float)
    arc_hub, arc_route = arcs["hub"].to_numpy(), arcs["route"].to_numpy()
    hubs = [h.id for h in case.hubs]
    if n_arc and hubs:
        hpos = {h: k for k, h in enumerate(hubs)}
        t = _Terms([pd.Index(hubs, name="hub"), D])
        onward = arcs["onward"].to_numpy(int)
        for a in np.flatnonzero(tons > 0):
            h = days[: H + 1 - onward[a]]
            d = h + onward[a]
            rows = hpos[str(arc_hub[a])] * (H + 1) + h
            t.add(rows, x[a, d + 1], tons[a])
            t.add(rows, x[a, d], -tons[a])
        cap = np.repeat([[h.t_per_day] for h in case.hubs], H + 1, axis=1)
        constrain(t, "<=", cap, "hub_capacity")
    capped = [rt for rt in case.routes if rt.t_per_day is not None]
    if n_arc and capped:
        rpos = {rt.id: k for k, rt in enumerate(capped)}
        t = _Terms([pd.Index(list(rpos), name="route"), D])
        for a in np.flatnonzero(tons > 0):
            rid = str(arc_route[a])
            if rid in rpos:
                t.add(rpos[rid] * (H + 1) + days, x[a, 1:], tons[a])
                t.add(rpos[rid] * (H + 1) + days, x[a, :-1], -tons[a])
        cap = np.repeat([[float(rt.t_per_day or 0.0)] for rt in capped], H + 1, axis=1)
        constrain(t, "<=", cap, "route_capacity")

    # (11) Recorded deliveries are honoured.
    _recorded(case, comp, m, x)

    # Objective: priority-weighted share of each requirement operational by its needed-by date,
    # a tenth for delivered items, a tenth spread over every day (earlier is better), minus
    # small tie-breaking costs.
    w_req = {r.id: r.priority / r.quantity for r in case.requirements}
    due = {r.id: case.day(r.needed_by) for r in case.requirements}
    obj = _Terms([])
    spread = EARLY_WEIGHT / (H + 1)
    for li, line in enumerate(records(lines)):
        w = w_req[str(line["requirement"])]
        obj.add(0, op[li, int(line["due"])], w)
        obj.add(0, op[li], w * spread)
    for a in np.flatnonzero(main):
        w = w_req[str(arc_req[a])]
        obj.add(0, x[a, due[str(arc_req[a])] + 1], w * DELIVERED_WEIGHT)
        obj.add(0, x[a, 1:], w * DELIVERED_WEIGHT * spread)
    # Trainees and cohorts are worth something only through crewed systems: their costs are
    # scaled by the least weight of a crewed line, so they never outweigh what they give.
    crewed = [w_req[str(r)] for r, c in zip(lines["requirement"], lines["crew"], strict=True) if c]
    w_min = min(crewed, default=1.0)
    for a in np.flatnonzero(~main):
        # A cost on supplies sent (none without a use), less a smaller reward for early ones.
        w = w_req[str(arc_req[a])] / float(per[slot_of[a]])
        obj.add(0, last[a], -TIE_WEIGHT * w)
        obj.add(0, x[a, 1:], TIE_WEIGHT * w * spread)
    if len(tr):
        crew_max = max(1, int(lines["crew"].max()) if n_line else 1)
        obj.add(0, trainees, -TIE_WEIGHT * w_min / crew_max)
        obj.add(0, runs, -TIE_WEIGHT * w_min)
    expr, _ = obj.build(m)
    m.add_objective(expr, sense="max")
    mip = not relax and (bool(integer.any()) or bool(systems.any()) or len(co) > 0)
    return BuiltModel(m, comp, x, op, trainees, runs, mip)


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
        t = _Terms([pd.RangeIndex(1, name="recorded")])
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
) -> MatchResult:
    """Build, solve and read the matching model (without explanations).

    Raises :class:`InfeasibleError` when recorded deliveries cannot be honoured, and
    :class:`NoSolutionError` when the solver stops without a plan.
    """
    comp = compile_case(case)
    with linopy.options as opts:
        opts(semantics="v1")
        built = build_model(case, comp, relax=relax)
        settings = SolverSettings(time_limit=time_limit, mip_gap=mip_gap)
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


def _read(
    case: AssistanceCase,
    built: BuiltModel,
    outcome: SolveOutcome,
) -> MatchResult:
    comp = built.compiled
    H = comp.horizon
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

    # Delivered and operational per line and day.
    delivered = np.zeros((len(lines), H + 1))
    main = (arcs["role"] == "main").to_numpy()
    np.add.at(delivered, arcs["line"].to_numpy(int)[main], X[main, 1:])
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

    rows: list[dict[str, Any]] = []
    for a, d in zip(*np.nonzero(flow > TOL), strict=True):
        arc = arcs.iloc[int(a)]
        rows.append(
            {
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
    tons = arcs["tons"].to_numpy(float)
    onward_of = arcs["onward"].to_numpy(int)
    for h in case.hubs:
        load = np.zeros(H + 1)
        for a in np.flatnonzero((arcs["hub"] == h.id).to_numpy()):
            on = int(onward_of[a])
            load[: H + 1 - on] += tons[a] * flow[a, on:]
        for d in days:
            hub_rows.append(
                {"hub": h.id, "day": int(d), "tons": float(load[d]), "capacity": h.t_per_day}
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
