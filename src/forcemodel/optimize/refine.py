"""The last stage of the search: the plan kept is improved in the simulation.

The best plans of the model's stages (and the day-0 planner's) are simulated and scored in the
model's weights (:class:`forcemodel.optimize.simulated.Scorer`); the best of them, judged by
the simulation, is improved one unit at a time (:func:`forcemodel.optimize.simulated.improve`),
then scored in the model (its choices fixed) so that its objective, bound and gap are the
model's. The plan kept is therefore never worse, in the simulation, than the day-0 planner's
plan or the model's best plan.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from forcemodel.optimize.candidate import SIMULATED, Candidate, value_of
from forcemodel.optimize.model import BuiltModel, Choice, Weights
from forcemodel.optimize.simulated import (
    Scored,
    Scorer,
    arrivals,
    choices_of,
    improve,
    lateness,
    sim_plan_of,
)
from forcemodel.optimize.stopping import Budget
from forcemodel.scenario.model import Scenario

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refined:
    """The simulated stage's outcome: the plan kept (a candidate of the model), its simulation,
    and how many simulations were run."""

    kept: Candidate
    scored: Scored
    evaluations: int


def choices_from_z(built: BuiltModel, z: np.ndarray) -> dict[str, Choice]:
    """Each unit's (region id, stock id or None) in the option choices ``z``."""
    picked = built.options[np.asarray(z) > 0.5]
    return {
        str(r.unit_id): (str(r.region_id), str(r.stock_id) or None)
        for r in picked.itertuples(index=False)
    }


def refine(
    scenario: Scenario,
    built: BuiltModel,
    weights: Weights,
    budget: Budget,
    starts: list[Candidate],
    score: Callable[[np.ndarray], BuiltModel | None],
    z_of: Callable[[dict[str, Choice]], np.ndarray | None],
    until: float,
) -> Refined | None:
    """Simulate ``starts`` (the planner's plan and the model's best), improve the best of them
    by the simulated search until ``until`` (``time.monotonic()``) or the work limit's
    simulations, and score the result in the model. ``None`` when no start could be simulated
    or the plan found could not be scored (then the search keeps its own best)."""
    from forcemodel.flow import simulate

    scorer = Scorer(scenario, weights, lambda s: simulate(s))
    limit = budget.work.evaluations if budget.work is not None else None
    simulated: list[tuple[Candidate, Scored]] = []
    for cand in starts:
        if (limit is not None and scorer.evaluations >= limit) or budget_over(until):
            break
        scored = scorer(sim_plan_of(scenario, choices_from_z(built, cand.z)))
        log.info(
            "Simulated search: start %s scores %.6f in the simulation%s",
            cand.stage,
            scored.score,
            f", {lateness(scored):g} day(s) late" if scored.late else "",
        )
        simulated.append((cand, scored))
    if not simulated:
        return None
    start_cand, start = simulated[0]
    for cand, scored in simulated[1:]:
        if (lateness(scored), scored.score) < (lateness(start), start.score):
            start_cand, start = cand, scored
    left = None if limit is None else limit - scorer.evaluations
    best, report = improve(
        scenario,
        scorer,
        start,
        arrivals(scenario, built.options),
        max_evaluations=left,
        deadline=until,
    )
    if report.accepted == 0:
        return Refined(start_cand, start, scorer.evaluations)
    z = z_of(choices_of(best, scenario))
    if z is None:
        log.info("Simulated search: its plan is no plan of the model; kept %s", start_cand.stage)
        return Refined(start_cand, start, scorer.evaluations)
    found = score(z)
    if found is None:
        log.info(
            "Simulated search: its plan was not scored in the model; kept %s", start_cand.stage
        )
        return Refined(start_cand, start, scorer.evaluations)
    stage = f"{SIMULATED} from {start_cand.stage}"
    kept = Candidate(
        value_of(found), stage, z, found, shared=len(found.shared) == len(built.shared)
    )
    log.info("Kept: %s (%.6f in the model)", stage, kept.value)
    return Refined(kept, best, scorer.evaluations)


def budget_over(until: float) -> bool:
    """Whether ``until`` (``time.monotonic()``) has passed."""
    return math.isfinite(until) and time.monotonic() >= until
