"""Day-0 planning: each unit's destination region, whether it draws a pre-positioned set, urgency.

Units are planned one by one in order of (tier, notice to move, index): a pre-assigned unit goes
to its region; any other goes where it fills the largest gap at its estimated closure. See
docs/simulation.md, "Units: destination, pre-positioned sets, urgency".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from forcemodel.common.fields import step_value
from forcemodel.common.jit import jit as _jit
from forcemodel.network.compile import (
    EQUIPMENT,
    INF,
    PEOPLE,
    CompiledNetwork,
    LoadClass,
    profile_reception,
    unit_load_classes,
)
from forcemodel.scenario.model import CAPABILITIES, Region, Scenario, Unit

__all__ = ["UnitPlan", "UnreachableError", "plan_units", "rsom_days", "step_value"]


class UnreachableError(ValueError):
    """Some units cannot reach any region they may go to; ``units`` names them with reasons."""

    def __init__(self, units: list[tuple[str, str]]) -> None:
        self.units = units
        lines = "\n".join(f"  {uid}: {why}" for uid, why in units)
        super().__init__(f"{len(units)} unit(s) cannot reach their region:\n{lines}")


@dataclass(frozen=True)
class UnitPlan:
    """What the planner decided for one unit."""

    unit: int
    region: int
    reception: int
    stock: int | None  # index into scenario.stocks when a set is drawn
    depot: int | None
    urgency: float
    est_closure: float


@_jit
def _gap_days(
    req_days: Any, req_vals: Any, times: Any, prefix: Any, n: int, base: float, power: float,
    tau: float, horizon: float,
) -> float:  # fmt: skip
    """Shortfall-days a unit of ``power`` closing at ``tau`` removes before the horizon.

    The integral over [tau, horizon) of min(power, max(0, required - projected)), where the
    projected power at x is ``base + prefix[j]`` for the last planned closure ``times[j] <= x``
    (``prefix`` adds the planned powers one by one in order of closure, ties in planning order).
    The integral is cut at tau, the requirement's days and the planned closures strictly inside
    (tau, horizon), and its pieces are added one by one in time order: an independent
    implementation reproduces it bit for bit.
    """
    if tau >= horizon or req_days.shape[0] == 0:
        return 0.0
    cuts = np.empty(1 + req_days.shape[0] + n)
    m = 0
    cuts[m] = tau
    m += 1
    for d in req_days:
        if tau < d < horizon:
            cuts[m] = d
            m += 1
    for i in range(n):
        if tau < times[i] < horizon:
            cuts[m] = times[i]
            m += 1
    cuts = np.sort(cuts[:m])
    total = 0.0
    for k in range(m):
        cut = cuts[k]
        if k > 0 and cut == cuts[k - 1]:
            continue  # distinct cuts only
        end = horizon
        for k2 in range(k + 1, m):
            if cuts[k2] != cut:
                end = cuts[k2]
                break
        i = np.searchsorted(req_days, cut, side="right") - 1
        required = req_vals[i] if i >= 0 else 0.0
        j = np.searchsorted(times[:n], cut, side="right") - 1
        have = base + (prefix[j] if j >= 0 else 0.0)
        total += min(power, max(0.0, required - have)) * (end - cut)
    return total


@_jit
def _plan_core(
    order: Any, ntm: Any, assigned: Any, power: Any, t_own: Any, t_set: Any, set_ok: Any,
    sets_left: Any, rsom_d: Any, priority: Any, base: Any, req_ptr: Any, req_days: Any,
    req_vals: Any, horizon: float, region: Any, stock: Any, urgency: Any, est: Any,
) -> None:  # fmt: skip
    """Plan units in ``order`` (docs/simulation.md); region -1 marks an unreachable unit.

    ``t_own[u, r]``: uncongested days with own equipment; ``t_set[u, r, s]``: through a set of
    stock s; ``req_ptr[r, c]`` .. ``req_ptr[r, c + 1]`` slices the requirement curves.
    """
    n_units, n_regions, n_caps = power.shape[0], t_own.shape[1], power.shape[1]
    n_stocks = t_set.shape[2]
    times = np.empty((n_regions, n_caps, n_units + 1))
    powers = np.empty((n_regions, n_caps, n_units + 1))
    prefix = np.empty((n_regions, n_caps, n_units + 1))
    count = np.zeros((n_regions, n_caps), np.int64)
    opt_r = np.empty(n_regions, np.int64)  # the unit's options: region, closure, stock, score
    opt_tau = np.empty(n_regions)
    opt_stock = np.empty(n_regions, np.int64)
    opt_score = np.empty(n_regions)
    for ui in order:
        n_opt = 0
        for r in range(n_regions):
            if assigned[ui] >= 0 and r != assigned[ui]:
                continue
            own = t_own[ui, r]
            best, which = INF, -1
            for s in range(n_stocks):
                if sets_left[s] <= 0 or not set_ok[ui, s]:
                    continue
                if t_set[ui, r, s] < best:
                    best, which = t_set[ui, r, s], s
            t = min(own, best)
            if t == INF:
                continue
            opt_r[n_opt] = r
            opt_tau[n_opt] = ntm[ui] + t + rsom_d[ui, r]
            opt_stock[n_opt] = which if best < own else -1
            n_opt += 1
        if n_opt == 0:
            region[ui] = -1
            continue
        any_gap = False
        for o in range(n_opt):
            r, tau = opt_r[o], opt_tau[o]
            gap = 0.0
            for c in range(n_caps):
                p = power[ui, c]
                if p > 0:
                    lo, hi = req_ptr[r, c], req_ptr[r, c + 1]
                    gap += _gap_days(
                        req_days[lo:hi], req_vals[lo:hi], times[r, c], prefix[r, c],
                        count[r, c], base[r, c], p, tau, horizon,
                    )  # fmt: skip
            opt_score[o] = priority[r] * gap
            if opt_score[o] > 0:
                any_gap = True
        pick = 0
        for o in range(1, n_opt):  # options are in region order: the first wins ties
            if any_gap:
                if opt_score[o] > opt_score[pick]:
                    pick = o
            elif opt_tau[o] < opt_tau[pick]:
                pick = o
        r, tau, which = opt_r[pick], opt_tau[pick], opt_stock[pick]
        if which >= 0:
            sets_left[which] -= 1
        for c in range(n_caps):
            p = power[ui, c]
            if p > 0:  # insert after equal closures, then redo the sums from there
                n = count[r, c]
                i = np.searchsorted(times[r, c, :n], tau, side="right")
                for k in range(n, i, -1):
                    times[r, c, k] = times[r, c, k - 1]
                    powers[r, c, k] = powers[r, c, k - 1]
                times[r, c, i], powers[r, c, i] = tau, p
                count[r, c] = n + 1
                for k in range(i, n + 1):
                    prefix[r, c, k] = (
                        powers[r, c, k] if k == 0 else prefix[r, c, k - 1] + powers[r, c, k]
                    )
        region[ui], stock[ui], urgency[ui], est[ui] = r, which, opt_score[pick], tau


class _Legs:
    """Uncongested days of units' loads to a destination, read from the time-to-go tables.

    Each load is keyed by its (load class, amount), the key of its table; key -1: nothing to
    move (0 days). The keys are those of the army's classes (people, equipment with the unit's
    road-march limit) unless ``region`` is given: then the classes the units' movement profiles
    take to that region.
    """

    def __init__(
        self, net: CompiledNetwork, units: Sequence[Unit], region: Region | None = None
    ) -> None:
        self.net = net
        found: dict[tuple[int, float], int] = {}

        def key(cls: int, amount: float) -> int:
            return found.setdefault((cls, amount), len(found)) if amount > 0 else -1

        classes = [
            unit_load_classes(u, region) if region is not None else _army_classes(u) for u in units
        ]
        self.eq = np.array(
            [
                key(net.class_of(eq), float(u.equipment_t))
                for u, (eq, _) in zip(units, classes, strict=True)
            ],
            dtype=np.int64,
        )
        self.pax = np.array(
            [
                key(net.class_of(px), float(u.personnel))
                for u, (_, px) in zip(units, classes, strict=True)
            ],
            dtype=np.int64,
        )
        self.keys = list(found)
        # Own equipment loads out at home first; a drawn set does not.
        self.load_out = np.array([u.load_out_days for u in units], dtype=float)

    def days(self, dest: int, keys: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Days from each origin to ``dest`` for loads with these keys."""
        out = np.zeros(len(keys))
        distinct, back = np.unique(keys, return_inverse=True)
        for j, k in enumerate(distinct):
            if k >= 0:
                rows = np.flatnonzero(back == j)
                cls, amount = self.keys[k]
                out[rows] = self.net.time_to_go_array(dest, cls, amount)[origins[rows], 0]
        return out

    def travel(
        self, dest: int, rows: np.ndarray, origins: np.ndarray, own: bool = False
    ) -> np.ndarray:
        """Uncongested days for both loads of these units (rows) from origins to ``dest``;
        ``own``: the units' own equipment from home, which loads out first."""
        eq = self.days(dest, self.eq[rows], origins)
        if own:
            eq = np.where(self.eq[rows] >= 0, self.load_out[rows] + eq, eq)
        days: np.ndarray = np.maximum(eq, self.days(dest, self.pax[rows], origins))
        return days


def _army_classes(unit: Unit) -> tuple[LoadClass, LoadClass]:
    """The classes of a unit moving as the army does (no port or air base of its profile)."""
    return LoadClass(EQUIPMENT, unit.outsize, road_km=unit.max_road_march_km), LoadClass(PEOPLE)


def rsom_days(region: Region, unit: Unit) -> float:
    """RSOM time for a unit at a region (at the port or air base of its movement profile,
    where the region has one), faster for units pre-assigned to it."""
    factor = region.rsom.assigned_factor if unit.assigned_to == region.id else 1.0
    applied = profile_reception(region, unit)
    days = region.rsom.days if applied is None else applied[1].days  # type: ignore[attr-defined]
    return float(days * factor)


def _rsom_table(regions: Sequence[Region], units: Sequence[Unit]) -> np.ndarray:
    """:func:`rsom_days` of every unit at every region, ``[unit, region]``."""
    return np.array([[rsom_days(r, u) for r in regions] for u in units], dtype=float).reshape(
        len(units), len(regions)
    )


def plan_units(scenario: Scenario, net: CompiledNetwork) -> list[UnitPlan]:
    """Plan every unit's destination, set draw and urgency; raise if any is unreachable."""
    regions, units, stocks = scenario.regions, scenario.units, scenario.stocks
    region_index = {r.id: i for i, r in enumerate(regions)}
    receptions = [net.node_index[r.reception] for r in regions]
    depots = [net.node_index[s.depot] for s in stocks]
    homes = np.array([net.node_index[u.home] for u in units], dtype=np.int64)
    n_units, n_regions, n_stocks = len(units), len(regions), len(stocks)
    # Uncongested travel, own equipment and through each stock's sets, for every option.
    legs = _Legs(net, units)
    everyone = np.arange(n_units)
    t_own = np.empty((n_units, n_regions))
    # A unit whose profile the region receives at a port or air base goes there, by its
    # profile's classes, and draws no set.
    profiled = np.zeros((n_units, n_regions), dtype=bool)
    for r, (reg, rec) in enumerate(zip(regions, receptions, strict=True)):
        t_own[:, r] = legs.travel(rec, everyone, homes, own=True)
        takes = np.array([profile_reception(reg, u) is not None for u in units], dtype=bool)
        if takes.any():
            prow = np.flatnonzero(takes)
            sub = [units[i] for i in prow]
            ends = np.array([net.receiving(u, reg)[0] for u in sub], dtype=np.int64).reshape(
                len(sub)
            )
            by_profile = _Legs(net, sub, reg)
            for end in np.unique(ends):
                at = np.flatnonzero(ends == end)
                t_own[prow[at], r] = by_profile.travel(int(end), at, homes[prow[at]], own=True)
            profiled[:, r] = takes
    set_types = sorted({u.set_type for u in units if u.set_type is not None})
    code = {t: i for i, t in enumerate(set_types)}
    unit_set = np.array([-1 if u.set_type is None else code[u.set_type] for u in units])
    set_ok = np.zeros((n_units, max(1, n_stocks)), dtype=bool)
    t_set = np.full((n_units, n_regions, max(1, n_stocks)), INF)
    for si, s in enumerate(stocks):
        if s.set_type not in code:
            continue
        mine = np.flatnonzero(unit_set == code[s.set_type])
        if not mine.size:
            continue
        set_ok[mine, si] = True
        to_depot = legs.days(depots[si], legs.pax[mine], homes[mine])
        from_depot = np.full(mine.size, depots[si])
        for r, rec in enumerate(receptions):
            onward = legs.travel(rec, mine, from_depot)
            t_set[mine, r, si] = np.where(profiled[mine, r], INF, to_depot + s.draw_days + onward)
    sets_left = np.array(
        [s.sets if s.kind == "equipment_set" else 0 for s in stocks] or [0], dtype=np.int64
    )
    # Projected power per region and capability: in place, then the planned units'.
    base = np.array(
        [[r.in_place_power(c) for c in CAPABILITIES] for r in regions], dtype=float
    ).reshape(n_regions, len(CAPABILITIES))
    curves = [[getattr(r.requirement, c) for c in CAPABILITIES] for r in regions]
    req_ptr = np.zeros((n_regions, len(CAPABILITIES) + 1), dtype=np.int64)
    flat: list[tuple[float, float]] = []
    for r in range(n_regions):
        for c, curve in enumerate(curves[r]):
            req_ptr[r, c] = len(flat)
            flat.extend(curve)
        req_ptr[r, -1] = len(flat)
    order = np.array(
        sorted(range(n_units), key=lambda i: (units[i].tier, units[i].notice_to_move_days, i)),
        dtype=np.int64,
    )
    assigned = np.array(
        [-1 if u.assigned_to is None else region_index[u.assigned_to] for u in units],
        dtype=np.int64,
    )
    region = np.zeros(n_units, np.int64)
    stock = np.full(n_units, -1, np.int64)
    urgency = np.zeros(n_units)
    est = np.zeros(n_units)
    _plan_core(
        order,
        np.array([u.notice_to_move_days for u in units], dtype=float),
        assigned,
        np.array([[getattr(u.power, c) for c in CAPABILITIES] for u in units], dtype=float).reshape(
            n_units, len(CAPABILITIES)
        ),
        t_own,
        t_set,
        set_ok,
        sets_left,
        _rsom_table(regions, units),
        np.array([r.priority for r in regions], dtype=float),
        base,
        req_ptr,
        np.array([d for d, _ in flat], dtype=float),
        np.array([v for _, v in flat], dtype=float),
        float(scenario.meta.horizon_days),
        region,
        stock,
        urgency,
        est,
    )
    unreachable = [
        (
            u.id,
            f"no route from '{u.home}' to {u.assigned_to or 'any region'} for its "
            f"{'equipment' if u.equipment_t > 0 else 'people'}",
        )
        for ui, u in enumerate(units)
        if region[ui] < 0
    ]
    if unreachable:
        raise UnreachableError(unreachable)
    # Plain Python numbers first: indexing NumPy arrays item by item is slow.
    rows = zip(region.tolist(), stock.tolist(), urgency.tolist(), est.tolist(), strict=True)
    return [
        UnitPlan(
            unit=ui,
            region=r,
            reception=net.receiving(units[ui], regions[r])[0],
            stock=s if s >= 0 else None,
            depot=depots[s] if s >= 0 else None,
            urgency=g,
            est_closure=e,
        )
        for ui, (r, s, g, e) in enumerate(rows)
    ]
