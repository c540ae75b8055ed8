"""optimize: choose each unit's region and pre-positioned set to close the requirement gaps.

A daily time-expanded model (linopy) solved by HiGHS: binary choices of (region, own equipment
or a set from a stock) per unit, the regions' RSOM capacity shared day by day, and the weighted
shortfall against every region's requirement as the objective (then a small cost). The maths
and what the model leaves out are in docs/optimization.md.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import linopy
import numpy as np

from forcemodel.flow.plan import UnreachableError, plan_units
from forcemodel.network.compile import CompiledNetwork, compile_network
from forcemodel.optimize.errors import InfeasibleError, NoSolutionError, OptimizationError
from forcemodel.optimize.explain import CAPACITY_KINDS, bindings_table, unmet_requirements
from forcemodel.optimize.model import BuiltModel, Choice, Weights, build_model, option_table
from forcemodel.optimize.plan import OptimizationResult, planned_scenario_data, read_solution
from forcemodel.optimize.solve import METHODS, SolverSettings, run_highs
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
    weights.by_day(scenario.meta.horizon_days)  # raises on bad weights before any work
    if fixed is not None:
        _check_fixed(scenario, fixed)
    if write_model is not None:
        _model_format(write_model)
    net = compile_network(scenario)
    options = option_table(scenario, net, keep_assignments=keep_assignments, fixed=fixed)
    with linopy.options as opts:
        opts(semantics="v1")
        built = build_model(scenario, net, options, weights, relax=relax)
        if write_model is not None:
            write_model_file(built.model, write_model)
        with tempfile.TemporaryDirectory(prefix="forcemodel-start-") as tmp:
            start_file = None
            if start == "planner" and not relax:
                start_file = _planner_start(
                    scenario, net, built, weights, settings, fixed, Path(tmp) / "start.sol"
                )
            outcome = run_highs(built.model, settings, mip=not relax, start=start_file)
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
        result = read_solution(scenario, built, outcome, relaxed=relax)
        if not duals:
            return result
        solved = built if relax else _fixed_lp(scenario, net, built, weights, settings)
        if solved is None:
            return result
        bindings = bindings_table(scenario, solved, relaxed=relax)
        unmet = unmet_requirements(scenario, solved, bindings)
        return dataclasses.replace(result, bindings=bindings, unmet=unmet)


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


def _planner_start(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    weights: Weights,
    settings: SolverSettings,
    fixed: Mapping[str, Choice] | None,
    path: Path,
) -> Path | None:
    """Write the planner's plan as a complete HiGHS solution of ``built`` to ``path``.

    The planner's option gets ``z = 1``, every other 0; the LP that remains (RSOM progress,
    counted power, shortfall) is solved for those choices and its whole solution written.
    ``None`` (no start) where the planner's plan is not a plan of this model: a choice that
    is not an option, more sets drawn than a stock holds, or an LP that is not solved.
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
    lp = _solve_fixed(scenario, net, built, z, weights, settings, names=True)
    if lp is None or lp.model.solver_model is None:
        return None
    lp.model.solver_model.writeSolution(str(path), 0)
    return path


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
