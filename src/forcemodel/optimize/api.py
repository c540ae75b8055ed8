"""The optimiser's entry point: :func:`optimize`, with its checks and the model file writer."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import linopy
import numpy as np
import pandas as pd

from forcemodel.mip.errors import InfeasibleError
from forcemodel.mip.solve import SolverSettings, run_highs
from forcemodel.network.compile import CompiledNetwork, compile_network
from forcemodel.optimize.explain import bindings_table, unmet_requirements, with_bde_day_prices
from forcemodel.optimize.model import BuiltModel, Choice, Weights, build_model, option_table
from forcemodel.optimize.plan import OptimizationResult, Provenance, read_solution, with_purchases
from forcemodel.optimize.prepositioning import NewSets, candidate_sets, check_budget
from forcemodel.optimize.safeguard import bundled_closure_days
from forcemodel.optimize.search import Found, interrupted, raise_without_plan, solve_mip
from forcemodel.optimize.simulated import region_table
from forcemodel.optimize.start import fixed_lp, planner_keep, solve_fixed
from forcemodel.optimize.stopping import Budget, WorkLimits
from forcemodel.scenario.model import Scenario

#: Suffixes ``write_model`` understands, and the format each one writes.
MODEL_FORMATS: dict[str, str] = {".mps": "mps", ".lp": "lp"}

#: How the MIP is searched (docs/optimization.md, "How it is solved"): around the LP
#: relaxation, by groups of regions from the day-0 planner's plan, or ``auto``: by groups of
#: regions above :data:`forcemodel.optimize.search.LARGE_OPTIONS` options.
SEARCHES: tuple[str, ...] = ("auto", "relaxation", "regions")

#: A user's hook: called with each built model before it is solved, to add constraints or
#: variables to ``built.model`` (as PyPSA's ``extra_functionality``).
ExtraFunctionality = Callable[[BuiltModel], None]

#: The logger whose records (every stage's, HiGHS's logs at DEBUG) make up the result's log.
LOGGER = "forcemodel.optimize"

#: The settings' time limit when the call stops by work (it is not used then).
DEFAULT_TIME_LIMIT = 50.0


def optimize(
    scenario: Scenario,
    *,
    time_limit: float | None = None,
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
    work: WorkLimits | None = None,
    extra_functionality: ExtraFunctionality | None = None,
    simulated_search: bool | None = None,
) -> OptimizationResult:
    """Choose every unit's region and set use to minimise the weighted shortfall, then cost.

    Args:
        scenario: a loaded scenario.
        time_limit: stop by the clock: seconds the whole call may run, counted from its
            start (finite, more than 0). Every stage gets what is left of it
            (docs/optimization.md, "The deadline"). At the limit the best plan found so far is
            returned (``termination == "time_limit"``; ``bound`` and ``mip_gap`` say how
            good); with ``start="planner"`` that is at least the day-0 planner's plan.
            Ignored with ``work``. ``None`` (default) with no ``work``: the default
            :class:`WorkLimits` (the same plan on any machine).
        mip_gap: relative optimality gap at which the MIP stops (0 or more, below 1).
        method: ``choose``, ``simplex`` or ``ipm`` (for the MIP, the method of its LP
            relaxations); ``pdlp`` only with ``relax``.
        threads: HiGHS threads; ``None`` for its default (1 when stopping by work, so that the
            same input gives the same plan on any machine), 1 inside parallel sweeps.
        weights: day weights, early-gap weight and cost weight (:class:`Weights`); none:
            the scenario's (``meta.objective``, :meth:`Weights.of`).
        keep_assignments: keep pre-assigned units (``assigned_to``) in their region.
        relax: solve the LP relaxation (choices in [0, 1]); the plan then takes each unit's
            largest choice and is not guaranteed to respect the stocks' sets.
        fixed: pin units to a (region id, stock id or None) choice, e.g. to score a given plan
            in the model's own objective.
        write_model: write the built model (before it is solved) to this ``.mps`` or ``.lp``
            file with linopy's writer, so that another solver can check it; written even when
            no plan is found, and before the budget starts.
        duals: fix the MIP's choices, solve the LP that remains and fill
            ``OptimizationResult.bindings`` (shadow prices) and ``unmet``; with ``relax``,
            read them from the LP itself.
        start: ``"planner"`` gives the MIP a first plan, the simulation's day-0 planner's
            choices (``fixed`` ones where given), so the plan returned is never worse in the
            model's objective than the planner's; ``None`` starts from nothing.
        closure_by: soft closure targets, region id -> day: a shortfall from that day on weighs
            ``1 + weights.late_weight`` times as much. ``"bundled"``: the day the simulation
            closes each region with the scenario as given (:func:`bundled_closure_days`).
        check_closure: with ``closure_by``, simulate the candidate plans of the search and
            keep the best that closes no region later than its target (the safeguard).
        budget: money for new pre-positioned sets (millions, 0 or more), in place of the
            scenario's ``prepositioning.budget_m``.
        search: how the MIP is searched (:data:`SEARCHES`).
        work: a deterministic stopping rule (:class:`WorkLimits`) in place of ``time_limit``:
            the same input then gives the same plan on any machine.
        extra_functionality: a hook called with every model the search builds (a
            :class:`BuiltModel`, before it is solved), to add the user's own constraints to
            ``built.model`` (linopy), as PyPSA's ``extra_functionality``. The day-0 planner's
            plan and plans found by groups of regions are scored with them; a plan that breaks
            them is not kept.
        simulated_search: improve the plan kept in the simulation, moving one unit at a time
            (docs/optimization.md, "The simulated search"), so that the plan returned is
            never worse in the simulation than the day-0 planner's or the model's best; it
            takes the safeguard's place. ``None`` (default): on with ``closure_by`` and
            ``check_closure`` (as ``forcemodel optimize`` runs), off otherwise and with
            ``relax`` or a budget for new sets.

    Raises:
        ValueError: a setting that cannot be used.
        InfeasibleError: no plan meets the constraints (reasons name the units or stocks).
        NoSolutionError: no plan could be scored in the budget.
    """
    if work is None and time_limit is None:
        work = WorkLimits()  # the default stopping rule: by work, not by the clock
    if work is not None and threads is None:
        threads = 1  # HiGHS with one thread: the same plan on any machine
    settings = SolverSettings(
        time_limit=DEFAULT_TIME_LIMIT if time_limit is None else time_limit,
        mip_gap=mip_gap,
        method=method,
        threads=threads,
    )
    _check_settings(settings, relax, work, start, search, extra_functionality)
    check_budget(scenario, budget)
    weights = _weights(scenario, weights, closure_by)
    if fixed is not None:
        check_fixed(scenario, fixed)
    if write_model is not None:
        model_format(write_model)
    if simulated_search is None:
        simulated_search = weights.closure_by is not None and check_closure
    if simulated_search and (relax or budget is not None or scenario.prepositioning is not None):
        simulated_search = False  # it moves units between existing stocks only
    with captured_log() as lines:
        result = _optimize(
            scenario,
            settings,
            work,
            weights,
            keep_assignments=keep_assignments,
            relax=relax,
            fixed=fixed,
            write_model=write_model,
            duals=duals,
            start=start,
            check_closure=check_closure,
            budget=budget,
            search=search,
            extra=extra_functionality,
            simulated=simulated_search,
        )
    return dataclasses.replace(result, log="\n".join(lines) + ("\n" if lines else ""))


def _check_settings(
    settings: SolverSettings,
    relax: bool,
    work: WorkLimits | None,
    start: str | None,
    search: str,
    extra: object,
) -> None:
    """Raise :class:`ValueError` for a setting of :func:`optimize` that cannot be used."""
    settings.check(mip=not relax)
    if not settings.mip_gap < 1:
        raise ValueError(f"the optimality gap must be below 1 (a share), got {settings.mip_gap:g}")
    if work is not None:
        work.check()
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
    if extra is not None and not callable(extra):
        raise ValueError("extra_functionality must be a callable taking the built model")


def _weights(
    scenario: Scenario, weights: Weights | None, closure_by: Mapping[str, float] | str | None
) -> Weights:
    """The weights of the call: the scenario's (or ``weights``) with the closure targets."""
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
    return weights


def _optimize(
    scenario: Scenario,
    settings: SolverSettings,
    work: WorkLimits | None,
    weights: Weights,
    *,
    keep_assignments: bool,
    relax: bool,
    fixed: Mapping[str, Choice] | None,
    write_model: str | Path | None,
    duals: bool,
    start: str | None,
    check_closure: bool,
    budget: float | None,
    search: str,
    extra: ExtraFunctionality | None,
    simulated: bool,
) -> OptimizationResult:
    """:func:`optimize` once its settings are checked."""
    # Candidate new sets are stocks appended to the scenario's (after the closure targets,
    # which are those of the scenario as given); the result's scenario has the sets bought.
    base = scenario
    scenario, new_sets = candidate_sets(scenario, budget)

    def finish(result: OptimizationResult) -> OptimizationResult:
        return with_purchases(result, new_sets) if new_sets is not None else result

    budget_ = Budget(settings, work)
    net = compile_network(scenario)
    # Options are pruned on large scenarios (option_table): the day-0 planner's plan, the
    # search's first incumbent, always stays among them.
    keep = planner_keep(base, net, fixed) if start == "planner" and not relax else None
    options = option_table(base, net, keep_assignments=keep_assignments, fixed=fixed, keep=keep)
    if new_sets is not None and len(new_sets.pairs):
        options = _with_candidate_options(scenario, net, options, new_sets, keep_assignments, fixed)
    with linopy.options as opts:
        opts(semantics="v1")
        built = build_model(
            scenario, net, options, weights, relax=relax, new_sets=new_sets, extra=extra
        )
        if write_model is not None:
            # Writing the model is not searching: its time is given back to the budget.
            began = time.monotonic()
            write_model_file(built.model, write_model)
            budget_.extend(time.monotonic() - began)
        if relax:
            outcome = run_highs(built.model, budget_.stage(), mip=False)
            raise_without_plan(outcome)
            result = read_solution(scenario, built, outcome, relaxed=True)
            if not duals:
                return finish(result)
            bindings = bindings_table(scenario, built, relaxed=True)
            return finish(
                dataclasses.replace(
                    result, bindings=bindings, unmet=unmet_requirements(scenario, built, bindings)
                )
            )
        try:
            found = solve_mip(
                scenario,
                net,
                built,
                weights,
                budget_,
                fixed,
                start=start,
                check_closure=check_closure,
                search=search,
                simulated=simulated,
            )
        except KeyboardInterrupt:  # Ctrl-C: the best plan scored so far, if any
            stopped = interrupted(budget_)
            if stopped is None:
                raise
            found, duals = stopped, False
        solved, outcome = found.built, found.outcome
        result = read_solution(scenario, solved, outcome, relaxed=False)
        result = dataclasses.replace(result, provenance=provenance(found, budget_, weights))
        if not duals:
            return finish(result)
        lp = (
            solved
            if solved is not built
            else fixed_lp(scenario, net, built, weights, budget_.stage())
        )
        if lp is None:
            return finish(result)
        bindings = bindings_table(scenario, lp, relaxed=False)
        # The same fixed plan with every brigade-day short counted alike: its duals are the
        # prices in brigade-days (docs/optimization.md, "Prices in brigade-days").
        z = np.round(lp.model.variables["choose"].solution.to_numpy())
        plain = solve_fixed(
            scenario, net, lp, z, dataclasses.replace(weights, plain=True), budget_.stage()
        )
        bindings = with_bde_day_prices(
            bindings, bindings_table(scenario, plain, relaxed=False) if plain else None
        )
        unmet = unmet_requirements(scenario, lp, bindings)
        return finish(dataclasses.replace(result, bindings=bindings, unmet=unmet))


def provenance(found: Found, budget: Budget, weights: Weights) -> Provenance:
    """The plan's provenance from the search's outcome."""
    scored = found.scored
    return Provenance(
        rule=budget.rule,
        stopped_by=found.outcome.termination,
        kept=found.stage,
        simulated=scored is not None,
        regions=region_table(scored, weights.closure_by or {})
        if scored is not None
        else Provenance(rule="", stopped_by="", kept="").regions,
        simulated_score=scored.score if scored is not None else None,
        evaluations=found.evaluations,
    )


@contextmanager
def captured_log() -> Iterator[list[str]]:
    """Collect the records of the optimiser's loggers (INFO and below) during the block: the
    result's log (solver.log). The records still reach any handler the user configured."""
    lines: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger = logging.getLogger(LOGGER)
    handler = _Collect(level=logging.DEBUG)
    was = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.DEBUG:
        logger.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(was)


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


def write_model_file(model: linopy.Model, path: str | Path) -> Path:
    """Write a linopy model as MPS or LP (by the file's suffix) with linopy's own writer.

    In MPS, rows and columns are named by constraint or variable and coordinates; the LP
    format allows no ``-`` in a name (ids have them), so there they are linopy's plain
    ``x``/``c`` labels. Raises :class:`ValueError` for any other suffix, or a folder that does
    not exist.
    """
    path = Path(path)
    io_api = model_format(path)
    model.to_file(path, io_api=io_api, explicit_coordinate_names=io_api == "mps")
    return path


def model_format(path: str | Path) -> str:
    """The writer's format of a model file, by its suffix; checks its folder exists."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in MODEL_FORMATS:
        raise ValueError(f"the model file must end in .mps or .lp, got '{p.name}'")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"the model file's folder '{folder}' does not exist")
    return MODEL_FORMATS[suffix]


def check_fixed(scenario: Scenario, fixed: Mapping[str, Choice]) -> None:
    """Raise for fixed choices naming no unit, region or stock, or drawing too many sets."""
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
