"""optimize: choose each unit's region and pre-positioned set to close the requirement gaps.

A daily time-expanded model (linopy) solved by HiGHS: binary choices of (region, own equipment
or a set from a stock) per unit, the regions' RSOM capacity shared day by day, and the weighted
shortfall against every region's requirement as the objective (then a small cost). The maths
and what the model leaves out are in docs/optimization.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import linopy

from forcemodel.network.compile import compile_network
from forcemodel.optimize.errors import InfeasibleError, NoSolutionError, OptimizationError
from forcemodel.optimize.model import Choice, Weights, build_model, option_table
from forcemodel.optimize.plan import OptimizationResult, planned_scenario_data, read_solution
from forcemodel.optimize.solve import METHODS, SolverSettings, run_highs
from forcemodel.scenario.model import Scenario

__all__ = [
    "METHODS",
    "Choice",
    "InfeasibleError",
    "NoSolutionError",
    "OptimizationError",
    "OptimizationResult",
    "Weights",
    "optimize",
    "planned_scenario_data",
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

    Raises:
        ValueError: a setting that cannot be used (time limit, gap, method, threads, weights,
            unknown ids in ``fixed``).
        InfeasibleError: no plan meets the constraints (reasons name the units or stocks).
        NoSolutionError: the solver stopped before finding any plan.
    """
    settings = SolverSettings(
        time_limit=time_limit, mip_gap=mip_gap, method=method, threads=threads
    )
    settings.check(mip=not relax)
    weights = weights or Weights()
    weights.by_day(scenario.meta.horizon_days)  # raises on bad weights before any work
    if fixed is not None:
        _check_fixed(scenario, fixed)
    net = compile_network(scenario)
    options = option_table(scenario, net, keep_assignments=keep_assignments, fixed=fixed)
    with linopy.options as opts:
        opts(semantics="v1")
        built = build_model(scenario, net, options, weights, relax=relax)
        outcome = run_highs(built.model, settings, mip=not relax)
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
        return read_solution(scenario, built, outcome, relaxed=relax)


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
