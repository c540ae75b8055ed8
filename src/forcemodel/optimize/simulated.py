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
region no later than the plan it started from whenever that one did.

The plan is written as the scenario format writes it (:func:`planned_scenario_data`): each
unit's region, and whether it draws a set (the simulation then picks the stock).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forcemodel.optimize.model import Choice, Weights
from forcemodel.results import Results
from forcemodel.scenario.model import CAPABILITIES, Scenario

log = logging.getLogger(__name__)

#: Moves simulated per round at most before the round gives up (the best-ranked ones).
MOVES_PER_ROUND = 12

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


@dataclass(frozen=True)
class Move:
    """One unit to another region or set use, with its estimated gain."""

    unit: int
    region: str
    uses_set: bool
    estimate: float


def _moves(
    scenario: Scenario,
    scorer: Scorer,
    current: Scored,
    arrival: Mapping[tuple[int, str, bool], float],
) -> list[Move]:
    """Every move of one unit to another (region, set use) it has an option for, ranked by
    the gain estimated from ``current``'s simulation (best first; ties by unit, region)."""
    tables = current.results.tables
    short = tables["shortfall"]
    horizon = scenario.meta.horizon_days
    n_days = horizon + 1
    caps = list(CAPABILITIES)
    region_ids = [r.id for r in scenario.regions]
    rix = {rid: i for i, rid in enumerate(region_ids)}
    # Shortfall and surplus per (region, capability, day); weight per (region, day).
    gap = np.zeros((len(region_ids), len(caps), n_days))
    spare = np.full((len(region_ids), len(caps), n_days), np.inf)
    ri = short["region"].map(rix).to_numpy(int)
    ci = short["capability"].map({c: i for i, c in enumerate(caps)}).to_numpy(int)
    di = np.clip(short["day"].to_numpy(int), 0, horizon)
    gap[ri, ci, di] = short["shortfall"].to_numpy(float)
    spare[ri, ci, di] = np.maximum(
        short["power"].to_numpy(float) - short["required"].to_numpy(float), 0.0
    )
    days = np.arange(n_days)
    w = np.stack([scorer.weight(rid, days) for rid in region_ids])  # (region, day)
    units = tables["units"]
    closed = units["closure_day"].to_numpy(float)
    power = np.array([[getattr(u.power, c) for c in caps] for u in scenario.units])
    moves: list[Move] = []
    for (ui, rid, uses), t_new in arrival.items():
        if (rid, uses) == (current.plan.region[ui], current.plan.uses_set[ui]):
            continue
        p = power[ui]
        if not p.any():
            continue
        a, b = rix[current.plan.region[ui]], rix[rid]
        start_new = _day(t_new, n_days)
        start_old = _day(closed[ui], n_days)
        has = p > 0
        if a == b:
            # Only the day it counts changes: gain (or loss) over the days between.
            lo, hi = sorted((start_new, start_old))
            if lo == hi:
                continue
            window = np.minimum(p[has, None], gap[b][has, lo:hi]) * w[b, lo:hi]
            if start_new < start_old:
                value = float(window.sum())
            else:
                lost = np.maximum(p[has, None] - spare[b][has, lo:hi], 0.0) * w[b, lo:hi]
                value = -float(lost.sum())
        else:
            gained = np.minimum(p[has, None], gap[b][has, start_new:]) * w[b, start_new:]
            lost = np.maximum(p[has, None] - spare[a][has, start_old:], 0.0) * w[a, start_old:]
            value = float(gained.sum()) - float(lost.sum())
        moves.append(Move(ui, rid, uses, value))
    moves.sort(key=lambda m: (-m.estimate, m.unit, m.region, m.uses_set))
    return moves


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


def _better(new: Scored, old: Scored) -> bool:
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
    arrival: Mapping[tuple[int, str, bool], float],
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
    tried: set[tuple[int, str, bool]] = set()
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
            if m.estimate > MIN_ESTIMATE and (m.unit, m.region, m.uses_set) not in tried
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
                plan = plan.moved(m.unit, m.region, m.uses_set)
            cand = scorer(plan)
            if _better(cand, current):
                found, taken = cand, together
                batch = min(2 * batch, MAX_BATCH)
            else:
                batch //= 2
        if found is None:
            for m in moves:
                if (why := out_of_budget()) is not None:
                    stopped = why
                    break
                cand = scorer(current.plan.moved(m.unit, m.region, m.uses_set))
                tried.add((m.unit, m.region, m.uses_set))
                if _better(cand, current):
                    found, taken = cand, [m]
                    batch = max(batch, 2)
                    break
        if found is None:
            if stopped != "no improving move":
                break
            continue
        for m in taken:
            log.info(
                "Simulated search: %s to %s%s",
                scenario.units[m.unit].id,
                m.region,
                " with a set" if m.uses_set else " with its own equipment",
            )
        log.info("Simulated search: score %.6f (was %.6f)", found.score, current.score)
        current = found
        accepted += len(taken)
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
        regions = {plan.region[m.unit], m.region}
        if m.unit in units or regions & used:
            continue
        out.append(m)
        used |= regions
        units.add(m.unit)
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
