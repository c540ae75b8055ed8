"""Build the optimisation model of a scenario: the options table, then the linopy model.

Every unit has a set of **options**: a region it can reach, with its own equipment or with one
set from a stock of its ``set_type``. For each option the uncongested arrival of its two loads at
the region's reception is precomputed from the compiled network (``time_to_go``, the same
estimate the simulation's planner uses), so the model itself only decides which option each
unit takes and how the region's RSOM capacity, and the capacity of the lift pools, links and
nodes on the options' fixed routes that could bind, are shared day by day. The maths, and what
is left out, are in docs/optimization.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from forcemodel.flow.plan import step_value
from forcemodel.mip.errors import InfeasibleError
from forcemodel.mip.terms import Terms
from forcemodel.network.compile import (
    CLASS_PEOPLE,
    EQUIPMENT,
    PEOPLE,
    CompiledNetwork,
    load_class_of,
    pool_work,
)
from forcemodel.optimize.prepositioning import NewSets, add_new_set_rows
from forcemodel.scenario.model import CAPABILITIES, Region, Scenario, Unit

#: The two loads of a unit, in the order of the ``load`` dimension.
LOADS: tuple[str, str] = ("equipment", "people")

#: Default weight of the cost term (unit-days to closure over units times horizon).
DEFAULT_COST_WEIGHT = 1e-3

#: A shortfall after a region's closure target weighs this much more (1 + it times).
DEFAULT_LATE_WEIGHT = 10.0

#: Days after its uncongested closure within which a unit may start to count (RSOM queue).
DEFAULT_WINDOW = 30

#: Links, nodes and transshipment servers (besides every lift pool that could bind) kept in
#: the model: those that could be overloaded by the most days of their capacity.
DEFAULT_MAX_SERVERS = 24

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


@dataclass(frozen=True)
class Weights:
    """How shortfall and cost are weighed in the objective.

    ``w(d)`` multiplies a day's shortfall: by default ``1 + early_weight * (H - d) / H`` (a gap on
    day 0 costs ``1 + early_weight`` times one on the horizon day ``H``); ``day_weights`` gives
    the whole sequence instead (``H + 1`` values, one per day ``0..H``, non-negative). Each
    region's gaps are multiplied by its ``priority`` as well. The cost term (docs/optimization.md)
    is below 2 and is multiplied by ``cost_weight``. A shortfall on or after a region's
    ``closure_by`` day (region id -> day: a soft closure target, e.g. the day the plan as
    given closes it in the simulation) weighs ``1 + late_weight`` times as much.
    """

    early_weight: float = 1.0
    day_weights: tuple[float, ...] | None = None
    cost_weight: float = DEFAULT_COST_WEIGHT
    late_weight: float = DEFAULT_LATE_WEIGHT
    closure_by: Mapping[str, float] | None = None

    @classmethod
    def of(cls, scenario: Scenario, **overrides: float | None) -> Weights:
        """The scenario's weights (``meta.objective``; the defaults without one), with
        ``overrides`` that are not None in their place (e.g. from the command line)."""
        obj = scenario.meta.objective
        values: dict[str, Any] = {}
        if obj is not None:
            values = {
                "early_weight": obj.early_weight,
                "day_weights": obj.day_weights,
                "late_weight": obj.late_weight,
                "cost_weight": obj.cost_weight,
            }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def by_day(self, horizon: int) -> np.ndarray:
        """The weight of each day ``0..horizon``."""
        if self.day_weights is not None:
            w = np.asarray(self.day_weights, dtype=float)
            if w.shape != (horizon + 1,):
                raise ValueError(
                    f"day_weights needs {horizon + 1} values (days 0..{horizon}), got {w.size}"
                )
            if (w < 0).any() or not np.isfinite(w).all():
                raise ValueError("day_weights must be finite and 0 or more")
            return w
        if not (math.isfinite(self.late_weight) and self.late_weight >= 0):
            raise ValueError(f"late_weight must be 0 or more, got {self.late_weight}")
        if not (math.isfinite(self.early_weight) and self.early_weight >= 0):
            raise ValueError(f"early_weight must be 0 or more, got {self.early_weight}")
        days = np.arange(horizon + 1, dtype=float)
        return 1.0 + self.early_weight * (horizon - days) / horizon


@dataclass
class BuiltModel:
    """A linopy model with the tables needed to read its solution."""

    model: linopy.Model
    options: pd.DataFrame
    days: np.ndarray
    day_weight: np.ndarray
    required: xr.DataArray  # (region, capability, day): requirement above forces in place
    region_weight: xr.DataArray  # (region,): priority
    shortfall_weight: xr.DataArray  # (region, day): weight of a brigade-day short
    cost_weight: float
    window: int = DEFAULT_WINDOW
    first_day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    lag: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    #: One row per own-speed constraint: option, step, region and load (indices), the RSOM
    #: days ``first..last`` whose capacity bounds it, and the load's amount.
    own_speed: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Per option: the days of the region's RSOM capacity it needs (0 if unlimited), to
    #: spread what it counts over the days it passed.
    pace: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: (region, load): tons or people a day that one unit of the RSOM rows stands for.
    rsom_unit: xr.DataArray = field(default_factory=lambda: xr.DataArray(np.ones((0, 2))))
    #: Shared servers in the model (links, nodes, transshipment, lift pools; RSOM apart):
    #: index into ``CompiledNetwork.servers``, label and undisrupted rate (one row unit).
    shared: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The candidate new sets (pre-positioning within a budget), if the model may buy any.
    new_sets: NewSets | None = None

    def counted(self) -> np.ndarray:
        """Share of each option's power counted on each day (option, day), from the solution."""
        dx = self.model.variables["count_from"].solution.to_numpy()
        return counted_share(np.nan_to_num(dx), self.first_day, len(self.days))

    def through(self) -> np.ndarray:
        """Share of each option's loads through RSOM by the end of each day (option, day -1..H).

        What counts on day ``d + k`` was through by the end of day ``d`` (``k`` the region's
        RSOM lag); the model does not track the loads apart, so both share this curve.
        """
        counted = self.counted()
        n_days = len(self.days)
        out = np.zeros((counted.shape[0], n_days + 1))
        for oi in range(counted.shape[0]):
            k = int(self.lag[oi])
            out[oi, 1 : n_days + 1 - k] = counted[oi, k:]
            out[oi, n_days + 1 - k :] = counted[oi, -1]
        # What counts on the first possible day ``t0`` went through on the days just before
        # ``t0 - k``, at the region's full capacity (its pace, in days): as late as it could.
        last = self.first_day - self.lag  # day -1..H; index + 1
        d = np.arange(-1, n_days)[None, :]
        c0 = out[np.arange(out.shape[0]), np.clip(last + 1, 0, n_days)][:, None]
        pace = np.maximum(self.pace[:, None], 1e-12)
        early = np.clip(c0 - (last[:, None] - d) / pace, 0.0, None)
        return np.where(d <= last[:, None], np.minimum(early, c0), out)


def counted_share(dx: np.ndarray, first_day: np.ndarray, n_days: int) -> np.ndarray:
    """Cumulative share counted per option and day from the per-step increments ``dx``."""
    n_opt, n_step = dx.shape
    out = np.zeros((n_opt, n_days + n_step))
    rows = np.repeat(np.arange(n_opt), n_step)
    cols = (first_day[:, None] + np.arange(n_step)[None, :]).ravel()
    ok = cols < n_days
    np.add.at(out, (rows[ok], cols[ok]), dx.ravel()[ok])
    share: np.ndarray = np.clip(np.cumsum(out[:, :n_days], axis=1), 0.0, 1.0)
    return share


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
    receptions = [net.node_index[r.reception] for r in regions]
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
        ready = u.notice_to_move_days
        # Arrivals first (cheap: time-to-go tables), routes only for the options kept.
        # (stock, eq arrival, pax arrival, depot or -1, day the set is drawn)
        reach: dict[int, list[_Reach]] = {}
        for r in allowed_regions:
            dest = receptions[r]
            found: list[_Reach] = []
            if allowed_stocks is None or -1 in allowed_stocks:
                t_eq, t_pax = _legs(net, u, home, dest)
                found.append((-1, ready + u.load_out_days + t_eq, ready + t_pax, -1, ready))
            for si, s in enumerate(scenario.stocks):
                if allowed_stocks is not None and si not in allowed_stocks:
                    continue
                if s.kind != "equipment_set" or s.sets <= 0 or s.set_type != u.set_type:
                    continue
                depot = net.node_index[s.depot]
                to_depot = _people_time(net, u, home, depot)
                drawn = ready + to_depot + s.draw_days
                t_eq, t_pax = _legs(net, u, depot, dest)
                if not (math.isfinite(to_depot) and math.isfinite(t_eq) and math.isfinite(t_pax)):
                    continue
                found.append((si, drawn + t_eq, drawn + t_pax, depot, drawn))
            found = [c for c in found if math.isfinite(c[1]) and math.isfinite(c[2])]
            if found:
                reach[r] = found
        must = None
        if keep is not None and u.id in keep:
            rid, sid = keep[u.id]
            must = (region_index[rid], stock_index[sid] if sid is not None else -1)
        reached.append((u, reach, must, fixed is not None and u.id in fixed))
    n_offered = sum(len(found) for _, reach, _, _ in reached for found in reach.values())
    prune = prune_above is None or n_offered > prune_above
    if prune:
        reached = [
            (u, reach if pinned else _fewer_stocks(reach, regions, max_stocks, must), must, pinned)
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
            dest = receptions[r]
            rsom = region.rsom.days * region.rsom.assigned_factor
            for si, a_eq, a_pax, depot, drawn in found:
                if si < 0:
                    route = _route(net, u, home, dest, ready, (True, True), routes)
                else:
                    route = _route(net, u, home, depot, ready, (False, True), routes) + _route(
                        net, u, depot, dest, drawn, (True, True), routes
                    )
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
        "route",
    ]
    return pd.DataFrame(rows, columns=columns)


#: A candidate option before its route: stock (-1: own equipment), equipment and people
#: arrival, depot (-1: none) and the day the set is drawn.
_Reach = tuple[int, float, float, int, float]


def _closure(regions: Sequence[Region], r: int, c: _Reach) -> float:
    """Uncongested closure of a candidate: its later arrival plus the region's RSOM days."""
    rsom = regions[r].rsom
    return max(c[1], c[2]) + float(rsom.days * rsom.assigned_factor)


def _fewer_stocks(
    reach: dict[int, list[_Reach]],
    regions: Sequence[Region],
    max_stocks: int | None,
    must: tuple[int, int] | None,
) -> dict[int, list[_Reach]]:
    """In each region, own equipment and the ``max_stocks`` stocks that close the unit there
    first (and ``must``'s stock, (region, stock)); order kept."""
    if max_stocks is None:
        return reach
    out = dict(reach)
    for r, found in out.items():
        stocks = [c for c in found if c[0] >= 0]
        if len(stocks) > max_stocks:
            first = sorted(stocks, key=lambda c: (_closure(regions, r, c), c[0]))[:max_stocks]
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
        {r: min(_closure(regions, r, c) for c in found) for r, found in reach.items()}
        for _, reach, _, _ in reached
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


def _people_time(net: CompiledNetwork, u: Unit, origin: int, dest: int) -> float:
    if u.personnel <= 0:
        return 0.0
    return net.time_to_go(dest, CLASS_PEOPLE, float(u.personnel))[origin][0]


def _legs(net: CompiledNetwork, u: Unit, origin: int, dest: int) -> tuple[float, float]:
    """Uncongested days of the equipment and of the people from ``origin`` to ``dest``."""
    if u.equipment_t > 0:
        cls = load_class_of(EQUIPMENT, u.outsize)
        t_eq = net.time_to_go(dest, cls, u.equipment_t)[origin][0]
    else:
        t_eq = 0.0
    return t_eq, _people_time(net, u, origin, dest)


def _route(
    net: CompiledNetwork,
    u: Unit,
    origin: int,
    dest: int,
    start: float,
    which: tuple[bool, bool],
    cache: dict[tuple[int, int, int, float], tuple[Passage, ...]],
) -> tuple[Passage, ...]:
    """The servers on the uncongested routes of a unit's loads (``which``: equipment, people)
    from ``origin`` (leaving at ``start``) to ``dest``, with their times and work."""
    out: list[Passage] = []
    for li, (go, amount) in enumerate(zip(which, (u.equipment_t, float(u.personnel)), strict=True)):
        if not go or amount <= 0:
            continue
        cls = load_class_of(EQUIPMENT, u.outsize) if li == 0 else CLASS_PEOPLE
        key = (origin, dest, cls, amount)
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = _follow(net, origin, dest, cls, amount)
        out.extend((li, srv, start + a, start + b, w) for _, srv, a, b, w in hit)
    return tuple(out)


def _follow(
    net: CompiledNetwork, origin: int, dest: int, cls: int, amount: float
) -> tuple[Passage, ...]:
    """Follow the time-to-go successors from ``origin`` to ``dest`` (the route the simulation
    takes when nothing queues: docs/simulation.md, "Routing"): every server met, with the
    offsets (days from leaving ``origin``) at which the load reaches and leaves it."""
    h = net.time_to_go(dest, cls, amount)
    if not math.isfinite(h[origin][0]):
        return ()
    kind = PEOPLE if cls == CLASS_PEOPLE else EQUIPMENT
    people = cls == CLASS_PEOPLE
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


def build_model(
    scenario: Scenario,
    net: CompiledNetwork,
    options: pd.DataFrame,
    weights: Weights,
    *,
    relax: bool = False,
    fix_choices: np.ndarray | None = None,
    window: int = DEFAULT_WINDOW,
    shared: bool = True,
    max_servers: int | None = None,
    servers: np.ndarray | None = None,
    new_sets: NewSets | None = None,
    queues: bool = True,
) -> BuiltModel:
    """The linopy model over the options table (docs/optimization.md, "The model").

    Call under linopy's v1 semantics (:func:`forcemodel.optimize.optimize` does). With ``relax``
    the option choices are continuous in [0, 1] (the LP relaxation); otherwise binary (a MIP).
    ``fix_choices`` (one value per option) fixes the choices at those values and makes them
    continuous: the LP that remains once a MIP's integers are fixed, whose duals
    :mod:`forcemodel.optimize.explain` reads. ``window``: the days after its uncongested
    closure within which an option's power may be counted (later: not within the model).
    ``shared``: add the capacities of the links, nodes, transshipment and lift pools on the
    options' routes that could bind (docs/optimization.md, "Shared capacities on the way"):
    every lift pool and the ``max_servers`` others (default :data:`DEFAULT_MAX_SERVERS`) that
    could be overloaded by the most days, or exactly ``servers`` (indices into
    ``net.servers``; a sub-model built for some of the options passes its parent's, so that
    both have the same columns). ``new_sets``: the candidate stocks of ``scenario`` (built by
    :func:`forcemodel.optimize.prepositioning.candidate_sets`) whose sets are bought within
    the budget (docs/optimization.md, "Pre-positioning within a budget"). ``queues=False``
    treats every RSOM capacity as unlimited (no RSOM rows, no own-pace rows): with
    ``window=0``, ``shared=False`` and ``relax`` that is the cheap lower bound of
    :mod:`forcemodel.optimize.bound`.
    """
    closure_by = weights.closure_by
    if window < 0:
        raise ValueError(f"window must be 0 or more days, got {window}")
    horizon = scenario.meta.horizon_days
    n_days = horizon + 1
    days = np.arange(n_days)
    day_weight = weights.by_day(horizon)
    n_opt = len(options)
    opt = pd.RangeIndex(n_opt, name="option")
    step = pd.RangeIndex(window + 1, name="step")
    load = pd.Index(list(LOADS), name="load")
    day = pd.Index(days, name="day")
    region_ids = [r.id for r in scenario.regions]
    region = pd.Index(region_ids, name="region")
    cap_idx = pd.Index(list(CAPABILITIES), name="capability")
    n_reg, n_cap = len(region_ids), len(CAPABILITIES)

    r_of = options["region"].to_numpy(int)
    arrive = np.stack(
        [options["arrive_equipment"].to_numpy(float), options["arrive_people"].to_numpy(float)],
        axis=1,
    )
    amount = np.stack([options["tons"].to_numpy(float), options["people"].to_numpy(float)], axis=1)
    # Lag from RSOM done to counted: a load through by the end of day e counts from e + k.
    k_region = np.array(
        [math.ceil(r.rsom.days * r.rsom.assigned_factor - 1e-9) for r in scenario.regions]
    )
    lag = k_region[r_of] if n_opt else np.zeros(0, dtype=int)
    # First day an option can count: its uncongested closure, rounded up.
    closure = options["closure"].to_numpy(float)
    first = np.ceil(closure - 1e-9).astype(int)
    count_day = first[:, None] + step.to_numpy()[None, :]  # (option, step)
    valid = count_day <= horizon
    release = np.floor(arrive).astype(int)  # (option, load): day a load reaches RSOM

    # RSOM capacity per region, load and calendar day (inf: unlimited, no server).
    cap = np.full((n_reg, 2, n_days), np.inf)
    # The RSOM rows are written in days of the region's undisrupted capacity (a 25,000 t
    # brigade at 5,000 t a day is 5), not tons: coefficients near 1 keep the LP well scaled.
    rsom_unit = np.ones((n_reg, 2))
    for ri, r in enumerate(scenario.regions):
        for li, srv in enumerate((net.rsom_t_server[r.id], net.rsom_pax_server[r.id])):
            if srv is not None:
                cap[ri, li, :] = [net.servers[srv].day_capacity(int(d)) for d in days]
                rsom_unit[ri, li] = net.servers[srv].rate
    finite = np.isfinite(cap) & queues  # (region, load, day); constant over days
    # Own speed: a load cannot pass faster than its region's whole RSOM capacity from the day
    # it arrives; the share counted on day t is at most the share that could be through k days
    # earlier. This keeps the pooled capacity below from passing a unit before it arrives.
    beta_l = np.ones((2, n_opt, window + 1))
    cum = np.concatenate([np.zeros((n_reg, 2, 1)), np.cumsum(np.where(finite, cap, 0), 2)], 2)
    until = np.clip(count_day - lag[:, None], -1, horizon)  # last RSOM day that counts
    for li in range(2):
        has = (amount[:, li] > 0) & finite[r_of, li, 0]
        rel = np.clip(release[:, li], 0, n_days)[:, None]
        lo = np.minimum(rel, until + 1)
        avail = cum[r_of[:, None], li, until + 1] - cum[r_of[:, None], li, lo]
        share = avail / np.maximum(amount[:, li, None], 1e-12)
        beta_l[li] = np.where(has[:, None], np.clip(share, 0.0, 1.0), 1.0)
    beta = beta_l.min(axis=0)
    # Which load sets each own-speed bound, and the RSOM days whose capacity it sums: the
    # shadow price of a day's capacity includes these rows' (explain.py).
    own_load = beta_l.argmin(axis=0)
    own_from = np.take_along_axis(release.T[:, :, None].repeat(window + 1, 2), own_load[None], 0)[0]
    # Arrays over (option, step) are most of the build's memory: each is freed once used.
    del beta_l, lo, avail, share

    m = linopy.Model()
    if fix_choices is not None:
        fix = xr.DataArray(np.asarray(fix_choices, dtype=float), coords=[opt])
        z = m.add_variables(lower=fix, upper=fix, name="choose")
    elif relax:
        z = m.add_variables(lower=0.0, upper=1.0, coords=[opt], name="choose")
    else:
        z = m.add_variables(coords=[opt], binary=True, name="choose")
    dx = m.add_variables(
        lower=0.0,
        upper=1.0,
        coords=[opt, step],
        mask=xr.DataArray(valid, coords=[opt, step]),
        name="count_from",
    )
    v = m.add_variables(lower=0.0, upper=1.0, coords=[opt], name="served")
    rsom_mask = xr.DataArray(finite, coords=[region, load, day])
    arrived = m.add_variables(
        lower=0.0, coords=[region, load, day], mask=rsom_mask, name="rsom_arrived"
    )
    through = m.add_variables(
        lower=0.0, coords=[region, load, day], mask=rsom_mask, name="rsom_through"
    )
    done = m.add_variables(lower=0.0, coords=[region, load, day], mask=rsom_mask, name="rsom_done")
    power = m.add_variables(lower=0.0, coords=[region, cap_idx, day], name="power")
    s = m.add_variables(lower=0.0, coords=[region, cap_idx, day], name="shortfall")

    z_lab = z.labels.to_numpy()
    dx_lab = dx.labels.to_numpy()  # -1 where not valid
    v_lab = v.labels.to_numpy()
    opt_rows = np.repeat(np.arange(n_opt), window + 1)

    unit_of = xr.DataArray(options["unit_id"].to_numpy(), coords=[opt], name="unit")
    # Each unit takes exactly one option.
    m.add_constraints(z.groupby(unit_of).sum() == 1, name="one_option")

    # A stock gives at most its sets.
    drawing = options["stock"].to_numpy() >= 0
    if drawing.any():
        sel = opt[drawing]
        stock_of = xr.DataArray(
            options.loc[drawing, "stock_id"].to_numpy(), coords=[sel], name="stock"
        )
        used = z.sel(option=sel).groupby(stock_of).sum()
        stock_ids = [str(x) for x in used.coords["stock"].values]
        by_id = {st.id: st.sets for st in scenario.stocks}
        sets = xr.DataArray([float(by_id[i]) for i in stock_ids], coords=[("stock", stock_ids)])
        m.add_constraints(used <= sets, name="sets")

    # served[o] = the share of the option counted within its window, and only if chosen.
    t = Terms([opt])
    t.add(np.arange(n_opt), v_lab, 1.0)
    t.add(opt_rows, dx_lab, -1.0)
    t.constrain(m, "==", 0.0, "served_share")
    del opt_rows
    m.add_constraints(v - z <= 0, name="served_chosen")

    # Own speed (rows only where it cuts): share counted by day t <= beta(t) * z.
    rows_o, rows_s = np.nonzero(valid & (beta < 1.0 - 1e-12))
    if rows_o.size:
        t = Terms([opt, step])
        flat = rows_o * (window + 1) + rows_s
        for back in range(window + 1):
            ok = rows_s - back >= 0
            t.add(flat[ok], dx_lab[rows_o[ok], rows_s[ok] - back], 1.0)
        t.add(flat, z_lab[rows_o], -beta[rows_o, rows_s])
        mask = np.zeros((n_opt, window + 1), dtype=bool)
        mask[rows_o, rows_s] = True
        t.constrain(m, "<=", 0.0, "own_speed", mask=mask)
        own_speed = pd.DataFrame(
            {
                "option": rows_o,
                "step": rows_s,
                "region": r_of[rows_o],
                "load": own_load[rows_o, rows_s],
                "first": own_from[rows_o, rows_s],
                "last": until[rows_o, rows_s],
                "amount": amount[rows_o, own_load[rows_o, rows_s]],
            }
        )
    else:
        own_speed = pd.DataFrame(
            columns=["option", "step", "region", "load", "first", "last", "amount"]
        )
    del beta, until, own_load, own_from

    # RSOM, pooled per region and load: cumulative arrivals (of the work that is counted),
    # cumulative throughput under the daily capacity, cumulative work counted (k days later).
    rld = n_reg * 2 * n_days

    def _rld(r: np.ndarray, li: int | np.ndarray, d: np.ndarray) -> np.ndarray:
        flat: np.ndarray = (r * 2 + li) * n_days + d
        return flat

    a_lab, y_lab, w_lab = (x.labels.to_numpy() for x in (arrived, through, done))
    rr, ll, ee = np.meshgrid(np.arange(n_reg), np.arange(2), days, indexing="ij")
    flat = _rld(rr, ll, ee).ravel()
    prev_ok = (ee > 0).ravel()
    prev = flat - 1

    t = Terms([region, load, day])  # arrivals
    t.add(flat, a_lab.ravel(), 1.0)
    t.add(flat[prev_ok], a_lab.ravel()[prev[prev_ok] % rld], -1.0)
    for li in range(2):
        inside = release[:, li] <= horizon
        size = amount[inside, li] / rsom_unit[r_of[inside], li]
        t.add(_rld(r_of[inside], li, release[inside, li]), v_lab[inside], -size)
    t.constrain(m, "==", 0.0, "rsom_arrivals", mask=finite)

    t = Terms([region, load, day])  # through <= arrived
    t.add(flat, y_lab.ravel(), 1.0)
    t.add(flat, a_lab.ravel(), -1.0)
    t.constrain(m, "<=", 0.0, "rsom_released", mask=finite)

    t = Terms([region, load, day])  # capacity per day
    t.add(flat, y_lab.ravel(), 1.0)
    t.add(flat[prev_ok], y_lab.ravel()[prev[prev_ok]], -1.0)
    cap_da = xr.DataArray(
        np.where(finite, cap, 0.0) / rsom_unit[:, :, None], coords=[region, load, day]
    )
    t.constrain(m, "<=", cap_da, "rsom_capacity", mask=finite)

    t = Terms([region, load, day])  # work counted, by the last RSOM day it needs
    t.add(flat, w_lab.ravel(), 1.0)
    t.add(flat[prev_ok], w_lab.ravel()[prev[prev_ok]], -1.0)
    e_of = count_day - lag[:, None]
    for li in range(2):
        ok = valid & (e_of >= 0) & (amount[:, li, None] > 0)
        oo, ss = np.nonzero(ok)
        size = amount[oo, li] / rsom_unit[r_of[oo], li]
        t.add(_rld(r_of[oo], li, e_of[oo, ss]), dx_lab[oo, ss], -size)
    t.constrain(m, "==", 0.0, "rsom_counted", mask=finite)
    del e_of, ok, oo, ss

    t = Terms([region, load, day])  # counted work was through RSOM
    t.add(flat, w_lab.ravel(), 1.0)
    t.add(flat, y_lab.ravel(), -1.0)
    t.constrain(m, "<=", 0.0, "rsom_done_before", mask=finite)

    # Shared capacities on the way (links, nodes, transshipment, lift pools), in the RSOM
    # form per server and day: what arrives there (of the work that counts), what passes
    # under the day's capacity, and what must be through for each counting day.
    shared_table = (
        _shared_servers(
            net,
            options,
            n_days,
            DEFAULT_MAX_SERVERS if max_servers is None else max_servers,
            servers,
        )
        if shared
        else _no_shared()
    )
    if len(shared_table.passages):
        _add_shared_rows(
            m, shared_table, dx_lab, v_lab, count_day, valid, first, closure, n_days, horizon
        )

    # Counted power per region, capability and day: the cumulative sum of what starts counting.
    unit_power = np.array(
        [[getattr(u.power, c) for c in CAPABILITIES] for u in scenario.units]
    ).reshape(len(scenario.units), n_cap)
    opt_power = unit_power[options["unit"].to_numpy(int)] if n_opt else np.zeros((0, n_cap))
    p_lab = power.labels.to_numpy()
    rcd = np.meshgrid(np.arange(n_reg), np.arange(n_cap), days, indexing="ij")
    flat_p = ((rcd[0] * n_cap + rcd[1]) * n_days + rcd[2]).ravel()
    prev_p = (rcd[2] > 0).ravel()
    t = Terms([region, cap_idx, day])
    t.add(flat_p, p_lab.ravel(), 1.0)
    t.add(flat_p[prev_p], p_lab.ravel()[flat_p[prev_p] - 1], -1.0)
    oo, ss = np.nonzero(valid)
    for ci in range(n_cap):
        has = opt_power[oo, ci] > 0
        o2, s2 = oo[has], ss[has]
        rows = (r_of[o2] * n_cap + ci) * n_days + count_day[o2, s2]
        t.add(rows, dx_lab[o2, s2], -opt_power[o2, ci])
    t.constrain(m, "==", 0.0, "power_counted")

    # Shortfall against the requirement above the forces in place.
    need = np.zeros((n_reg, n_cap, n_days))
    for ri, r in enumerate(scenario.regions):
        for ci, c in enumerate(CAPABILITIES):
            in_place = r.in_place_power(c)
            curve = getattr(r.requirement, c)
            need[ri, ci] = [step_value(curve, float(d)) - in_place for d in days]
    need = np.maximum(need, 0.0)
    required = xr.DataArray(need, coords=[region, cap_idx, day])
    m.add_constraints(s + power >= required, name="gap")

    priority = xr.DataArray([r.priority for r in scenario.regions], coords=[region])
    # Cost: each chosen unit's uncongested closure (capped at H + 1) plus the days its power
    # waits beyond it to count, in unit-days over units times days (each part in [0, 1]).
    # It prefers the earliest options among equal shortfalls, and makes RSOM serve the units
    # it serves as early as capacity allows. A unit never counted costs no waiting: charging
    # it (to make RSOM serve everything) makes the LP highly degenerate and slow.
    n_units = max(1, len(scenario.units))
    scale = float(n_units * n_days)
    wait = np.clip(count_day - first[:, None], 0, None) / scale
    tau = np.minimum(closure, n_days) / scale
    cost = (z * xr.DataArray(tau, coords=[opt])).sum() + (
        dx * xr.DataArray(wait, coords=[opt, step])
    ).sum()
    late = np.zeros((n_reg, n_days))
    for ri, rid in enumerate(region_ids):
        if closure_by is not None and rid in closure_by:
            late[ri] = days >= closure_by[rid]
    w = (
        xr.DataArray(day_weight, coords=[day])
        * priority
        * xr.DataArray(1.0 + weights.late_weight * late, coords=[region, day])
    )
    objective = (s * w).sum() + weights.cost_weight * cost
    spend = (
        add_new_set_rows(m, z_lab, options, new_sets, relax=relax, fix_choices=fix_choices)
        if new_sets is not None
        else None
    )
    if spend is not None:  # money spent, as a share of buying everything: a tie-breaker too
        objective = objective + weights.cost_weight * spend
    m.add_objective(objective)
    return BuiltModel(
        model=m,
        options=options,
        days=days,
        day_weight=day_weight,
        required=required,
        region_weight=priority,
        shortfall_weight=w,
        cost_weight=weights.cost_weight,
        window=window,
        first_day=first,
        lag=lag,
        own_speed=own_speed,
        pace=(np.where(finite[r_of, :, 0], amount, 0.0) / rsom_unit[r_of]).max(axis=1)
        if n_opt
        else np.zeros(0),
        rsom_unit=xr.DataArray(rsom_unit, coords=[region, load]),
        shared=shared_table.servers,
        new_sets=new_sets,
    )


@dataclass
class _Shared:
    """Shared servers kept in the model, and every passage of an option's load through one."""

    servers: pd.DataFrame  # server (network index), label, kind, target, rate; one row each
    passages: pd.DataFrame  # option, row (index into servers), enter, exit, work (in days)
    capacity: np.ndarray  # (server row, day): C(d) in days of the undisrupted rate


def _no_shared() -> _Shared:
    return _Shared(
        pd.DataFrame(columns=["server", "label", "kind", "target", "rate"]),
        pd.DataFrame(columns=["option", "row", "enter", "exit", "work"]),
        np.zeros((0, 0)),
    )


def _shared_servers(
    net: CompiledNetwork,
    options: pd.DataFrame,
    n_days: int,
    max_servers: int,
    only: np.ndarray | None = None,
) -> _Shared:
    """The servers on the options' routes that could bind, and the passages through them.

    A server could bind if, on some run of days ``d1..d2``, the loads that may reach it then
    (every unit counted with its largest load among its options that reach it on a day of the
    run) need more than its capacity over those days; otherwise no load ever waits there and
    its row would never be tight.
    """
    route = options["route"].tolist() if "route" in options else []
    n = sum(len(r) for r in route)
    if (n == 0 and only is None) or (only is not None and len(only) == 0):
        return _no_shared()
    opt = np.repeat(np.arange(len(route)), [len(r) for r in route])
    flat = np.array([p for r in route for p in r], dtype=float).reshape(n, 5)
    srv = flat[:, 1].astype(np.int64)
    enter, leave, work = flat[:, 2], flat[:, 3], flat[:, 4]
    unit = options["unit"].to_numpy(int)[opt]
    rel = np.floor(enter).astype(np.int64)
    inside = (rel < n_days) & (work > 0)
    ids = np.unique(srv[inside]) if only is None else np.unique(np.asarray(only, dtype=np.int64))
    cap = np.array([[net.servers[s].day_capacity(d) for d in range(n_days)] for s in ids])
    row_of = np.full(max(len(net.servers), 1), -1, dtype=np.int64)
    row_of[ids] = np.arange(ids.size)
    # Largest work per (server, unit, load, day), summed per (server, day): an upper bound on
    # what can reach a server on any run of days.
    inside &= row_of[srv] >= 0
    df = pd.DataFrame(
        {
            "row": row_of[srv[inside]],
            "unit": unit[inside],
            "load": flat[inside, 0],
            "day": rel[inside],
            "work": work[inside],
        }
    )
    most = df.groupby(["row", "unit", "load", "day"])["work"].max().groupby(["row", "day"]).sum()
    load = np.zeros((ids.size, n_days))
    rr, dd = (most.index.get_level_values(i).to_numpy() for i in (0, 1))
    load[rr, dd] = most.to_numpy()
    cum_load = np.concatenate([np.zeros((ids.size, 1)), np.cumsum(load, 1)], 1)
    cum_cap = np.concatenate([np.zeros((ids.size, 1)), np.cumsum(cap, 1)], 1)
    # excess[s, d1, d2] = load(d1..d2) - capacity(d1..d2); binds only if positive somewhere.
    excess = np.zeros(ids.size)
    upper = np.triu_indices(n_days)
    for i in range(ids.size):
        diff = cum_load[i] - cum_cap[i]
        excess[i] = (diff[None, 1:] - diff[:-1, None])[upper].max() / net.servers[ids[i]].rate
    pool = np.array([net.servers[s].kind == "pool" for s in ids], dtype=bool)
    others = np.flatnonzero(~pool & (excess > 1e-9))
    top = others[np.argsort(-excess[others], kind="stable")][:max_servers]
    binds = (pool & (excess > 1e-9)) | np.isin(np.arange(ids.size), top)
    if only is not None:
        binds = np.isin(ids, only)
    keep = ids[binds]
    rate = np.array([net.servers[s].rate for s in keep])
    servers = pd.DataFrame(
        {
            "server": keep,
            "label": [net.servers[s].label for s in keep],
            "kind": [net.servers[s].kind for s in keep],
            "target": [net.servers[s].target for s in keep],
            "rate": rate,
        }
    )
    row_of[:] = -1
    row_of[keep] = np.arange(keep.size)
    on = inside & (row_of[srv] >= 0)
    row = row_of[srv[on]]
    passages = pd.DataFrame(
        {
            "option": opt[on],
            "row": row,
            "enter": enter[on],
            "exit": leave[on],
            "work": work[on] / rate[row],
        }
    )
    return _Shared(servers, passages, cap[binds] / rate[:, None] if keep.size else cap[:0])


def _add_shared_rows(
    m: linopy.Model,
    sh: _Shared,
    dx_lab: np.ndarray,
    v_lab: np.ndarray,
    count_day: np.ndarray,
    valid: np.ndarray,
    first: np.ndarray,
    closure: np.ndarray,
    n_days: int,
    horizon: int,
) -> None:
    """Per shared server and day: arrivals, throughput under the day's capacity, work due.

    A passage of option ``o``'s load reaches the server on day ``floor(enter)``; for ``o`` to
    count on day ``t0(o) + j`` it must be through by the end of day
    ``max(floor(exit + t0(o) - tau_o), floor(enter) + ceil(work) - 1) + j``: the uncongested
    schedule delayed by the days the option waits, and never less than the days its own work
    takes (so an unshared server never delays an option in the model).
    """
    n_srv = len(sh.servers)
    srv_ix = pd.Index(sh.servers["label"].to_numpy(), name="server")
    day = pd.Index(np.arange(n_days), name="day")
    arrived = m.add_variables(lower=0.0, coords=[srv_ix, day], name="shared_arrived")
    through = m.add_variables(lower=0.0, coords=[srv_ix, day], name="shared_through")
    done = m.add_variables(lower=0.0, coords=[srv_ix, day], name="shared_done")
    a_lab, y_lab, w_lab = (x.labels.to_numpy().ravel() for x in (arrived, through, done))
    ss, ee = np.meshgrid(np.arange(n_srv), np.arange(n_days), indexing="ij")
    flat = (ss * n_days + ee).ravel()
    prev_ok = (ee > 0).ravel()
    po = sh.passages["option"].to_numpy(int)
    prow = sh.passages["row"].to_numpy(int)
    enter = sh.passages["enter"].to_numpy(float)
    leave = sh.passages["exit"].to_numpy(float)
    work = sh.passages["work"].to_numpy(float)
    rel = np.floor(enter).astype(np.int64)

    t = Terms([srv_ix, day])
    t.add(flat, a_lab, 1.0)
    t.add(flat[prev_ok], a_lab[flat[prev_ok] - 1], -1.0)
    t.add(prow * n_days + rel, v_lab[po], -work)
    t.constrain(m, "==", 0.0, "shared_arrivals")

    t = Terms([srv_ix, day])
    t.add(flat, y_lab, 1.0)
    t.add(flat, a_lab, -1.0)
    t.constrain(m, "<=", 0.0, "shared_released")

    t = Terms([srv_ix, day])
    t.add(flat, y_lab, 1.0)
    t.add(flat[prev_ok], y_lab[flat[prev_ok] - 1], -1.0)
    cap = xr.DataArray(sh.capacity, coords=[srv_ix, day])
    t.constrain(m, "<=", cap, "shared_capacity")

    t = Terms([srv_ix, day])
    t.add(flat, w_lab, 1.0)
    t.add(flat[prev_ok], w_lab[flat[prev_ok] - 1], -1.0)
    base = np.maximum(
        np.floor(leave + first[po] - closure[po] + 1e-9),
        rel + np.ceil(work - 1e-9) - 1,
    ).astype(np.int64)
    steps = count_day.shape[1]
    due = base[:, None] + np.arange(steps)[None, :]  # (passage, step)
    ok = valid[po] & (due <= horizon)
    pp, jj = np.nonzero(ok)
    t.add(prow[pp] * n_days + np.clip(due[pp, jj], 0, horizon), dx_lab[po[pp], jj], -work[pp])
    t.constrain(m, "==", 0.0, "shared_counted")

    t = Terms([srv_ix, day])
    t.add(flat, w_lab, 1.0)
    t.add(flat, y_lab, -1.0)
    t.constrain(m, "<=", 0.0, "shared_done_before")
