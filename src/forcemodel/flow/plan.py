"""Day-0 planning: each unit's destination region, whether it draws a pre-positioned set, urgency.

Units are planned one by one in order of (tier, notice to move, index): a pre-assigned unit goes
to its region; any other goes where it fills the largest gap at its estimated closure. See
docs/simulation.md, "Units: destination, pre-positioned sets, urgency".
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from forcemodel.network.compile import (
    CLASS_PEOPLE,
    EQUIPMENT,
    INF,
    CompiledNetwork,
    load_class_of,
)
from forcemodel.scenario.model import CAPABILITIES, Curve, Region, Scenario, Unit


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


def _travel(net: CompiledNetwork, u: Unit, dest: int, origin: int) -> float:
    """Uncongested days for both loads of a unit from ``origin`` to ``dest``."""
    eq_cls = load_class_of(EQUIPMENT, u.outsize)
    t_eq = net.time_to_go(dest, eq_cls, u.equipment_t)[origin][0] if u.equipment_t > 0 else 0.0
    t_pax = (
        net.time_to_go(dest, CLASS_PEOPLE, float(u.personnel))[origin][0] if u.personnel else 0.0
    )
    return max(t_eq, t_pax)


def _best_set(
    net: CompiledNetwork,
    u: Unit,
    home: int,
    reception: int,
    scenario: Scenario,
    sets_left: list[int],
    depots: list[int],
) -> tuple[float, int | None]:
    """Fastest estimate through a pre-positioned set with sets left, and its stock."""
    best, which = INF, None
    if u.set_type is None:
        return best, which
    for si, s in enumerate(scenario.stocks):
        if sets_left[si] <= 0 or s.set_type != u.set_type:
            continue
        to_depot = (
            net.time_to_go(depots[si], CLASS_PEOPLE, float(u.personnel))[home][0]
            if u.personnel
            else 0.0
        )
        t = to_depot + s.draw_days + _travel(net, u, reception, depots[si])
        if t < best:
            best, which = t, si
    return best, which


class _Projection:
    """Power planned to arrive over time: a step function kept as sorted arrays."""

    def __init__(self, base: float) -> None:
        self.base = base
        self.times = np.empty(0)
        self.sums = np.empty(0)  # sums[i] = power of planned units at times[0..i]

    def add(self, t: float, power: float) -> None:
        i = int(np.searchsorted(self.times, t, side="right"))
        prev = self.sums[i - 1] if i > 0 else 0.0
        self.times = np.insert(self.times, i, t)
        self.sums = np.insert(self.sums, i, prev)
        self.sums[i:] += power

    def gap_days(self, curve: Curve, power: float, tau: float, horizon: float) -> float:
        """Shortfall-days a unit of ``power`` arriving at ``tau`` removes before the horizon.

        The integral over [tau, horizon) of min(power, max(0, required - projected)).
        """
        if tau >= horizon or not curve:
            return 0.0
        req_days = np.array([d for d, _ in curve])
        req_vals = np.array([v for _, v in curve])
        later = self.times[(self.times > tau) & (self.times < horizon)]
        cuts = np.unique(
            np.concatenate(([tau], req_days[(req_days > tau) & (req_days < horizon)], later))
        )
        ends = np.append(cuts[1:], horizon)
        i = np.searchsorted(req_days, cuts, side="right") - 1
        required = np.where(i >= 0, req_vals[np.maximum(i, 0)], 0.0)
        j = np.searchsorted(self.times, cuts, side="right") - 1
        have = self.base + np.where(
            j >= 0, self.sums[np.maximum(j, 0)] if self.sums.size else 0.0, 0.0
        )
        filled = np.minimum(power, np.maximum(0.0, required - have))
        return float((filled * (ends - cuts)).sum())


def step_value(curve: Curve, t: float) -> float:
    """Value of a step curve at time t (0 before its first point)."""
    if not curve:
        return 0.0
    i = bisect_right([d for d, _ in curve], t) - 1
    return curve[i][1] if i >= 0 else 0.0


def rsom_days(region: Region, unit: Unit) -> float:
    """RSOM time for a unit at a region, faster for units pre-assigned to it."""
    factor = region.rsom.assigned_factor if unit.assigned_to == region.id else 1.0
    return region.rsom.days * factor


def plan_units(scenario: Scenario, net: CompiledNetwork) -> list[UnitPlan]:
    """Plan every unit's destination, set draw and urgency; raise if any is unreachable."""
    regions = scenario.regions
    region_index = {r.id: i for i, r in enumerate(regions)}
    receptions = [net.node_index[r.reception] for r in regions]
    sets_left = [s.sets if s.kind == "equipment_set" else 0 for s in scenario.stocks]
    depots = [net.node_index[s.depot] for s in scenario.stocks]
    # Projected power per region and capability: in place, then (closure, power) of planned units.
    base = [
        {c: sum(getattr(f.power, c) * f.count for f in r.in_place) for c in CAPABILITIES}
        for r in regions
    ]
    planned = [{c: _Projection(base[r][c]) for c in CAPABILITIES} for r in range(len(regions))]
    horizon = float(scenario.meta.horizon_days)
    order = sorted(
        range(len(scenario.units)),
        key=lambda i: (scenario.units[i].tier, scenario.units[i].notice_to_move_days, i),
    )
    plans: dict[int, UnitPlan] = {}
    unreachable: list[tuple[str, str]] = []

    for ui in order:
        u = scenario.units[ui]
        home = net.node_index[u.home]
        candidates = (
            [region_index[u.assigned_to]] if u.assigned_to is not None else range(len(regions))
        )
        options = []
        for r in candidates:
            t_own = _travel(net, u, receptions[r], home)
            t_set, stock = _best_set(net, u, home, receptions[r], scenario, sets_left, depots)
            t = min(t_own, t_set)
            if t == INF:
                continue
            tau = u.notice_to_move_days + t + rsom_days(regions[r], u)
            options.append((r, tau, stock if t_set < t_own else None))
        if not options:
            where = u.assigned_to or "any region"
            unreachable.append(
                (
                    u.id,
                    f"no route from '{u.home}' to {where} for its "
                    f"{'equipment' if u.equipment_t > 0 else 'people'}",
                )
            )
            continue
        scored = []
        for r, tau, stock in options:
            region = regions[r]
            gap = 0.0
            for c in CAPABILITIES:
                p = getattr(u.power, c)
                if p > 0:
                    curve = getattr(region.requirement, c)
                    gap += planned[r][c].gap_days(curve, p, tau, horizon)
            scored.append((region.priority * gap, tau, r, stock))
        if any(g > 0 for g, _, _, _ in scored):
            g, tau, r, stock = min(scored, key=lambda x: (-x[0], x[2]))
        else:
            g, tau, r, stock = min(scored, key=lambda x: (x[1], x[2]))
        if stock is not None:
            sets_left[stock] -= 1
        for c in CAPABILITIES:
            p = getattr(u.power, c)
            if p > 0:
                planned[r][c].add(tau, p)
        plans[ui] = UnitPlan(
            unit=ui,
            region=r,
            reception=receptions[r],
            stock=stock,
            depot=depots[stock] if stock is not None else None,
            urgency=g,
            est_closure=tau,
        )
    if unreachable:
        raise UnreachableError(unreachable)
    return [plans[i] for i in range(len(scenario.units))]
