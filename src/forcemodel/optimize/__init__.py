"""optimize: choose each unit's region and pre-positioned set to close the requirement gaps.

A daily time-expanded model (linopy) solved by HiGHS: binary choices of (region, own equipment
or a set from a stock) per unit, the regions' RSOM capacity and the lift pools, links and nodes
that could bind shared day by day, and the weighted
shortfall against every region's requirement as the objective (then a small cost). The maths
and what the model leaves out are in docs/optimization.md.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import linopy
import numpy as np
import pandas as pd

from forcemodel.flow.plan import UnreachableError, plan_units
from forcemodel.mip.errors import InfeasibleError, NoSolutionError, OptimizationError
from forcemodel.mip.solve import METHODS, SolveOutcome, SolverSettings, run_highs
from forcemodel.network.compile import CompiledNetwork, compile_network
from forcemodel.optimize.bound import queue_free_bound
from forcemodel.optimize.explain import CAPACITY_KINDS, bindings_table, unmet_requirements
from forcemodel.optimize.model import BuiltModel, Choice, Weights, build_model, option_table
from forcemodel.optimize.neighbourhoods import improve_by_regions, region_values
from forcemodel.optimize.plan import (
    OptimizationResult,
    planned_scenario_data,
    read_solution,
    with_purchases,
)
from forcemodel.optimize.prepositioning import NewSets, bought, candidate_sets, check_budget
from forcemodel.optimize.replan import replan as replan
from forcemodel.scenario.model import Scenario

#: Suffixes ``write_model`` understands, and the format each one writes.
MODEL_FORMATS: dict[str, str] = {".mps": "mps", ".lp": "lp"}

#: How the MIP is searched (docs/optimization.md, "How it is solved"): around the LP
#: relaxation, by groups of regions from the day-0 planner's plan, or ``auto``: by groups of
#: regions above :data:`LARGE_OPTIONS` options, where the LP relaxation does not finish.
SEARCHES: tuple[str, ...] = ("auto", "relaxation", "regions")

#: With ``search="auto"``, a model of more options than this is searched by groups of
#: regions (eastern-flank has 3,192; ten times its size, 64,959 after pruning).
LARGE_OPTIONS = 20_000

__all__ = [
    "CAPACITY_KINDS",
    "METHODS",
    "MODEL_FORMATS",
    "SEARCHES",
    "Choice",
    "InfeasibleError",
    "NoSolutionError",
    "OptimizationError",
    "OptimizationResult",
    "Weights",
    "bundled_closure_days",
    "optimize",
    "planned_scenario_data",
    "write_model_file",
]


def optimize(
    scenario: Scenario,
    *,
    time_limit: float = 50.0,
    mip_gap: float = 1e-4,
    method: str = "choose",
    threads: int | None = None,
    weights: Weights | None = None,
    keep_assignments: bool = False,
    relax: bool = False,
    fixed: Mapping[str, Choice] | None = None,
    write_model: str | Path | None = None,
    duals: bool = True,
    start: str | None = "planner",
    closure_by: Mapping[str, float] | str | None = None,
    check_closure: bool = True,
    budget: float | None = None,
    search: str = "auto",
) -> OptimizationResult:
    """Choose every unit's region and set use to minimise the weighted shortfall, then cost.

    Args:
        scenario: a loaded scenario.
        time_limit: seconds the whole call may run, counted from its start (more than 0; the
            default keeps eastern-flank under 60 s end to end). Every stage gets what is left
            of it (docs/optimization.md, "The deadline", for the small overruns). At the limit
            the best plan found so far is returned (``termination == "time_limit"``;
            ``bound`` and ``mip_gap`` say how good); with ``start="planner"`` that is at
            least the day-0 planner's plan.
        mip_gap: relative optimality gap at which the MIP stops (0 or more).
        method: ``choose``, ``simplex`` or ``ipm`` (for the MIP, the method of its LP
            relaxations); ``pdlp`` only with ``relax``.
        threads: HiGHS threads; ``None`` for its default, 1 inside parallel sweeps.
        weights: day weights, early-gap weight and cost weight (:class:`Weights`); none:
            the scenario's (``meta.objective``, :meth:`Weights.of`).
        keep_assignments: keep pre-assigned units (``assigned_to``) in their region.
        relax: solve the LP relaxation (choices in [0, 1]); the plan then takes each unit's
            largest choice and is not guaranteed to respect the stocks' sets.
        fixed: pin units to a (region id, stock id or None) choice, e.g. to score a given plan
            in the model's own objective.
        write_model: write the built model (before it is solved) to this ``.mps`` or ``.lp``
            file with linopy's writer, so that another solver can check it; written even when
            no plan is found.
        duals: fix the MIP's choices, solve the LP that remains and fill
            ``OptimizationResult.bindings`` (shadow prices) and ``unmet`` (why requirements
            are not met); with ``relax``, read them from the LP itself.
        start: ``"planner"`` gives the MIP a first plan, the simulation's day-0 planner's
            choices (``fixed`` ones where given) with the rest of the model solved for them,
            so the plan returned is never worse in the model's objective than the planner's;
            ``None`` starts from nothing. Skipped with ``relax`` and where the planner's
            choices are not options of the model (``keep_assignments``, ``fixed``).
        closure_by: soft closure targets, region id -> day: a shortfall from that day on weighs
            ``1 + weights.late_weight`` times as much. ``"bundled"``: the day the simulation
            closes each region with the scenario as given (:func:`bundled_closure_days`), so
            that the plan does not close a region later than that plan does.
        check_closure: with ``closure_by``, simulate the candidate plans of the search and
            keep the best (in the model's objective) that closes no region later than its
            target (the safeguard of docs/optimization.md, "How it is solved"); the day-0
            planner's plan is always a candidate with ``start="planner"``.
        budget: money for new pre-positioned sets (millions of the scenario's
            ``prepositioning.currency``, 0 or more), in place of its ``prepositioning.budget_m``
            (docs/optimization.md, "Pre-positioning within a budget"). The sets bought are
            written into the result's scenario as stocks, and listed in ``purchases``.
        search: how the MIP is searched (:data:`SEARCHES`): ``relaxation`` around the LP
            relaxation (a sub-MIP, then the whole MIP); ``regions`` from the day-0 planner's
            plan, one group of regions at a time (plans scored without the shared capacities
            on the way; needs ``start="planner"``); ``auto`` (default) picks ``regions`` for
            models of more than :data:`LARGE_OPTIONS` options, where the LP relaxation does
            not finish in minutes (docs/optimization.md, "Search by groups of regions").

    Raises:
        ValueError: a setting that cannot be used (time limit, gap, method, threads, weights,
            unknown ids in ``fixed``, a ``write_model`` file that is not ``.mps`` or ``.lp``,
            a ``start`` other than ``"planner"`` or ``None``, a budget below 0 or for a
            scenario with nothing to buy, an unknown ``search``, or ``search="regions"``
            without ``start="planner"`` or with ``relax``).
        InfeasibleError: no plan meets the constraints (reasons name the units or stocks).
        NoSolutionError: no plan could be scored in the time (without ``start="planner"``,
            or when even the planner's plan without the shared capacities was not scored).
    """
    settings = SolverSettings(
        time_limit=time_limit, mip_gap=mip_gap, method=method, threads=threads
    )
    settings.check(mip=not relax)
    if start not in ("planner", None):
        raise ValueError(f"start must be 'planner' or None, got {start!r}")
    if search not in SEARCHES:
        raise ValueError(f"search must be one of {', '.join(SEARCHES)}, got {search!r}")
    if search == "regions" and start != "planner":
        raise ValueError(
            "search='regions' starts from the day-0 planner's plan: use start='planner'"
        )
    if search == "regions" and relax:
        raise ValueError("search='regions' finds whole plans: it cannot be used with relax=True")
    check_budget(scenario, budget)
    weights = weights or Weights.of(scenario)
    if isinstance(closure_by, str):
        if closure_by != "bundled":
            raise ValueError(f"closure_by must be 'bundled', a mapping or None, got {closure_by!r}")
        closure_by = bundled_closure_days(scenario)
    if closure_by is not None:
        unknown = sorted(set(closure_by) - {r.id for r in scenario.regions})
        if unknown:
            raise ValueError(f"closure_by: no region {', '.join(map(repr, unknown))}")
        weights = dataclasses.replace(weights, closure_by=dict(closure_by))
    weights.by_day(scenario.meta.horizon_days)  # raises on bad weights before any work
    if fixed is not None:
        _check_fixed(scenario, fixed)
    if write_model is not None:
        _model_format(write_model)
    deadline = time.monotonic() + settings.time_limit
    # Candidate new sets are stocks appended to the scenario's (after the closure targets,
    # which are those of the scenario as given); the result's scenario has the sets bought.
    base = scenario
    scenario, new_sets = candidate_sets(scenario, budget)

    def finish(result: OptimizationResult) -> OptimizationResult:
        return with_purchases(result, new_sets) if new_sets is not None else result

    net = compile_network(scenario)
    # Options are pruned on large scenarios (option_table): the day-0 planner's plan, the
    # search's first incumbent, always stays among them.
    keep = _planner_keep(base, net, fixed) if start == "planner" and not relax else None
    options = option_table(base, net, keep_assignments=keep_assignments, fixed=fixed, keep=keep)
    if new_sets is not None and len(new_sets.pairs):
        options = _with_candidate_options(scenario, net, options, new_sets, keep_assignments, fixed)
    with linopy.options as opts:
        opts(semantics="v1")
        built = build_model(scenario, net, options, weights, relax=relax, new_sets=new_sets)
        if write_model is not None:
            write_model_file(built.model, write_model)
        if relax:
            outcome = run_highs(built.model, settings, mip=False)
            _raise_without_plan(outcome)
            result = read_solution(scenario, built, outcome, relaxed=True)
            if not duals:
                return finish(result)
            bindings = bindings_table(scenario, built, relaxed=True)
            return finish(
                dataclasses.replace(
                    result, bindings=bindings, unmet=unmet_requirements(scenario, built, bindings)
                )
            )
        solved, outcome = _solve_mip(
            scenario,
            net,
            built,
            weights,
            settings,
            fixed,
            deadline,
            start=start,
            check_closure=check_closure,
            search=search,
        )
        result = read_solution(scenario, solved, outcome, relaxed=False)
        if not duals:
            return finish(result)
        # The duals' LP gets what is left of the time limit (at least MIN_STAGE_S).
        timed = dataclasses.replace(settings, time_limit=_until(deadline))
        lp = solved if solved is not built else _fixed_lp(scenario, net, built, weights, timed)
        if lp is None:
            return finish(result)
        bindings = bindings_table(scenario, lp, relaxed=False)
        unmet = unmet_requirements(scenario, lp, bindings)
        return finish(dataclasses.replace(result, bindings=bindings, unmet=unmet))


def _with_candidate_options(
    scenario: Scenario,
    net: CompiledNetwork,
    options: pd.DataFrame,
    new_sets: NewSets,
    keep_assignments: bool,
    fixed: Mapping[str, Choice] | None,
) -> pd.DataFrame:
    """``options`` (those of the scenario as given) with the options of drawing a candidate
    new set, in the regions each unit is offered already.

    The candidate stocks are not pruned against the existing ones (``max_stocks``): a
    candidate could otherwise push out an existing stock's option, and more budget could then
    give a worse plan (and the day-0 planner's plan, which draws the existing stocks, could be
    no plan of the model).
    """
    every = option_table(
        scenario, net, keep_assignments=keep_assignments, fixed=fixed, max_stocks=None
    )
    extra = every[every["stock"].isin(new_sets.pairs["stock"])]
    offered = pd.MultiIndex.from_frame(options[["unit", "region"]])
    extra = extra[pd.MultiIndex.from_frame(extra[["unit", "region"]]).isin(offered)]
    both = pd.concat([options, extra], ignore_index=True)
    return both.sort_values(["unit", "region"], kind="stable").reset_index(drop=True)


def _raise_without_plan(outcome: SolveOutcome) -> None:
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


#: Share of the time limit kept back, after the search, for scoring the plans found, the
#: safeguard's simulations and the final LP.
RESERVE_SHARE = 0.2

#: Share of the search's time (the time limit less what has run and the reserve) that the LP
#: relaxation may take: at most, so that the sub-MIP around it gets the rest (about 6 s of
#: the 40 on eastern-flank; at ten times its size it does not finish at all).
LP_SHARE = 0.6

#: Share of the search's time that scoring the day-0 planner's plan in the whole model may
#: take before the search goes on without it (and falls back on its score without the shared
#: capacities if nothing else is found).
PLANNER_SHARE = 0.3

#: The name of the fallback plan in the log and among the candidates.
FALLBACK_NAME = "day-0 planner (scored without the shared capacities)"

#: Where the bound in the log comes from, without and with the search by groups of regions.
BOUND_WORDS = {
    False: "the best of the queue-free bound and the LP relaxation",
    True: "the queue-free bound; the search by groups of regions gives none",
}

#: The name of the plan of the search by groups of regions.
REGIONS_NAME = "search by groups of regions (scored without the shared capacities)"

#: The least time, in seconds, that the fallback (the planner's plan scored without the
#: shared capacities, when its whole LP did not finish) is given, even past the deadline.
FALLBACK_MIN_S = 30.0

#: The least time, in seconds, any stage is given, even when the deadline has passed: the
#: most a stage can overrun it by (each solver stage that starts late stops after this).
MIN_STAGE_S = 0.05

#: A plan found by the search: its objective, where it came from, its choices, its fixed LP.
Candidate = tuple[float, str, np.ndarray, BuiltModel]


def _until(deadline: float, reserve: float = 0.0, share: float = 1.0) -> float:
    """Seconds a stage may run: ``share`` of what is left before ``deadline`` less
    ``reserve``, and never less than :data:`MIN_STAGE_S`."""
    return max(MIN_STAGE_S, share * (deadline - time.monotonic() - reserve))


def _solve_mip(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    weights: Weights,
    settings: SolverSettings,
    fixed: Mapping[str, Choice] | None,
    deadline: float,
    *,
    start: str | None,
    check_closure: bool = True,
    search: str = "auto",
) -> tuple[BuiltModel, SolveOutcome]:
    """Search for the best plan within the deadline (docs/optimization.md, "How it is solved").

    0. the day-0 planner's plan (``start="planner"``), scored in the whole model: the
       incumbent that always comes back, whatever the later stages manage (by groups of
       regions: scored without the shared capacities, the fallback);
    1. the queue-free bound (:mod:`forcemodel.optimize.bound`): a cheap lower bound;
    1b. by groups of regions (``search``, :mod:`forcemodel.optimize.neighbourhoods`): the
       planner's plan improved one group of regions at a time, in place of 2 and 3;
    2. the LP relaxation (simplex, at most :data:`LP_SHARE` of the time left): a lower bound,
       and which units it already places whole;
    3. if it is integral, that is a plan; otherwise a sub-MIP in which the units the LP places
       whole keep that option and the others choose among the options the LP gives some
       weight to (RENS), solved by HiGHS;
    4. with ``closure_by`` and ``check_closure``, the safeguard's simulations; if the sub-MIP
       was solved to optimality and time is left, HiGHS solves the whole MIP from the best.

    Every stage gets what is left of ``deadline`` (the search stages less the reserve kept
    for scoring and checks). Returns the model whose solution is the plan (``built`` after a
    whole-MIP solve, else the LP with the incumbent's choices fixed) and the outcome, whose
    ``mip_gap`` is measured against the best bound found when the whole MIP was not solved.
    """
    logs: list[str] = []
    reserve = RESERVE_SHARE * settings.time_limit

    def left(share: float = 1.0) -> float:
        return _until(deadline, reserve, share)

    candidates: list[Candidate] = []
    fallback: Candidate | None = None
    # 0. The day-0 planner's plan first: it is a plan of the model (option_table keeps it),
    # so whatever the stages below manage, it comes back as the incumbent.
    z_plan = _planner_z(scenario, net, built, fixed) if start == "planner" else None
    by_regions = search == "regions" or (search == "auto" and len(built.options) > LARGE_OPTIONS)
    if by_regions and z_plan is None:
        logs.append("Regions search: no day-0 planner's plan to start from; the LP's search\n")
        by_regions = False

    def score(z: np.ndarray) -> BuiltModel | None:
        # Scoring a plan found belongs to the reserve: it gets what is left of the deadline.
        # By groups of regions every plan is scored without the shared capacities, as the
        # planner's is (with them its LP does not finish at the sizes that search is for).
        timed = dataclasses.replace(settings, time_limit=_until(deadline))
        return _solve_fixed(
            scenario, net, built, z, weights, timed, names=True, shared=not by_regions
        )

    if z_plan is not None and not by_regions:
        # At most a share of the search's time: without closure targets this LP can take
        # minutes on eastern-flank (the shared rows; 2 s with them left out), see the fallback.
        timed = dataclasses.replace(settings, time_limit=left(PLANNER_SHARE))
        found = _solve_fixed(scenario, net, built, z_plan, weights, timed, names=True)
        if found is not None:
            candidates.append((_value(found), "day-0 planner", z_plan, found))
        else:
            logs.append("Day-0 planner: its plan was not scored within its time\n")
    # 1. The queue-free bound: an assignment LP, cheap at any size (module bound).
    bound, q_out = queue_free_bound(
        scenario,
        net,
        built.options,
        weights,
        dataclasses.replace(settings, time_limit=left()),
        new_sets=built.new_sets,
    )
    logs.append(_stage_log("queue-free bound (lower bound)", q_out))
    if z_plan is not None and not candidates:  # at once, so that a plan is at hand
        fallback = _fallback(scenario, net, built, z_plan, weights, settings, deadline, logs)
    sub_closed = False
    if by_regions:
        if fallback is not None:
            candidates.append(fallback)
            _search_regions(
                scenario,
                net,
                built,
                weights,
                settings,
                fallback,
                deadline - reserve,
                score,
                candidates,
                logs,
            )
    else:
        sub_closed, lp_bound = _search_relaxation(
            scenario,
            net,
            built,
            weights,
            settings,
            z_plan,
            deadline,
            reserve,
            score,
            candidates,
            logs,
        )
        if lp_bound is not None:
            bound = lp_bound if bound is None else max(bound, lp_bound)
    if not candidates and fallback is not None:
        candidates.append(fallback)
    candidates.sort(key=lambda c: c[0])
    best = candidates[0] if candidates else None
    if best is not None:
        logs.append(
            "Incumbents: "
            + "; ".join(f"{name} {value:.6f}" for value, name, _, _ in candidates)
            + "\n"
        )
    logs.append(
        f"Bound: {bound:.6f} ({BOUND_WORDS[by_regions]})\n"
        if bound is not None
        else "Bound: none (neither the queue-free bound nor the LP relaxation was solved)\n"
    )
    targets = weights.closure_by if check_closure else None
    if targets and candidates:
        best = _first_on_time(
            scenario,
            built.options,
            candidates,
            targets,
            z_plan,
            score,
            logs,
            built.new_sets,
            deadline=deadline,
        )
    # 3. The whole MIP from the incumbent, when the search above left time and finished.
    time_left = deadline - time.monotonic() - reserve
    if best is None or (sub_closed and time_left > 0.5 and not _proven(best[0], bound, settings)):
        # The fallback's LP has other columns (no shared rows): no start from it. (Plans of
        # the search by groups of regions, scored alike, never get here: it closes nothing.)
        start_from = best[3].model if best is not None and best[1] != FALLBACK_NAME else None
        mip_settings = dataclasses.replace(settings, time_limit=max(0.5, time_left))
        outcome = run_highs(built.model, mip_settings, mip=True, start=start_from)
        logs.append(_stage_log("whole MIP", outcome))
        _raise_without_plan(outcome)
        if targets and best is not None:
            z = np.round(built.model.variables["choose"].solution.to_numpy())
            late = _late_regions(scenario, built.options, z, targets, new_sets=built.new_sets)
            if late and not _late_regions(
                scenario, built.options, best[2], targets, new_sets=built.new_sets
            ):
                logs.append(
                    f"Simulated: the whole MIP's plan closes {_late_words(late)}; kept "
                    f"{best[1]} ({best[0]:.6f}), which closes every region on time\n"
                )
                return _as_outcome(best, bound, settings, deadline, logs)
        if bound is not None and outcome.bound is not None:
            outcome = dataclasses.replace(outcome, bound=max(bound, outcome.bound))
        return built, dataclasses.replace(outcome, log="\n".join(logs))
    return _as_outcome(best, bound, settings, deadline, logs)


def _search_relaxation(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    weights: Weights,
    settings: SolverSettings,
    z_plan: np.ndarray | None,
    deadline: float,
    reserve: float,
    score: Callable[[np.ndarray], BuiltModel | None],
    candidates: list[Candidate],
    logs: list[str],
) -> tuple[bool, float | None]:
    """Stages 2 and 3 of :func:`_solve_mip`: the LP relaxation, then the plan it gives or the
    sub-MIP around it (RENS); the plans found join ``candidates``.

    The LP relaxation is solved without the shared capacities on the way (links, nodes, lift
    pools): still a lower bound, and with them the relaxation is too slow for the minute
    (docs/optimization.md, "How it is solved"). Returns whether the sub-MIP (or an integral
    LP) was solved to optimality, and the LP's bound (``None`` if it did not finish).
    """
    lp = build_model(
        scenario, net, built.options, weights, relax=True, shared=False, new_sets=built.new_sets
    )
    lp_out = run_highs(
        lp.model,
        dataclasses.replace(
            settings, method="simplex", time_limit=_until(deadline, reserve, LP_SHARE)
        ),
        mip=False,
    )
    logs.append(_stage_log("LP relaxation (lower bound)", lp_out))
    if lp_out.termination in ("infeasible", "infeasible_or_unbounded"):
        _raise_without_plan(lp_out)
    sub_closed = False
    if lp_out.termination == "optimal":
        z_lp = lp.model.variables["choose"].solution.to_numpy()
        whole = _whole(built.options, z_lp)
        if whole is not None:  # the LP already chose whole units: that is a plan
            found = score(whole)
            if found is not None:
                candidates.append((_value(found), "LP relaxation, integral", whole, found))
                sub_closed = True
        else:
            sub_closed = _rens(
                scenario,
                net,
                built,
                weights,
                settings,
                z_lp,
                z_plan,
                deadline,
                reserve,
                candidates,
                logs,
            )
    else:
        logs.append("LP relaxation: not solved within its time; no sub-MIP\n")
    del lp
    return sub_closed, lp_out.bound


def _search_regions(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    weights: Weights,
    settings: SolverSettings,
    fallback: Candidate,
    until: float,
    score: Callable[[np.ndarray], BuiltModel | None],
    candidates: list[Candidate],
    logs: list[str],
) -> None:
    """Stage 1b of :func:`_solve_mip`: the planner's plan (``fallback``, scored without the
    shared capacities) improved by groups of regions until ``until``; the plan joins
    ``candidates`` if it gained."""
    frozen = built.new_sets.pairs["stock"].tolist() if built.new_sets is not None else []
    z, gained, lines = improve_by_regions(
        scenario,
        net,
        built.options,
        fallback[2],
        region_values(fallback[3]),
        weights,
        settings,
        until,
        frozen_stocks=frozen,
    )
    logs.extend(lines)
    if gained <= 0.0:
        return
    found = score(z)
    if found is None:
        logs.append("Regions search: its plan was not scored in the time left\n")
        return
    candidates.append((_value(found), REGIONS_NAME, z, found))


def _fallback(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    z_plan: np.ndarray,
    weights: Weights,
    settings: SolverSettings,
    deadline: float,
    logs: list[str],
) -> Candidate | None:
    """The day-0 planner's plan scored without the shared capacities on the way: a plan that
    comes back when nothing else is scored (its value is then that of the model without them).

    An LP of seconds at every size tried (1.8 s on eastern-flank, where the whole one can take
    minutes), given what is left of ``deadline`` and at least :data:`FALLBACK_MIN_S`: the one
    stage that may overrun the time limit by more than :data:`MIN_STAGE_S`.
    """
    timed = dataclasses.replace(
        settings, time_limit=max(FALLBACK_MIN_S, deadline - time.monotonic())
    )
    found = _solve_fixed(scenario, net, built, z_plan, weights, timed, shared=False)
    if found is None:
        logs.append("Day-0 planner: not scored without the shared capacities either\n")
        return None
    name = FALLBACK_NAME
    logs.append(f"Day-0 planner: {_value(found):.6f} without the shared capacities\n")
    return (_value(found), name, z_plan, found)


def _as_outcome(
    best: Candidate,
    bound: float | None,
    settings: SolverSettings,
    deadline: float,
    logs: list[str],
) -> tuple[BuiltModel, SolveOutcome]:
    value, _, _, model = best
    gap = 0.0 if bound is None else max(0.0, value - bound) / max(abs(value), 1e-12)
    proven = bound is not None and gap <= settings.mip_gap
    outcome = SolveOutcome(
        status="ok",
        termination="optimal" if proven else "time_limit",
        has_solution=True,
        objective=value,
        mip_gap=gap if bound is not None else None,
        runtime_s=settings.time_limit - (deadline - time.monotonic()),
        log="\n".join(logs),
        bound=bound,
    )
    return model, outcome


def _first_on_time(
    scenario: Scenario,
    options: pd.DataFrame,
    candidates: list[Candidate],
    targets: Mapping[str, float],
    z_plan: np.ndarray | None,
    score: Callable[[np.ndarray], BuiltModel | None],
    logs: list[str],
    new_sets: NewSets | None = None,
    *,
    deadline: float = math.inf,
) -> Candidate:
    """The safeguard (docs/optimization.md, "How it is solved"): the best plan, in the model's
    objective, whose simulation closes no region later than its target.

    Every candidate is simulated (about 0.3 s each on eastern-flank). One that closes a region
    late is blended with the day-0 planner's plan, when it is at hand (:func:`_blend`); the
    blend is scored in the model (its choices fixed) and joins the candidates. If no plan
    closes every region on time, the best one is kept and the log says so. No simulation
    starts after ``deadline``: the candidates left are not simulated, and if none was found on
    time the day-0 planner's plan is kept where it is a candidate (else the best).
    """
    on_time: list[Candidate] = []
    for i, cand in enumerate(candidates):
        if time.monotonic() >= deadline:
            logs.append(f"Simulated: time is up; {len(candidates) - i} plan(s) not simulated\n")
            if not on_time:
                planner = [c for c in candidates if c[1] in ("day-0 planner", FALLBACK_NAME)]
                kept = planner[0] if planner else candidates[0]
                logs.append(f"Kept: {kept[1]} ({kept[0]:.6f}), not checked\n")
                return kept
            break
        late = _late_regions(scenario, options, cand[2], targets, new_sets=new_sets)
        if not late:
            logs.append(f"Simulated: {cand[1]} closes every region on time\n")
            on_time.append(cand)
            continue
        logs.append(f"Simulated: {cand[1]} closes {_late_words(late)}\n")
        if z_plan is None:
            continue
        z = _blend(
            scenario, options, cand[2], z_plan, targets, logs, new_sets=new_sets, deadline=deadline
        )
        if z is None or np.array_equal(z, z_plan):
            continue
        found = score(z)
        if found is not None:
            name = f"day-0 planner blended with {cand[1]}"
            logs.append(f"Simulated: {name} closes every region on time ({_value(found):.6f})\n")
            on_time.append((_value(found), name, z, found))
    if not on_time:
        logs.append("Simulated: no plan found closes every region on time; kept the best\n")
        return candidates[0]
    best = min(on_time, key=lambda c: c[0])
    logs.append(f"Kept: {best[1]} ({best[0]:.6f})\n")
    return best


def _blend(
    scenario: Scenario,
    options: pd.DataFrame,
    z: np.ndarray,
    z_plan: np.ndarray,
    targets: Mapping[str, float],
    logs: list[str],
    rounds: int = 6,
    *,
    new_sets: NewSets | None = None,
    deadline: float = math.inf,
) -> np.ndarray | None:
    """``z`` repaired towards the planner's plan until the simulation closes every region on
    time: in each round, the units that close after their region's target in the simulation
    of a late region, and the units the planner sends to a late region, take the planner's
    choice (and so does every unit drawing from a stock that the mix would overdraw).
    ``None`` if the plan is still late after ``rounds``, or when ``deadline`` passes first."""
    unit = options["unit"].to_numpy()
    unit_id = options["unit_id"].to_numpy()
    region = options["region_id"].to_numpy()
    stock = options["stock_id"].to_numpy()
    sets = {st.id: st.sets for st in scenario.stocks}
    cur = np.round(z)
    for _ in range(rounds):
        if time.monotonic() >= deadline:
            logs.append("Repair: time is up\n")
            return None
        late, closed = _late_regions(scenario, options, cur, targets, units=True, new_sets=new_sets)
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
        logs.append(f"Repair: {_late_words(late)}; {back.size} unit(s) take the planner's choice\n")
        if np.array_equal(mix, cur):
            return None
        cur = mix
    if time.monotonic() >= deadline:
        return None
    return None if _late_regions(scenario, options, cur, targets, new_sets=new_sets) else cur


def _late_regions(
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
    closed = _closure_days(scenario, result.tables["shortfall"])
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


def _late_words(late: Mapping[str, tuple[float, float]]) -> str:
    return ", ".join(
        f"{rid} on day {closed:g} (target {day:g})" for rid, (closed, day) in sorted(late.items())
    )


def _servers(built: BuiltModel) -> np.ndarray:
    """The shared servers of ``built``, for the sub-models built from it."""
    return built.shared["server"].to_numpy(np.int64) if len(built.shared) else np.zeros(0, int)


def _proven(value: float, bound: float | None, settings: SolverSettings) -> bool:
    return bound is not None and value - bound <= settings.mip_gap * max(abs(value), 1e-12)


def _value(built: BuiltModel) -> float:
    value = built.model.objective.value
    return float(value) if value is not None else math.inf


def _stage_log(title: str, outcome: SolveOutcome) -> str:
    return f"==== {title}: {outcome.termination}, objective {outcome.objective} ====\n" + (
        outcome.log
    )


def _whole(options: pd.DataFrame, z: np.ndarray, tol: float = 1e-6) -> np.ndarray | None:
    """``z`` rounded if every value is within ``tol`` of 0 or 1, else ``None``."""
    near = np.round(z)
    return near if np.all(np.abs(z - near) <= tol) else None


def _rens(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    weights: Weights,
    settings: SolverSettings,
    z_lp: np.ndarray,
    z_start: np.ndarray | None,
    deadline: float,
    reserve: float,
    candidates: list[Candidate],
    logs: list[str],
) -> bool:
    """The sub-MIP around the LP relaxation (RENS): add its plan to ``candidates``.

    A unit that the LP places whole keeps that option; the others choose among the options to
    which the LP gives weight. With ``z_start`` (the planner's plan), a unit whose option
    there differs may also take that one, and the sub-MIP starts from it, so its plan is never
    worse than the planner's. Its start and the sub-MIP run until ``deadline`` less
    ``reserve``; its plan is scored in what is left of ``deadline``. Returns whether the
    sub-MIP was solved to optimality.
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
    sub = build_model(scenario, net, sub_options, weights, shared=False, new_sets=built.new_sets)

    first = None
    if z_start is not None:
        timed = dataclasses.replace(settings, time_limit=_until(deadline, reserve))
        first = _solve_fixed(scenario, net, sub, z_start[index], weights, timed, names=True)
    sub_settings = dataclasses.replace(settings, time_limit=_until(deadline, reserve))
    out = run_highs(
        sub.model, sub_settings, mip=True, start=first.model if first is not None else None
    )
    logs.append(
        _stage_log(
            f"sub-MIP: {int(np.unique(unit[open_unit]).size)} units free among "
            f"{int(open_unit[keep].sum())} options, the rest fixed as in the LP",
            out,
        )
    )
    if not out.has_solution:
        return False
    z = np.zeros(len(options))
    z[index] = np.round(sub.model.variables["choose"].solution.to_numpy())
    timed = dataclasses.replace(settings, time_limit=_until(deadline))
    found = _solve_fixed(scenario, net, built, z, weights, timed, names=True)
    if found is not None:
        candidates.append((_value(found), "sub-MIP around the LP", z, found))
    return out.termination == "optimal"


def bundled_closure_days(scenario: Scenario) -> dict[str, float]:
    """Each region's closure day when the scenario is simulated as given (its own plan).

    The closure day is the first day from which every capability's requirement is met to the
    horizon (as ``assess`` counts it, computed here from the simulation's shortfall table so
    that the engine does not reach down to the assessment layer). A region never closed
    within the horizon gets no target.
    """
    from forcemodel.flow import simulate

    closed = _closure_days(scenario, simulate(scenario).tables["shortfall"])
    return {rid: day for rid, day in closed.items() if math.isfinite(day)}


def _closure_days(scenario: Scenario, short: pd.DataFrame) -> dict[str, float]:
    """Each region's closure day from a simulation's shortfall table (inf: not closed)."""
    horizon = scenario.meta.horizon_days
    out: dict[str, float] = {}
    for rid, rows in short.groupby("region", sort=True):
        unmet = rows.loc[rows["shortfall"] > 1e-9, "day"].to_numpy()
        if unmet.size and unmet.max() >= horizon:
            out[str(rid)] = math.inf
            continue
        out[str(rid)] = float(unmet.max() + 1) if unmet.size else 0.0
    return out


def write_model_file(model: linopy.Model, path: str | Path) -> Path:
    """Write a linopy model as MPS or LP (by the file's suffix) with linopy's own writer.

    In MPS, rows and columns are named by constraint or variable and coordinates
    (``rsom_capacity(lithuania,equipment,22)#500``); the LP format allows no ``-`` in a name
    (ids have them), so there they are linopy's plain ``x``/``c`` labels. Raises
    :class:`ValueError` for any other suffix.
    """
    path = Path(path)
    io_api = _model_format(path)
    model.to_file(path, io_api=io_api, explicit_coordinate_names=io_api == "mps")
    return path


def _model_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in MODEL_FORMATS:
        raise ValueError(f"the model file must end in .mps or .lp, got '{Path(path).name}'")
    return MODEL_FORMATS[suffix]


def _fixed_lp(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    weights: Weights,
    settings: SolverSettings,
) -> BuiltModel | None:
    """The MIP's choices fixed at their values, the LP that remains solved (simplex): its duals.

    ``None`` when that LP has no optimal solution (then the result has no bindings).
    """
    z = np.round(built.model.variables["choose"].solution.to_numpy())
    return _solve_fixed(scenario, net, built, z, weights, settings)


def _solve_fixed(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    z: np.ndarray,
    weights: Weights,
    settings: SolverSettings,
    *,
    names: bool = False,
    shared: bool = True,
) -> BuiltModel | None:
    """``built``'s LP with the choices fixed at ``z``, solved (simplex); ``None`` unless optimal.

    ``names``: name HiGHS's columns as linopy does for a start file (see :func:`run_highs`).
    ``shared=False`` leaves out the shared capacities on the way (a plan's score in a
    relaxation of the model: the fallback when the whole LP does not finish).
    """
    lp = build_model(
        scenario,
        net,
        built.options,
        weights,
        relax=True,
        fix_choices=z,
        servers=_servers(built) if shared else np.zeros(0, dtype=np.int64),
        new_sets=built.new_sets,
    )
    lp_settings = dataclasses.replace(settings, method="simplex")
    outcome = run_highs(lp.model, lp_settings, mip=False, names=names)
    return lp if outcome.termination == "optimal" else None


def _planner_choices(
    scenario: Scenario, net: CompiledNetwork, fixed: Mapping[str, Choice] | None
) -> dict[str, Choice]:
    """The simulation's day-0 planner's choice per unit (``fixed`` ones where given)."""
    choices: dict[str, Choice] = {
        scenario.units[p.unit].id: (
            scenario.regions[p.region].id,
            scenario.stocks[p.stock].id if p.stock is not None else None,
        )
        for p in plan_units(scenario, net)
    }
    choices.update(fixed or {})
    return choices


def _planner_keep(
    scenario: Scenario, net: CompiledNetwork, fixed: Mapping[str, Choice] | None
) -> dict[str, Choice] | None:
    """The day-0 planner's choices, to keep among the options; ``None`` if it cannot plan."""
    try:
        return _planner_choices(scenario, net, fixed)
    except UnreachableError:
        return None


def _planner_z(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    fixed: Mapping[str, Choice] | None,
) -> np.ndarray | None:
    """The planner's plan as option choices (1 for its option, 0 for the others).

    ``None`` where it is not a plan of this model: a choice that is not an option, or more
    sets drawn than a stock holds.
    """
    try:
        # The planner runs on the scenario as given: it buys no new sets.
        base = built.new_sets.base if built.new_sets is not None else scenario
        choices = _planner_choices(base, net, fixed)
    except UnreachableError:  # the planner cannot place a unit: no start
        return None
    opts = built.options
    key = list(zip(opts["unit_id"], opts["region_id"], opts["stock_id"], strict=True))
    wanted = {(uid, rid, sid or "") for uid, (rid, sid) in choices.items()}
    z = np.array([1.0 if k in wanted else 0.0 for k in key])
    taken = Counter(opts["unit_id"][z > 0])
    if any(taken.get(uid, 0) != 1 for uid in set(opts["unit_id"])):
        return None
    drawn = Counter(opts["stock_id"][(z > 0) & (opts["stock"].to_numpy() >= 0)])
    sets = {s.id: s.sets for s in scenario.stocks}
    if any(n > sets[sid] for sid, n in drawn.items()):
        return None
    return z


def _check_fixed(scenario: Scenario, fixed: Mapping[str, Choice]) -> None:
    units = {u.id: u for u in scenario.units}
    regions = {r.id for r in scenario.regions}
    stocks = {s.id: s for s in scenario.stocks}
    problems = []
    for uid, (rid, sid) in fixed.items():
        if uid not in units:
            problems.append(f"fixed: no unit '{uid}'")
        if rid not in regions:
            problems.append(f"fixed: unit '{uid}' to no region '{rid}'")
        if sid is not None and sid not in stocks:
            problems.append(f"fixed: unit '{uid}' draws from no stock '{sid}'")
        elif sid is not None and uid in units and stocks[sid].set_type != units[uid].set_type:
            problems.append(
                f"fixed: unit '{uid}' (set type {units[uid].set_type}) cannot draw from "
                f"'{sid}' (set type {stocks[sid].set_type})"
            )
    if problems:
        raise ValueError("; ".join(problems))
    drawn = Counter(sid for _, sid in fixed.values() if sid is not None)
    over = [
        f"stock '{sid}' holds {stocks[sid].sets} set(s), {n} unit(s) are fixed to draw from it"
        for sid, n in drawn.items()
        if n > stocks[sid].sets
    ]
    if over:
        raise InfeasibleError("no plan exists: fixed choices draw more sets than there are", over)
