"""The search's first plans: the day-0 planner's choices as a plan of the model, and any plan
scored in the model with its choices fixed (the LP that remains, solved by simplex)."""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Mapping

import numpy as np

from forcemodel.flow.plan import UnreachableError, plan_units
from forcemodel.mip.solve import SolverSettings, run_highs
from forcemodel.network.compile import CompiledNetwork
from forcemodel.optimize.candidate import FALLBACK, Candidate, value_of
from forcemodel.optimize.model import BuiltModel, Choice, Weights, build_model
from forcemodel.optimize.stopping import Budget
from forcemodel.scenario.model import Scenario

log = logging.getLogger(__name__)

#: The least time, in seconds, that the fallback (the planner's plan scored without the
#: shared capacities, when its whole LP did not finish) is given, even past the deadline.
FALLBACK_MIN_S = 30.0


def servers_of(built: BuiltModel) -> np.ndarray:
    """The shared servers of ``built``, for the sub-models built from it."""
    return built.shared["server"].to_numpy(np.int64) if len(built.shared) else np.zeros(0, int)


def solve_fixed(
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
    relaxation of the model: the fallback when the whole LP does not finish). The user's
    ``extra`` constraints of ``built`` are added to it too.
    """
    lp = build_model(
        scenario,
        net,
        built.options,
        weights,
        relax=True,
        fix_choices=z,
        servers=servers_of(built) if shared else np.zeros(0, dtype=np.int64),
        new_sets=built.new_sets,
        extra=built.extra,
    )
    lp_settings = dataclasses.replace(settings, method="simplex")
    outcome = run_highs(lp.model, lp_settings, mip=False, names=names)
    return lp if outcome.termination == "optimal" else None


def fixed_lp(
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
    return solve_fixed(scenario, net, built, z, weights, settings)


def fallback(
    scenario: Scenario,
    net: CompiledNetwork,
    built: BuiltModel,
    z_plan: np.ndarray,
    weights: Weights,
    budget: Budget,
) -> Candidate | None:
    """The day-0 planner's plan scored without the shared capacities on the way: a plan that
    comes back when nothing else is scored (its value is then that of the model without them).

    An LP of seconds at every size tried (1.8 s on eastern-flank, where the whole one can take
    minutes), given what is left of the budget and at least :data:`FALLBACK_MIN_S`: the one
    stage that may overrun the time limit by more than a moment.
    """
    timed = budget.stage(at_least=FALLBACK_MIN_S)
    found = solve_fixed(scenario, net, built, z_plan, weights, timed, shared=False)
    if found is None:
        log.info("Day-0 planner: not scored without the shared capacities either")
        return None
    log.info("Day-0 planner: %.6f without the shared capacities", value_of(found))
    return Candidate(value_of(found), FALLBACK, z_plan, found, shared=False, planner=True)


def planner_choices(
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


def planner_keep(
    scenario: Scenario, net: CompiledNetwork, fixed: Mapping[str, Choice] | None
) -> dict[str, Choice] | None:
    """The day-0 planner's choices, to keep among the options; ``None`` if it cannot plan."""
    try:
        return planner_choices(scenario, net, fixed)
    except UnreachableError:
        return None


def choices_z(
    scenario: Scenario, built: BuiltModel, choices: Mapping[str, Choice]
) -> np.ndarray | None:
    """``choices`` as option choices of ``built`` (1 for its option, 0 for the others).

    ``None`` where it is not a plan of this model: a choice that is not an option, or more
    sets drawn than a stock holds.
    """
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


def planner_z(
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
        choices = planner_choices(base, net, fixed)
    except UnreachableError:  # the planner cannot place a unit: no start
        return None
    return choices_z(scenario, built, choices)
