"""Simulation-in-the-loop local search: move single units between regions and sets.

The MIP sees the flow through uncongested route estimates and pooled queues; the simulation
sees every queue. This search scores plans by **simulating them** (``forcemodel.simulate``,
about 0.2 s on eastern-flank) and improves a plan one unit at a time: a unit moves to another
region, or takes or gives up a pre-positioned set. Each round ranks every such move by an
estimate read from the current plan's simulation (what the unit would cut off the shortfall
where it goes, less what its absence adds where it was, each day weighed as in the model's
objective) and simulates the best-ranked ones in order until one lowers the simulated score;
that plan becomes the current one. It stops when no move is left to try, or when its limit
(simulations, or a deadline) is reached: with a count of simulations it is deterministic.

The score is the model's objective (docs/optimization.md, "The model") evaluated on the
simulation: each region, capability and day's shortfall times the day weight, the region's
priority and ``1 + late_weight`` from the region's closure target on. A plan that closes a
region after its target (``closure_by``) is never accepted, so the plan kept closes every
region no later than the plan it started from whenever that one did. In the estimates every
day from a region's target on weighs :data:`LATE_EMPHASIS` times more (a move that would make
a region late ranks last, one that repairs a late region first), and while the plan is late
chains of two moves are ranked too (:func:`_chains`: a unit to the late region, another in
its place), since a late region's last day is usually won only with a unit that another
region needs as well.

The plan is written as the scenario format writes it (:func:`planned_scenario_data`): each
unit's region, and whether it draws a set (the simulation then picks the stock).

Why one module of about 510 lines: the scorer, the moves' estimates and the local search share
the simulated plan's tables and nothing else; it builds no model.

Long because the move ranking, the repair of late regions and the scoring read one
simulation's tables together; apart they would re-derive them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forcemodel.network.compile import profile_reception
from forcemodel.optimize.model import Choice, Weights
from forcemodel.results import Results
from forcemodel.scenario.model import CAPABILITIES, Scenario

log = logging.getLogger(__name__)

#: Moves simulated per round at most before the round gives up (the best-ranked ones).
MOVES_PER_ROUND = 12

#: How much more a day from a region's closure target on weighs in the moves' estimates: the
#: plan is on time before it is better.
LATE_EMPHASIS = 100.0

#: Moves simulated together in a round's first batch, and the most a batch grows to.
BATCH = 4
MAX_BATCH = 8

#: A move is simulated only if its estimate is at least this (weighted brigade-days).
MIN_ESTIMATE = 1e-6


@dataclass(frozen=True)
class SimPlan:
    """A plan as the simulation reads it: each unit's region and whether it draws a set."""

    region: tuple[str, ...]
    uses_set: tuple[bool, ...]

    def moved(self, unit: int, region: str, uses_set: bool) -> SimPlan:
        """This plan with ``unit`` sent to ``region``, drawing a set or not."""
        r, s = list(self.region), list(self.uses_set)
        r[unit], s[unit] = region, uses_set
        return SimPlan(tuple(r), tuple(s))


@dataclass
class Scored:
    """A simulated plan: its score, each region's closure day and the simulation's tables."""

    plan: SimPlan
    score: float
    closure: dict[str, float]
    results: Results
    late: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def on_time(self) -> bool:
        """Whether the simulation closes every region by its target."""
        return not self.late


@dataclass(frozen=True)
class SearchReport:
    """What the search did: simulations run, moves accepted, the score before and after."""

    evaluations: int
    accepted: int
    start_score: float
    score: float
    stopped_by: str  # "evaluations", "deadline", "no improving move"


def sim_plan_of(scenario: Scenario, choices: Mapping[str, Choice]) -> SimPlan:
    """The simulation's view of ``choices`` (unit id -> (region id, stock id or None))."""
    return SimPlan(
        tuple(choices[u.id][0] for u in scenario.units),
        tuple(choices[u.id][1] is not None for u in scenario.units),
    )


def planned(scenario: Scenario, plan: SimPlan) -> Scenario:
    """``scenario`` with ``plan`` written in, as :func:`planned_scenario_data` writes it (every
    unit pre-assigned to its region; a unit that draws no set has no set type)."""
    units = tuple(
        u.model_copy(
            update={"assigned_to": r} | ({} if uses or u.set_type is None else {"set_type": None})
        )
        for u, r, uses in zip(scenario.units, plan.region, plan.uses_set, strict=True)
    )
    return scenario.model_copy(update={"units": units})


def closure_days(scenario: Scenario, short: pd.DataFrame) -> dict[str, float]:
    """Each region's closure day from a simulation's shortfall table: the first day from which
    every requirement is met to the horizon (``inf``: not within it; 0: met from the start)."""
    horizon = scenario.meta.horizon_days
    out: dict[str, float] = {}
    for rid, rows in short.groupby("region", sort=True):
        unmet = rows.loc[rows["shortfall"] > 1e-9, "day"].to_numpy()
        if unmet.size and unmet.max() >= horizon:
            out[str(rid)] = math.inf
            continue
        out[str(rid)] = float(unmet.max() + 1) if unmet.size else 0.0
    return out


class Scorer:
    """Simulates plans and scores them in the model's weights (the one scoring model)."""

    def __init__(
        self,
        scenario: Scenario,
        weights: Weights,
        simulate: Callable[[Scenario], Results],
    ) -> None:
        self.scenario = scenario
        self.weights = weights
        self.simulate = simulate
        self.targets = dict(weights.closure_by or {})
        horizon = scenario.meta.horizon_days
        self.day_weight = weights.by_day(horizon)
        self.priority = {r.id: r.priority for r in scenario.regions}
        self.evaluations = 0

    def weight(self, region: str, days: np.ndarray) -> np.ndarray:
        """The weight of a brigade-day short in ``region`` on each of ``days``."""
        w = self.day_weight[np.clip(days, 0, len(self.day_weight) - 1)] * self.priority[region]
        target = self.targets.get(region)
        if target is not None:
            w = w * (1.0 + self.weights.late_weight * (days >= target))
        return np.asarray(w, dtype=float)

    def score_table(self, short: pd.DataFrame) -> float:
        """The weighted shortfall of a simulation's shortfall table."""
        total = 0.0
        for rid, rows in short.groupby("region", sort=True):
            days = rows["day"].to_numpy(int)
            total += float((rows["shortfall"].to_numpy(float) * self.weight(str(rid), days)).sum())
        return total

    def __call__(self, plan: SimPlan) -> Scored:
        """``plan`` simulated and scored."""
        self.evaluations += 1
        results = self.simulate(planned(self.scenario, plan))
        short = results.tables["shortfall"]
        closed = closure_days(self.scenario, short)
        late = {
            rid: (closed.get(rid, math.inf), day)
            for rid, day in self.targets.items()
            if closed.get(rid, math.inf) > day + 1e-9
        }
        return Scored(plan, self.score_table(short), closed, results, late)


#: One unit's new (region id, draws a set).
Change = tuple[int, str, bool]


@dataclass(frozen=True)
class Move:
    """One unit to another region or set use, or two units swapping regions (``changes``),
    with its estimated gain (weighted brigade-days)."""

    changes: tuple[Change, ...]
    estimate: float

    def apply(self, plan: SimPlan) -> SimPlan:
        """``plan`` with this move made."""
        for unit, region, uses in self.changes:
            plan = plan.moved(unit, region, uses)
        return plan

    def regions(self, plan: SimPlan) -> set[str]:
        """The regions this move takes units from or sends them to."""
        return {plan.region[u] for u, _, _ in self.changes} | {r for _, r, _ in self.changes}


#: Swaps are looked for among this many units per region: those with the best estimated gain
#: from moving to the other region of the swap.
SWAP_UNITS = 12

#: Chains start from this many of the best moves into each region.
CHAIN_HEADS = 6


@dataclass
class _State:
    """What the estimates are read from: the current plan's simulated deficits."""

    deficit: np.ndarray  # (region, capability, day): requirement less power (< 0: spare)
    w: np.ndarray  # (region, day): weight of a brigade-day short
    power: np.ndarray  # (unit, capability)
    start_old: np.ndarray  # per unit: first day it counts now (simulated)
    delay: np.ndarray  # (region, received apart): median days units close after estimate
    apart: np.ndarray  # (unit, region): received at a port or air base, not the region's RSOM
    late: np.ndarray  # per region: whether it closes after its target
    rix: dict[str, int]
    n_days: int

    def change(self, r: int, add: list[tuple[np.ndarray, int]]) -> float:
        """The weighted shortfall ``r`` gains when each (power, from day) of ``add`` is added
        to its deficit (negative power: a unit that leaves)."""
        base = self.deficit[r]
        new = base.copy()
        for p, day in add:
            if day < self.n_days:
                new[:, day:] += p[:, None]
        before = np.maximum(base, 0.0)
        after = np.maximum(new, 0.0)
        return float(((after - before) * self.w[r][None, :]).sum())


def _state(
    scenario: Scenario, scorer: Scorer, current: Scored, arrival: Mapping[Change, float]
) -> _State:
    tables = current.results.tables
    short = tables["shortfall"]
    horizon = scenario.meta.horizon_days
    n_days = horizon + 1
    caps = list(CAPABILITIES)
    region_ids = [r.id for r in scenario.regions]
    rix = {rid: i for i, rid in enumerate(region_ids)}
    # No requirement on a day: a large spare, so that nothing there counts.
    deficit = np.full((len(region_ids), len(caps), n_days), -1e9)
    ri = short["region"].map(rix).to_numpy(int)
    ci = short["capability"].map({c: i for i, c in enumerate(caps)}).to_numpy(int)
    di = np.clip(short["day"].to_numpy(int), 0, horizon)
    deficit[ri, ci, di] = short["required"].to_numpy(float) - short["power"].to_numpy(float)
    days = np.arange(n_days)
    w = np.stack([scorer.weight(rid, days) for rid in region_ids])
    closed = tables["units"]["closure_day"].to_numpy(float)
    start_old = np.array([_day(t, n_days) for t in closed])
    for rid, target in scorer.targets.items():
        # Every day from a region's target on weighs far more: a move that brings power to a
        # late region then is tried first, and one that takes from a region on time the power
        # it needs on those days (it would close late) last (lateness before score).
        w[rix[rid], max(0, math.ceil(target)) :] *= LATE_EMPHASIS
    apart = received_apart(scenario)
    found = queue_delays(scenario, current, arrival)
    delay = np.array(
        [[found.get((rid, bool(k)), 0.0) for k in (False, True)] for rid in region_ids]
    ).reshape(len(region_ids), 2)
    power = np.array([[getattr(u.power, c) for c in caps] for u in scenario.units], dtype=float)
    is_late = np.array([rid in current.late for rid in region_ids], dtype=bool)
    return _State(deficit, w, power, start_old, delay, apart, is_late, rix, n_days)


def received_apart(scenario: Scenario) -> np.ndarray:
    """(unit, region): whether the region receives the unit at a port or air base of its
    movement profile, apart from the region's pooled RSOM (their queues differ)."""
    return np.array(
        [[profile_reception(r, u) is not None for r in scenario.regions] for u in scenario.units],
        dtype=bool,
    ).reshape(len(scenario.units), len(scenario.regions))


def queue_delays(
    scenario: Scenario, scored: Scored, arrival: Mapping[Change, float]
) -> dict[tuple[str, bool], float]:
    """The queues' delay, per region and reception (received apart at a port or air base, or
    through the region's RSOM): the median of how much later than their uncongested estimate
    the units ``scored`` sends there close in its simulation (never below 0). A reception no
    unit of the plan uses takes the region's median over all its units; a region with none,
    no entry (0)."""
    plan = scored.plan
    closed = scored.results.tables["units"]["closure_day"].to_numpy(float)
    apart = received_apart(scenario)
    rix = {r.id: i for i, r in enumerate(scenario.regions)}
    late: dict[tuple[str, bool], list[float]] = {}
    for ui, t in enumerate(closed):
        rid = plan.region[ui]
        est = arrival.get((ui, rid, plan.uses_set[ui]))
        if est is not None and math.isfinite(t) and math.isfinite(est):
            late.setdefault((rid, bool(apart[ui, rix[rid]])), []).append(t - est)
    out: dict[tuple[str, bool], float] = {}
    for rid in rix:
        both = late.get((rid, False), []) + late.get((rid, True), [])
        for kind in (False, True):
            seen = late.get((rid, kind)) or both
            if seen:
                out[(rid, kind)] = max(0.0, float(np.median(seen)))
    return out


def _moves(
    scenario: Scenario,
    scorer: Scorer,
    current: Scored,
    arrival: Mapping[Change, float],
) -> list[Move]:
    """Every move of one unit to another (region, set use) it has an option for, and swaps of
    two units between regions, ranked by the gain estimated from ``current``'s simulation
    (best first; ties by the units and regions)."""
    st = _state(scenario, scorer, current, arrival)
    plan = current.plan
    n_days = st.n_days
    moves: list[Move] = []
    # Per destination region: (gain there, unit) of the units that could go there.
    inbound: dict[int, list[tuple[float, int, bool, int]]] = {}
    heads: dict[int, list[tuple[float, int, bool, int]]] = {}  # the same, by the move's value
    for (ui, rid, uses), t_new in arrival.items():
        p = st.power[ui]
        if (rid, uses) == (plan.region[ui], plan.uses_set[ui]) or not p.any():
            continue
        a, b = st.rix[plan.region[ui]], st.rix[rid]
        # Into a late region, the uncongested estimate alone: the median queue delay there
        # would hide the unit that closes its last days (an optimistic repair is simulated
        # anyway, and kept only if the simulation confirms it).
        start_new = _day(t_new + (0.0 if st.late[b] else st.delay[b, int(st.apart[ui, b])]), n_days)
        if a == b:
            value = -st.change(b, [(-p, start_new), (p, int(st.start_old[ui]))])
        else:
            gain = -st.change(b, [(-p, start_new)])
            value = gain - st.change(a, [(p, int(st.start_old[ui]))])
            if uses == plan.uses_set[ui] and gain > MIN_ESTIMATE:
                inbound.setdefault(b, []).append((gain, ui, uses, start_new))
                heads.setdefault(b, []).append((value, ui, uses, start_new))
        moves.append(Move(((ui, rid, uses),), value))
    # Swaps: a unit of A that gains most in B with one of B that gains most in A.
    tops = {r: sorted(v, key=lambda x: (-x[0], x[1]))[:SWAP_UNITS] for r, v in inbound.items()}
    region_ids = [r.id for r in scenario.regions]
    for b, into_b in tops.items():
        for _, ua, uses_a, start_ab in into_b:
            a = st.rix[plan.region[ua]]
            if a > b:
                continue  # each pair of regions once
            for _, ub, uses_b, start_ba in tops.get(a, []):
                if st.rix[plan.region[ub]] != b:
                    continue
                pa, pb = st.power[ua], st.power[ub]
                value = -st.change(a, [(pa, int(st.start_old[ua])), (-pb, start_ba)]) - st.change(
                    b, [(pb, int(st.start_old[ub])), (-pa, start_ab)]
                )
                changes = ((ua, region_ids[b], uses_a), (ub, region_ids[a], uses_b))
                moves.append(Move(changes, value))
    firsts = {r: sorted(v, key=lambda x: (-x[0], x[1]))[:CHAIN_HEADS] for r, v in heads.items()}
    if current.late:  # chains repair lateness; on time their estimates mislead more than help
        moves.extend(_chains(st, plan, firsts, region_ids, arrival))
    moves.sort(key=lambda m: (-m.estimate, m.changes))
    return moves


def _chains(
    st: _State,
    plan: SimPlan,
    tops: Mapping[int, list[tuple[float, int, bool, int]]],
    region_ids: list[str],
    arrival: Mapping[Change, float],
) -> list[Move]:
    """Chains of two moves: a unit of A whose move to B is valued most (``tops``: the gain in
    B less the loss in A), and in its place in A a unit of a third region C that shares a
    capability with it. A region that needs a unit another region cannot spare (it would close
    late) is reached this way, where no single move or swap gains: the usual case of a late
    region's last days. The unit put in its place need not gain in A now (its gain appears only
    once the first has left), so each chain's estimate is computed with both moves made. Used
    only while the plan is late (``_moves``)."""
    into: dict[int, list[tuple[int, bool, float]]] = {}
    for (ui, rid, uses), t_new in arrival.items():
        if uses == plan.uses_set[ui] and rid != plan.region[ui]:
            into.setdefault(st.rix[rid], []).append((ui, uses, t_new))
    out: list[Move] = []
    for b, into_b in tops.items():
        for _, ua, uses_a, start_ab in into_b:
            a = st.rix[plan.region[ua]]
            pa = st.power[ua]
            old_a = int(st.start_old[ua])
            gain_b = -st.change(b, [(-pa, start_ab)])
            for uc, uses_c, t_new in into.get(a, []):
                c = st.rix[plan.region[uc]]
                pc = st.power[uc]
                if c == b or uc == ua or not (pc * pa).any():
                    continue
                start_ca = _day(
                    t_new + (0.0 if st.late[a] else st.delay[a, int(st.apart[uc, a])]), st.n_days
                )
                value = (
                    gain_b
                    - st.change(a, [(pa, old_a), (-pc, start_ca)])
                    - st.change(c, [(pc, int(st.start_old[uc]))])
                )
                changes = ((ua, region_ids[b], uses_a), (uc, region_ids[a], uses_c))
                out.append(Move(changes, value))
    return out


def _day(t: float, n_days: int) -> int:
    """The first whole day from ``t`` on, within ``0..n_days`` (NaN or inf: ``n_days``)."""
    if not math.isfinite(t):
        return n_days
    return int(min(max(math.ceil(t - 1e-9), 0), n_days))


def arrivals(scenario: Scenario, options: pd.DataFrame) -> dict[tuple[int, str, bool], float]:
    """Per (unit index, region id, draws a set): the earliest uncongested closure among the
    unit's options there (the options table's ``closure``), the estimate moves are ranked by."""
    df = pd.DataFrame(
        {
            "unit": options["unit"].to_numpy(int),
            "region": options["region_id"].astype(str).to_numpy(),
            "uses": options["stock"].to_numpy(int) >= 0,
            "closure": options["closure"].to_numpy(float),
        }
    )
    best = df.groupby(["unit", "region", "uses"], sort=True)["closure"].min()
    keys = zip(*(best.index.get_level_values(i) for i in range(3)), strict=True)
    return {
        (int(u), str(r), bool(s)): float(t)
        for (u, r, s), t in zip(keys, best.to_numpy(), strict=True)
    }


def lateness(scored: Scored) -> float:
    """Days by which the plan closes its regions after their targets, summed (inf: never)."""
    return float(sum(closed - target for closed, target in scored.late.values()))


def better(new: Scored, old: Scored) -> bool:
    """Whether ``new`` is the better plan: no later (in days past the targets), then a lower
    score."""
    a, b = lateness(new), lateness(old)
    if a != b:
        return a < b
    return new.score < old.score - 1e-9 * max(1.0, abs(old.score))


def improve(
    scenario: Scenario,
    scorer: Scorer,
    start: Scored,
    arrival: Mapping[Change, float],
    *,
    max_evaluations: int | None = None,
    deadline: float = math.inf,
) -> tuple[Scored, SearchReport]:
    """The local search from ``start`` (see the module's docstring) until no ranked move
    improves, ``max_evaluations`` simulations have run (this call's), or ``deadline``
    (``time.monotonic()``) has passed.

    Each round first tries a **batch**: the best-ranked moves of different units between
    disjoint pairs of regions (their estimates do not interact), simulated together; the batch
    grows after a success and shrinks after a failure (:data:`BATCH`). Then, or when the batch
    fails, the best-ranked moves one at a time, until one improves."""
    current = start
    first = scorer.evaluations
    accepted = 0
    tried: set[tuple[Change, ...]] = set()
    since_refresh = 0
    batch = BATCH
    stopped = "no improving move"

    def out_of_budget() -> str | None:
        if max_evaluations is not None and scorer.evaluations - first >= max_evaluations:
            return "evaluations"
        if time.monotonic() >= deadline:
            return "deadline"
        return None

    while True:
        moves = [
            m
            for m in _moves(scenario, scorer, current, arrival)
            if m.estimate > MIN_ESTIMATE and m.changes not in tried
        ][:MOVES_PER_ROUND]
        if not moves:
            if since_refresh == 0:
                break
            tried.clear()  # the plan changed since these failed: try them again once
            since_refresh = 0
            continue
        together = _independent(moves, current.plan, batch) if batch >= 2 else []
        found: Scored | None = None
        if len(together) >= 2:
            if (why := out_of_budget()) is not None:
                stopped = why
                break
            plan = current.plan
            for m in together:
                plan = m.apply(plan)
            cand = scorer(plan)
            if better(cand, current):
                found, taken = cand, together
                batch = min(2 * batch, MAX_BATCH)
            else:
                batch //= 2
        if found is None:
            for m in moves:
                if (why := out_of_budget()) is not None:
                    stopped = why
                    break
                cand = scorer(m.apply(current.plan))
                tried.add(m.changes)
                if better(cand, current):
                    found, taken = cand, [m]
                    batch = max(batch, 2)
                    break
        if found is None:
            if stopped != "no improving move":
                break
            continue
        for m in taken:
            for unit, region, uses in m.changes:
                log.info(
                    "Simulated search: %s to %s%s",
                    scenario.units[unit].id,
                    region,
                    " with a set" if uses else " with its own equipment",
                )
        log.info(
            "Simulated search: score %.6f (was %.6f), %d simulations so far",
            found.score,
            current.score,
            scorer.evaluations,
        )
        current = found
        accepted += sum(len(m.changes) for m in taken)
        since_refresh += 1
    report = SearchReport(scorer.evaluations - first, accepted, start.score, current.score, stopped)
    log.info(
        "Simulated search: %d simulation(s), %d move(s) accepted, score %.6f -> %.6f (%s)",
        report.evaluations,
        report.accepted,
        report.start_score,
        report.score,
        report.stopped_by,
    )
    return current, report


def _independent(moves: list[Move], plan: SimPlan, size: int) -> list[Move]:
    """Up to ``size`` of ``moves`` (in their order) of different units, whose regions (where
    each unit is, where it goes) are disjoint: their estimates do not interact."""
    used: set[str] = set()
    units: set[int] = set()
    out: list[Move] = []
    for m in moves:
        regions = m.regions(plan)
        mine = {u for u, _, _ in m.changes}
        if mine & units or regions & used:
            continue
        out.append(m)
        used |= regions
        units |= mine
        if len(out) >= size:
            break
    return out


def choices_of(scored: Scored, scenario: Scenario) -> dict[str, Choice]:
    """The simulated plan's choices: each unit's region and the stock it drew (the
    simulation's ``set_from``; ``None`` for its own equipment)."""
    table = scored.results.tables["units"]
    drew = dict(
        zip(table["unit"].astype(str), table["set_from"].fillna("").astype(str), strict=True)
    )
    return {
        u.id: (region, drew.get(u.id) or None)
        for u, region in zip(scenario.units, scored.plan.region, strict=True)
    }


def region_table(scored: Scored, targets: Mapping[str, float]) -> pd.DataFrame:
    """Per region: the simulated closure day (NaN: not within the horizon), its target (NaN:
    none) and the simulated shortfall in brigade-days."""
    short = scored.results.tables["shortfall"]
    bde = short.groupby("region", sort=True)["shortfall"].sum()
    rows = []
    for rid in sorted(set(scored.closure) | set(targets)):
        closed = scored.closure.get(rid, math.inf)
        rows.append(
            {
                "region": rid,
                "simulated_closure": closed if math.isfinite(closed) else math.nan,
                "target": float(targets[rid]) if rid in targets else math.nan,
                "shortfall_bde_days": float(bde.get(rid, 0.0)),
            }
        )
    return pd.DataFrame(
        rows, columns=["region", "simulated_closure", "target", "shortfall_bde_days"]
    )
