"""The last stage of the search: the plan kept is improved in the simulation.

The best plans of the model's stages (and the day-0 planner's) are simulated and scored in the
model's weights (:class:`forcemodel.optimize.simulated.Scorer`); the best of them, judged by
the simulation, is improved one unit at a time (:func:`forcemodel.optimize.simulated.improve`),
then scored in the model (its choices fixed) so that its objective, bound and gap are the
model's. The plan kept is therefore never worse, in the simulation, than the day-0 planner's
plan or the model's best plan.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from forcemodel.mip.solve import run_highs
from forcemodel.network.compile import CompiledNetwork
from forcemodel.optimize.candidate import SIMULATED, Candidate, value_of
from forcemodel.optimize.model import BuiltModel, Choice, Weights, build_model
from forcemodel.optimize.simulated import (
    Scored,
    Scorer,
    SimPlan,
    arrivals,
    better,
    choices_of,
    improve,
    lateness,
    queue_delays,
    sim_plan_of,
)
from forcemodel.optimize.stopping import MIN_STAGE_S, Budget
from forcemodel.scenario.model import Scenario

log = logging.getLogger(__name__)

#: The name of the calibrated start in the provenance.
CALIBRATED = "calibrated queue-free LP"

#: Days before each region's closure target that the calibrated LP aims at. Its queue delays
#: are medians per region, so a plan aimed at the targets themselves closes some regions a day
#: or two late in the simulation, and single moves rarely win that last day back (on
#: eastern-flank: Romania's fires, one day late, after 127 simulations); aimed 3 days early,
#: the search starts with slack to spend.
CALIBRATION_MARGIN = 3.0

#: The safe start's search's share of the simulations (or seconds) at most; the calibration
#: rounds get the rest.
SAFE_SHARE = 1.0 / 3.0

#: Calibration rounds at most (solve the calibrated LP, simulate its plan, search from it,
#: recalibrate from the best plan): they stop earlier when a round finds no better plan.
CALIBRATION_ROUNDS = 6


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
    net: CompiledNetwork,
    built: BuiltModel,
    weights: Weights,
    budget: Budget,
    starts: list[Candidate],
    score: Callable[[np.ndarray], BuiltModel | None],
    z_of: Callable[[dict[str, Choice]], np.ndarray | None],
    until: float,
) -> Refined | None:
    """The simulated stage (the module's docstring).

    1. ``starts`` (the planner's plan and the model's best) are simulated; the best of them
       (fewest days late, then the lowest score) is the **safe start**.
    2. The **calibrated start**: the queue-free model (:mod:`forcemodel.optimize.bound`) with
       every option's closure delayed by the median delay the safe start's simulation shows
       in its region (the queues the model leaves out), solved as an LP and rounded
       (:func:`calibrated_plan`). It is a plan for the whole force at once, where single
       moves cannot reach (an air-defence unit moved to one region needs another moved in
       after it): on eastern-flank it halves the shortfall, though it closes regions late.
    3. The simulated search improves the safe start first (at most :data:`SAFE_SHARE` of the
       simulations), then each calibrated start, and the plan kept is scored in the model.
       The calibration is repeated from the best plan so far (:data:`CALIBRATION_ROUNDS`:
       solve the calibrated LP, simulate its plan, search from it, recalibrate), until a
       round finds no better plan or gives a plan already tried: each round's delays are
       those of the queues around the best plan, which the last round changed.

    Stops at ``until`` (``time.monotonic()``) or the work limit's simulations. ``None`` when
    no start could be simulated (then the search keeps its own best)."""
    from forcemodel.flow import simulate

    scorer = Scorer(scenario, weights, lambda s: simulate(s))
    limit = budget.work.evaluations if budget.work is not None else None

    def spent() -> bool:
        return (limit is not None and scorer.evaluations >= limit) or budget_over(until)

    simulated: list[tuple[Candidate, Scored]] = []
    for cand in starts:
        if spent():
            break
        scored = scorer(sim_plan_of(scenario, choices_from_z(built, cand.z)))
        _log_start(cand.stage, scored)
        simulated.append((cand, scored))
    if not simulated:
        return None
    safe_cand, safe = min(simulated, key=lambda cs: (lateness(cs[1]), cs[1].score))
    arrival = arrivals(scenario, built.options)
    runs: list[tuple[str, Scored]] = []
    anchor = safe
    if not spent():
        # The safe start's search first, with at most a share of the simulations: on
        # eastern-flank it ends by itself (no improving move) after about 50.
        most = None if limit is None else max(1, int((limit - scorer.evaluations) * SAFE_SHARE))
        deadline = until if limit is not None else time.monotonic() + _left(until) * SAFE_SHARE
        best, report = improve(
            scenario, scorer, safe, arrival, max_evaluations=most, deadline=deadline
        )
        if report.accepted:
            runs.append((safe_cand.stage, best))
            anchor = best
    seen: set[SimPlan] = {anchor.plan}
    for k in range(1, CALIBRATION_ROUNDS + 1):
        if spent():
            break
        # Calibrated from the best plan so far: the delays its simulation shows are those of
        # the queues around it, which the last round's plan changed (solve -> simulate ->
        # recalibrate until a round no longer improves).
        choices = calibrated_plan(
            scenario, net, built, weights, budget, anchor, arrival, until, CALIBRATION_MARGIN
        )
        if choices is None or spent():
            break
        plan = sim_plan_of(scenario, choices)
        if plan in seen:
            log.info("Simulated search: calibration round %d gives a plan already tried", k)
            break
        seen.add(plan)
        name = CALIBRATED if k == 1 else f"{CALIBRATED}, round {k}"
        calibrated = scorer(plan)
        _log_start(name, calibrated)
        left = None if limit is None else max(0, limit - scorer.evaluations)
        best = calibrated
        if left != 0 and not budget_over(until):
            best, _ = improve(
                scenario, scorer, calibrated, arrival, max_evaluations=left, deadline=until
            )
        runs.append((name, best))
        if not better(best, anchor):
            break  # the next round would be calibrated from the same plan
        anchor = best
    if not runs:
        return Refined(safe_cand, safe, scorer.evaluations)
    origin, best = min(runs, key=lambda r: (lateness(r[1]), r[1].score))
    if (lateness(best), best.score) >= (lateness(safe), safe.score):
        return Refined(safe_cand, safe, scorer.evaluations)
    z = z_of(choices_of(best, scenario))
    found = score(z) if z is not None else None
    if found is None or z is None:
        log.info("Simulated search: its plan was not scored in the model; kept %s", safe_cand.stage)
        return Refined(safe_cand, safe, scorer.evaluations)
    stage = f"{SIMULATED} from {origin}"
    kept = Candidate(
        value_of(found), stage, z, found, shared=len(found.shared) == len(built.shared)
    )
    log.info("Kept: %s (%.6f in the model)", stage, kept.value)
    return Refined(kept, best, scorer.evaluations)


def _log_start(name: str, scored: Scored) -> None:
    log.info(
        "Simulated search: start %s scores %.6f in the simulation%s",
        name,
        scored.score,
        f", {lateness(scored):g} day(s) late" if scored.late else "",
    )


def _left(until: float) -> float:
    return max(0.0, until - time.monotonic())


def calibrated_plan(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    weights: Weights,
    budget: Budget,
    simulated: Scored,
    arrival: Mapping[tuple[int, str, bool], float],
    until: float,
    margin: float = 0.0,
) -> dict[str, Choice] | None:
    """The queue-free model calibrated by ``simulated``, solved as an LP and rounded.

    Each region's delay, per reception (:func:`queue_delays`: its RSOM, or a port or air base
    of a movement profile), is the median, over the units ``simulated`` sends there, of the
    days between their simulated closure and the uncongested estimate of their option; every
    option of the region received there closes that much later in the model. The LP's largest
    choice per unit is taken, in order of weight, as long as its stock has sets left (else the
    next). The LP's closure targets are ``margin`` days earlier than ``weights``'
    (:data:`CALIBRATION_MARGIN`). ``None`` if the LP was not solved in its time or work."""
    delay = queue_delays(scenario, simulated, arrival)
    log.info(
        "Simulated search: queue delays by region (RSOM; port or air base) %s",
        ", ".join(
            f"{r} {delay.get((r, False), 0.0):.1f}; {delay.get((r, True), 0.0):.1f}"
            for r in sorted({r for r, _ in delay})
        ),
    )
    options = built.options
    apart = (
        ~options["pooled"].to_numpy(bool)
        if "pooled" in options
        else np.zeros(len(options), dtype=bool)
    )
    shift = [
        delay.get((str(r), bool(a)), 0.0)
        for r, a in zip(options["region_id"].to_numpy(), apart, strict=True)
    ]
    shifted = options.assign(closure=options["closure"].to_numpy(float) + np.array(shift))
    if margin and weights.closure_by:
        targets = {r: max(0.0, d - margin) for r, d in weights.closure_by.items()}
        weights = dataclasses.replace(weights, closure_by=targets)
    model = build_model(
        scenario,
        net,
        shifted,
        weights,
        relax=True,
        window=0,
        shared=False,
        queues=False,
        new_sets=built.new_sets,
        extra=built.extra,
    )
    if budget.work is not None:
        settings = budget.stage(method="simplex")
    else:
        settings = dataclasses.replace(
            budget.settings, method="simplex", time_limit=max(MIN_STAGE_S, 0.3 * _left(until))
        )
    out = run_highs(model.model, settings, mip=False)
    if out.termination != "optimal":
        log.info("Simulated search: the calibrated LP was not solved (%s)", out.termination)
        return None
    z = model.model.variables["choose"].solution.to_numpy()
    order = np.argsort(-z, kind="stable")
    sets = {st.id: st.sets for st in scenario.stocks}
    used: dict[str, int] = {}
    choices: dict[str, Choice] = {}
    unit_id = options["unit_id"].to_numpy()
    region_id = options["region_id"].to_numpy()
    stock_id = options["stock_id"].to_numpy()
    for i in order:
        uid, sid = str(unit_id[i]), str(stock_id[i])
        if uid in choices or (sid and used.get(sid, 0) >= sets[sid]):
            continue
        if sid:
            used[sid] = used.get(sid, 0) + 1
        choices[uid] = (str(region_id[i]), sid or None)
    if len(choices) < len(scenario.units):
        return None
    return choices


def budget_over(until: float) -> bool:
    """Whether ``until`` (``time.monotonic()``) has passed."""
    return math.isfinite(until) and time.monotonic() >= until
