"""The search for the best plan within the budget (docs/optimization.md, "How it is solved").

Stages, each given what is left of the budget (:mod:`forcemodel.optimize.stopping`):

0. the day-0 planner's plan (``start="planner"``), scored in the whole model: the incumbent
   that always comes back (by groups of regions: scored without the shared capacities, the
   fallback);
1. the queue-free bound (:mod:`forcemodel.optimize.bound`): a cheap lower bound;
1b. by groups of regions (:mod:`forcemodel.optimize.neighbourhoods`): the planner's plan
   improved one group of regions at a time, in place of 2 and 3;
2. the LP relaxation (simplex, at most :data:`LP_SHARE` of the time left): a lower bound, and
   which units it already places whole;
3. if it is integral, that is a plan; otherwise a sub-MIP in which the units the LP places
   whole keep that option and the others choose among the options the LP gives weight to
   (RENS), solved by HiGHS;
4. with closure targets, the safeguard's simulations (:mod:`forcemodel.optimize.safeguard`);
   if the sub-MIP was solved to optimality and time is left, HiGHS solves the whole MIP from
   the best.

Why one module of about 510 lines: the stages hand each other the candidates, the bound and
the budget's reserve; the stages' own work lives in start, safeguard, refine and neighbourhoods.

Long because the stages share one budget and one incumbent: split apart, each would pass
both back and forth.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from forcemodel.mip.errors import InfeasibleError, NoSolutionError
from forcemodel.mip.solve import SolveOutcome, run_highs
from forcemodel.network.compile import CompiledNetwork
from forcemodel.optimize.bound import queue_free_bound
from forcemodel.optimize.candidate import (
    LP_INTEGRAL,
    PLANNER,
    REGIONS,
    RENS,
    WHOLE_MIP,
    Candidate,
    value_of,
)
from forcemodel.optimize.model import BuiltModel, Choice, Weights, build_model
from forcemodel.optimize.neighbourhoods import improve_by_regions, region_values
from forcemodel.optimize.refine import refine
from forcemodel.optimize.safeguard import first_on_time, late_regions, late_words
from forcemodel.optimize.simulated import Scored
from forcemodel.optimize.start import FALLBACK_MIN_S, choices_z, fallback, planner_z, solve_fixed
from forcemodel.optimize.stopping import Budget
from forcemodel.scenario.model import Scenario

log = logging.getLogger(__name__)

#: The logger of the progress lines (stage, incumbent, bound, gap) that the command prints.
PROGRESS = "forcemodel.optimize.progress"

#: With ``search="auto"``, a model of more options than this is searched by groups of
#: regions (eastern-flank has 3,192; ten times its size, 64,959 after pruning).
LARGE_OPTIONS = 20_000

#: Share of the time limit kept back, after the search, for scoring the plans found, the
#: safeguard's simulations and the final LP.
RESERVE_SHARE = 0.2

#: Share of the time limit kept, with the simulated search on, for that search (its
#: simulations run until the last :data:`FINAL_SHARE` of the time limit, kept for scoring its
#: plan in the model).
SIMULATED_SHARE = 0.5
FINAL_SHARE = 0.1

#: Share of the search's time (the time limit less what has run and the reserve) that the LP
#: relaxation may take: at most, so that the sub-MIP around it gets the rest.
LP_SHARE = 0.6

#: Share of the search's time that scoring the day-0 planner's plan in the whole model may
#: take before the search goes on without it (and falls back on its score without the shared
#: capacities if nothing else is found).
PLANNER_SHARE = 0.3

#: Where the bound in the log comes from, without and with the search by groups of regions.
BOUND_WORDS = {
    False: "the best of the queue-free bound and the LP relaxation",
    True: "the queue-free bound; the search by groups of regions gives none",
}


@dataclass(frozen=True)
class Found:
    """What the search gives back: the model whose solution is the plan, the solver's outcome
    (its ``mip_gap`` against the best bound found), the candidate kept (``None`` after a
    whole-MIP solve kept its own plan) and the plan of the day-0 planner (option choices)."""

    built: BuiltModel
    outcome: SolveOutcome
    kept: Candidate | None
    z_plan: np.ndarray | None
    stage: str
    #: The kept plan's simulation, with the simulated search on (else ``None``).
    scored: Scored | None = None
    #: Simulations run by the simulated search.
    evaluations: int = 0


def interrupted(budget: Budget, bound: float | None = None) -> Found | None:
    """The best plan scored before the user interrupted the search (``None`` if none was)."""
    if not budget.found:
        return None
    best = min(budget.found, key=lambda c: c.value)
    log.info("Interrupted: kept %s (%.6f)", best.stage, best.value)
    out = _as_found(best, bound, budget, None)
    return dataclasses.replace(
        out, outcome=dataclasses.replace(out.outcome, termination="interrupted")
    )


def progress(stage: str, budget: Budget, incumbent: float | None, bound: float | None) -> None:
    """One line of progress (the command line prints these as they come)."""
    gap = (
        f", gap {max(0.0, incumbent - bound) / max(abs(incumbent), 1e-12):.1%}"
        if incumbent is not None and bound is not None
        else ""
    )
    words = f"{incumbent:.4f}" if incumbent is not None else "none"
    bound_words = f"{bound:.4f}" if bound is not None else "none"
    logging.getLogger(PROGRESS).info("%s: incumbent %s, bound %s%s", stage, words, bound_words, gap)


def announce(words: str) -> None:
    """A progress line saying which stage starts (a stage of HiGHS can take minutes)."""
    logging.getLogger(PROGRESS).info("%s", words)


def _best_value(candidates: list[Candidate]) -> float | None:
    return min(c.value for c in candidates) if candidates else None


def raise_without_plan(outcome: SolveOutcome) -> None:
    """An infeasible model or a solver that stopped without a plan, in plain words."""
    if outcome.termination in ("infeasible", "infeasible_or_unbounded"):
        raise InfeasibleError(
            "no plan meets the model's constraints",
            [
                "every unit must go to exactly one region it can reach, and a stock gives "
                "no more sets than it holds; check pre-assignments and fixed choices",
                f"solver status: {outcome.termination}",
            ],
        )
    if not outcome.has_solution:
        raise NoSolutionError(
            f"the solver stopped without a plan ({outcome.termination.replace('_', ' ')})",
            ["give it more time (time_limit) or a larger gap (mip_gap)"],
        )


def solve_mip(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    weights: Weights,
    budget: Budget,
    fixed: Mapping[str, Choice] | None,
    *,
    start: str | None,
    check_closure: bool = True,
    search: str = "auto",
    simulated: bool = False,
) -> Found:
    """Search for the best plan within the budget (the module's stages); with ``simulated``,
    the plan kept is then improved in the simulation (:mod:`forcemodel.optimize.refine`), in
    place of the safeguard's blends."""
    settings = budget.settings
    share = RESERVE_SHARE + (SIMULATED_SHARE if simulated else 0.0)
    reserve = share * settings.time_limit if budget.work is None else 0.0
    candidates: list[Candidate] = budget.found  # the same list: kept if interrupted
    z_plan = planner_z(scenario, net, built, fixed) if start == "planner" else None
    by_regions = search == "regions" or (search == "auto" and len(built.options) > LARGE_OPTIONS)
    if by_regions and z_plan is None:
        log.info("Regions search: no day-0 planner's plan to start from; the LP's search")
        by_regions = False

    def score(z: np.ndarray) -> BuiltModel | None:
        # Scoring a plan found belongs to the reserve: it gets what is left of the budget.
        # By groups of regions every plan is scored without the shared capacities, as the
        # planner's is (with them its LP does not finish at the sizes that search is for).
        return solve_fixed(
            scenario, net, built, z, weights, budget.stage(), names=True, shared=not by_regions
        )

    if z_plan is not None and not by_regions:
        # At most a share of the search's time: without closure targets this LP can take
        # minutes on eastern-flank (the shared rows; 2 s with them left out), see the fallback.
        announce("day-0 planner: scoring its plan in the whole model")
        timed = budget.stage(reserve, PLANNER_SHARE)
        found = solve_fixed(scenario, net, built, z_plan, weights, timed, names=True)
        if found is not None:
            candidates.append(Candidate(value_of(found), PLANNER, z_plan, found, planner=True))
        else:
            log.info("Day-0 planner: its plan was not scored within its time")
    progress("day-0 planner", budget, _best_value(candidates), None)
    bound, q_out = queue_free_bound(
        scenario, net, built.options, weights, budget.stage(reserve), new_sets=built.new_sets
    )
    log.info("%s", _stage_log("queue-free bound (lower bound)", q_out))
    progress("queue-free bound", budget, _best_value(candidates), bound)
    if not by_regions:
        announce("LP relaxation, then the sub-MIP around it")
    first = None
    if z_plan is not None and not candidates:  # at once, so that a plan is at hand
        first = fallback(scenario, net, built, z_plan, weights, budget)
    sub_closed = False
    if by_regions:
        if first is not None:
            candidates.append(first)
            _search_regions(
                scenario, net, built, weights, budget, first, reserve, score, candidates
            )
    else:
        sub_closed, lp_bound = _search_relaxation(
            scenario, net, built, weights, budget, z_plan, reserve, score, candidates
        )
        if lp_bound is not None:
            bound = lp_bound if bound is None else max(bound, lp_bound)
    if not candidates and first is not None:
        candidates.append(first)
    candidates.sort(key=lambda c: c.value)
    best = candidates[0] if candidates else None
    if best is not None:
        log.info("Incumbents: %s", "; ".join(f"{c.stage} {c.value:.6f}" for c in candidates))
    progress("search", budget, best.value if best is not None else None, bound)
    log.info("Bound: %.6f (%s)", bound, BOUND_WORDS[by_regions]) if bound is not None else log.info(
        "Bound: none (neither the queue-free bound nor the LP relaxation was solved)"
    )
    targets = weights.closure_by if check_closure else None
    if targets and candidates and not simulated:
        best = first_on_time(
            scenario, built.options, candidates, targets, z_plan, score, built.new_sets, budget
        )
    result = _whole_mip(
        scenario, built, budget, best, bound, sub_closed, reserve, targets, z_plan, simulated
    )
    if not simulated:
        return result
    return _refined(scenario, net, built, weights, budget, result, candidates, score)


def _refined(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    weights: Weights,
    budget: Budget,
    found: Found,
    candidates: list[Candidate],
    score: Callable[[np.ndarray], BuiltModel | None],
) -> Found:
    """The simulated stage from the day-0 planner's plan and the search's best."""
    best = found.kept
    if best is None:  # the whole MIP's own plan
        z = np.round(built.model.variables["choose"].solution.to_numpy())
        best = Candidate(found.outcome.objective or value_of(built), WHOLE_MIP, z, built)
    starts = [c for c in candidates if c.planner][:1]
    if not best.planner:
        starts.append(best)

    def score_any(z: np.ndarray) -> BuiltModel | None:
        # In the whole model if its LP finishes, else without the shared capacities.
        lp = score(z)
        if lp is None and len(built.shared):
            timed = budget.stage(at_least=FALLBACK_MIN_S)
            lp = solve_fixed(scenario, net, built, z, weights, timed, shared=False)
        return lp

    final = FINAL_SHARE * budget.settings.time_limit if budget.work is None else 0.0
    work = budget.work
    announce(
        "simulated search: the plans simulated"
        + (f", at most {work.evaluations} simulations" if work is not None else "")
    )
    refined = refine(
        scenario,
        net,
        built,
        weights,
        budget,
        starts,
        score_any,
        lambda choices: choices_z(scenario, built, choices),
        until=budget.deadline - final,
    )
    if refined is None:
        return found
    budget.found.append(refined.kept)
    if refined.kept is best and found.kept is None:
        return dataclasses.replace(found, scored=refined.scored, evaluations=refined.evaluations)
    out = _as_found(refined.kept, found.outcome.bound, budget, found.z_plan)
    return dataclasses.replace(out, scored=refined.scored, evaluations=refined.evaluations)


def _whole_mip(
    scenario: Scenario,
    built: BuiltModel,
    budget: Budget,
    best: Candidate | None,
    bound: float | None,
    sub_closed: bool,
    reserve: float,
    targets: Mapping[str, float] | None,
    z_plan: np.ndarray | None,
    simulated: bool = False,
) -> Found:
    """Stage 4: the whole MIP from the incumbent, when the search left time and finished;
    else the incumbent as the outcome. (With ``simulated``, its plan is not simulated here:
    the simulated stage judges it.)"""
    if best is not None and not (
        sub_closed and budget.left(reserve) > 0.5 and not _proven(best.value, bound, budget)
    ):
        return _as_found(best, bound, budget, z_plan)
    # The fallback's LP has other columns (no shared rows): no start from it. (Plans of the
    # search by groups of regions, scored alike, never get here: it closes nothing.)
    start_from = best.built.model if best is not None and best.shared else None
    if budget.work is None:
        mip_settings = dataclasses.replace(
            budget.settings, time_limit=max(0.5, budget.left(reserve))
        )
    else:
        mip_settings = budget.stage()
    announce("whole MIP: HiGHS from the best plan")
    outcome = run_highs(built.model, mip_settings, mip=True, start=start_from)
    log.info("%s", _stage_log("whole MIP", outcome))
    raise_without_plan(outcome)
    if targets and best is not None and not simulated:
        z = np.round(built.model.variables["choose"].solution.to_numpy())
        late = late_regions(scenario, built.options, z, targets, new_sets=built.new_sets)
        if late and not late_regions(
            scenario, built.options, best.z, targets, new_sets=built.new_sets
        ):
            log.info(
                "Simulated: the whole MIP's plan closes %s; kept %s (%.6f), which closes every "
                "region on time",
                late_words(late),
                best.stage,
                best.value,
            )
            return _as_found(best, bound, budget, z_plan)
    if bound is not None and outcome.bound is not None:
        outcome = dataclasses.replace(outcome, bound=max(bound, outcome.bound))
    return Found(built, outcome, None, z_plan, WHOLE_MIP)


def _search_relaxation(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    weights: Weights,
    budget: Budget,
    z_plan: np.ndarray | None,
    reserve: float,
    score: Callable[[np.ndarray], BuiltModel | None],
    candidates: list[Candidate],
) -> tuple[bool, float | None]:
    """Stages 2 and 3: the LP relaxation, then the plan it gives or the sub-MIP around it
    (RENS); the plans found join ``candidates``.

    The LP relaxation is solved without the shared capacities on the way (links, nodes, lift
    pools): still a lower bound, and with them the relaxation is too slow for the minute.
    Returns whether the sub-MIP (or an integral LP) was solved to optimality, and the LP's
    bound (``None`` if it did not finish).
    """
    lp = build_model(
        scenario,
        net,
        built.options,
        weights,
        relax=True,
        shared=False,
        new_sets=built.new_sets,
        extra=built.extra,
    )
    lp_out = run_highs(lp.model, budget.stage(reserve, LP_SHARE, method="simplex"), mip=False)
    log.info("%s", _stage_log("LP relaxation (lower bound)", lp_out))
    if lp_out.termination in ("infeasible", "infeasible_or_unbounded"):
        raise_without_plan(lp_out)
    sub_closed = False
    if lp_out.termination == "optimal":
        z_lp = lp.model.variables["choose"].solution.to_numpy()
        whole = _whole(z_lp)
        if whole is not None:  # the LP already chose whole units: that is a plan
            found = score(whole)
            if found is not None:
                candidates.append(Candidate(value_of(found), LP_INTEGRAL, whole, found))
                sub_closed = True
        else:
            sub_closed = _rens(
                scenario, net, built, weights, budget, z_lp, z_plan, reserve, candidates
            )
    else:
        log.info("LP relaxation: not solved within its time; no sub-MIP")
    del lp
    return sub_closed, lp_out.bound


def _rens(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    weights: Weights,
    budget: Budget,
    z_lp: np.ndarray,
    z_start: np.ndarray | None,
    reserve: float,
    candidates: list[Candidate],
) -> bool:
    """The sub-MIP around the LP relaxation (RENS): add its plan to ``candidates``.

    A unit that the LP places whole keeps that option; the others choose among the options to
    which the LP gives weight. With ``z_start`` (the planner's plan), a unit whose option
    there differs may also take that one, and the sub-MIP starts from it, so its plan is never
    worse than the planner's. Returns whether the sub-MIP was solved to optimality.
    """
    options = built.options
    unit = options["unit"].to_numpy()
    weight = z_lp if z_start is None else np.maximum(z_lp, z_start)
    frac = (weight > 1e-6) & (np.abs(weight - z_lp) + np.minimum(z_lp, 1 - z_lp) > 1e-6)
    open_unit = np.isin(unit, unit[frac])
    keep = np.where(open_unit, weight > 1e-6, z_lp > 1 - 1e-6)
    index = np.flatnonzero(keep)
    sub_options = options.iloc[index].reset_index(drop=True)
    # Without the shared capacities on the way: with them HiGHS's root LP alone takes most of
    # the minute on eastern-flank. The plan found is then scored in the whole model.
    sub = build_model(
        scenario,
        net,
        sub_options,
        weights,
        shared=False,
        new_sets=built.new_sets,
        extra=built.extra,
    )
    first = None
    if z_start is not None:
        first = solve_fixed(
            scenario, net, sub, z_start[index], weights, budget.stage(reserve), names=True
        )
    out = run_highs(
        sub.model, budget.stage(reserve), mip=True, start=first.model if first is not None else None
    )
    log.info(
        "%s",
        _stage_log(
            f"sub-MIP: {int(np.unique(unit[open_unit]).size)} units free among "
            f"{int(open_unit[keep].sum())} options, the rest fixed as in the LP",
            out,
        ),
    )
    if not out.has_solution:
        return False
    z = np.zeros(len(options))
    z[index] = np.round(sub.model.variables["choose"].solution.to_numpy())
    found = solve_fixed(scenario, net, built, z, weights, budget.stage(), names=True)
    if found is not None:
        candidates.append(Candidate(value_of(found), RENS, z, found))
    return out.termination == "optimal"


def _search_regions(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    weights: Weights,
    budget: Budget,
    first: Candidate,
    reserve: float,
    score: Callable[[np.ndarray], BuiltModel | None],
    candidates: list[Candidate],
) -> None:
    """Stage 1b: the planner's plan (``first``, scored without the shared capacities) improved
    by groups of regions; the plan joins ``candidates`` if it gained."""
    frozen = built.new_sets.pairs["stock"].tolist() if built.new_sets is not None else []
    z, gained, lines = improve_by_regions(
        scenario,
        net,
        built.options,
        first.z,
        region_values(first.built),
        weights,
        budget.stage() if budget.work is not None else budget.settings,
        budget.deadline - reserve,
        frozen_stocks=frozen,
    )
    for line in lines:
        log.info("%s", line.rstrip("\n"))
    if gained <= 0.0:
        return
    found = score(z)
    if found is None:
        log.info("Regions search: its plan was not scored in the time left")
        return
    candidates.append(Candidate(value_of(found), REGIONS, z, found, shared=False))


def _as_found(
    best: Candidate, bound: float | None, budget: Budget, z_plan: np.ndarray | None
) -> Found:
    """The kept candidate as the search's outcome, its gap against ``bound``."""
    gap = 0.0 if bound is None else max(0.0, best.value - bound) / max(abs(best.value), 1e-12)
    proven = bound is not None and gap <= budget.settings.mip_gap
    stopped = "work_limit" if budget.work is not None else "time_limit"
    outcome = SolveOutcome(
        status="ok",
        termination="optimal" if proven else stopped,
        has_solution=True,
        objective=best.value,
        mip_gap=gap if bound is not None else None,
        runtime_s=budget.elapsed(),
        log="",
        bound=bound,
    )
    return Found(best.built, outcome, best, z_plan, best.stage)


def _proven(value: float, bound: float | None, budget: Budget) -> bool:
    return bound is not None and value - bound <= budget.settings.mip_gap * max(abs(value), 1e-12)


def _stage_log(title: str, outcome: SolveOutcome) -> str:
    return f"==== {title}: {outcome.termination}, objective {outcome.objective} ====\n" + (
        outcome.log
    )


def _whole(z: np.ndarray, tol: float = 1e-6) -> np.ndarray | None:
    """``z`` rounded if every value is within ``tol`` of 0 or 1, else ``None``."""
    near = np.round(z)
    return near if np.all(np.abs(z - near) <= tol) else None
