"""The matching model by item pools: the same optimum as the per-arc model, far fewer variables.

The per-arc model (:func:`forcemodel.assist.match.build_model`) has one cumulative delivery per
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
with recorded deliveries use the per-arc model (:func:`forcemodel.assist.match.solve`).

``step`` > 1 puts every decision on a grid of days (0, step, 2 step, ..., H): goods arrive,
draws happen and systems become operational on grid days only. Every time is then honoured as
in the daily model (a plan of the grid is a plan of the daily model), so the optimum can only
be lower: this is a *restriction*, never a relaxation; step 1 is exact. ``outer=True`` builds
the grid's relaxation instead (:func:`build_pool`), whose optimum bounds the daily model's
from above (:func:`forcemodel.assist.parts.daily_bound`).
"""

from __future__ import annotations

from typing import Any

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from forcemodel.assist.match import (
    DELIVERED_WEIGHT,
    EARLY_WEIGHT,
    TIE_WEIGHT,
    TOL,
    Compiled,
    MatchResult,
    _label_values,
    _lookup,
    add_rows,
    compile_case,
    finish_result,
    records,
    training_constraints,
    training_variables,
)
from forcemodel.assist.model import AssistanceCase
from forcemodel.mip.solve import SolveOutcome
from forcemodel.mip.terms import Terms

__all__ = ["PoolModel", "build_pool", "grid_of", "read_pool"]


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


def _var(
    m: linopy.Model,
    name: str,
    live: np.ndarray,
    upper: np.ndarray,
    integer: bool,
    grid: np.ndarray,
) -> np.ndarray:
    """Variables (row, grid point) where ``live``; labels, -1 elsewhere."""
    out = np.full(live.shape, -1, dtype=np.int64)
    if not live.any():
        return out
    ix = pd.RangeIndex(live.shape[0], name=f"{name}_row")
    gx = pd.Index(grid, name="day")
    ub = np.broadcast_to(upper.reshape(-1, 1), live.shape)
    var = m.add_variables(
        lower=0.0,
        upper=xr.DataArray(np.where(live, ub, 0.0), coords=[ix, gx]),
        integer=integer,
        name=name,
        mask=xr.DataArray(live, coords=[ix, gx]),
    )
    return np.asarray(var.labels.to_numpy(), dtype=np.int64)


def _typed_vars(
    m: linopy.Model,
    name: str,
    live: np.ndarray,
    upper: np.ndarray,
    integer: np.ndarray,
    grid: np.ndarray,
) -> np.ndarray:
    """As :func:`_var`, integer for the rows flagged in ``integer``, continuous elsewhere."""
    out = np.full(live.shape, -1, dtype=np.int64)
    for suffix, sel in (("_int", integer), ("", ~integer)):
        idx = np.flatnonzero(sel)
        if idx.size:
            out[idx] = _var(m, name + suffix, live[idx], upper[idx], suffix == "_int", grid)
    return out


def _monotone(m: linopy.Model, labels: np.ndarray, name: str) -> None:
    """``labels[:, p] >= labels[:, p-1]`` (a -1 label reads as zero)."""
    n_rows, n = labels.shape
    if n_rows == 0 or n < 2:
        return
    t = Terms([pd.RangeIndex(n_rows, name=f"{name}_row"), pd.RangeIndex(n - 1, name="step")])
    rows = np.arange(n_rows)[:, None] * (n - 1) + np.arange(n - 1)[None, :]
    t.add(rows, labels[:, 1:], 1.0)
    t.add(rows, labels[:, :-1], -1.0)
    add_rows(m, t, ">=", 0.0, name)


def build_pool(
    case: AssistanceCase,
    *,
    step: int = 1,
    relax: bool = False,
    comp: Compiled | None = None,
    outer: bool = False,
) -> PoolModel:
    """The pool model of a case (docs/assistance.md, "The pool model"), on a grid of ``step``
    days. Call under linopy's v1 semantics.

    ``outer=True`` builds the grid's *relaxation* instead of its restriction (module
    docstring): a grid value is the daily model's value on that day (goods may arrive between
    grid days), so the objective reads each requirement at the first grid day on or after its
    needed-by date and weighs a grid value by the days before it, and hub and capped-route
    capacity hold for the sum over the days between grid points. Its optimum (and its LP's) is
    an upper bound of the daily model's; at ``step`` 1 both are the daily model.
    """
    comp = comp if comp is not None else compile_case(case, per_line=False)
    H = comp.horizon
    grid = grid_of(H, step)
    n = len(grid)
    # At step 1 the restriction and the relaxation are the same (daily) model.
    outer = outer and n < H + 1
    pm = PoolModel(case, comp, grid)
    m, fl = pm.model, pm.flows
    lines, slots, sources = comp.lines, comp.slots, comp.sources
    items = {it.id: it for it in case.items}
    n_f = len(fl)

    # --- variables -------------------------------------------------------------------------
    f_int = fl["integer"].to_numpy(bool) & (not relax)
    f_live = grid[None, :] >= fl["earliest"].to_numpy(int)[:, None]
    pm.F = _typed_vars(m, "arrive", f_live, fl["bound"].to_numpy(float), f_int, grid)
    # What each pledge of funds buys of each item (one number: it is ready at the factory on
    # its day); whole items for systems.
    funded = np.flatnonzero((sources["funds"] != "").to_numpy())
    funded = funded[np.isin(funded, comp.arcs["source"].to_numpy(int))]
    if funded.size:
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

    # First arrival of each item (over its flows), and of each supply family.
    first_item = {str(k): int(v) for k, v in fl.groupby("item")["earliest"].min().items()}
    line_item = lines["item"].to_numpy()
    line_first = np.array([first_item.get(str(i), H + 1) for i in line_item], dtype=np.int64)
    qty = lines["quantity"].to_numpy(float)
    systems = lines["system"].to_numpy(bool) & (not relax)
    y_live = grid[None, :] >= line_first[:, None]
    upper = np.where(systems, np.floor(qty + TOL), qty)
    pm.Y = _typed_vars(m, "draw", y_live, upper, systems, grid)
    pm.O = _typed_vars(m, "operational", y_live, upper, systems, grid)

    # Supply pools: items (not systems) of a family some slot needs.
    fams = sorted(set(slots["family"]))
    pool_items = sorted(
        i for i in first_item if items[i].category != "system" and items[i].family in fams
    )
    pm.pool_items = pool_items
    w_first = np.array([first_item[i] for i in pool_items], dtype=np.int64)
    w_live = grid[None, :] >= w_first[:, None]
    w_ub = np.array([fl.loc[fl["item"] == i, "bound"].sum() for i in pool_items], dtype=float)
    pm.W = _var(m, "to_supply_pool", w_live, w_ub, False, grid)
    fam_first = {f: H + 1 for f in fams}
    for i, d0 in zip(pool_items, w_first, strict=True):
        fam_first[items[i].family] = min(fam_first[items[i].family], int(d0))
    slot_first = np.array([fam_first[str(f)] for f in slots["family"]], dtype=np.int64)
    slot_line = slots["line"].to_numpy(int)
    per = slots["per_system"].to_numpy(float)
    z_live = grid[None, :] >= slot_first[:, None]
    pm.Z = _var(m, "supply_draw", z_live, qty[slot_line] * per, False, grid)
    pm.trainees, pm.runs = training_variables(m, comp, relax=relax)
    pm.mip = not relax and (bool(f_int.any()) or bool(systems.any()) or len(comp.cohorts) > 0)

    G = pd.RangeIndex(n, name="grid")
    for labels, name in (
        (pm.F, "arrive_monotone"),
        (pm.Y, "draw_monotone"),
        (pm.W, "transfer_monotone"),
        (pm.Z, "supply_monotone"),
        (pm.O, "operational_monotone"),
    ):
        _monotone(m, labels, name)

    # --- availability: by each ship day, a location ships at most what it holds of an item --
    # Rows: each flow f0 and grid point p, at the ship day t = g_p - L_f0 of what arrives then;
    # terms: every flow f of the same item and location, cumulative by its last grid point
    # whose ship day is <= t. Checking the days when shipments happen is enough: availability
    # only grows between them.
    L = fl["L"].to_numpy(int)
    key = list(zip(fl["item"], fl["location"], strict=True))
    groups: dict[tuple[str, str], list[int]] = {}
    for f, k in enumerate(key):
        groups.setdefault((str(k[0]), str(k[1])), []).append(f)
    src_item = sources["item"].to_numpy()
    src_loc = sources["location"].to_numpy()
    src_avail = sources["available"].to_numpy(int)
    src_qty = sources["quantity"].to_numpy(float)
    is_fund = (sources["funds"] != "").to_numpy()
    by_group: dict[tuple[str, str], list[int]] = {}
    for s in range(len(sources)):
        by_group.setdefault((str(src_item[s]), str(src_loc[s])), []).append(s)
    t_av = Terms([pd.RangeIndex(n_f, name="flow"), G])
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
    add_rows(m, t_av, "<=", rhs_av, "availability")
    # Funds buy at most their value.
    if funded.size:
        fund_ids = sorted({str(sources.at[s, "funds"]) for s in funded})
        fpos = {f: k for k, f in enumerate(fund_ids)}
        t = Terms([pd.Index(fund_ids, name="fund")])
        f_of, price = sources["funds"].to_numpy(), sources["price"].to_numpy(float)
        # Each row in units of the cheapest item its funds buy, not in euros: coefficients
        # near 1 and right-hand sides of thousands instead of 4e5 and 5e7, which left HiGHS's
        # LP badly scaled (the same constraint, divided by a positive number).
        unit = np.full(len(fund_ids), np.inf)
        for s in funded.tolist():
            unit[fpos[str(f_of[s])]] = min(unit[fpos[str(f_of[s])]], float(price[s]))
        for s in funded.tolist():
            row = fpos[str(f_of[s])]
            t.add(row, pm.B[s], float(price[s]) / unit[row])
        value = {p.id: float(p.funds_eur or 0.0) for p in case.pledges}
        add_rows(m, t, "<=", np.array([value[f] for f in fund_ids]) / unit, "funds")

    # --- pools ------------------------------------------------------------------------------
    # Item pool: the lines' draws and the transfers to the supply pool, by every grid day, at
    # most what has arrived.
    all_items = sorted(first_item)
    ipos = {i: k for k, i in enumerate(all_items)}
    t = Terms([pd.Index(all_items, name="item"), G])
    cols = np.arange(n)[None, :]
    f_item = np.array([ipos[str(i)] for i in fl["item"]], dtype=np.int64)
    t.add(f_item[:, None] * n + cols, pm.F, -1.0)
    l_item = np.array([ipos.get(str(i), -1) for i in line_item], dtype=np.int64)
    ok = l_item >= 0
    t.add(l_item[ok][:, None] * n + cols, pm.Y[ok], 1.0)
    if pool_items:
        w_item = np.array([ipos[i] for i in pool_items], dtype=np.int64)
        t.add(w_item[:, None] * n + cols, pm.W, 1.0)
    add_rows(m, t, "<=", 0.0, "item_pool")
    # Family pool: slots' draws at most what was transferred into the family's pool.
    if fams and len(slots):
        fpos = {f: k for k, f in enumerate(fams)}
        t = Terms([pd.Index(fams, name="family"), G])
        s_fam = np.array([fpos[str(f)] for f in slots["family"]], dtype=np.int64)
        t.add(s_fam[:, None] * n + cols, pm.Z, 1.0)
        if pool_items:
            w_fam = np.array([fpos[items[i].family] for i in pool_items], dtype=np.int64)
            t.add(w_fam[:, None] * n + cols, pm.W, -1.0)
        add_rows(m, t, "<=", 0.0, "family_pool")

    # --- requirements, supplies, operational ------------------------------------------------
    req_ids = [r.id for r in case.requirements]
    rpos = {r: k for k, r in enumerate(req_ids)}
    line_req = np.array([rpos[str(r)] for r in lines["requirement"]], dtype=np.int64)
    if len(lines):
        t = Terms([pd.Index(req_ids, name="requirement")])
        t.add(line_req, pm.Y[:, -1], 1.0)
        add_rows(m, t, "<=", np.array([r.quantity for r in case.requirements]), "requirement")
        L_ix = pd.RangeIndex(len(lines), name="line")
        t = Terms([L_ix, G])
        rows = np.arange(len(lines))[:, None] * n + cols
        t.add(rows, pm.O, 1.0)
        t.add(rows, pm.Y, -1.0)
        add_rows(m, t, "<=", 0.0, "operational_delivered")
    if len(slots):
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
    training_constraints(m, case, comp, pm.O, grid, pm.trainees, pm.runs)

    # --- hubs and capped routes, on the day loads pass them ---------------------------------
    tons = fl["tons"].to_numpy(float)
    heavy = np.flatnonzero(tons > 0)
    prev = np.concatenate([np.full((n_f, 1), -1, dtype=np.int64), pm.F[:, :-1]], axis=1)
    hubs = [h.id for h in case.hubs]
    if outer and heavy.size and hubs:
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
        days_per_point = np.diff(np.concatenate([[-1], grid])) if outer else np.ones(n)
        cpos = {rt.id: k for k, rt in enumerate(capped)}
        t = Terms([pd.Index(list(cpos), name="route"), G])
        r_row = np.array([cpos[str(r)] for r in fl["route"].to_numpy()[on]], dtype=np.int64)
        rows = r_row[:, None] * n + cols
        w = np.broadcast_to(tons[on, None], rows.shape)
        t.add(rows, pm.F[on], w)
        t.add(rows, prev[on], -w)
        cap = np.array([[float(rt.t_per_day or 0.0)] for rt in capped]) * days_per_point[None, :]
        add_rows(m, t, "<=", cap, "route_capacity")

    # --- objective: the per-arc model's, with sums over days as sums over grid points weighted
    # by the days each point's values stand for (all 1 when the grid is daily) --------------
    if outer:
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
    w_req = {r.id: r.priority / r.quantity for r in case.requirements}
    obj = Terms([])
    if len(lines):
        w_line = np.array([w_req[str(r)] for r in lines["requirement"]])
        ln = np.arange(len(lines))
        obj.add(0, pm.O[ln, due_p], w_line)
        obj.add(0, pm.O, w_line[:, None] * spread)
        obj.add(0, pm.Y[ln, due_p], w_line * DELIVERED_WEIGHT)
        obj.add(0, pm.Y, w_line[:, None] * DELIVERED_WEIGHT * spread)
    if len(slots):
        w_line_s = np.array([w_req[str(r)] for r in lines["requirement"].to_numpy()[slot_line]])
        w_sup = w_line_s / per
        obj.add(0, pm.Z[:, -1], -TIE_WEIGHT * w_sup)
        obj.add(0, pm.Z, TIE_WEIGHT * w_sup[:, None] * spread)
    crewed = [w_req[str(r)] for r, c in zip(lines["requirement"], lines["crew"], strict=True) if c]
    w_min = min(crewed, default=1.0)
    if len(comp.training):
        crew_max = max(1, int(lines["crew"].max()) if len(lines) else 1)
        obj.add(0, pm.trainees, -TIE_WEIGHT * w_min / crew_max)
        obj.add(0, pm.runs, -TIE_WEIGHT * w_min)
    expr, _ = obj.build(m)
    m.add_objective(expr, sense="max")
    return pm


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


def _fifo(supply: np.ndarray, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First in, first out: pieces (supply index, demand index, quantity) that give the
    demands, in order, the supplies in order (as far as the smaller total goes)."""
    if supply.size == 0 or demand.size == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0)
    cs, cd = np.cumsum(supply), np.cumsum(demand)
    total = min(float(cs[-1]), float(cd[-1]))
    cuts = np.unique(np.concatenate([[0.0], cs, cd]))
    cuts = np.minimum(cuts[cuts <= total + TOL], total)
    lo, hi = cuts[:-1], cuts[1:]
    keep = hi - lo > TOL
    lo, hi = lo[keep], hi[keep]
    mid = (lo + hi) / 2
    si = np.searchsorted(cs, mid, side="right")
    di = np.searchsorted(cd, mid, side="right")
    return si, di, hi - lo


def _increments(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per grid point, what a cumulative variable adds (negatives are solver noise: 0)."""
    v = np.where(labels >= 0, values, 0.0)
    inc = np.diff(np.concatenate([np.zeros((v.shape[0], 1)), v], axis=1), axis=1)
    inc[inc < TOL] = 0.0
    return inc


def read_pool(
    pm: PoolModel, outcome: SolveOutcome, values: np.ndarray | None = None
) -> MatchResult:
    """The plan of a solved pool model as per-arc rows (FIFO matching; module docstring).

    ``values``: a value for every variable label (a plan found outside HiGHS); by default the
    solution HiGHS left in the model.
    """
    case, comp, grid = pm.case, pm.comp, pm.grid
    H = comp.horizon
    value_of = _label_values(pm.model) if values is None else values
    fl, lines, slots, sources = pm.flows, comp.lines, comp.slots, comp.sources
    F = _lookup(value_of, pm.F)
    F = np.where(fl["integer"].to_numpy(bool)[:, None], np.round(F), F)
    Y = _lookup(value_of, pm.Y)
    Y = np.where(lines["system"].to_numpy(bool)[:, None], np.round(Y), Y)
    B = _lookup(value_of, pm.B)
    Z, W = _lookup(value_of, pm.Z), _lookup(value_of, pm.W)
    opv = _lookup(value_of, pm.O)
    opv = np.where(lines["system"].to_numpy(bool)[:, None], np.round(opv), opv)
    dF, dY = _increments(F, pm.F), _increments(Y, pm.Y)
    dZ, dW = _increments(Z, pm.Z), _increments(W, pm.W)
    L = fl["L"].to_numpy(int)

    # 1. Shipments of each (item, location) to its sources, earliest available first.
    held = np.where((sources["funds"] != "").to_numpy(), B, sources["quantity"].to_numpy(float))
    src_key = list(zip(sources["item"], sources["location"], strict=True))
    order = np.lexsort((np.arange(len(sources)), sources["available"].to_numpy(int)))
    by_group: dict[tuple[str, str], list[int]] = {}
    for s in order:
        by_group.setdefault((str(src_key[s][0]), str(src_key[s][1])), []).append(int(s))
    flows_of: dict[tuple[str, str], list[int]] = {}
    for f, (i, loc) in enumerate(zip(fl["item"], fl["location"], strict=True)):
        flows_of.setdefault((str(i), str(loc)), []).append(f)
    # Arrival pieces: (flow, grid point, source, quantity).
    arrivals: list[tuple[int, int, int, float]] = []
    for k, members in flows_of.items():
        fs, ps = np.nonzero(dF[members] > 0)
        f_abs = np.asarray(members, dtype=np.int64)[fs]
        ship = grid[ps] - L[f_abs]
        o = np.lexsort((f_abs, ship))
        f_abs, ps = f_abs[o], ps[o]
        srcs = np.asarray(by_group.get(k, []), dtype=np.int64)
        si, di, q = _fifo(held[srcs], dF[f_abs, ps])
        arrivals.extend(
            zip(f_abs[di].tolist(), ps[di].tolist(), srcs[si].tolist(), q.tolist(), strict=True)
        )

    # 2. Arrivals of each item to its lines' draws and its transfers to the supply pool.
    by_item: dict[str, list[tuple[int, int, int, float]]] = {}
    f_item = fl["item"].to_numpy()
    for piece in arrivals:
        by_item.setdefault(str(f_item[piece[0]]), []).append(piece)
    line_of_item: dict[str, list[int]] = {}
    for li, i in enumerate(lines["item"]):
        line_of_item.setdefault(str(i), []).append(li)
    w_pos = {i: k for k, i in enumerate(pm.pool_items)}
    rows: list[dict[str, Any]] = []
    make = _Rows(comp, fl, grid)
    # Per family: (flow, grid point, source, quantity, transfer grid point).
    transfers: dict[str, list[tuple[int, int, int, float, int]]] = {}
    items = {it.id: it for it in case.items}
    # Draws: (grid point, kind 0 line / 1 transfer, line, quantity), by day.
    for i, pieces in by_item.items():
        pieces.sort(key=lambda pc: (int(grid[pc[1]]), pc[0]))
        draws: list[tuple[int, int, int, float]] = []
        for li in line_of_item.get(i, []):
            for p in np.flatnonzero(dY[li] > 0):
                draws.append((int(p), 0, li, float(dY[li, p])))
        if i in w_pos:
            for p in np.flatnonzero(dW[w_pos[i]] > 0):
                draws.append((int(p), 1, -1, float(dW[w_pos[i], p])))
        draws.sort()
        si, di, q = _fifo(
            np.array([pc[3] for pc in pieces]), np.array([d[3] for d in draws], dtype=float)
        )
        for a, b, qq in zip(si.tolist(), di.tolist(), q.tolist(), strict=True):
            f, p, s, _ = pieces[a]
            day, kind, li, _ = draws[b]
            if kind == 0:
                rows.append(make.row(f, p, s, "main", li, qq))
            else:
                transfers.setdefault(items[i].family, []).append((f, p, s, qq, day))

    # 3. Transfers into each family's supply pool to the slots' draws, by day.
    slot_line = slots["line"].to_numpy(int)
    for fam, pieces_t in transfers.items():
        pieces_t.sort(key=lambda pc: (pc[4], int(grid[pc[1]]), pc[0]))
        draws_s: list[tuple[int, int, float]] = []
        for ks in np.flatnonzero((slots["family"] == fam).to_numpy()).tolist():
            for pz in np.flatnonzero(dZ[ks] > 0).tolist():
                draws_s.append((pz, ks, float(dZ[ks, pz])))
        draws_s.sort()
        si, di, q = _fifo(
            np.array([pc[3] for pc in pieces_t]), np.array([d[2] for d in draws_s], dtype=float)
        )
        for a, b, qq in zip(si.tolist(), di.tolist(), q.tolist(), strict=True):
            f, p, s = pieces_t[a][0], pieces_t[a][1], pieces_t[a][2]
            li = int(slot_line[draws_s[b][1]])
            rows.append(make.row(f, p, s, "supply", li, qq))

    # Pieces of the same (source, route, line, role, day) are one row.
    if rows:
        frame = pd.DataFrame(rows)
        keys = [c for c in frame.columns if c != "quantity"]
        summed = frame.groupby(keys, sort=True, as_index=False)["quantity"].sum()
        rows = records(pd.DataFrame(summed))
    # Operational systems per day: a grid point's value stands until the next point.
    at = np.searchsorted(grid, np.arange(H + 1), side="right") - 1
    op = opv[:, at]
    T = _lookup(value_of, pm.trainees)
    U = _lookup(value_of, pm.runs)
    return finish_result(case, comp, rows, op, T, U, outcome)


class _Rows:
    """Delivery rows of the plan, with the columns they read taken out of the frames once (a
    pandas look-up per row cost about a second at the target size)."""

    def __init__(self, comp: Compiled, fl: pd.DataFrame, grid: np.ndarray) -> None:
        self.pledge = comp.sources["pledge"].tolist()
        self.donor = comp.sources["donor"].tolist()
        self.requirement = comp.lines["requirement"].tolist()
        self.item = fl["item"].tolist()
        self.route = fl["route"].tolist()
        self.hub = fl["hub"].tolist()
        self.L = fl["L"].to_numpy(int).tolist()
        self.onward = fl["onward"].to_numpy(int).tolist()
        self.days = [int(d) for d in grid]

    def row(self, f: int, p: int, s: int, role: str, line: int, qty: float) -> dict[str, Any]:
        """Quantity ``qty`` from source ``s`` along flow ``f``, arriving on grid point ``p``,
        to line ``line`` (``role`` main) or its first loads (supply)."""
        d = self.days[p]
        return {
            "source": s,
            "pledge": self.pledge[s],
            "donor": self.donor[s],
            "item": self.item[f],
            "requirement": self.requirement[line],
            "role": role,
            "line": line,
            "route": self.route[f],
            "hub": self.hub[f],
            "quantity": qty,
            "ship_day": d - self.L[f],
            "hub_day": d - self.onward[f],
            "delivery_day": d,
        }
