"""A lower bound on the optimiser's model that stays cheap at ten times eastern-flank's size.

The **queue-free bound** (docs/optimization.md, "A bound without queues"): the LP relaxation of
the model with every RSOM capacity unlimited (no RSOM rows, no own-pace rows), no shared
capacities on the way and a window of 0 days, so each option's power counts in full from its
first day ``t0(o)`` in proportion to its choice ``z[o]``. What is left is an assignment LP:
one option per unit, the stocks' sets (and the budget rows of new sets), and the counted
power against the requirement. Every row dropped only restricts the model, and counting a
unit earlier never adds shortfall or cost, so its optimum is at most the model's (the MIP
over the same options, shared capacities included).
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from forcemodel.mip.solve import SolveOutcome, SolverSettings, run_highs
from forcemodel.network.compile import CompiledNetwork
from forcemodel.optimize.model import BuiltModel, Weights, build_model
from forcemodel.optimize.prepositioning import NewSets
from forcemodel.scenario.model import Scenario


def build_bound_model(
    scenario: Scenario,
    net: CompiledNetwork,
    options: pd.DataFrame,
    weights: Weights,
    *,
    new_sets: NewSets | None = None,
) -> BuiltModel:
    """The queue-free relaxation of the model over ``options`` (an LP; see the module).

    Call under linopy's v1 semantics, as :func:`forcemodel.optimize.model.build_model`.
    """
    return build_model(
        scenario,
        net,
        options,
        weights,
        relax=True,
        window=0,
        shared=False,
        queues=False,
        new_sets=new_sets,
    )


def queue_free_bound(
    scenario: Scenario,
    net: CompiledNetwork,
    options: pd.DataFrame,
    weights: Weights,
    settings: SolverSettings,
    *,
    new_sets: NewSets | None = None,
) -> tuple[float | None, SolveOutcome]:
    """The queue-free bound's value (``None`` unless its LP was solved to optimality) and
    the solver's outcome, with ``settings``' time limit (dual simplex)."""
    bound = build_bound_model(scenario, net, options, weights, new_sets=new_sets)
    outcome = run_highs(bound.model, dataclasses.replace(settings, method="simplex"), mip=False)
    value = outcome.objective if outcome.termination == "optimal" else None
    return value, outcome
