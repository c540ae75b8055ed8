"""Search by groups of regions: better plans where the whole LP relaxation is too slow.

At ten times eastern-flank's size the LP relaxation of the whole model does not finish in
minutes, so the sub-MIP around it never runs and the day-0 planner's plan would be all there
is. But once every unit outside a group of regions keeps its choice, the model (without the
shared capacities on the way) falls apart by region: a region's RSOM, power and shortfall rows
see only the units sent there, and a unit's cost only its own option. The only rows between
regions are one option per unit and the stocks' sets. So the units sent to a group of regions
can be re-chosen among those regions in a MIP of the group alone (the scenario cut down to its
regions, each stock holding what the units outside leave of it), and the whole objective
changes by exactly the group's change. Each group is a small MIP, solved from the current
choices (so never worse), and kept only if it is better: a large-neighbourhood search
(docs/optimization.md, "Search by groups of regions").

Left out on purpose: the shared capacities on the way (they tie regions together: the plans
are scored without them, as the planner's fallback is) and candidate new sets (their budget
ties every region: a unit drawing one keeps its choice, and no other unit is offered one).
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from forcemodel.mip.solve import SolverSettings, run_highs
from forcemodel.network.compile import CompiledNetwork
from forcemodel.optimize.model import BuiltModel, Weights, build_model
from forcemodel.scenario.model import Scenario

#: Regions in a group: each group's MIP must solve (or improve) in seconds to tens of seconds.
GROUP_REGIONS = 8

#: Seconds below which a group is not started: building and presolving take about that.
MIN_GROUP_S = 1.0


def region_values(built: BuiltModel) -> np.ndarray:
    """Each region's weighted shortfall in the solved model ``built`` (its objective's share)."""
    short = built.model.variables["shortfall"].solution
    return np.asarray((short * built.shortfall_weight).sum(["capability", "day"]).to_numpy())


def region_groups(
    options: pd.DataFrame, n_regions: int, value: np.ndarray, size: int = GROUP_REGIONS
) -> list[list[int]]:
    """Groups of at most ``size`` regions (indices) that cover every region once.

    The worst region not yet grouped (largest ``value``, the lower index on a tie) starts a
    group; the group then takes, one at a time, the region that shares the most candidate
    units with its members (units offered both), so that units can move between them.
    """
    if size < 1:
        raise ValueError(f"a group needs at least 1 region, got {size}")
    units = options["unit"].to_numpy(np.int64)
    regions = options["region"].to_numpy(np.int64)
    offered = sparse.csr_matrix(
        (np.ones(len(options)), (units, regions)),
        shape=(int(units.max()) + 1 if len(units) else 0, n_regions),
    )
    offered.data[:] = 1.0  # a unit offered a region through several stocks counts once
    shared = (offered.T @ offered).toarray()
    np.fill_diagonal(shared, 0.0)
    left = np.ones(n_regions, dtype=bool)
    groups: list[list[int]] = []
    for seed in np.lexsort((np.arange(n_regions), -np.asarray(value, dtype=float))):
        if not left[seed]:
            continue
        group = [int(seed)]
        left[seed] = False
        while len(group) < size and left.any():
            ties = np.where(left, shared[group].sum(axis=0), -np.inf)
            best = int(np.argmax(ties))  # argmax takes the lower index on a tie
            group.append(best)
            left[best] = False
        groups.append(group)
    return groups


@dataclasses.dataclass(frozen=True)
class GroupModel:
    """A group's own model: its scenario (its regions, the stocks' sets left), options
    (``index`` into the whole table), and the choices of those options in the plan."""

    scenario: Scenario
    options: pd.DataFrame
    index: np.ndarray
    current: np.ndarray


def group_model(
    scenario: Scenario,
    options: pd.DataFrame,
    z: np.ndarray,
    group: Sequence[int],
    *,
    frozen_stocks: Sequence[int] = (),
) -> GroupModel | None:
    """The group's model for the plan ``z`` (one 1 per unit), or ``None`` if no unit is free.

    Free: every unit the plan sends to a region of ``group``, except one drawing from a stock
    of ``frozen_stocks`` (indices: candidate new sets). It is offered its options in the
    group's regions (none from ``frozen_stocks``); every stock holds its sets less those the
    other units draw.
    """
    chosen = np.asarray(z) > 0.5
    unit = options["unit"].to_numpy(np.int64)
    region = options["region"].to_numpy(np.int64)
    stock = options["stock"].to_numpy(np.int64)
    frozen = np.isin(stock, np.asarray(frozen_stocks, dtype=np.int64))
    in_group = np.isin(region, np.asarray(group, dtype=np.int64))
    free_units = np.unique(unit[chosen & in_group & ~frozen])
    if not free_units.size:
        return None
    index = np.flatnonzero(np.isin(unit, free_units) & in_group & ~frozen)
    stock_ids = options["stock_id"].to_numpy()
    outside = Counter(stock_ids[chosen & (stock >= 0) & ~np.isin(unit, free_units)].tolist())
    remap = np.full(len(scenario.regions), -1, dtype=np.int64)
    remap[np.asarray(group, dtype=np.int64)] = np.arange(len(group))
    cut = scenario.model_copy(
        update={
            "regions": tuple(scenario.regions[r] for r in group),
            "stocks": tuple(
                s.model_copy(update={"sets": s.sets - outside.get(s.id, 0)})
                for s in scenario.stocks
            ),
        }
    )
    sub = options.iloc[index].reset_index(drop=True)
    sub = sub.assign(region=remap[sub["region"].to_numpy(np.int64)])
    return GroupModel(cut, sub, index, np.asarray(z, dtype=float)[index])


def improve_by_regions(
    scenario: Scenario,
    net: CompiledNetwork,
    options: pd.DataFrame,
    z: np.ndarray,
    value: np.ndarray,
    weights: Weights,
    settings: SolverSettings,
    deadline: float,
    *,
    size: int = GROUP_REGIONS,
    frozen_stocks: Sequence[int] = (),
) -> tuple[np.ndarray, float, list[str]]:
    """The plan ``z`` improved group by group until ``deadline`` (``time.monotonic``).

    ``value``: each region's weighted shortfall with ``z`` (:func:`region_values`), which
    orders the groups. Each pass covers every region once (:func:`region_groups`); a group gets
    an equal share of the time left in the pass, and its MIP (without the shared capacities,
    started from the current choices) replaces them only if it is better. Passes go on, with
    groups formed again from the new values, until one gains nothing or time is up.

    Returns the plan, what it gained by the groups' MIPs' values (without the shared
    capacities; scoring the plan can only find it lower, never higher, when a MIP stopped
    before its continuous part was optimal) and the log's lines.
    """
    z = np.asarray(z, dtype=float).copy()
    value = np.asarray(value, dtype=float).copy()
    logs: list[str] = []
    gained = 0.0
    n_regions = len(scenario.regions)
    passes = 0
    while time.monotonic() < deadline - MIN_GROUP_S:
        passes += 1
        groups = region_groups(options, n_regions, value, size)
        pass_gain = 0.0
        for i, group in enumerate(groups):
            left = deadline - time.monotonic()
            if left < MIN_GROUP_S:
                logs.append(f"Regions search: time is up in pass {passes}\n")
                break
            share = left / (len(groups) - i)
            gm = group_model(scenario, options, z, group, frozen_stocks=frozen_stocks)
            if gm is None:
                continue
            step = _improve_group(scenario, net, gm, weights, settings, share)
            if step is None:
                logs.append(f"Regions search: group {_names(scenario, group)}: not solved\n")
                continue
            before, after, new, sub_values, termination = step
            words = f"{before:.6f} -> {after:.6f} ({termination})"
            if after < before - 1e-7 * max(1.0, abs(before)):
                z[gm.index] = new
                value[list(group)] = sub_values
                pass_gain += before - after
                logs.append(
                    f"Regions search: group {_names(scenario, group)}, "
                    f"{len(np.unique(gm.options['unit']))} units free: {words}, kept\n"
                )
            else:
                logs.append(f"Regions search: group {_names(scenario, group)}: {words}, no gain\n")
        gained += pass_gain
        logs.append(f"Regions search: pass {passes} gained {pass_gain:.6f}\n")
        if pass_gain <= 0.0:
            break
    return z, gained, logs


def _improve_group(
    scenario: Scenario,
    net: CompiledNetwork,
    gm: GroupModel,
    weights: Weights,
    settings: SolverSettings,
    seconds: float,
) -> tuple[float, float, np.ndarray, np.ndarray, str] | None:
    """The group's current value, its MIP's value, choices and region values, termination;
    ``None`` if the current choices could not be scored in ``seconds``."""
    until = time.monotonic() + seconds
    timed = dataclasses.replace(settings, time_limit=max(0.05, seconds), method="simplex")
    fixed = build_model(
        gm.scenario, net, gm.options, weights, relax=True, fix_choices=gm.current, shared=False
    )
    out = run_highs(fixed.model, timed, mip=False, names=True)
    if out.termination != "optimal" or out.objective is None or fixed.model.solver_model is None:
        return None
    before = out.objective
    mip = build_model(gm.scenario, net, gm.options, weights, shared=False)
    left = max(0.05, until - time.monotonic())
    mip_out = run_highs(
        mip.model, dataclasses.replace(settings, time_limit=left), mip=True, start=fixed.model
    )
    if not mip_out.has_solution or mip_out.objective is None:
        return before, before, gm.current, np.zeros(0), mip_out.termination
    chosen = np.round(mip.model.variables["choose"].solution.to_numpy())
    return before, mip_out.objective, chosen, region_values(mip), mip_out.termination


def _names(scenario: Scenario, group: Sequence[int]) -> str:
    ids = [scenario.regions[r].id for r in group]
    return ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")


__all__ = [
    "GROUP_REGIONS",
    "GroupModel",
    "group_model",
    "improve_by_regions",
    "region_groups",
    "region_values",
]
