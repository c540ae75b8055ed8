"""The matching model by item pools: the same optimum as the per-arc model, far fewer variables.

The per-arc model (:func:`forcemodel.assist.arcs.build_model`) has one cumulative delivery per
(source, route, requirement line) and day, so it grows as pledges x requirements x days
(about 114 million variables at 10,000 pledges x 2,000 requirements). Here units of one item
that reach the partner are interchangeable, so the model keeps, per day (docs/assistance.md,
"The pool model"):

- ``F[f, p]``: cumulative arrivals of item ``i`` along route ``rho`` (a *flow* ``f``), bounded
  by what the route's location holds of ``i`` by the ship day (cumulative availability);
- ``Y[l, p]``: cumulative draws of line ``l`` from its item's pool; ``W[i, p]``: cumulative
  transfers of item ``i`` into the supply pool of its family; ``Z[s, p]``: cumulative draws
  of slot ``s`` (a line's first loads) from that family pool;
- operational systems, trainees and cohorts as in the per-arc model.

Exactness (both directions): any per-arc plan gives pool values with the same objective (sum
its arcs); and a pool plan is turned back into per-arc rows by matching, first in first out,
shipments to pledges (availability is cumulative and nested, so FIFO meets every pledge's
date), arrivals to draws (a unit drawn on day d arrived by d; it is delivered on arrival, which
is never worse), and transfers to slot draws. Units that arrive and are never drawn are not
sent. The plan read back is therefore a plan of the per-arc model at least as good as the pool
optimum. Recorded deliveries name pledges and requirements, which the pools do not keep: cases
with recorded deliveries use the per-arc model (:func:`forcemodel.assist.solve.solve`).

``step`` > 1 puts every decision on a grid of days (0, step, 2 step, ..., H): goods arrive,
draws happen and systems become operational on grid days only. Every time is then honoured as
in the daily model (a plan of the grid is a plan of the daily model), so the optimum can only
be lower: this is a *restriction*, never a relaxation; step 1 is exact. ``outer=True`` builds
the grid's relaxation instead (:func:`build_pool`), whose optimum bounds the daily model's
from above (:func:`forcemodel.assist.parts.daily_bound`).

:func:`build_pool` adds the variables, then one ``define_*`` function per constraint family,
then the objective; the plan is read back by :mod:`forcemodel.assist.pool_readout`.
"""

from __future__ import annotations

from collections.abc import Callable

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from forcemodel.assist.compile import TOL, Compiled, compile_case
from forcemodel.assist.formulation import (
    DELIVERED_WEIGHT,
    EARLY_WEIGHT,
    TIE_WEIGHT,
    add_rows,
    grid_variables,
    least_crewed_weight,
    monotone_rows,
    requirement_weights,
    training_constraints,
    training_costs,
    training_variables,
    typed_grid_variables,
)
from forcemodel.assist.model import AssistanceCase
from forcemodel.mip.terms import Terms

__all__ = ["PoolModel", "build_pool", "grid_of"]


def grid_of(horizon: int, step: int) -> np.ndarray:
    """Grid days 0, step, 2 step, ... and the horizon (the last day is always on the grid)."""
    if step < 1:
        raise ValueError(f"the time step must be 1 day or more, got {step}")
    g = np.arange(0, horizon + 1, step, dtype=np.int64)
    return g if g[-1] == horizon else np.append(g, horizon)


class PoolModel:
    """A linopy pool model with the tables and labels needed to read its plan."""

    def __init__(self, case: AssistanceCase, comp: Compiled, grid: np.ndarray) -> None:
        self.case, self.comp, self.grid = case, comp, grid
        self.model = linopy.Model()
        self.mip = False
        arcs = comp.arcs
        # Flows: one per (item, route) that some source can use within the horizon.
        fl = (
            arcs.assign(L=arcs["to_hub"] + arcs["onward"])
            .groupby(["item", "route"], sort=True)
            .agg(
                hub=("hub", "first"),
                to_hub=("to_hub", "first"),
                onward=("onward", "first"),
                L=("L", "first"),
                tons=("tons", "first"),
                integer=("integer", "first"),
                earliest=("earliest", "min"),
                bound=("bound", "sum"),
            )
            .reset_index()
        )
        loc = comp.sources["location"].to_numpy()
        route_loc = dict(zip(arcs["route"], loc[arcs["source"].to_numpy(int)], strict=True))
        fl["location"] = [route_loc[str(r)] for r in fl["route"]]
        self.flows = fl
        n = len(grid)
        self.F = np.full((len(fl), n), -1, dtype=np.int64)
        self.B = np.full(len(comp.sources), -1, dtype=np.int64)
        self.Y = np.full((len(comp.lines), n), -1, dtype=np.int64)
        self.O = np.full((len(comp.lines), n), -1, dtype=np.int64)
        self.Z = np.full((len(comp.slots), n), -1, dtype=np.int64)
        self.pool_items: list[str] = []
        self.W = np.zeros((0, n), dtype=np.int64)
        self.trainees = np.zeros(0, dtype=np.int64)
        self.runs = np.zeros(0, dtype=np.int64)
        # Filled by the builder for the steps after the one that sets them.
        self.outer = False
        self.funded = np.zeros(0, dtype=np.int64)  # sources of funds that some arc uses
        self.first_item: dict[str, int] = {}  # first arrival of each item
        self.fams: list[str] = []  # supply families some slot needs


def build_pool(
    case: AssistanceCase,
    *,
    step: int = 1,
    relax: bool = False,
    comp: Compiled | None = None,
    outer: bool = False,
    extra: Callable[[AssistanceCase, PoolModel], None] | None = None,
) -> PoolModel:
    """The pool model of a case (docs/assistance.md, "The pool model"), on a grid of ``step``
    days. Call under linopy's v1 semantics.

    ``outer=True`` builds the grid's *relaxation* instead of its restriction (module
    docstring): a grid value is the daily model's value on that day (goods may arrive between
    grid days), so the objective reads each requirement at the first grid day on or after its
    needed-by date and weighs a grid value by the days before it, and hub and capped-route
    capacity hold for the sum over the days between grid points. Its optimum (and its LP's) is
    an upper bound of the daily model's; at ``step`` 1 both are the daily model.

    ``extra``: a function that adds constraints of its own to ``pm.model`` (reading the label
    tables of ``pm``) before the objective is set (as PyPSA's ``extra_functionality``).
    """
    comp = comp if comp is not None else compile_case(case, per_line=False)
    grid = grid_of(comp.horizon, step)
    pm = PoolModel(case, comp, grid)
    # At step 1 the restriction and the relaxation are the same (daily) model.
    pm.outer = outer and len(grid) < comp.horizon + 1
    define_flow_variables(pm, relax=relax)
    define_line_variables(pm, relax=relax)
    define_supply_variables(pm)
    pm.trainees, pm.runs = training_variables(pm.model, comp, relax=relax)
    f_int = bool(pm.flows["integer"].any()) and not relax
    systems = bool(comp.lines["system"].any()) and not relax
    pm.mip = not relax and (f_int or systems or len(comp.cohorts) > 0)
    define_monotone(pm)
    define_availability(pm)
    define_funds(pm)
    define_item_pools(pm)
    define_family_pools(pm)
    define_requirements(pm)
    define_operational_limits(pm)
    training_constraints(pm.model, case, comp, pm.O, grid, pm.trainees, pm.runs)
    define_capacities(pm)
    if extra is not None:
        extra(case, pm)
    define_objective(pm)
    return pm


def _live(pm: PoolModel, first: np.ndarray) -> np.ndarray:
    """(row, grid point): whether the grid day is on or after the row's first day."""
    return pm.grid[None, :] >= first[:, None]


def define_flow_variables(pm: PoolModel, *, relax: bool) -> None:
    """Cumulative arrivals ``F`` per flow, and what each pledge of funds buys of each item
    (``B``: one number, ready at the factory on its day; whole items for systems)."""
    m, fl, comp, grid = pm.model, pm.flows, pm.comp, pm.grid
    sources = comp.sources
    f_int = fl["integer"].to_numpy(bool) & (not relax)
    f_live = _live(pm, fl["earliest"].to_numpy(int))
    pm.F = typed_grid_variables(m, "arrive", f_live, fl["bound"].to_numpy(float), f_int, grid)
    funded = np.flatnonzero((sources["funds"] != "").to_numpy())
    pm.funded = funded = funded[np.isin(funded, comp.arcs["source"].to_numpy(int))]
    if not funded.size:
        return
    bound = comp.arcs.groupby("source")["bound"].max()
    ub = bound.reindex(list(funded)).to_numpy(float)
    b_int = fl.set_index("item")["integer"].groupby(level=0).first()
    is_int = np.array([bool(b_int.get(sources.at[s, "item"], False)) for s in funded])
    is_int &= not relax
    for suffix, sel in (("_int", is_int), ("", ~is_int)):
        idx = funded[sel]
        if idx.size:
            var = m.add_variables(
                lower=0.0,
                upper=xr.DataArray(ub[sel], coords=[pd.Index(idx, name=f"fund_src{suffix}")]),
                integer=suffix == "_int",
                name=f"buy{suffix}",
            )
            pm.B[idx] = var.labels.to_numpy()


def define_line_variables(pm: PoolModel, *, relax: bool) -> None:
    """Cumulative draws ``Y`` of each line from its item's pool and its operational systems
    ``O``, from the first arrival of its item on."""
    fl, lines, H = pm.flows, pm.comp.lines, pm.comp.horizon
    pm.first_item = {str(k): int(v) for k, v in fl.groupby("item")["earliest"].min().items()}
    line_first = np.array(
        [pm.first_item.get(str(i), H + 1) for i in lines["item"].to_numpy()], dtype=np.int64
    )
    qty = lines["quantity"].to_numpy(float)
    systems = lines["system"].to_numpy(bool) & (not relax)
    y_live = _live(pm, line_first)
    upper = np.where(systems, np.floor(qty + TOL), qty)
    pm.Y = typed_grid_variables(pm.model, "draw", y_live, upper, systems, pm.grid)
    pm.O = typed_grid_variables(pm.model, "operational", y_live, upper, systems, pm.grid)


def define_supply_variables(pm: PoolModel) -> None:
    """Supply pools: transfers ``W`` of items (not systems) of a family some slot needs into
    the family's pool, and the slots' draws ``Z`` from it."""
    fl, slots, H = pm.flows, pm.comp.slots, pm.comp.horizon
    items = {it.id: it for it in pm.case.items}
    pm.fams = fams = sorted(set(slots["family"]))
    pm.pool_items = pool_items = sorted(
        i for i in pm.first_item if items[i].category != "system" and items[i].family in fams
    )
    w_first = np.array([pm.first_item[i] for i in pool_items], dtype=np.int64)
    w_ub = np.array([fl.loc[fl["item"] == i, "bound"].sum() for i in pool_items], dtype=float)
    pm.W = grid_variables(pm.model, "to_supply_pool", _live(pm, w_first), w_ub, False, pm.grid)
    fam_first = {f: H + 1 for f in fams}
    for i, d0 in zip(pool_items, w_first, strict=True):
        fam_first[items[i].family] = min(fam_first[items[i].family], int(d0))
    slot_first = np.array([fam_first[str(f)] for f in slots["family"]], dtype=np.int64)
    qty = pm.comp.lines["quantity"].to_numpy(float)
    upper = qty[slots["line"].to_numpy(int)] * slots["per_system"].to_numpy(float)
    pm.Z = grid_variables(pm.model, "supply_draw", _live(pm, slot_first), upper, False, pm.grid)


def define_monotone(pm: PoolModel) -> None:
    """Cumulative values only grow."""
    for labels, name in (
        (pm.F, "arrive_monotone"),
        (pm.Y, "draw_monotone"),
        (pm.W, "transfer_monotone"),
        (pm.Z, "supply_monotone"),
        (pm.O, "operational_monotone"),
    ):
        monotone_rows(pm.model, labels, name)


def define_availability(pm: PoolModel) -> None:
    """By each ship day, a location ships at most what it holds of an item.

    Rows: each flow f0 and grid point p, at the ship day t = g_p - L_f0 of what arrives then;
    terms: every flow f of the same item and location, cumulative by its last grid point whose
    ship day is <= t. Checking the days when shipments happen is enough: availability only
    grows between them.
    """
    fl, sources, grid = pm.flows, pm.comp.sources, pm.grid
    n_f, n = len(fl), len(grid)
    f_live = _live(pm, fl["earliest"].to_numpy(int))
    L = fl["L"].to_numpy(int)
    groups: dict[tuple[str, str], list[int]] = {}
    for f, k in enumerate(zip(fl["item"], fl["location"], strict=True)):
        groups.setdefault((str(k[0]), str(k[1])), []).append(f)
    src_avail = sources["available"].to_numpy(int)
    src_qty = sources["quantity"].to_numpy(float)
    is_fund = (sources["funds"] != "").to_numpy()
    by_group: dict[tuple[str, str], list[int]] = {}
    for s, k in enumerate(zip(sources["item"], sources["location"], strict=True)):
        by_group.setdefault((str(k[0]), str(k[1])), []).append(s)
    t_av = Terms([pd.RangeIndex(n_f, name="flow"), pd.RangeIndex(n, name="grid")])
    rhs_av = np.zeros((n_f, n))
    for k, members in groups.items():
        srcs = np.array(by_group.get(k, []), dtype=np.int64)
        for f0 in members:
            ship = grid - L[f0]
            rows = f0 * n + np.arange(n)
            live = f_live[f0]
            for f in members:
                q = np.searchsorted(grid, ship + L[f], side="right") - 1
                lab = np.where(live & (q >= 0), pm.F[f, np.maximum(q, 0)], -1)
                t_av.add(rows, lab, 1.0)
            held = srcs[~is_fund[srcs]]
            ready = src_avail[held][None, :] <= ship[:, None]
            rhs_av[f0] = (ready * src_qty[held][None, :]).sum(axis=1)
            for s in srcs[is_fund[srcs]]:
                when = live & (src_avail[s] <= ship)
                t_av.add(rows[when], pm.B[s], -1.0)
    add_rows(pm.model, t_av, "<=", rhs_av, "availability")


def define_funds(pm: PoolModel) -> None:
    """Funds buy at most their value."""
    funded, sources = pm.funded, pm.comp.sources
    if not funded.size:
        return
    fund_ids = sorted({str(sources.at[s, "funds"]) for s in funded})
    fpos = {f: k for k, f in enumerate(fund_ids)}
    t = Terms([pd.Index(fund_ids, name="fund")])
    f_of, price = sources["funds"].to_numpy(), sources["price"].to_numpy(float)
    # Each row in units of the cheapest item its funds buy, not in euros: coefficients near 1
    # and right-hand sides of thousands instead of 4e5 and 5e7, which left HiGHS's LP badly
    # scaled (the same constraint, divided by a positive number).
    unit = np.full(len(fund_ids), np.inf)
    for s in funded.tolist():
        unit[fpos[str(f_of[s])]] = min(unit[fpos[str(f_of[s])]], float(price[s]))
    for s in funded.tolist():
        row = fpos[str(f_of[s])]
        t.add(row, pm.B[s], float(price[s]) / unit[row])
    value = {p.id: float(p.funds_eur or 0.0) for p in pm.case.pledges}
    add_rows(pm.model, t, "<=", np.array([value[f] for f in fund_ids]) / unit, "funds")


def define_item_pools(pm: PoolModel) -> None:
    """Item pool: the lines' draws and the transfers to the supply pool, by every grid day, at
    most what has arrived."""
    fl, n = pm.flows, len(pm.grid)
    all_items = sorted(pm.first_item)
    ipos = {i: k for k, i in enumerate(all_items)}
    t = Terms([pd.Index(all_items, name="item"), pd.RangeIndex(n, name="grid")])
    cols = np.arange(n)[None, :]
    f_item = np.array([ipos[str(i)] for i in fl["item"]], dtype=np.int64)
    t.add(f_item[:, None] * n + cols, pm.F, -1.0)
    l_item = np.array([ipos.get(str(i), -1) for i in pm.comp.lines["item"]], dtype=np.int64)
    ok = l_item >= 0
    t.add(l_item[ok][:, None] * n + cols, pm.Y[ok], 1.0)
    if pm.pool_items:
        w_item = np.array([ipos[i] for i in pm.pool_items], dtype=np.int64)
        t.add(w_item[:, None] * n + cols, pm.W, 1.0)
    add_rows(pm.model, t, "<=", 0.0, "item_pool")


def define_family_pools(pm: PoolModel) -> None:
    """Family pool: slots' draws at most what was transferred into the family's pool."""
    slots, n = pm.comp.slots, len(pm.grid)
    if not (pm.fams and len(slots)):
        return
    items = {it.id: it for it in pm.case.items}
    fpos = {f: k for k, f in enumerate(pm.fams)}
    cols = np.arange(n)[None, :]
    t = Terms([pd.Index(pm.fams, name="family"), pd.RangeIndex(n, name="grid")])
    s_fam = np.array([fpos[str(f)] for f in slots["family"]], dtype=np.int64)
    t.add(s_fam[:, None] * n + cols, pm.Z, 1.0)
    if pm.pool_items:
        w_fam = np.array([fpos[items[i].family] for i in pm.pool_items], dtype=np.int64)
        t.add(w_fam[:, None] * n + cols, pm.W, -1.0)
    add_rows(pm.model, t, "<=", 0.0, "family_pool")


def define_requirements(pm: PoolModel) -> None:
    """A requirement takes at most its quantity (all its lines together)."""
    lines, case = pm.comp.lines, pm.case
    if not len(lines):
        return
    req_ids = [r.id for r in case.requirements]
    rpos = {r: k for k, r in enumerate(req_ids)}
    line_req = np.array([rpos[str(r)] for r in lines["requirement"]], dtype=np.int64)
    t = Terms([pd.Index(req_ids, name="requirement")])
    t.add(line_req, pm.Y[:, -1], 1.0)
    add_rows(pm.model, t, "<=", np.array([r.quantity for r in case.requirements]), "requirement")


def define_operational_limits(pm: PoolModel) -> None:
    """Operational <= drawn; supplies drawn for the systems drawn only; operational <=
    supplies / per system."""
    m, lines, slots, n = pm.model, pm.comp.lines, pm.comp.slots, len(pm.grid)
    G = pd.RangeIndex(n, name="grid")
    cols = np.arange(n)[None, :]
    if len(lines):
        t = Terms([pd.RangeIndex(len(lines), name="line"), G])
        rows = np.arange(len(lines))[:, None] * n + cols
        t.add(rows, pm.O, 1.0)
        t.add(rows, pm.Y, -1.0)
        add_rows(m, t, "<=", 0.0, "operational_delivered")
    if not len(slots):
        return
    slot_line = slots["line"].to_numpy(int)
    per = slots["per_system"].to_numpy(float)
    S_ix = pd.RangeIndex(len(slots), name="slot")
    t = Terms([S_ix])
    t.add(np.arange(len(slots)), pm.Z[:, -1], 1.0)
    t.add(np.arange(len(slots)), pm.Y[slot_line, -1], -per)
    add_rows(m, t, "<=", 0.0, "supply_for_systems")
    t = Terms([S_ix, G])
    rows = np.arange(len(slots))[:, None] * n + cols
    t.add(rows, pm.O[slot_line], per[:, None])
    t.add(rows, pm.Z, -1.0)
    add_rows(m, t, "<=", 0.0, "operational_supplied")


def define_capacities(pm: PoolModel) -> None:
    """Hubs and capped routes, on the day loads pass them."""
    m, fl, case, grid, H = pm.model, pm.flows, pm.case, pm.grid, pm.comp.horizon
    n_f, n = len(fl), len(grid)
    tons = fl["tons"].to_numpy(float)
    heavy = np.flatnonzero(tons > 0)
    prev = np.concatenate([np.full((n_f, 1), -1, dtype=np.int64), pm.F[:, :-1]], axis=1)
    hubs = [h.id for h in case.hubs]
    if pm.outer and heavy.size and hubs:
        _outer_capacity(m, case, fl, pm.F, prev, heavy, grid, H)
    elif heavy.size and hubs:
        hpos = {h: k for k, h in enumerate(hubs)}
        t = Terms([pd.Index(hubs, name="hub"), pd.RangeIndex(H + 1, name="day")])
        hub_day = grid[None, :] - fl["onward"].to_numpy(int)[heavy][:, None]
        h_row = np.array([hpos[str(h)] for h in fl["hub"].to_numpy()[heavy]], dtype=np.int64)
        rows = h_row[:, None] * (H + 1) + np.maximum(hub_day, 0)
        ok2 = hub_day >= 0
        t.add(rows, np.where(ok2, pm.F[heavy], -1), np.broadcast_to(tons[heavy, None], rows.shape))
        t.add(rows, np.where(ok2, prev[heavy], -1), -np.broadcast_to(tons[heavy, None], rows.shape))
        cap = np.repeat([[h.t_per_day] for h in case.hubs], H + 1, axis=1)
        add_rows(m, t, "<=", cap, "hub_capacity")
    capped = [rt for rt in case.routes if rt.t_per_day is not None]
    on = heavy[np.isin(fl["route"].to_numpy()[heavy], [rt.id for rt in capped])]
    if on.size:
        # Restriction: everything between two grid points arrives on the later one, a single
        # delivery day; relaxation: on any of the days since the previous point.
        days_per_point = np.diff(np.concatenate([[-1], grid])) if pm.outer else np.ones(n)
        cpos = {rt.id: k for k, rt in enumerate(capped)}
        t = Terms([pd.Index(list(cpos), name="route"), pd.RangeIndex(n, name="grid")])
        r_row = np.array([cpos[str(r)] for r in fl["route"].to_numpy()[on]], dtype=np.int64)
        rows = r_row[:, None] * n + np.arange(n)[None, :]
        w = np.broadcast_to(tons[on, None], rows.shape)
        t.add(rows, pm.F[on], w)
        t.add(rows, prev[on], -w)
        cap = np.array([[float(rt.t_per_day or 0.0)] for rt in capped]) * days_per_point[None, :]
        add_rows(m, t, "<=", cap, "route_capacity")


def define_objective(pm: PoolModel) -> None:
    """The per-arc model's objective, with sums over days as sums over grid points weighted by
    the days each point's values stand for (all 1 when the grid is daily)."""
    case, lines, slots, grid, H = pm.case, pm.comp.lines, pm.comp.slots, pm.grid, pm.comp.horizon
    n = len(grid)
    if pm.outer:
        # Relaxation: values only grow, so the daily values of the days since the previous
        # grid point are at most this point's, and a date is read at the next grid point.
        span = np.diff(np.concatenate([[-1], grid])).astype(float)
        due_p = np.minimum(np.searchsorted(grid, lines["due"].to_numpy(int)), n - 1)
    else:
        # Restriction: a grid value stands for the days until the next point, and a date is
        # read at the last grid point on or before it.
        span = np.diff(np.append(grid, H + 1)).astype(float)
        due_p = np.searchsorted(grid, lines["due"].to_numpy(int), side="right") - 1
    spread = EARLY_WEIGHT / (H + 1) * span[None, :]
    w_req = requirement_weights(case)
    obj = Terms([])
    if len(lines):
        w_line = np.array([w_req[str(r)] for r in lines["requirement"]])
        ln = np.arange(len(lines))
        obj.add(0, pm.O[ln, due_p], w_line)
        obj.add(0, pm.O, w_line[:, None] * spread)
        obj.add(0, pm.Y[ln, due_p], w_line * DELIVERED_WEIGHT)
        obj.add(0, pm.Y, w_line[:, None] * DELIVERED_WEIGHT * spread)
    if len(slots):
        slot_line = slots["line"].to_numpy(int)
        w_line_s = np.array([w_req[str(r)] for r in lines["requirement"].to_numpy()[slot_line]])
        w_sup = w_line_s / slots["per_system"].to_numpy(float)
        obj.add(0, pm.Z[:, -1], -TIE_WEIGHT * w_sup)
        obj.add(0, pm.Z, TIE_WEIGHT * w_sup[:, None] * spread)
    training_costs(obj, pm.comp, least_crewed_weight(lines, w_req), pm.trainees, pm.runs)
    expr, _ = obj.build(pm.model)
    pm.model.add_objective(expr, sense="max")


def _outer_capacity(
    m: linopy.Model,
    case: AssistanceCase,
    fl: pd.DataFrame,
    F: np.ndarray,
    prev: np.ndarray,
    heavy: np.ndarray,
    grid: np.ndarray,
    H: int,
) -> None:
    """Hub rows of the relaxation: what arrives between two grid points passed its hub on some
    of the days those arrivals could pass it, so it is at most the hub's capacity over them.

    A flow with onward time ``o`` brings its arrivals of days ``(g[p-1], g[p]]`` through the
    hub on days ``g[p-1] - o + 1 .. g[p] - o``; over the hub's flows these days lie within
    ``g[p-1] - o_max + 1 .. g[p] - o_min`` (and days 0..H), whose capacity bounds the sum.
    """
    hubs = [h.id for h in case.hubs]
    hpos = {h: k for k, h in enumerate(hubs)}
    n = len(grid)
    onward = fl["onward"].to_numpy(int)
    h_of = np.array([hpos[str(h)] for h in fl["hub"].to_numpy()[heavy]], dtype=np.int64)
    o_min = np.full(len(hubs), np.iinfo(np.int64).max)
    o_max = np.full(len(hubs), -1)
    np.minimum.at(o_min, h_of, onward[heavy])
    np.maximum.at(o_max, h_of, onward[heavy])
    before = np.concatenate([[-(10**9)], grid[:-1]])
    lo = np.maximum(0, before[None, :] - o_max[:, None] + 1)
    hi = np.minimum(H, grid[None, :] - o_min[:, None])
    days = np.maximum(0, hi - lo + 1).astype(float)
    cap = np.array([[h.t_per_day] for h in case.hubs]) * days
    t = Terms([pd.Index(hubs, name="hub"), pd.RangeIndex(n, name="grid")])
    rows = h_of[:, None] * n + np.arange(n)[None, :]
    w = np.broadcast_to(fl["tons"].to_numpy(float)[heavy, None], rows.shape)
    t.add(rows, F[heavy], w)
    t.add(rows, prev[heavy], -w)
    add_rows(m, t, "<=", cap, "hub_capacity")
