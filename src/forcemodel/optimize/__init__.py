"""optimize: choose each unit's region and pre-positioned set to close the requirement gaps.

A daily time-expanded model (linopy) solved by HiGHS: binary choices of (region, own equipment
or a set from a stock) per unit, the regions' RSOM capacity shared day by day, and the weighted
shortfall against every region's requirement as the objective (then a small cost). The maths
and what the model leaves out are in docs/optimization.md.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import linopy
import numpy as np
import pandas as pd

from forcemodel.flow.plan import UnreachableError, plan_units
from forcemodel.network.compile import CompiledNetwork, compile_network
from forcemodel.optimize.errors import InfeasibleError, NoSolutionError, OptimizationError
from forcemodel.optimize.explain import CAPACITY_KINDS, bindings_table, unmet_requirements
from forcemodel.optimize.model import BuiltModel, Choice, Weights, build_model, option_table
from forcemodel.optimize.plan import OptimizationResult, planned_scenario_data, read_solution
from forcemodel.optimize.solve import METHODS, SolveOutcome, SolverSettings, run_highs
from forcemodel.scenario.model import Scenario

#: Suffixes ``write_model`` understands, and the format each one writes.
MODEL_FORMATS: dict[str, str] = {".mps": "mps", ".lp": "lp"}

__all__ = [
    "CAPACITY_KINDS",
    "METHODS",
    "MODEL_FORMATS",
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
    time_limit: float = 60.0,
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
) -> OptimizationResult:
    """Choose every unit's region and set use to minimise the weighted shortfall, then cost.

    Args:
        scenario: a loaded scenario.
        time_limit: seconds the solver may run (more than 0). At the limit the best plan found
            so far is returned (``termination == "time_limit"``, ``mip_gap`` says how good).
        mip_gap: relative optimality gap at which the MIP stops (0 or more).
        method: ``choose``, ``simplex`` or ``ipm`` (for the MIP, the method of its LP
            relaxations); ``pdlp`` only with ``relax``.
        threads: HiGHS threads; ``None`` for its default, 1 inside parallel sweeps.
        weights: day weights, early-gap weight and cost weight (:class:`Weights`).
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

    Raises:
        ValueError: a setting that cannot be used (time limit, gap, method, threads, weights,
            unknown ids in ``fixed``, a ``write_model`` file that is not ``.mps`` or ``.lp``,
            a ``start`` other than ``"planner"`` or ``None``).
        InfeasibleError: no plan meets the constraints (reasons name the units or stocks).
        NoSolutionError: the solver stopped before finding any plan.
    """
    settings = SolverSettings(
        time_limit=time_limit, mip_gap=mip_gap, method=method, threads=threads
    )
    settings.check(mip=not relax)
    if start not in ("planner", None):
        raise ValueError(f"start must be 'planner' or None, got {start!r}")
    weights = weights or Weights()
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
    net = compile_network(scenario)
    options = option_table(scenario, net, keep_assignments=keep_assignments, fixed=fixed)
    with linopy.options as opts:
        opts(semantics="v1")
        built = build_model(scenario, net, options, weights, relax=relax)
        if write_model is not None:
            write_model_file(built.model, write_model)
        if relax:
            outcome = run_highs(built.model, settings, mip=False)
            _raise_without_plan(outcome)
            result = read_solution(scenario, built, outcome, relaxed=True)
            if not duals:
                return result
            bindings = bindings_table(scenario, built, relaxed=True)
            return dataclasses.replace(
                result, bindings=bindings, unmet=unmet_requirements(scenario, built, bindings)
            )
        solved, outcome = _solve_mip(
            scenario, net, built, weights, settings, fixed, deadline, start=start
        )
        result = read_solution(scenario, solved, outcome, relaxed=False)
        if not duals:
            return result
        lp = solved if solved is not built else _fixed_lp(scenario, net, built, weights, settings)
        if lp is None:
            return result
        bindings = bindings_table(scenario, lp, relaxed=False)
        unmet = unmet_requirements(scenario, lp, bindings)
        return dataclasses.replace(result, bindings=bindings, unmet=unmet)


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


#: Share of the time limit kept back, after the search, for the final LP and its duals.
RESERVE_SHARE = 0.08


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
) -> tuple[BuiltModel, SolveOutcome]:
    """Search for the best plan within the deadline (docs/optimization.md, "How it is solved").

    1. the LP relaxation (simplex): a lower bound, and which units it already places whole;
    2. if it is integral, that is the optimum; otherwise a sub-MIP in which the units the LP
       places whole keep that option and the others choose among the options the LP gives
       some weight to (RENS), solved by HiGHS;
    3. the best of that plan and the day-0 planner's (``start="planner"``) is the incumbent;
       if the sub-MIP was solved to optimality and time is left, HiGHS solves the whole MIP
       from it.

    Returns the model whose solution is the plan (``built`` after a whole-MIP solve, else the
    LP with the incumbent's choices fixed) and the outcome, whose ``mip_gap`` is measured
    against the LP bound when the whole MIP was not solved.
    """
    logs: list[str] = []
    reserve = RESERVE_SHARE * settings.time_limit

    def left(share: float = 1.0) -> float:
        return max(0.05, share * (deadline - time.monotonic() - reserve))

    # 1. The LP relaxation.
    lp = build_model(scenario, net, built.options, weights, relax=True)
    lp_out = run_highs(
        lp.model, dataclasses.replace(settings, method="simplex", time_limit=left()), mip=False
    )
    logs.append(_stage_log("LP relaxation (lower bound)", lp_out))
    if lp_out.termination in ("infeasible", "infeasible_or_unbounded"):
        _raise_without_plan(lp_out)
    bound = lp_out.objective if lp_out.termination == "optimal" else None
    candidates: list[tuple[float, str, np.ndarray, BuiltModel]] = []
    sub_closed = False
    z_plan = _planner_z(scenario, net, built, fixed) if start == "planner" else None
    if lp_out.has_solution:
        z_lp = lp.model.variables["choose"].solution.to_numpy()
        whole = _whole(built.options, z_lp)
        if whole is not None:  # the LP already chose whole units: that is a plan
            found = _solve_fixed(scenario, net, built, whole, weights, settings, names=True)
            if found is not None:
                candidates.append((_value(found), "LP relaxation, integral", whole, found))
                sub_closed = True
        else:
            sub_closed = _rens(
                scenario, net, built, weights, settings, z_lp, z_plan, left(), candidates, logs
            )
    if z_plan is not None and not any(name == "day-0 planner" for _, name, _, _ in candidates):
        found = _solve_fixed(scenario, net, built, z_plan, weights, settings, names=True)
        if found is not None:
            candidates.append((_value(found), "day-0 planner", z_plan, found))
    candidates.sort(key=lambda c: c[0])
    best = candidates[0] if candidates else None
    if best is not None:
        logs.append(
            "Incumbents: "
            + "; ".join(f"{name} {value:.6f}" for value, name, _, _ in candidates)
            + "\n"
        )
    # 3. The whole MIP from the incumbent, when the search above left time and finished.
    time_left = deadline - time.monotonic() - reserve
    if best is None or (sub_closed and time_left > 0.5 and not _proven(best[0], bound, settings)):
        with tempfile.TemporaryDirectory(prefix="forcemodel-start-") as tmp:
            start_file = None
            if best is not None and best[3].model.solver_model is not None:
                start_file = Path(tmp) / "start.sol"
                best[3].model.solver_model.writeSolution(str(start_file), 0)
            mip_settings = dataclasses.replace(settings, time_limit=max(0.5, time_left))
            outcome = run_highs(built.model, mip_settings, mip=True, start=start_file)
        logs.append(_stage_log("whole MIP", outcome))
        _raise_without_plan(outcome)
        return built, dataclasses.replace(outcome, log="\n".join(logs))
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
    )
    return model, outcome


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
    time_limit: float,
    candidates: list[tuple[float, str, np.ndarray, BuiltModel]],
    logs: list[str],
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
    sub = build_model(scenario, net, sub_options, weights)
    sub_settings = dataclasses.replace(settings, time_limit=time_limit)
    with tempfile.TemporaryDirectory(prefix="forcemodel-start-") as tmp:
        start_file = None
        if z_start is not None:
            first = _solve_fixed(scenario, net, sub, z_start[index], weights, settings, names=True)
            if first is not None and first.model.solver_model is not None:
                start_file = Path(tmp) / "start.sol"
                first.model.solver_model.writeSolution(str(start_file), 0)
                candidates.append((_value(first), "day-0 planner", z_start, first))
        out = run_highs(sub.model, sub_settings, mip=True, start=start_file)
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
    found = _solve_fixed(scenario, net, built, z, weights, settings, names=True)
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

    short = simulate(scenario).tables["shortfall"]
    horizon = scenario.meta.horizon_days
    out: dict[str, float] = {}
    for rid, rows in short.groupby("region", sort=True):
        unmet = rows.loc[rows["shortfall"] > 1e-9, "day"].to_numpy()
        if unmet.size and unmet.max() >= horizon:
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
) -> BuiltModel | None:
    """``built``'s LP with the choices fixed at ``z``, solved (simplex); ``None`` unless optimal.

    ``names``: name HiGHS's columns as linopy does for a start file (see :func:`run_highs`).
    """
    lp = build_model(scenario, net, built.options, weights, relax=True, fix_choices=z)
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
        choices = _planner_choices(scenario, net, fixed)
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
