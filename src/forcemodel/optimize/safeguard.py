"""The safeguard: plans are simulated, and the one kept closes no region after its target.

The model is optimistic about queues (docs/optimization.md, "How it is solved"): a plan that
is best in the model can close a region later than the plan as given. Every candidate plan is
simulated; one that closes a region late is blended with the day-0 planner's plan (the units
that cause the delay take the planner's choice), and the best plan in the model's objective
that closes every region on time is kept.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from forcemodel.optimize.candidate import Candidate, value_of
from forcemodel.optimize.model import BuiltModel, Choice
from forcemodel.optimize.plan import planned_scenario_data
from forcemodel.optimize.prepositioning import NewSets, bought
from forcemodel.optimize.simulated import closure_days
from forcemodel.optimize.stopping import Budget
from forcemodel.scenario.model import Scenario

log = logging.getLogger(__name__)


def bundled_closure_days(scenario: Scenario) -> dict[str, float]:
    """Each region's closure day when the scenario is simulated as given (its own plan).

    The closure day is the first day from which every capability's requirement is met to the
    horizon (as ``assess`` counts it, computed here from the simulation's shortfall table so
    that the engine does not reach down to the assessment layer). A region never closed
    within the horizon gets no target.
    """
    from forcemodel.flow import simulate

    closed = closure_days(scenario, simulate(scenario).tables["shortfall"])
    return {rid: day for rid, day in closed.items() if math.isfinite(day)}


def first_on_time(
    scenario: Scenario,
    options: pd.DataFrame,
    candidates: list[Candidate],
    targets: Mapping[str, float],
    z_plan: np.ndarray | None,
    score: Callable[[np.ndarray], BuiltModel | None],
    new_sets: NewSets | None,
    budget: Budget,
) -> Candidate:
    """The best plan, in the model's objective, whose simulation closes no region later than
    its target.

    Every candidate is simulated (about 0.3 s each on eastern-flank). One that closes a region
    late is blended with the day-0 planner's plan, when it is at hand (:func:`blend`); the
    blend is scored in the model (its choices fixed) and joins the candidates. If no plan
    closes every region on time, the best one is kept and the log says so. No simulation
    starts once the budget is spent: the candidates left are not simulated, and if none was
    found on time the day-0 planner's plan is kept where it is a candidate (else the best).
    """
    on_time: list[Candidate] = []
    for i, cand in enumerate(candidates):
        if budget.expired():
            log.info("Simulated: time is up; %d plan(s) not simulated", len(candidates) - i)
            if not on_time:
                planner = [c for c in candidates if c.planner]
                kept = planner[0] if planner else candidates[0]
                log.info("Kept: %s (%.6f), not checked", kept.stage, kept.value)
                return kept
            break
        late = late_regions(scenario, options, cand.z, targets, new_sets=new_sets)
        if not late:
            log.info("Simulated: %s closes every region on time", cand.stage)
            on_time.append(cand)
            continue
        log.info("Simulated: %s closes %s", cand.stage, late_words(late))
        if z_plan is None:
            continue
        z = blend(scenario, options, cand.z, z_plan, targets, new_sets=new_sets, budget=budget)
        if z is None or np.array_equal(z, z_plan):
            continue
        found = score(z)
        if found is not None:
            name = f"day-0 planner blended with {cand.stage}"
            log.info("Simulated: %s closes every region on time (%.6f)", name, value_of(found))
            on_time.append(Candidate(value_of(found), name, z, found))
    if not on_time:
        log.info("Simulated: no plan found closes every region on time; kept the best")
        return candidates[0]
    best = min(on_time, key=lambda c: c.value)
    log.info("Kept: %s (%.6f)", best.stage, best.value)
    return best


def blend(
    scenario: Scenario,
    options: pd.DataFrame,
    z: np.ndarray,
    z_plan: np.ndarray,
    targets: Mapping[str, float],
    rounds: int = 6,
    *,
    new_sets: NewSets | None = None,
    budget: Budget,
) -> np.ndarray | None:
    """``z`` repaired towards the planner's plan until the simulation closes every region on
    time: in each round, the units that close after their region's target in the simulation
    of a late region, and the units the planner sends to a late region, take the planner's
    choice (and so does every unit drawing from a stock that the mix would overdraw).
    ``None`` if the plan is still late after ``rounds``, or when the budget runs out first."""
    unit = options["unit"].to_numpy()
    unit_id = options["unit_id"].to_numpy()
    region = options["region_id"].to_numpy()
    stock = options["stock_id"].to_numpy()
    sets = {st.id: st.sets for st in scenario.stocks}
    cur = np.round(z)
    for _ in range(rounds):
        if budget.expired():
            log.info("Repair: time is up")
            return None
        late, closed = late_regions(scenario, options, cur, targets, units=True, new_sets=new_sets)
        if not late:
            return cur
        due = {rid: targets[rid] for rid in late}
        slow = [uid for uid, (rid, day) in closed.items() if rid in due and day > due[rid] - 1e-9]
        back = np.unique(
            np.concatenate(
                [
                    unit[np.isin(unit_id, slow)],
                    unit[(z_plan > 0.5) & np.isin(region, list(late)) & (cur < 0.5)],
                ]
            )
        )
        while True:
            mix = np.where(np.isin(unit, back), z_plan, cur)
            drawn = pd.Series(stock[(mix > 0.5) & (stock != "")]).value_counts()
            over = [str(sid) for sid, n in drawn.items() if n > sets[str(sid)]]
            extra = np.setdiff1d(np.unique(unit[(mix > 0.5) & np.isin(stock, over)]), back)
            if not extra.size:
                break
            back = np.union1d(back, extra)
        log.info("Repair: %s; %d unit(s) take the planner's choice", late_words(late), back.size)
        if np.array_equal(mix, cur):
            return None
        cur = mix
    if budget.expired():
        return None
    return None if late_regions(scenario, options, cur, targets, new_sets=new_sets) else cur


def late_regions(
    scenario: Scenario,
    options: pd.DataFrame,
    z: np.ndarray,
    targets: Mapping[str, float],
    *,
    units: bool = False,
    new_sets: NewSets | None = None,
) -> Any:
    """Regions whose closure, with the plan ``z`` simulated, comes after their target (region
    -> (closure day, target)); with ``units``, also each unit's (region, closure day).

    With ``new_sets``, the plan is simulated with the sets it draws from candidate stocks
    bought (and no others), as it is written back."""
    from forcemodel.flow import simulate
    from forcemodel.scenario import load_scenario_data

    picked = options[np.asarray(z) > 0.5]
    choices: dict[str, Choice] = {
        str(r.unit_id): (str(r.region_id), str(r.stock_id) or None)
        for r in picked.itertuples(index=False)
    }
    planned = scenario
    if new_sets is not None:
        drawn = Counter(sid for _, sid in choices.values() if sid is not None)
        planned, rename, _ = bought(new_sets, drawn)
        choices = {u: (r, rename.get(sid, sid) if sid else None) for u, (r, sid) in choices.items()}
    result = simulate(load_scenario_data(planned_scenario_data(planned, choices)))
    closed = closure_days(scenario, result.tables["shortfall"])
    late = {
        rid: (closed.get(rid, math.inf), day)
        for rid, day in targets.items()
        if closed.get(rid, math.inf) > day + 1e-9
    }
    if not units:
        return late
    table = result.tables["units"]
    by_unit = {
        str(u): (str(r), float(d) if d == d else math.inf)
        for u, r, d in zip(table["unit"], table["region"], table["closure_day"], strict=True)
    }
    return late, by_unit


def late_words(late: Mapping[str, tuple[float, float]]) -> str:
    """Late regions in words: ``estonia on day 53 (target 50), ...``."""
    return ", ".join(
        f"{rid} on day {closed:g} (target {day:g})" for rid, (closed, day) in sorted(late.items())
    )
