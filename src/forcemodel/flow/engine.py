"""The force-flow engine: loads through servers with a capacity per day on a compiled network.

This module lays the compiled network and the day-0 plan out as arrays, runs the compiled event
core (``forcemodel.flow.core``, the rules of docs/simulation.md), and turns its rows back into
named columns. Servers with unlimited capacity generate no events at all, and a load that finds
capacity left in the day passes at once without an event, so the work is proportional to the
saturated stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from forcemodel.flow import core
from forcemodel.flow.plan import UnitPlan, rsom_days
from forcemodel.network.compile import (
    CLASS_PEOPLE,
    EQUIPMENT,
    PEOPLE,
    CompiledNetwork,
)
from forcemodel.scenario.model import Scenario

#: unit_events kinds, indexed by the core's ROW_* codes.
ROW_KINDS = ("notice_to_move", "move", "draw", "pre_positioned", "rsom")


@dataclass
class EngineOutput:
    """Raw output of a run: event columns, unit timings, work each server passed each day."""

    events: dict[str, Any]
    ready: list[float]
    arrival: list[float]
    closure: list[float]
    stuck: list[str]  # node where a load of the unit found no way on, "" if none
    served: np.ndarray  # [server, day] work passed, days 0 .. horizon - 1
    n_events: int = 0  # events the core processed: at most event_bound(...)


#: How far past the horizon a run goes, in horizons: it stops at day 2 * horizon_days, so that
#: the closure of a unit that closes a little after the horizon is still known.
STOP_HORIZONS = 2


def stop_day(scenario: Scenario) -> int:
    """The day a run stops (docs/simulation.md, "Time"): nothing later happens."""
    return STOP_HORIZONS * scenario.meta.horizon_days


def event_bound(net: CompiledNetwork) -> int:
    """Most events a run can process: the work bound that makes every run end.

    Each server has at most one day start a day until the stop; each load at most a start,
    a draw and an RSOM release, and per hop (a move never enters a node twice, so at most
    one hop per node and move, two moves) two delays, a border's permit and a release from
    each of its at most five servers (handling, two transfer servers or a transship, the
    arc's, the pool).
    """
    sc = net.scenario
    n_loads = 2 * len(sc.units)
    per_load = 4 + 2 * len(net.node_ids) * 8
    return len(net.servers) * (stop_day(sc) + 2) + n_loads * per_load


def _or_none(values: list[int | None]) -> np.ndarray:
    return np.array([-1 if v is None else v for v in values], dtype=np.int64)


def _network_arrays(net: CompiledNetwork) -> tuple[np.ndarray, ...]:
    """Nodes, arcs and out-arcs as the core's arrays (columns NI_*, NF_*, AI_*, AF_*)."""
    arcs = net.arcs
    ni = np.concatenate(
        [
            np.stack(
                [
                    _or_none(net.node_t_server),
                    _or_none(net.node_pax_server),
                    _or_none(net.node_transship_server),
                    np.array(net.node_country, dtype=np.int64),
                ],
                axis=1,
            ),
            np.array(
                [[-1 if x is None else x for x in row] for row in net.node_mode_server],
                dtype=np.int64,
            ).reshape(len(net.node_ids), len(net.classes)),
        ],
        axis=1,
    )
    nf = np.stack(
        [
            np.array(net.node_delay, dtype=np.float64),
            np.array(net.node_transship_delay, dtype=np.float64),
            np.array(net.node_permit_day, dtype=np.float64),
        ],
        axis=1,
    )
    ai = np.array(
        [
            (
                a.src,
                a.dst,
                a.cls,
                _or_minus(a.t_server),
                _or_minus(a.pax_server),
                _or_minus(a.pool_server),
            )
            for a in arcs
        ],
        dtype=np.int64,
    ).reshape(len(arcs), 6)
    af = np.array(
        [
            (
                a.hours,
                a.pool.payload_t if a.pool else 1.0,
                a.pool.pax if a.pool else 1.0,
                a.round_trip_hours,
            )
            for a in arcs
        ],
        dtype=np.float64,
    ).reshape(len(arcs), 4)
    n_cls = len(net.load_classes)
    usable = np.array([a.usable for a in arcs], dtype=np.bool_).reshape(len(arcs), n_cls)
    out_ptr = np.zeros(len(net.node_ids) + 1, dtype=np.int64)
    out_ptr[1:] = np.cumsum([len(a) for a in net.out_arcs])
    out_arc = np.array([x for a in net.out_arcs for x in a], dtype=np.int64)
    cx = np.array(net.node_class_hours, dtype=np.float64).reshape(
        len(net.node_ids), len(net.classes)
    )
    cf = np.array(
        [(c.own_power, c.road_km is not None, net.road_class) for c in net.load_classes],
        dtype=np.int64,
    ).reshape(n_cls, 3)
    return ni, nf, ai, af, usable, out_ptr, out_arc, cx, cf


def _server_arrays(net: CompiledNetwork) -> tuple[np.ndarray, ...]:
    """Rates, the starting state and the disruption breakpoints of every server, flattened."""
    n = len(net.servers)
    sf = np.zeros((n, 3))
    sf[:, core.SF_RATE] = [s.rate for s in net.servers]
    si = np.zeros((n, 3), np.int64)
    si[:, core.SI_DAY] = -1
    bptr = np.zeros(n + 1, dtype=np.int64)
    bptr[1:] = np.cumsum([len(s.breaks) for s in net.servers])
    brk = np.array(
        [x for s in net.servers for x in zip(s.breaks, s.cum, s.factors, strict=True)],
        dtype=np.float64,
    ).reshape(-1, 3)
    return sf, si, bptr, brk


class _Tables:
    """The time-to-go tables the loads use, stacked once each (amounts share tables)."""

    def __init__(self, net: CompiledNetwork) -> None:
        self.net = net
        self.index: dict[int, int] = {}
        self.arrays: list[np.ndarray] = []

    def tables(self, dest: np.ndarray, cls: np.ndarray, amount: np.ndarray) -> np.ndarray:
        """Index in :meth:`stacked` of each load's table (destination, class, amount).

        -1 for a load of 0: it never routes, it is at its destination at once.
        """
        out = np.full(len(dest), -1, np.int64)
        keys = np.stack([dest, cls, amount], axis=1)[amount > 0]
        rows = np.flatnonzero(amount > 0)
        if not len(rows):
            return out
        unique, back = np.unique(keys, axis=0, return_inverse=True)
        ids = np.empty(len(unique), np.int64)
        for k, (d, c, a) in enumerate(unique):
            h = self.net.time_to_go_array(int(d), int(c), float(a))
            if id(h) not in self.index:
                self.index[id(h)] = len(self.arrays)
                self.arrays.append(h)
            ids[k] = self.index[id(h)]
        out[rows] = ids[back.ravel()]
        return out

    def stacked(self) -> np.ndarray:
        n, nk = len(self.net.node_ids), len(self.net.classes) + 1
        if not self.arrays:
            return np.zeros((1, n, nk))
        return np.stack(self.arrays)


def run_engine(net: CompiledNetwork, plans: list[UnitPlan]) -> EngineOutput:
    """One run of the simulation over a compiled network and a day-0 plan."""
    sc = net.scenario
    units = sc.units
    n_units = len(units)
    tables = _Tables(net)
    home = np.array([net.node_index[u.home] for u in units], dtype=np.int64)
    # Each unit's reception, load classes and reception servers follow its movement profile.
    receiving = [net.receiving(u, sc.regions[p.region]) for u, p in zip(units, plans, strict=True)]
    reception = np.array([r[0] for r in receiving], dtype=np.int64)
    eq_t = np.array([float(u.equipment_t) for u in units])
    pax = np.array([float(u.personnel) for u in units])
    eq_cls = np.array([r[1] for r in receiving], dtype=np.int64)
    px_cls = np.array([r[2] for r in receiving], dtype=np.int64)
    stock = np.array([-1 if p.stock is None else p.stock for p in plans], dtype=np.int64)
    depot = np.array([-1 if p.depot is None else p.depot for p in plans], dtype=np.int64)
    with_set = (stock >= 0) & (depot >= 0)
    # Loads: 2 * unit + kind, equipment (kind 0) then people (kind 1) of each unit.
    li = np.zeros((2 * n_units, core.N_LI), np.int64)
    lf = np.zeros((2 * n_units, core.N_LF))
    li[:, [core.LI_KIN, core.LI_ARC, core.LI_RSRV, core.LI_TRAIL]] = -1
    eq, px = li[EQUIPMENT::2], li[PEOPLE::2]  # views
    eq[:, core.LI_TIER] = px[:, core.LI_TIER] = [u.tier for u in units]
    lf[:, core.LF_NEGURG] = np.repeat([-p.urgency for p in plans], 2)
    eq[:, core.LI_CLS], px[:, core.LI_CLS] = eq_cls, px_cls
    lf[EQUIPMENT::2, core.LF_AMOUNT], lf[PEOPLE::2, core.LF_AMOUNT] = eq_t, pax
    eq[:, core.LI_DEST] = px[:, core.LI_DEST] = reception
    eq[:, core.LI_NODE] = np.where(with_set, depot, home)  # a set's equipment leaves the depot
    px[:, core.LI_NODE] = home
    px[:, core.LI_DEST] = np.where(with_set, depot, reception)  # people fetch the set first
    px[:, core.LI_PHASE] = np.where(with_set, core.TO_DEPOT, core.MOVE)
    eq[:, core.LI_TABLE] = tables.tables(reception, eq_cls, eq_t)
    to_reception = tables.tables(reception, px_cls, pax)
    px[:, core.LI_TABLE] = np.where(
        with_set,
        tables.tables(depot, np.full(n_units, CLASS_PEOPLE), np.where(with_set, pax, 0.0)),
        to_reception,
    )
    # Units.
    ui = np.full((n_units, core.N_UI), -1, np.int64)
    ui[:, core.UI_HOME] = home
    ui[:, core.UI_STOCK] = np.where(with_set, stock, -1)
    ui[:, core.UI_RECEPTION] = reception
    ui[:, core.UI_RSOM_T] = [_or_minus(r[3]) for r in receiving]
    ui[:, core.UI_RSOM_P] = [_or_minus(r[4]) for r in receiving]
    ui[:, core.UI_TABLE2] = np.where(with_set, to_reception, -1)
    uf = np.zeros((n_units, core.N_UF))
    uf[:, core.UF_CLOSURE] = np.inf
    uf[:, core.UF_NTM] = [u.notice_to_move_days for u in units]
    uf[:, core.UF_LOAD_OUT] = [u.load_out_days for u in units]
    uf[:, core.UF_DRAW] = [
        sc.stocks[p.stock].draw_days if p.stock is not None else 0.0 for p in plans
    ]
    uf[:, core.UF_RSOM_DAYS] = [
        rsom_days(sc.regions[p.region], u) for u, p in zip(units, plans, strict=True)
    ]
    served = np.zeros((len(net.servers), max(0, sc.meta.horizon_days)))
    ni, nf, ai, af, usable, out_ptr, out_arc, cx, cf = _network_arrays(net)
    sf, si, bptr, brk = _server_arrays(net)
    ri, rf, n_events = core.run_core(
        li, lf, ui, uf, ni, nf, ai, af, usable, out_ptr, out_arc, cx, sf, si, bptr, brk,
        served, tables.stacked(), float(stop_day(sc)), cf,
    )  # fmt: skip
    return EngineOutput(
        events=_event_columns(net, plans, ai, ri, rf),
        ready=uf[:, core.UF_NTM].tolist(),
        arrival=uf[:, core.UF_ARRIVAL].tolist(),
        closure=uf[:, core.UF_CLOSURE].tolist(),
        stuck=["" if v < 0 else net.node_ids[v] for v in ui[:, core.UI_STUCK].tolist()],
        served=served,
        n_events=int(n_events),
    )


def _or_minus(value: int | None) -> int:
    return -1 if value is None else value


def _event_columns(
    net: CompiledNetwork,
    plans: list[UnitPlan],
    ai: np.ndarray,
    ri: np.ndarray,
    rf: np.ndarray,
) -> dict[str, Any]:
    """The core's rows as unit_events columns: indices become ids, labels and reasons."""
    sc = net.scenario
    load, kind, where = ri[:, core.RI_LOAD], ri[:, core.RI_KIND], ri[:, core.RI_WHERE]
    unit = load // 2
    is_move = kind == core.ROW_MOVE
    arc = np.where(is_move, where, 0)
    arc_src, arc_dst = ai[:, core.AI_SRC], ai[:, core.AI_DST]
    node_ids = np.array(net.node_ids, dtype=object)
    src = np.where(is_move, arc_src[arc] if len(net.arcs) else 0, where)
    dst = np.where(is_move, arc_dst[arc] if len(net.arcs) else 0, where)
    links = np.array([a.link.id for a in net.arcs] + [""], dtype=object)
    modes = np.array([str(a.link.mode) for a in net.arcs] + [""], dtype=object)
    no_arc = np.where(is_move, arc, len(net.arcs))
    reasons = np.empty(len(ri), dtype=object)
    reasons[:] = ""
    stock_ids = [sc.stocks[p.stock].id if p.stock is not None else "" for p in plans]
    reasons[kind == core.ROW_NOTICE] = "notice to move"
    for code, text in ((core.ROW_DRAW, "drawing set from "), (core.ROW_PRE, "pre-positioned set ")):
        rows = np.flatnonzero(kind == code)
        reasons[rows] = [text + stock_ids[u] for u in unit[rows]]
    servers = net.servers
    for r in np.flatnonzero(ri[:, core.RI_REASON] >= 0):
        server = servers[ri[r, core.RI_REASON]]
        dis = server.disruption_at(rf[r, core.RF_REQUEST], rf[r, core.RF_RELEASE])
        reasons[r] = server.label + (f" (disrupted: {dis})" if dis else "")
    return {
        "unit": np.array([u.id for u in sc.units], dtype=object)[unit],
        "load": np.array(["equipment", "people"], dtype=object)[load % 2],
        "leg": ri[:, core.RI_LEG].copy(),
        "kind": np.array(ROW_KINDS, dtype=object)[kind],
        "from": node_ids[src],
        "to": node_ids[dst],
        "link": links[no_arc],
        "mode": modes[no_arc],
        "start": rf[:, core.RF_START].copy(),
        "depart": rf[:, core.RF_DEPART].copy(),
        "arrive": rf[:, core.RF_ARRIVE].copy(),
        "wait_days": rf[:, core.RF_WAIT].copy(),
        "wait_reason": reasons,
    }
