"""The day-0 plan, written out by hand for the SimPy reference (docs/simulation.md, "Units").

Units are planned one by one in order of (tier, notice to move, index). Each goes to its
pre-assigned region, or else to the region where it fills the largest gap before the horizon
(priority times the brigade-days of shortfall it removes, counted from its estimated closure);
it draws a pre-positioned set where that is faster than moving its own equipment; its urgency
is the gap it fills. Travel estimates come from the time-to-go tables of
:class:`oracles.network.Network`.

The projected power and the gap are summed in a fixed order (the same as the engine's) so that
the urgencies, which order queues, come out bit for bit the same.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from forcemodel.scenario.model import CAPABILITIES, Curve, Region, Scenario, Unit
from oracles.network import EQUIPMENT, INF, PEOPLE, Network, reception_of, unit_class


class Unreachable(ValueError):
    """Units that cannot reach any region they may go to."""


@dataclass
class Plan:
    """The day-0 decision for one unit."""

    region: int  # index into scenario.regions
    reception: str
    stock: int | None  # index into scenario.stocks when a set is drawn
    depot: str | None
    urgency: float
    est_closure: float


@dataclass
class Projection:
    """Power of one capability planned to a region: in place, then units by estimated closure."""

    base: float
    closures: list[tuple[float, float]] = field(default_factory=list)  # (closure, power), sorted

    def add(self, closure: float, power: float) -> None:
        """Insert after any unit with the same closure (ties stay in planning order)."""
        i = bisect_right([t for t, _ in self.closures], closure)
        self.closures.insert(i, (closure, power))

    def gap_days(self, curve: Curve, power: float, tau: float, horizon: float) -> float:
        """Integral over [tau, horizon) of min(power, max(0, required - projected)).

        Pieces are cut at tau, at the requirement's days and at the planned closures inside
        (tau, horizon), and added in time order. The projected power is the base plus the
        planned units closed by the piece's start, added in order of closure.
        """
        if tau >= horizon or not curve:
            return 0.0
        cuts = {tau}
        cuts.update(d for d, _ in curve if tau < d < horizon)
        cuts.update(t for t, _ in self.closures if tau < t < horizon)
        starts = sorted(cuts)
        total = planned = 0.0
        counted = 0  # planned units closed by the piece's start
        for start, end in zip(starts, [*starts[1:], horizon], strict=True):
            while counted < len(self.closures) and self.closures[counted][0] <= start:
                planned += self.closures[counted][1]
                counted += 1
            filled = min(power, max(0.0, required_at(curve, start) - (self.base + planned)))
            total += filled * (end - start)
        return total


def required_at(curve: Curve, t: float) -> float:
    """A step curve's value at t (0 before its first day)."""
    value = 0.0
    for day, v in curve:
        if day > t:
            break
        value = v
    return value


def rsom_days(region: Region, unit: Unit) -> float:
    """RSOM days (a port's or air base's reception days for a ship or squadron received
    there), shorter (assigned_factor) for a unit pre-assigned to the region."""
    factor = region.rsom.assigned_factor if unit.assigned_to == region.id else 1.0
    return float(reception_of(region, unit)[2] * factor)


def travel(
    net: Network, u: Unit, origin: str, dest: str, region: Region, own: bool = False
) -> float:
    """Uncongested days for both loads of a unit from ``origin`` to ``dest`` in the classes
    it takes to ``region`` (``own``: its own equipment from home, which loads out first)."""
    t_eq = t_pax = 0.0
    if u.equipment_t > 0:
        h = net.time_to_go(dest, unit_class(u, EQUIPMENT, region), u.equipment_t)
        t_eq = h.get((origin, None), INF)
        if own:
            t_eq = u.load_out_days + t_eq
    if u.personnel:
        h = net.time_to_go(dest, unit_class(u, PEOPLE, region), float(u.personnel))
        t_pax = h.get((origin, None), INF)
    return max(t_eq, t_pax)


def people_to(net: Network, u: Unit, origin: str, dest: str) -> float:
    """Uncongested days for a unit's people alone."""
    if not u.personnel:
        return 0.0
    return net.time_to_go(dest, "people", float(u.personnel)).get((origin, None), INF)


def plan_units(scenario: Scenario, net: Network) -> list[Plan]:
    """Every unit's region, set and urgency; raises :class:`Unreachable` naming stuck units."""
    regions, stocks, units = scenario.regions, scenario.stocks, scenario.units
    region_index = {r.id: i for i, r in enumerate(regions)}
    sets_left = [s.sets if s.kind == "equipment_set" else 0 for s in stocks]
    horizon = float(scenario.meta.horizon_days)
    projected = [
        {
            c: Projection(sum(getattr(f.power, c) * f.count for f in r.in_place))
            for c in CAPABILITIES
        }
        for r in regions
    ]
    plans: dict[int, Plan] = {}
    unreachable = []
    for ui in sorted(
        range(len(units)), key=lambda i: (units[i].tier, units[i].notice_to_move_days, i)
    ):
        u = units[ui]
        if u.assigned_to is not None:
            candidates = [region_index[u.assigned_to]]
        else:
            candidates = list(range(len(regions)))

        # Estimated closure in each candidate region, with or without a set.
        options = []
        for r in candidates:
            how, reception, _, _ = reception_of(regions[r], u)
            t_own = travel(net, u, u.home, reception, regions[r], own=True)
            t_set, stock = INF, None
            if u.set_type is not None and how == "army":  # ships and squadrons draw no set
                for si, s in enumerate(stocks):
                    if sets_left[si] > 0 and s.set_type == u.set_type:
                        t = people_to(net, u, u.home, s.depot) + s.draw_days
                        t += travel(net, u, s.depot, reception, regions[r])
                        if t < t_set:
                            t_set, stock = t, si
            t = min(t_own, t_set)
            if t == INF:
                continue
            tau = u.notice_to_move_days + t + rsom_days(regions[r], u)
            options.append((r, tau, stock if t_set < t_own else None))
        if not options:
            what = "equipment" if u.equipment_t > 0 else "people"
            unreachable.append(f"{u.id} (no route from {u.home} for its {what})")
            continue

        # The gap each option fills; the largest wins (ties: region order), else the earliest.
        scored = []
        for r, tau, stock in options:
            gap = 0.0
            for c in CAPABILITIES:
                power = getattr(u.power, c)
                if power > 0:
                    curve = getattr(regions[r].requirement, c)
                    gap += projected[r][c].gap_days(curve, power, tau, horizon)
            scored.append((regions[r].priority * gap, tau, r, stock))
        if any(gap > 0 for gap, _, _, _ in scored):
            gap, tau, r, stock = min(scored, key=lambda x: (-x[0], x[2]))
        else:
            gap, tau, r, stock = min(scored, key=lambda x: (x[1], x[2]))

        if stock is not None:
            sets_left[stock] -= 1
        for c in CAPABILITIES:
            power = getattr(u.power, c)
            if power > 0:
                projected[r][c].add(tau, power)
        plans[ui] = Plan(
            region=r,
            reception=reception_of(regions[r], u)[1],
            stock=stock,
            depot=stocks[stock].depot if stock is not None else None,
            urgency=gap,
            est_closure=tau,
        )
    if unreachable:
        raise Unreachable(
            f"{len(unreachable)} unit(s) cannot reach their region: " + ", ".join(unreachable)
        )
    return [plans[i] for i in range(len(units))]
