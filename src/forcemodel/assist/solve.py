"""Solve a case: choose the model (per-arc or pools, daily or on a grid), build it, run HiGHS
(or the improvement by parts at large sizes) and read the plan.

:func:`solve` is the dispatcher; docs/assistance.md ("The pool model", "Large cases") says
why each path is taken where it is. What each path decided is logged
(``logging.getLogger("forcemodel.assist.solve")``); the result's ``log`` keeps the solver's
own log, which is part of the result.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import linopy
import numpy as np

from forcemodel.assist import parts, pool
from forcemodel.assist.arcs import BuiltModel, build_model
from forcemodel.assist.compile import Compiled, arc_count, compile_case, pool_size
from forcemodel.assist.formulation import MatchSettings
from forcemodel.assist.greedy import greedy_values
from forcemodel.assist.model import AssistanceCase
from forcemodel.assist.pool_readout import read_pool
from forcemodel.assist.readout import read_arcs
from forcemodel.assist.result import MatchResult
from forcemodel.mip.errors import InfeasibleError, NoSolutionError
from forcemodel.mip.solve import SolveOutcome, run_highs

logger = logging.getLogger(__name__)

#: ``formulation="auto"`` switches to the pool model above this many per-arc delivery
#: variables (arcs x days): the per-arc model's size where it still solves in about a minute.
#: Below it the per-arc model is the faster of the two (both give the same optimum).
AUTO_POOL_VARIABLES = 2_000_000
#: ``auto`` puts the pool model on a grid of ``AUTO_STEP`` days (a restriction,
#: docs/assistance.md) above this many daily pool variables (:func:`pool_size`): 1.9 million at
#: 10,000 pledges x 2,000 requirements x 50 courses, whose daily model HiGHS cannot even relax
#: within a minute.
AUTO_GRID_VARIABLES = 800_000
AUTO_STEP = 7
#: Pool MIPs with more variables than this are improved part by part from the greedy start
#: (:mod:`forcemodel.assist.parts`) instead of by HiGHS on the whole MIP, which does not
#: finish its root LP at those sizes: ``AUTO_PARTS_ROUNDS`` rounds over the groups, each
#: group's MIP limited by work (:data:`forcemodel.assist.parts.GROUP_MAX_NODES`), not by time,
#: so that the plan is the same on every machine and under any load (docs/assistance.md).
AUTO_PARTS_VARIABLES = 150_000
AUTO_PARTS_ROUNDS = 1

#: The outcome of a model with no variable: nothing to decide, the empty plan is optimal.
NOTHING_TO_DECIDE = SolveOutcome("ok", "optimal", True, 0.0, None, 0.0, "nothing to decide\n")


def solve(
    case: AssistanceCase,
    *,
    time_limit: float = 60.0,
    mip_gap: float = 1e-4,
    relax: bool = False,
    formulation: str = "auto",
    step: int | None = None,
    node_limit: int | None = None,
) -> MatchResult:
    """Build, solve and read the matching model (without explanations).

    ``formulation``: ``pool`` (:mod:`forcemodel.assist.pool`: far fewer variables), ``arcs``
    (the per-arc model), or ``auto``: the per-arc model unless it would exceed
    ``AUTO_POOL_VARIABLES`` and the case has no recorded deliveries (which name pledges and
    requirements: per-arc only). Both are exact (the same optimum); the per-arc model stays
    the choice where it fits because HiGHS solves it faster there (docs/assistance.md, "The
    pool model"). ``step``: days between the pool model's decision days (1: daily; more: a
    restriction, docs/assistance.md); ``None`` (default): daily, unless ``auto`` chose the pool
    model and the daily one would exceed ``AUTO_GRID_VARIABLES``: then ``AUTO_STEP`` days.
    A pool MIP above ``AUTO_PARTS_VARIABLES`` variables is not handed to HiGHS whole: its
    greedy start is improved part by part (:mod:`forcemodel.assist.parts`) for
    ``AUTO_PARTS_ROUNDS`` rounds of work-limited MIPs, and the result's termination is
    ``feasible`` (a plan, not proven optimal; :func:`forcemodel.assist.parts.daily_bound`
    bounds it), the same plan on every run. ``time_limit`` is then only a safety net: should
    it cut the improvement short, the termination is ``time_limit`` and the log says that the
    plan may depend on the machine. ``node_limit``: HiGHS's branch-and-bound node limit for a
    whole MIP (a stopping rule by work: the same plan on any machine; with it ``time_limit``
    may be ``math.inf``).

    Raises :class:`InfeasibleError` when recorded deliveries cannot be honoured, and
    :class:`NoSolutionError` when the solver stops without a plan.
    """
    if formulation not in ("auto", "pool", "arcs"):
        raise ValueError(f"unknown formulation '{formulation}': use auto, pool or arcs")
    if formulation == "pool" and case.deliveries:
        raise ValueError("the pool model does not keep recorded deliveries: use 'arcs'")
    if step is not None and step < 1:
        raise ValueError(f"the time step must be 1 day or more, got {step}")
    # ``auto`` sizes the per-arc model from the pool's compile, which is far cheaper (at the
    # target size the per-arc compile alone took seconds, only to be thrown away).
    pooled = None
    if formulation == "pool" or (formulation == "auto" and not case.deliveries):
        pooled = compile_case(case, per_line=False)
    if pooled is not None and (
        formulation == "pool"
        or arc_count(case, pooled) * (pooled.horizon + 1) > AUTO_POOL_VARIABLES
    ):
        if step is None:
            step = AUTO_STEP if pool_size(pooled) > AUTO_GRID_VARIABLES else 1
        logger.info("pool model on a grid of %d day(s)", step)
        return _solve_pool(
            case,
            pooled,
            time_limit=time_limit,
            mip_gap=mip_gap,
            relax=relax,
            step=step,
            node_limit=node_limit,
        )
    if step not in (None, 1):
        raise ValueError("a time step other than 1 day is for the pool model only")
    logger.info("per-arc model")
    return _solve_arcs(
        case, time_limit=time_limit, mip_gap=mip_gap, relax=relax, node_limit=node_limit
    )


def _no_plan(outcome: SolveOutcome) -> NoSolutionError:
    return NoSolutionError(
        f"the solver stopped without a plan ({outcome.termination.replace('_', ' ')})",
        ["give it more time (time_limit) or a larger gap (mip_gap)"],
    )


def _solve_arcs(
    case: AssistanceCase,
    *,
    time_limit: float,
    mip_gap: float,
    relax: bool,
    node_limit: int | None = None,
) -> MatchResult:
    """:func:`solve` with the per-arc model."""
    comp = compile_case(case)
    with linopy.options as opts:
        opts(semantics="v1")
        built: BuiltModel = build_model(case, comp, relax=relax)
        settings = MatchSettings(time_limit=time_limit, mip_gap=mip_gap, node_limit=node_limit)
        settings.check(mip=built.mip)
        if built.model.nvars == 0:
            # Nothing to decide (no pledge reaches any requirement): the empty plan is optimal.
            return read_arcs(case, built, NOTHING_TO_DECIDE)
        outcome = run_highs(built.model, settings, mip=built.mip)
        if outcome.termination in ("infeasible", "infeasible_or_unbounded"):
            raise InfeasibleError(
                "no plan honours every recorded delivery",
                [
                    "a recorded delivery needs more than its pledge holds, or more than the "
                    "hubs and routes carry on its day; check the deliveries table",
                    f"solver status: {outcome.termination}",
                ],
            )
        if not outcome.has_solution:
            raise _no_plan(outcome)
        return read_arcs(case, built, outcome)


def _solve_pool(
    case: AssistanceCase,
    comp: Compiled,
    *,
    time_limit: float,
    mip_gap: float,
    relax: bool,
    step: int,
    node_limit: int | None = None,
) -> MatchResult:
    """:func:`solve` with the pool model, its MIP started from the greedy plan
    (:mod:`forcemodel.assist.greedy`) and, above ``AUTO_PARTS_VARIABLES``, improved part by
    part instead (:mod:`forcemodel.assist.parts`)."""
    with linopy.options as opts:
        opts(semantics="v1")
        pm = pool.build_pool(case, step=step, relax=relax, comp=comp)
        settings = MatchSettings(time_limit=time_limit, mip_gap=mip_gap, node_limit=node_limit)
        settings.check(mip=pm.mip)
        if pm.model.nvars == 0:
            return read_pool(pm, NOTHING_TO_DECIDE)
        if pm.mip:
            # HiGHS's own heuristics find poor plans at large sizes (and its LP relaxation
            # takes longer than the time budget there): start from the greedy plan, which is
            # feasible by construction and costs seconds (docs/assistance.md).
            values = greedy_values(pm)
            if pm.model.nvars > AUTO_PARTS_VARIABLES:
                logger.info("greedy start improved part by part (%d variables)", pm.model.nvars)
                return _solve_by_parts(pm, values, time_limit)
            with tempfile.TemporaryDirectory(prefix="forcemodel-match-") as tmp:
                start = Path(tmp) / "start.sol"
                write_start(pm.model, values, start)
                outcome = run_highs(pm.model, settings, mip=True, start=start, names=True)
        else:
            outcome = run_highs(pm.model, settings, mip=pm.mip)
        if not outcome.has_solution:
            raise _no_plan(outcome)
        return read_pool(pm, outcome)


def _solve_by_parts(pm: pool.PoolModel, values: np.ndarray, time_limit: float) -> MatchResult:
    """The greedy plan ``values`` of pool model ``pm`` improved part by part
    (``AUTO_PARTS_ROUNDS`` rounds; ``time_limit``: the safety net of
    :func:`forcemodel.assist.parts.improve`)."""
    began = time.perf_counter()
    split = parts.split_parts(pm)
    groups = parts.neighbourhoods(pm, split)
    got = parts.improve(
        split,
        values[split.labels],
        rounds=AUTO_PARTS_ROUNDS,
        groups=groups,
        time_limit=max(0.0, time_limit - (time.perf_counter() - began)),
    )
    x, log = got.x, got.log
    out = values.copy()
    out[split.labels] = x
    n_groups = int(np.unique(groups[groups >= 0]).size)
    tried = len({k for k, _, _ in log})
    better = len({k for k, b, a in log if a > b})
    # No time in the text: the log is part of the result, which must be the same every run.
    text = (
        f"greedy start improved part by part: {tried} of {n_groups} groups tried "
        f"({len(log)} solves, {got.rounds} of {AUTO_PARTS_ROUNDS} rounds), {better} improved; "
        f"objective {float(split.cost @ values[split.labels]):.6g} -> "
        f"{float(split.cost @ x):.6g}\n"
    )
    if got.timed_out:
        text += (
            f"stopped by the time limit ({time_limit:g} s, a safety net) before the work "
            "limits: this plan may depend on the machine's speed and load\n"
        )
        logger.warning("the time limit (%g s) cut the improvement by parts short", time_limit)
    outcome = SolveOutcome(
        "ok",
        "time_limit" if got.timed_out else "feasible",
        True,
        float(split.cost @ x),
        None,
        time.perf_counter() - began,
        text,
    )
    return read_pool(pm, outcome, out)


def write_start(m: linopy.Model, values: np.ndarray, path: Path) -> None:
    """A HiGHS solution file giving every variable of ``m`` its value in ``values`` (by label),
    for :func:`forcemodel.mip.solve.run_highs` (``start``, with ``names=True``: HiGHS
    then knows the columns as ``x<label>`` and matches them by name)."""
    labels = np.concatenate([m.variables[name].labels.to_numpy().ravel() for name in m.variables])
    labels = np.sort(labels[labels >= 0])
    with path.open("w", encoding="utf-8") as out:
        out.write("Model status\nNot Set\n\n# Primal solution values\nFeasible\nObjective 0\n")
        out.write(f"# Columns {labels.size}\n")
        out.writelines(f"x{lab} {float(values[lab])!r}\n" for lab in labels.tolist())
