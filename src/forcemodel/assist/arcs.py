"""The per-arc matching model: a daily time-expanded MIP built with linopy.

Per arc (:mod:`forcemodel.assist.compile`) and day it chooses the cumulative quantity
delivered, per training row the trainees, per cohort whether it runs, and per line and day how
many systems are operational. :func:`build_model` adds the variables, then one ``define_*``
function per constraint family in the order of docs/assistance.md ("The matching model"),
then the objective. Every constraint is built as a sparse sum of (row, variable, coefficient)
terms (:class:`forcemodel.mip.terms.Terms`), so the model is vectorised whatever the shape of
the case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from forcemodel.assist.compile import TOL, Compiled, records
from forcemodel.assist.formulation import (
    DELIVERED_WEIGHT,
    EARLY_WEIGHT,
    TIE_WEIGHT,
    add_rows,
    least_crewed_weight,
    requirement_weights,
    training_constraints,
    training_costs,
    training_variables,
)
from forcemodel.assist.model import AssistanceCase
from forcemodel.mip.errors import InfeasibleError
from forcemodel.mip.terms import Terms


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


#: A user's extra constraints, added after the model's own and before the objective (as
#: PyPSA's ``extra_functionality``): called with the case and the built model.
ExtraConstraints = Callable[[AssistanceCase, BuiltModel], None]


def build_model(
    case: AssistanceCase,
    comp: Compiled,
    *,
    relax: bool = False,
    extra: ExtraConstraints | None = None,
) -> BuiltModel:
    """The linopy model of a compiled case (docs/assistance.md, "The matching model").

    ``extra``: a function that adds constraints of its own to ``built.model`` (reading the
    label tables of ``built``) before the objective is set. Call under linopy's v1 semantics
    (:func:`forcemodel.assist.match_case` does).
    """
    m = linopy.Model()
    x, integer = define_deliveries(m, comp, relax=relax)
    op, systems = define_operational(m, comp, relax=relax)
    trainees, runs = training_variables(m, comp, relax=relax)
    mip = not relax and (bool(integer.any()) or bool(systems.any()) or len(comp.cohorts) > 0)
    built = BuiltModel(m, comp, x, op, trainees, runs, mip)
    define_deliveries_grow(built)
    define_pledges(built, case)
    define_requirements(built, case)
    define_supplies(built)
    define_operational_limits(built)
    training_constraints(m, case, comp, op, np.arange(comp.horizon + 1), trainees, runs)
    define_capacities(built, case)
    define_recorded(built, case)
    if extra is not None:
        extra(case, built)
    define_objective(built, case)
    return built


def define_deliveries(
    m: linopy.Model, comp: Compiled, *, relax: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative deliveries X[arc, d], d = -1..H: 0 before an arc's earliest delivery day.

    Sparse in time: an arc has variables from its earliest delivery day on only; before that
    its label is -1, which every constraint and the objective read as a zero. Returns the
    labels and which arcs are integer.
    """
    H, arcs = comp.horizon, comp.arcs
    day_ext = np.arange(-1, H + 1)
    earliest = arcs["earliest"].to_numpy(int)
    bound = arcs["bound"].to_numpy(float)
    live = day_ext[None, :] >= earliest[:, None]
    ub = np.where(live, bound[:, None], 0.0)
    integer = arcs["integer"].to_numpy(bool) & (not relax)
    x = _typed_variables(m, "deliver", "arc", integer, ub, live, pd.Index(day_ext, name="day"))
    return x, integer


def define_operational(
    m: linopy.Model, comp: Compiled, *, relax: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Operational systems O[line, d]: at most the requirement's quantity, from the first day
    something is delivered to the line. Returns the labels and which lines are integer."""
    H, arcs, lines = comp.horizon, comp.arcs, comp.lines
    days = np.arange(H + 1)
    qty = lines["quantity"].to_numpy(float)
    first = np.full(len(lines), H + 1, dtype=np.int64)
    main_arcs = (arcs["role"] == "main").to_numpy()
    earliest = arcs["earliest"].to_numpy(int)
    np.minimum.at(first, arcs["line"].to_numpy(int)[main_arcs], earliest[main_arcs])
    op_live = days[None, :] >= first[:, None]
    systems = lines["system"].to_numpy(bool) & (not relax)
    ubq = np.where(systems, np.floor(qty + TOL), qty)
    upper = np.repeat(ubq[:, None], H + 1, axis=1)
    op = _typed_variables(m, "operational", "line", systems, upper, op_live, days)
    return op, systems


def _typed_variables(
    m: linopy.Model,
    name: str,
    row: str,
    integer: np.ndarray,
    upper: np.ndarray,
    live: np.ndarray,
    days: pd.Index | np.ndarray,
) -> np.ndarray:
    """Variables (row, day) where ``live``, at most ``upper``: ``<name>_int`` (integer) for the
    rows flagged ``integer``, ``<name>`` (continuous) for the others. Labels; -1 elsewhere."""
    labels = np.full(live.shape, -1, dtype=np.int64)
    for var_name, sel in ((f"{name}_int", integer), (name, ~integer)):
        idx = np.flatnonzero(sel)
        if idx.size == 0:
            continue
        ix = pd.Index(idx, name=f"{row}_{var_name}")
        var = m.add_variables(
            lower=0.0,
            upper=xr.DataArray(upper[idx], coords=[ix, days]),
            integer=var_name.endswith("_int"),
            name=var_name,
            mask=xr.DataArray(live[idx], coords=[ix, days]),
        )
        labels[idx] = var.labels.to_numpy()
    return labels


def _main(comp: Compiled) -> np.ndarray:
    """Which arcs carry a line's own item (not a supply for its systems)."""
    return (comp.arcs["role"] == "main").to_numpy()


def define_deliveries_grow(built: BuiltModel) -> None:
    """(1) Deliveries only grow."""
    comp, x = built.compiled, built.x
    n_arc, H = len(comp.arcs), comp.horizon
    if not n_arc:
        return
    days = np.arange(H + 1)
    t = Terms([pd.RangeIndex(n_arc, name="arc"), pd.Index(days, name="day")])
    rows = np.arange(n_arc)[:, None] * (H + 1) + days[None, :]
    t.add(rows, x[:, 1:], 1.0)
    t.add(rows, x[:, :-1], -1.0)
    add_rows(built.model, t, ">=", 0.0, "deliver_monotone")


def define_pledges(built: BuiltModel, case: AssistanceCase) -> None:
    """(2) A pledge gives at most its quantity; funds buy at most their value."""
    m, comp = built.model, built.compiled
    arcs, sources = comp.arcs, comp.sources
    if not len(arcs):
        return
    last = built.x[:, comp.horizon + 1]
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
    if not funds:
        return
    pos = {f: i for i, f in enumerate(funds)}
    fsel = sources["funds"].to_numpy()[src_of] != ""
    t = Terms([pd.Index(funds, name="fund")])
    price = sources["price"].to_numpy(float)[src_of]
    row = np.array([pos[str(f)] for f in sources["funds"].to_numpy()[src_of][fsel]])
    # Each row in units of the cheapest item its funds buy, not in euros (coefficients near 1,
    # not up to 4e5 against right-hand sides of 5e7: a badly scaled LP).
    unit = np.full(len(funds), np.inf)
    np.minimum.at(unit, row, price[fsel])
    t.add(row, last[fsel], price[fsel] / unit[row])
    value = {p.id: float(p.funds_eur or 0.0) for p in case.pledges}
    add_rows(m, t, "<=", np.array([value[f] for f in funds]) / unit, "funds")


def define_requirements(built: BuiltModel, case: AssistanceCase) -> None:
    """(3) A requirement takes at most its quantity (all its lines together)."""
    comp = built.compiled
    arcs, main = comp.arcs, _main(comp)
    if not (len(arcs) and main.any()):
        return
    req_ids = [r.id for r in case.requirements]
    req_pos = {r: i for i, r in enumerate(req_ids)}
    last = built.x[:, comp.horizon + 1]
    t = Terms([pd.Index(req_ids, name="requirement")])
    t.add([req_pos[str(r)] for r in arcs["requirement"][main]], last[main], 1.0)
    add_rows(built.model, t, "<=", np.array([r.quantity for r in case.requirements]), "requirement")


def define_supplies(built: BuiltModel) -> None:
    """(4) A line takes supplies for the systems it receives only."""
    comp = built.compiled
    arcs, slots, main = comp.arcs, comp.slots, _main(comp)
    if not (len(slots) and len(arcs)):
        return
    last = built.x[:, comp.horizon + 1]
    line_of = arcs["line"].to_numpy(int)
    t = Terms([pd.RangeIndex(len(slots), name="slot")])
    sup = ~main
    t.add(arcs["slot"].to_numpy(int)[sup], last[sup], 1.0)
    for k, slot in enumerate(records(slots)):
        feed = main & (line_of == int(slot["line"]))
        t.add(np.full(feed.sum(), k), last[feed], -float(slot["per_system"]))
    add_rows(built.model, t, "<=", 0.0, "supply_for_systems")


def define_operational_limits(built: BuiltModel) -> None:
    """(5) Operational <= delivered; (6) <= supplies / per system; operational never falls."""
    m, comp, x, op = built.model, built.compiled, built.x, built.op
    H, arcs, lines, slots = comp.horizon, comp.arcs, comp.lines, comp.slots
    days = np.arange(H + 1)
    D = pd.Index(days, name="day")
    main = _main(comp)
    n_line = len(lines)
    if n_line:
        t = Terms([pd.RangeIndex(n_line, name="line"), D])
        t.add(np.arange(n_line)[:, None] * (H + 1) + days[None, :], op, 1.0)
        rows = arcs["line"].to_numpy(int)[main][:, None] * (H + 1) + days[None, :]
        t.add(rows, x[main][:, 1:], -1.0)
        add_rows(m, t, "<=", 0.0, "operational_delivered")
        t = Terms([pd.RangeIndex(n_line, name="line"), pd.Index(days[1:], name="day")])
        rows = np.arange(n_line)[:, None] * H + days[None, :-1]
        t.add(rows, op[:, 1:], 1.0)
        t.add(rows, op[:, :-1], -1.0)
        add_rows(m, t, ">=", 0.0, "operational_monotone")
    if len(slots):
        per = slots["per_system"].to_numpy(float)
        t = Terms([pd.RangeIndex(len(slots), name="slot"), D])
        sline = slots["line"].to_numpy(int)
        rows = np.arange(len(slots))[:, None] * (H + 1) + days[None, :]
        t.add(rows, op[sline], per[:, None])
        sup = ~main
        slot_of = arcs["slot"].to_numpy(int)
        t.add(slot_of[sup][:, None] * (H + 1) + days[None, :], x[sup][:, 1:], -1.0)
        add_rows(m, t, "<=", 0.0, "operational_supplied")


def define_capacities(built: BuiltModel, case: AssistanceCase) -> None:
    """(10) Hub throughput on the day loads pass the hub; route capacity on the delivery day."""
    m, comp, x = built.model, built.compiled, built.x
    H, arcs = comp.horizon, comp.arcs
    if not len(arcs):
        return
    days = np.arange(H + 1)
    D = pd.Index(days, name="day")
    tons = arcs["tons"].to_numpy(float)
    arc_hub, arc_route = arcs["hub"].to_numpy(), arcs["route"].to_numpy()
    hubs = [h.id for h in case.hubs]
    if hubs:
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
        add_rows(m, t, "<=", cap, "hub_capacity")
    capped = [rt for rt in case.routes if rt.t_per_day is not None]
    if capped:
        rpos = {rt.id: k for k, rt in enumerate(capped)}
        t = Terms([pd.Index(list(rpos), name="route"), D])
        on_capped = np.flatnonzero((tons > 0) & np.isin(arc_route, list(rpos)))
        route_row = np.array([rpos[str(r)] for r in arc_route[on_capped]], dtype=np.int64)
        rows = route_row[:, None] * (H + 1) + days[None, :]
        t.add(rows, x[on_capped, 1:], tons[on_capped][:, None])
        t.add(rows, x[on_capped, :-1], -tons[on_capped][:, None])
        cap = np.repeat([[float(rt.t_per_day or 0.0)] for rt in capped], H + 1, axis=1)
        add_rows(m, t, "<=", cap, "route_capacity")


def define_recorded(built: BuiltModel, case: AssistanceCase) -> None:
    """(11) Recorded deliveries (allocated, shipped, delivered) are honoured.

    Raises :class:`InfeasibleError` for one that no arc can bring within the horizon.
    """
    m, comp, x = built.model, built.compiled, built.x
    H, arcs = comp.horizon, comp.arcs
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


def define_objective(built: BuiltModel, case: AssistanceCase) -> None:
    """Maximise the priority-weighted share of each requirement operational by its needed-by
    date, a tenth for delivered items, a tenth spread over every day (earlier is better),
    minus small tie-breaking costs."""
    comp, x, op = built.compiled, built.x, built.op
    H, arcs, lines, slots = comp.horizon, comp.arcs, comp.lines, comp.slots
    arc_req = arcs["requirement"].to_numpy()
    main = _main(comp)
    w_req = requirement_weights(case)
    due = {r.id: case.day(r.needed_by) for r in case.requirements}
    obj = Terms([])
    spread = EARLY_WEIGHT / (H + 1)
    if len(lines):
        w_line = np.array([w_req[str(r)] for r in lines["requirement"]])
        obj.add(0, op[np.arange(len(lines)), lines["due"].to_numpy(int)], w_line)
        obj.add(0, op, w_line[:, None] * spread)
    if main.any():
        mi = np.flatnonzero(main)
        w_arc = np.array([w_req[str(r)] for r in arc_req[mi]])
        due_arc = np.array([due[str(r)] for r in arc_req[mi]], dtype=np.int64)
        obj.add(0, x[mi, due_arc + 1], w_arc * DELIVERED_WEIGHT)
        obj.add(0, x[mi, 1:], w_arc[:, None] * DELIVERED_WEIGHT * spread)
    if (~main).any():
        # A cost on supplies sent (none without a use), less a smaller reward for early ones.
        si = np.flatnonzero(~main)
        per = slots["per_system"].to_numpy(float)
        w_sup = np.array([w_req[str(r)] for r in arc_req[si]]) / per[arcs["slot"].to_numpy(int)[si]]
        obj.add(0, x[si, H + 1], -TIE_WEIGHT * w_sup)
        obj.add(0, x[si, 1:], TIE_WEIGHT * w_sup[:, None] * spread)
    training_costs(obj, comp, least_crewed_weight(lines, w_req), built.trainees, built.runs)
    expr, _ = obj.build(built.model)
    built.model.add_objective(expr, sense="max")
