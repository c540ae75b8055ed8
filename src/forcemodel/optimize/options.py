"""The options table: what each unit can do (a region it can reach, with its own equipment or
one set from a stock), with the uncongested arrival of its loads and the servers on its route.

Every option's arrival is precomputed from the compiled network (``time_to_go``, the same
estimate the simulation's planner uses), so the model only decides which option each unit
takes (docs/optimization.md, "Options: what each unit can do").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from forcemodel.mip.errors import InfeasibleError
from forcemodel.network.compile import (
    CLASS_PEOPLE,
    PEOPLE,
    CompiledNetwork,
    pool_work,
    profile_reception,
)
from forcemodel.scenario.model import Region, Scenario, Unit

#: Regions offered to a unit that may go anywhere: the ones it can reach first (and its
#: pre-assigned region); ``option_table(max_regions=None)`` offers every region.
DEFAULT_MAX_REGIONS = 8

#: Stocks offered to a unit per region: the ones whose sets bring it there first;
#: ``option_table(max_stocks=None)`` offers every stock of its set type.
DEFAULT_MAX_STOCKS = 2

#: Options are pruned only when a scenario offers more than this many in all: below it the
#: model is solved over every option (exact); eastern-flank offers about 3,200.
DEFAULT_PRUNE_ABOVE = 20_000

#: A chosen option per unit id: (region id, stock id or None for its own equipment).
Choice = tuple[str, str | None]

#: One server on a load's uncongested route: (load 0/1, server index, day the load reaches
#: it, day it leaves it without queues, work: tons, people or asset-days).
Passage = tuple[int, int, float, float, float]


def option_table(
    scenario: Scenario,
    net: CompiledNetwork,
    *,
    keep_assignments: bool = False,
    fixed: Mapping[str, Choice] | None = None,
    max_regions: int | None = DEFAULT_MAX_REGIONS,
    max_stocks: int | None = DEFAULT_MAX_STOCKS,
    keep: Mapping[str, Choice] | None = None,
    prune_above: int | None = DEFAULT_PRUNE_ABOVE,
) -> pd.DataFrame:
    """One row per (unit, region, own equipment or stock) a unit can take.

    Columns: ``unit`` (index), ``unit_id``, ``region`` (index), ``region_id``, ``stock`` (index
    into ``scenario.stocks``, -1 for its own equipment), ``stock_id`` ('' for own), ``ready``,
    ``arrive_equipment`` and ``arrive_people`` (uncongested arrival of each load at the
    reception, days), ``tons``, ``people``, ``rsom_days`` (RSOM time with the pre-assigned
    factor: the plan pre-assigns every unit), ``closure`` (estimated closure without
    queues: the later arrival plus ``rsom_days``).

    ``keep_assignments`` keeps each pre-assigned unit in its region; ``fixed`` pins units to
    one option (region, stock id or None). Raises :class:`InfeasibleError` naming every unit that
    has no option at all.

    Pruning (docs/optimization.md, "Options: what each unit can do"): a unit that is not
    fixed is offered only the ``max_regions`` regions it can close on first (by its earliest
    option there), its pre-assigned region and the regions on which it is among the units
    that close first (as many per region as ``max_regions`` times units over regions), and in
    each region its own equipment and only the ``max_stocks`` stocks whose sets close it
    there first; ``None`` offers all. Nothing is pruned unless the scenario offers more than
    ``prune_above`` options in all (``None``: always prune). ``keep``
    (unit id -> region id, stock id or None: e.g. the day-0 planner's plan) is never pruned.
    The defaults prune nothing on tiny and eastern-flank and keep a scenario of 80 regions
    and 40 stocks (755,000 options) to about 13 options a unit.
    """
    if max_regions is not None and max_regions < 1:
        raise ValueError(f"max_regions must be 1 or more, got {max_regions}")
    if max_stocks is not None and max_stocks < 0:
        raise ValueError(f"max_stocks must be 0 or more, got {max_stocks}")
    regions = scenario.regions
    region_index = {r.id: i for i, r in enumerate(regions)}
    stock_index = {s.id: i for i, s in enumerate(scenario.stocks)}
    routes: dict[tuple[int, int, int, float], tuple[Passage, ...]] = {}
    rows: list[dict[str, object]] = []
    problems: list[tuple[str, str]] = []
    # Per unit: its candidate options by region, the option to keep, whether it is fixed.
    reached: list[tuple[Unit, dict[int, list[_Reach]], tuple[int, int] | None, bool]] = []
    for u in scenario.units:
        home = net.node_index[u.home]
        allowed_regions: list[int] = list(range(len(regions)))
        allowed_stocks: set[int] | None = None  # None: any; else these (-1: own equipment)
        if fixed is not None and u.id in fixed:
            rid, sid = fixed[u.id]
            allowed_regions = [region_index[rid]]
            allowed_stocks = {stock_index[sid] if sid is not None else -1}
        elif keep_assignments and u.assigned_to is not None:
            allowed_regions = [region_index[u.assigned_to]]
        reach = _reach(scenario, net, u, home, allowed_regions, allowed_stocks)
        must = None
        if keep is not None and u.id in keep:
            rid, sid = keep[u.id]
            must = (region_index[rid], stock_index[sid] if sid is not None else -1)
        reached.append((u, reach, must, fixed is not None and u.id in fixed))
    n_offered = sum(len(found) for _, reach, _, _ in reached for found in reach.values())
    prune = prune_above is None or n_offered > prune_above
    if prune:
        reached = [
            (
                u,
                reach if pinned else _fewer_stocks(reach, regions, max_stocks, must, u),
                must,
                pinned,
            )
            for u, reach, must, pinned in reached
        ]
    near = _near_regions(scenario, reached, max_regions if prune else None)
    for ui, (u, reach, _, _) in enumerate(reached):
        home = net.node_index[u.home]
        ready = u.notice_to_move_days
        before = len(rows)
        offered = near[ui]
        for r, found in reach.items():
            if offered is not None and r not in offered:
                continue
            region = regions[r]
            dest, eq_cls, pax_cls = _arrival(net, u, region)
            classes = (eq_cls, pax_cls)
            rsom = _rsom_days(region, u)
            pooled = profile_reception(region, u) is None
            for si, a_eq, a_pax, depot, drawn in found:
                if si < 0:
                    # Own equipment leaves home after its load-out (docs/simulation.md,
                    # "Preparation before the first move"); its people at once.
                    route = _route(
                        net, u, home, dest, ready, (True, True), classes, routes, _load_out(u)
                    )
                else:
                    route = _route(
                        net, u, home, depot, ready, (False, True), classes, routes
                    ) + _route(net, u, depot, dest, drawn, (True, True), classes, routes)
                if not pooled:
                    route += _reception(net, u, region, (a_eq, a_pax))
                rows.append(
                    {
                        "unit": ui,
                        "unit_id": u.id,
                        "region": r,
                        "region_id": region.id,
                        "stock": si,
                        "stock_id": scenario.stocks[si].id if si >= 0 else "",
                        "ready": ready,
                        "arrive_equipment": a_eq,
                        "arrive_people": a_pax,
                        "tons": u.equipment_t,
                        "people": float(u.personnel),
                        "rsom_days": rsom,
                        "closure": max(a_eq, a_pax) + rsom,
                        "pooled": pooled,
                        "route": route,
                    }
                )
        if len(rows) == before:
            problems.append((u.id, _why_no_option(u, fixed, keep_assignments)))
    if problems:
        raise InfeasibleError(
            "no plan exists: some units cannot reach any region they may go to",
            [f"{uid}: {why}" for uid, why in problems],
        )
    columns = [
        "unit",
        "unit_id",
        "region",
        "region_id",
        "stock",
        "stock_id",
        "ready",
        "arrive_equipment",
        "arrive_people",
        "tons",
        "people",
        "rsom_days",
        "closure",
        "pooled",
        "route",
    ]
    return pd.DataFrame(rows, columns=columns)


#: A candidate option before its route: stock (-1: own equipment), equipment and people
#: arrival, depot (-1: none) and the day the set is drawn.
_Reach = tuple[int, float, float, int, float]


def _reach(
    scenario: Scenario,
    net: CompiledNetwork,
    u: Unit,
    home: int,
    allowed_regions: list[int],
    allowed_stocks: set[int] | None,
) -> dict[int, list[_Reach]]:
    """Per region the unit may go to, its options there with their uncongested arrivals."""
    ready = u.notice_to_move_days
    # Arrivals first (cheap: time-to-go tables), routes only for the options kept.
    # (stock, eq arrival, pax arrival, depot or -1, day the set is drawn)
    reach: dict[int, list[_Reach]] = {}
    for r in allowed_regions:
        region = scenario.regions[r]
        dest, eq_cls, pax_cls = _arrival(net, u, region)
        found: list[_Reach] = []
        if allowed_stocks is None or -1 in allowed_stocks:
            t_eq, t_pax = _legs(net, u, home, dest, eq_cls, pax_cls)
            found.append((-1, ready + _load_out(u) + t_eq, ready + t_pax, -1, ready))
        for si, s in enumerate(scenario.stocks):
            if profile_reception(region, u) is not None:
                break  # a ship or squadron received at a port or air base draws no set
            if allowed_stocks is not None and si not in allowed_stocks:
                continue
            if s.kind != "equipment_set" or s.sets <= 0 or s.set_type != u.set_type:
                continue
            depot = net.node_index[s.depot]
            to_depot = _people_time(net, u, home, depot)
            drawn = ready + to_depot + s.draw_days
            t_eq, t_pax = _legs(net, u, depot, dest, eq_cls, pax_cls)
            if not (math.isfinite(to_depot) and math.isfinite(t_eq) and math.isfinite(t_pax)):
                continue
            found.append((si, drawn + t_eq, drawn + t_pax, depot, drawn))
        found = [c for c in found if math.isfinite(c[1]) and math.isfinite(c[2])]
        if found:
            reach[r] = found
    return reach


def _closure(regions: Sequence[Region], r: int, c: _Reach, u: Unit) -> float:
    """Uncongested closure of a candidate: its later arrival plus the unit's RSOM days."""
    return max(c[1], c[2]) + _rsom_days(regions[r], u)


def _rsom_days(region: Region, u: Unit) -> float:
    """RSOM days of a pre-assigned unit at ``region``: at the port or air base of its movement
    profile where the region has one (as the simulation receives it), else the region's."""
    applied = profile_reception(region, u)
    days = region.rsom.days if applied is None else applied[1].days  # type: ignore[attr-defined]
    return float(days * region.rsom.assigned_factor)


def _arrival(net: CompiledNetwork, u: Unit, region: Region) -> tuple[int, int, int]:
    """Where and how ``u`` arrives in ``region`` (as the simulation routes it: a ship to the
    region's port by sea, a squadron to its air base by air, tracked equipment within its
    road-march limit): (node, equipment class, people class)."""
    node, eq_cls, pax_cls, _, _ = net.receiving(u, region)
    return node, eq_cls, pax_cls


def _reception(
    net: CompiledNetwork, u: Unit, region: Region, arrive: tuple[float, float]
) -> tuple[Passage, ...]:
    """The passages of a unit received at a port or air base through its reception servers
    (tons and people a day): in the model a shared capacity like any on the way, since the
    region's pooled RSOM rows do not hold them."""
    _, _, _, t_server, pax_server = net.receiving(u, region)
    out: list[Passage] = []
    for li, (srv, amount) in enumerate(
        zip((t_server, pax_server), (u.equipment_t, float(u.personnel)), strict=True)
    ):
        if srv is None or amount <= 0:
            continue
        busy = max(0.0, amount / net.servers[srv].rate - 1.0)
        out.append((li, srv, arrive[li], arrive[li] + busy, amount))
    return tuple(out)


def _fewer_stocks(
    reach: dict[int, list[_Reach]],
    regions: Sequence[Region],
    max_stocks: int | None,
    must: tuple[int, int] | None,
    u: Unit,
) -> dict[int, list[_Reach]]:
    """In each region, own equipment and the ``max_stocks`` stocks that close the unit there
    first (and ``must``'s stock, (region, stock)); order kept."""
    if max_stocks is None:
        return reach
    out = dict(reach)
    for r, found in out.items():
        stocks = [c for c in found if c[0] >= 0]
        if len(stocks) > max_stocks:
            first = sorted(stocks, key=lambda c: (_closure(regions, r, c, u), c[0]))[:max_stocks]
            kept = {c[0] for c in first}
            if must is not None and must[0] == r:
                kept.add(must[1])
            out[r] = [c for c in found if c[0] < 0 or c[0] in kept]
    return out


def _near_regions(
    scenario: Scenario,
    reached: Sequence[tuple[Unit, dict[int, list[_Reach]], tuple[int, int] | None, bool]],
    max_regions: int | None,
) -> list[set[int] | None]:
    """The regions each unit is offered (``None``: all it reaches).

    A unit keeps the ``max_regions`` regions it closes on first (by its earliest option
    there), its pre-assigned region and ``must``'s; and every region keeps the units that
    close on it first, as many as the average region would get (``max_regions`` times units
    over regions), so that a region far from most garrisons still has candidates.
    """
    regions = scenario.regions
    out: list[set[int] | None] = [None] * len(reached)
    if max_regions is None or len(regions) <= max_regions:
        return out
    region_index = {r.id: i for i, r in enumerate(regions)}
    best = [
        {r: min(_closure(regions, r, c, u) for c in found) for r, found in reach.items()}
        for u, reach, _, _ in reached
    ]
    per_region = math.ceil(max_regions * len(reached) / len(regions))
    by_region: dict[int, list[tuple[float, int]]] = {}
    for ui, (u, _, must, pinned) in enumerate(reached):
        if pinned or len(best[ui]) <= max_regions:
            continue
        order = sorted(best[ui], key=lambda r: (best[ui][r], r))
        near = set(order[:max_regions])
        if u.assigned_to is not None:
            near.add(region_index[u.assigned_to])
        if must is not None:
            near.add(must[0])
        out[ui] = near
        for r, t in best[ui].items():
            by_region.setdefault(r, []).append((t, ui))
    for r, cands in by_region.items():
        for _, ui in sorted(cands)[:per_region]:
            kept = out[ui]
            if kept is not None:
                kept.add(r)
    return out


def _why_no_option(u: Unit, fixed: Mapping[str, Choice] | None, keep: bool) -> str:
    if fixed is not None and u.id in fixed:
        rid, sid = fixed[u.id]
        how = f"with a set from '{sid}'" if sid is not None else "with its own equipment"
        return f"cannot reach '{rid}' {how} from '{u.home}'"
    if keep and u.assigned_to is not None:
        return f"pre-assigned to '{u.assigned_to}', which it cannot reach from '{u.home}'"
    return f"no route from '{u.home}' to any region's reception for its equipment or people"


def _load_out(u: Unit) -> float:
    """Days the unit's own equipment loads out at home before it moves: none for 0 t."""
    return float(u.load_out_days) if u.equipment_t > 0 else 0.0


def _people_time(net: CompiledNetwork, u: Unit, origin: int, dest: int) -> float:
    if u.personnel <= 0:
        return 0.0
    return net.time_to_go(dest, CLASS_PEOPLE, float(u.personnel))[origin][0]


def _legs(
    net: CompiledNetwork, u: Unit, origin: int, dest: int, eq_cls: int, pax_cls: int
) -> tuple[float, float]:
    """Uncongested days of the equipment and of the people from ``origin`` to ``dest``, each
    load of its class (:func:`_arrival`)."""
    t_eq = net.time_to_go(dest, eq_cls, u.equipment_t)[origin][0] if u.equipment_t > 0 else 0.0
    t_pax = net.time_to_go(dest, pax_cls, float(u.personnel))[origin][0] if u.personnel > 0 else 0.0
    return t_eq, t_pax


def _route(
    net: CompiledNetwork,
    u: Unit,
    origin: int,
    dest: int,
    start: float,
    which: tuple[bool, bool],
    classes: tuple[int, int],
    cache: dict[tuple[int, int, int, float], tuple[Passage, ...]],
    load_out: float = 0.0,
) -> tuple[Passage, ...]:
    """The servers on the uncongested routes of a unit's loads (``which``: equipment, people;
    ``classes``: their load classes) from ``origin`` (leaving at ``start``, the equipment
    ``load_out`` days later) to ``dest``, with their times and work."""
    out: list[Passage] = []
    for li, (go, amount) in enumerate(zip(which, (u.equipment_t, float(u.personnel)), strict=True)):
        if not go or amount <= 0:
            continue
        cls = classes[li]
        key = (origin, dest, cls, amount)
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = _follow(net, origin, dest, cls, amount)
        leave = start + load_out if li == 0 else start
        out.extend((li, srv, leave + a, leave + b, w) for _, srv, a, b, w in hit)
    return tuple(out)


def _follow(
    net: CompiledNetwork, origin: int, dest: int, cls: int, amount: float
) -> tuple[Passage, ...]:
    """Follow the time-to-go successors from ``origin`` to ``dest`` (the route the simulation
    takes when nothing queues: docs/simulation.md, "Routing"): every server met, with the
    offsets (days from leaving ``origin``) at which the load reaches and leaves it."""
    h = net.time_to_go(dest, cls, amount)
    spec = net.load_classes[cls]
    if not math.isfinite(h[origin][0]) or spec.own_power:
        return ()  # under its own power a ship meets no server on the way
    kind = spec.kind
    people = kind == PEOPLE
    # A road march is one road link (docs/simulation.md, "Movement profiles").
    one_road = spec.road_km is not None and net.road_class >= 0
    v, slot, t = origin, 0, 0.0
    out: list[Passage] = []
    for _ in range(len(net.node_ids) * (len(net.classes) + 1)):
        if v == dest:
            break
        k_in = None if slot == 0 else slot - 1
        best: tuple[float, int, list[tuple[int, float, float, float]], float] | None = None
        for ai in net.out_arcs[v]:
            arc = net.arcs[ai]
            after = h[arc.dst][arc.cls + 1]
            if not arc.usable[cls] or not math.isfinite(after):
                continue
            if one_road and k_in == net.road_class and arc.cls == net.road_class:
                continue
            change = not people and net.class_change(k_in, arc.cls)
            # Stages of a hop (docs/simulation.md, "A hop"): server and work, or a delay.
            stages: list[tuple[int | None, float]] = [
                (net.node_pax_server[v] if people else net.node_t_server[v], amount),
                (net.node_transship_server[v] if change else None, amount),
                (-1, net.node_delay[v] + (net.transfer_days(v, k_in, arc.cls) if change else 0.0)),
                (arc.pax_server if people else arc.t_server, amount),
                (arc.pool_server, pool_work(arc, amount, kind)),
                (-1, arc.hours / 24.0),
            ]
            clock = 0.0
            met: list[tuple[int, float, float, float]] = []
            for srv, work in stages:
                if srv is None:
                    continue
                if srv < 0:
                    clock += work
                    continue
                busy = max(0.0, work / net.servers[srv].rate - 1.0)
                met.append((srv, clock, clock + busy, work))
                clock += busy
            cost = clock + after
            if best is None or cost < best[0] - 1e-12:
                best = (cost, ai, met, clock)
        if best is None:  # pragma: no cover - a finite time to go always has a successor
            break
        _, ai, met, clock = best
        out.extend((kind, srv, t + a, t + b, w) for srv, a, b, w in met)
        t += clock
        v, slot = net.arcs[ai].dst, net.arcs[ai].cls + 1
    return tuple(out)
