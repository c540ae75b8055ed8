"""Re-planning (rolling horizon): re-plan the units not yet moving when a disruption strikes.

On day ``t`` the units whose loads have already started (ready before ``t``) are committed to
their day-0 plan; the others are re-planned on a **planning view** of the scenario in which the
disruptions in force on day ``t`` cut the capacities the route estimates are made from, the
committed units' forecast closures are taken off the requirements and their sets off the stocks.
The new plan goes back to the simulation with the committed units' plans unchanged, so history
before ``t`` is reproduced exactly and what follows shows what the re-plan recovers. The rules,
and why history before ``t`` cannot change, are in docs/optimization.md ("Re-planning").

Why one module of about 560 lines: the planning view, the re-plan and the three-run comparison
are one procedure (docs/optimization.md, "Re-planning"), each part used only by the others.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pandas as pd

from forcemodel.flow import simulate
from forcemodel.flow.plan import UnitPlan, plan_units, step_value
from forcemodel.network.compile import (
    CLASS_PEOPLE,
    CompiledNetwork,
    compile_network,
    profile_reception,
)
from forcemodel.results import Results
from forcemodel.scenario.model import CAPABILITIES, Curve, Disruption, Scenario, Unit

if TYPE_CHECKING:
    from forcemodel.optimize.plan import OptimizationResult
    from forcemodel.optimize.stopping import WorkLimits

#: How the units not yet committed are re-planned: the optimiser (MIP) or the day-0 planner's
#: greedy rule, both on the planning view.
ReplanMethod = Literal["optimize", "planner"]
METHODS: tuple[str, ...] = ("optimize", "planner")

#: A unit's status in :attr:`ReplanResult.units`.
COMMITTED, STUCK, FREE = "committed", "stuck", "free"

COMPARISON_COLUMNS = [
    "region",
    "closure_undisrupted",
    "closure_without_replan",
    "closure_with_replan",
    "days_recovered",
    "shortfall_undisrupted",
    "shortfall_without_replan",
    "shortfall_with_replan",
    "shortfall_recovered",
]


@dataclass(frozen=True)
class ReplanResult:
    """The simulation with and without the re-plan made on ``day``, side by side.

    ``scenario``: the scenario as simulated (the disruption added); ``planning_scenario``: the
    planning view the free units were re-planned on. ``undisrupted``: the day-0 plan without
    the added disruption; ``without_replan``: the day-0 plan with it; ``with_replan``: the
    committed units' day-0 plans and the free units' new ones, with it.

    ``units``: one row per unit: ``unit``, ``status`` (``committed``: ready before ``day``, its
    plan is kept; ``stuck``: not yet moving but no region it may go to is reachable in the
    planning view, its plan is kept; ``free``: re-planned), ``ready_day``, ``region_before``,
    ``set_before``, ``region_after``, ``set_after`` (stock ids, '' for its own equipment),
    ``changed`` (the free unit's region or set changed), ``closure_without_replan`` and
    ``closure_with_replan``.

    ``comparison``: one row per region: closure day (first day from which every requirement is
    met to the horizon; NaN if never) in the three runs, ``days_recovered`` (without minus with
    the re-plan; positive: the re-plan closes earlier), and the shortfall in brigade-days from
    ``day`` to the horizon in the three runs, with ``shortfall_recovered``.

    ``optimization``: the optimiser's result on the planning view (``None`` with the planner
    method or when no unit was free).
    """

    day: float
    method: str
    disruption: Disruption | None
    scenario: Scenario
    planning_scenario: Scenario
    undisrupted: Results
    without_replan: Results
    with_replan: Results
    units: pd.DataFrame
    comparison: pd.DataFrame
    optimization: OptimizationResult | None

    @property
    def replanned(self) -> list[str]:
        """Ids of the units whose region or set the re-plan changed."""
        return [str(u) for u in self.units.loc[self.units["changed"], "unit"]]


def replan(
    scenario: Scenario,
    day: float,
    disruption: Disruption | None = None,
    *,
    method: ReplanMethod = "optimize",
    time_limit: float = 30.0,
    keep_assignments: bool = False,
    seed: int = 0,
    work: WorkLimits | None = None,
) -> ReplanResult:
    """Re-plan on ``day`` the units not yet moving, and simulate with and without the re-plan.

    Args:
        scenario: a loaded scenario; its own disruptions are surprises to the day-0 plan.
        day: the day of the re-plan, 0 to the horizon. Units ready before it are committed.
        disruption: a disruption that has just struck (usually starting on ``day``), added to
            the scenario; ``None`` to re-plan for the scenario's own disruptions in force on
            ``day``.
        method: ``"optimize"`` (the MIP of :func:`forcemodel.optimize.optimize`) or
            ``"planner"`` (the simulation's day-0 planning rule), on the planning view.
        time_limit: seconds the optimiser may run (finite, more than 0).
        keep_assignments: keep pre-assigned units in their region (the planner always does).
        seed: the simulation's seed (recorded).
        work: a deterministic stopping rule for the optimiser in place of ``time_limit``
            (:class:`forcemodel.optimize.WorkLimits`): the same re-plan on any machine.

    Raises:
        ValueError: a day outside ``0..horizon``, a disruption on no link or node, a factor
            outside [0, 1], an unknown method or a time limit that is not more than 0.
        OptimizationError: the optimiser found no plan on the planning view.
        UnreachableError: the day-0 plan cannot move a unit at all (as :func:`simulate`).
    """
    _check_inputs(scenario, day, disruption, method, time_limit)
    real = (
        scenario
        if disruption is None
        else scenario.model_copy(update={"disruptions": (*scenario.disruptions, disruption)})
    )
    net = compile_network(real)
    # The day-0 planner estimates routes at undisrupted capacities, so this is the plan made
    # without knowing of any disruption, the added one included.
    day0 = plan_units(real, net)
    without = simulate(real, seed, plans=day0)
    undisrupted = simulate(scenario, seed, plans=day0) if disruption is not None else without
    ready = without.tables["units"]["ready_day"].to_numpy()
    closure = without.tables["units"]["closure_day"].to_numpy()
    # Committed: a load has made a request before `day` (the engine starts both loads at the
    # ready time). Nothing of a unit ready on or after `day` happens before `day`.
    kept = {i for i in range(len(real.units)) if ready[i] < day}
    committed = set(kept)
    keep_regions = keep_assignments or method == "planner"
    while True:
        view = planning_view(real, day, day0, kept, closure)
        vnet = compile_network(view)
        free = [i for i in range(len(real.units)) if i not in kept]
        stuck = [
            i
            for i, u in zip(free, view.units, strict=True)
            if not _reachable(vnet, view, u, keep_regions)
        ]
        if not stuck:
            break
        # A stuck unit keeps its day-0 plan: it becomes part of the forecast like a committed
        # one, which may take a set another free unit needed; so look again until none is.
        kept.update(stuck)

    new_plans: dict[int, UnitPlan] = {}
    optimization: OptimizationResult | None = None
    if free:
        if method == "planner":
            for vp in plan_units(view, vnet):
                new_plans[free[vp.unit]] = UnitPlan(
                    unit=free[vp.unit],
                    region=vp.region,
                    reception=vp.reception,
                    stock=vp.stock,
                    depot=vp.depot,
                    urgency=vp.urgency,
                    est_closure=vp.est_closure,
                )
        else:
            from forcemodel.optimize.api import optimize  # here: a heavy import, only when used

            optimization = optimize(
                view,
                time_limit=time_limit,
                keep_assignments=keep_assignments,
                duals=False,
                work=work,
            )
            new_plans = _plans_from_choices(real, view, vnet, free, optimization)
    plans = list(day0)
    for i, p in new_plans.items():
        if (p.region, p.stock) != (day0[i].region, day0[i].stock):
            plans[i] = p  # an unchanged choice keeps its day-0 plan, urgency included
    with_replan = (
        simulate(real, seed, plans=plans)
        if any(p is not q for p, q in zip(plans, day0, strict=True))
        else without
    )
    units = _units_table(real, day0, plans, committed, kept, without, with_replan)
    comparison = _comparison(real, day, undisrupted, without, with_replan)
    return ReplanResult(
        day=float(day),
        method=method,
        disruption=disruption,
        scenario=real,
        planning_scenario=view,
        undisrupted=undisrupted,
        without_replan=without,
        with_replan=with_replan,
        units=units,
        comparison=comparison,
        optimization=optimization,
    )


def _check_inputs(
    scenario: Scenario,
    day: float,
    disruption: Disruption | None,
    method: str,
    time_limit: float,
) -> None:
    horizon = scenario.meta.horizon_days
    if not (math.isfinite(day) and 0 <= day <= horizon):
        raise ValueError(f"day must be between 0 and the horizon ({horizon}), got {day:g}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if not (math.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be more than 0 seconds and finite, got {time_limit:g}")
    if disruption is None:
        return
    capacities = _capacities(scenario)
    if disruption.target not in capacities:
        raise ValueError(f"disruption: no link or node '{disruption.target}' in the scenario")
    if not _has_capacity(capacities[disruption.target]):
        # The simulation cuts capacities; an unlimited target has none to cut.
        raise ValueError(
            f"disruption: '{disruption.target}' has unlimited capacity, which a disruption "
            "does not cut in the simulation (docs/simulation.md); give it a t_per_day or "
            "pax_per_day, or disrupt another link or node"
        )
    if not 0 <= disruption.capacity_factor <= 1:
        raise ValueError(
            f"disruption: capacity factor must be in [0, 1], got {disruption.capacity_factor:g}"
        )
    if not disruption.days > 0:
        raise ValueError(f"disruption: days must be more than 0, got {disruption.days:g}")


@dataclass(frozen=True)
class InForce:
    """What the disruptions in force on a day do to one link or node, for the planning view.

    ``factor``: the product of the factors of those that leave some capacity; ``closed_days``:
    how long those that close it (factor 0) still last (0 if none does).
    """

    factor: float = 1.0
    closed_days: float = 0.0


def in_force(scenario: Scenario, day: float) -> dict[str, InForce]:
    """Per link or node id, the disruptions in force on ``day`` (``[start_day, start_day +
    days)``); overlapping ones multiply, as in the simulation. Targets without any capacity
    (unlimited) are left out: the simulation's disruptions act on capacities, so they have no
    effect there either."""
    capacities = _capacities(scenario)
    out: dict[str, InForce] = {}
    for d in scenario.disruptions:
        end = d.start_day + d.days
        if not d.start_day <= day < end or not _has_capacity(capacities.get(d.target, ())):
            continue
        was = out.get(d.target, InForce())
        if d.capacity_factor > 0:
            out[d.target] = InForce(was.factor * d.capacity_factor, was.closed_days)
        else:
            out[d.target] = InForce(was.factor, max(was.closed_days, end - day))
    return out


def _capacities(scenario: Scenario) -> dict[str, tuple[float | None, ...]]:
    """Each link's and node's capacities per day that a disruption can cut (``None``: none)."""
    out: dict[str, tuple[float | None, ...]] = {
        lk.id: (lk.t_per_day, lk.pax_per_day) for lk in scenario.links
    }
    for n in scenario.nodes:
        out[n.id] = (n.t_per_day, n.pax_per_day, n.transship.t_per_day if n.transship else None)
    return out


def _has_capacity(capacities: Iterable[float | None]) -> bool:
    return any(c is not None and c > 0 for c in capacities)


def _scaled(capacity: float | None, factor: float) -> float | None:
    """A capacity per day times a factor; unlimited stays unlimited, as in the simulation."""
    return None if capacity is None else capacity * factor


def planning_view(
    scenario: Scenario,
    day: float,
    plans: list[UnitPlan],
    kept: Iterable[int],
    closure: Iterable[float],
) -> Scenario:
    """The scenario as a re-plan on ``day`` sees it (docs/optimization.md, "Re-planning").

    - The disruptions in force on ``day`` enter the route estimates, which know no time
      windows: a factor ``f`` above 0 scales the target's capacities by ``f`` (a link's
      ``t_per_day`` and ``pax_per_day``, a node's handling and transship capacity); a target
      closed (factor 0) delays every load that uses it by the days until it reopens (added to
      a link's travel time, through its speed, or to a node's handling time), which is what
      the simulation does to a load that reaches it while it is closed.
    - The ``kept`` units (committed or stuck) are left out; each one's power counts against
      its region's requirement from its forecast ``closure`` (the day-0 plan simulated), and
      the set it draws is taken off its stock.
    """
    kept = set(kept)
    closure = list(closure)
    hit = in_force(scenario, day)
    links = []
    for lk in scenario.links:
        h = hit.get(lk.id)
        if h is None:
            links.append(lk)
            continue
        hours = lk.distance_km / lk.speed_kmh + 24.0 * h.closed_days
        links.append(
            lk.model_copy(
                update={
                    "t_per_day": _scaled(lk.t_per_day, h.factor),
                    "pax_per_day": _scaled(lk.pax_per_day, h.factor),
                    "speed_kmh": lk.distance_km / hours,
                }
            )
        )
    new_nodes = []
    for n in scenario.nodes:
        h = hit.get(n.id)
        if h is None:
            new_nodes.append(n)
            continue
        update: dict[str, object] = {
            "t_per_day": _scaled(n.t_per_day, h.factor),
            "pax_per_day": _scaled(n.pax_per_day, h.factor),
            "handling_hours": n.handling_hours + 24.0 * h.closed_days,
        }
        if n.transship is not None:
            update["transship"] = n.transship.model_copy(
                update={"t_per_day": n.transship.t_per_day * h.factor}
            )
        new_nodes.append(n.model_copy(update=update))
    drawn = Counter(plans[i].stock for i in kept if plans[i].stock is not None)
    stocks = tuple(
        s.model_copy(update={"sets": max(0, s.sets - drawn.get(si, 0))})
        for si, s in enumerate(scenario.stocks)
    )
    horizon = float(scenario.meta.horizon_days)
    arrivals: dict[int, list[tuple[float, Unit]]] = {}
    for i in sorted(kept):
        if math.isfinite(closure[i]) and closure[i] <= horizon:
            arrivals.setdefault(plans[i].region, []).append((float(closure[i]), scenario.units[i]))
    regions = []
    for ri, r in enumerate(scenario.regions):
        mine = arrivals.get(ri)
        if not mine:
            regions.append(r)
            continue
        req = {
            c: _reduced(getattr(r.requirement, c), [(t, getattr(u.power, c)) for t, u in mine])
            for c in CAPABILITIES
        }
        regions.append(r.model_copy(update={"requirement": r.requirement.model_copy(update=req)}))
    units = tuple(u for i, u in enumerate(scenario.units) if i not in kept)
    return scenario.model_copy(
        update={
            "nodes": tuple(new_nodes),
            "links": tuple(links),
            "units": units,
            "stocks": stocks,
            "regions": tuple(regions),
            # Sets cannot be bought and stored forward once the crisis is on.
            "prepositioning": None,
        }
    )


def _reduced(curve: Curve, arrivals: list[tuple[float, float]]) -> Curve:
    """A requirement step curve less the power arriving at the given times (not below 0)."""
    arrivals = [(t, p) for t, p in arrivals if p > 0]
    if not curve or not arrivals:
        return curve
    days = sorted({d for d, _ in curve} | {t for t, _ in arrivals})
    return tuple(
        (d, max(0.0, step_value(curve, d) - sum(p for t, p in arrivals if t <= d))) for d in days
    )


def _finite_legs(
    net: CompiledNetwork, u: Unit, origin: int, dest: int, eq_cls: int, pax_cls: int
) -> bool:
    """Whether both loads of ``u`` (of these load classes) can go from ``origin`` to ``dest``."""
    if u.equipment_t > 0 and not math.isfinite(
        net.time_to_go(dest, eq_cls, u.equipment_t)[origin][0]
    ):
        return False
    return u.personnel <= 0 or math.isfinite(
        net.time_to_go(dest, pax_cls, float(u.personnel))[origin][0]
    )


def _reachable(net: CompiledNetwork, view: Scenario, u: Unit, keep_regions: bool) -> bool:
    """Whether ``u`` has an option in the planning view: a region and own equipment or a set
    (each load routed as the simulation routes it: :meth:`CompiledNetwork.receiving`)."""
    home = net.node_index[u.home]
    regions = [r for r in view.regions if not (keep_regions and u.assigned_to not in (None, r.id))]
    for r in regions:
        dest, eq_cls, pax_cls, _, _ = net.receiving(u, r)
        if _finite_legs(net, u, home, dest, eq_cls, pax_cls):
            return True
        if profile_reception(r, u) is not None:
            continue  # received at a port or air base: no set
        for s in view.stocks:
            if s.kind != "equipment_set" or s.sets <= 0 or s.set_type != u.set_type:
                continue
            depot = net.node_index[s.depot]
            people_there = u.personnel <= 0 or math.isfinite(
                net.time_to_go(depot, CLASS_PEOPLE, float(u.personnel))[home][0]
            )
            if people_there and _finite_legs(net, u, depot, dest, eq_cls, pax_cls):
                return True
    return False


def _plans_from_choices(
    real: Scenario,
    view: Scenario,
    vnet: CompiledNetwork,
    free: list[int],
    result: OptimizationResult,
) -> dict[int, UnitPlan]:
    """The optimiser's choices as engine plans, indexed into the real scenario.

    Region and set are the optimiser's. The queue priority (urgency) is the one the day-0
    planner's rule gives the unit for that region on the planning view, where every free unit
    is sent to its chosen region (so the priorities weigh the gaps left after the committed
    units).
    """
    choices = result.choices
    region_index = {r.id: i for i, r in enumerate(real.regions)}
    stock_index = {s.id: i for i, s in enumerate(real.stocks)}
    chosen_units = tuple(
        u.model_copy(
            update={"assigned_to": choices[u.id][0]}
            | ({"set_type": None} if choices[u.id][1] is None else {})
        )
        for u in view.units
    )
    urgency = {
        p.unit: p.urgency for p in plan_units(view.model_copy(update={"units": chosen_units}), vnet)
    }
    est = dict(zip(result.plan["unit"], result.plan["estimated_closure"], strict=True))
    out: dict[int, UnitPlan] = {}
    for vi, ui in enumerate(free):
        uid = real.units[ui].id
        rid, sid = choices[uid]
        ri = region_index[rid]
        si = stock_index[sid] if sid is not None else None
        out[ui] = UnitPlan(
            unit=ui,
            region=ri,
            reception=vnet.node_index[real.regions[ri].reception],
            stock=si,
            depot=vnet.node_index[real.stocks[si].depot] if si is not None else None,
            urgency=urgency[vi],
            est_closure=float(est[uid]),
        )
    return out


def _units_table(
    real: Scenario,
    day0: list[UnitPlan],
    plans: list[UnitPlan],
    committed: set[int],
    kept: set[int],
    without: Results,
    with_replan: Results,
) -> pd.DataFrame:
    def stock_id(p: UnitPlan) -> str:
        return real.stocks[p.stock].id if p.stock is not None else ""

    ready = without.tables["units"]["ready_day"].to_numpy()
    before = without.tables["units"]["closure_day"].to_numpy()
    after = with_replan.tables["units"]["closure_day"].to_numpy()
    rows = []
    for i, u in enumerate(real.units):
        old, new = day0[i], plans[i]
        rows.append(
            {
                "unit": u.id,
                "status": COMMITTED if i in committed else STUCK if i in kept else FREE,
                "ready_day": float(ready[i]),
                "region_before": real.regions[old.region].id,
                "set_before": stock_id(old),
                "region_after": real.regions[new.region].id,
                "set_after": stock_id(new),
                "changed": new is not old,
                "closure_without_replan": float(before[i]),
                "closure_with_replan": float(after[i]),
            }
        )
    return pd.DataFrame(rows)


def closure_days(results: Results, regions: Iterable[str], horizon: int) -> dict[str, float]:
    """Each region's closure day: the first day from which every requirement is met to the
    horizon (as ``assess`` counts it); 0 with nothing required, NaN if never within it."""
    short = results.tables["shortfall"]
    out: dict[str, float] = {}
    for rid in regions:
        rows = short[short["region"] == rid]
        unmet = rows.loc[rows["shortfall"] > 1e-9, "day"]
        if unmet.empty:
            out[rid] = 0.0
        elif int(unmet.max()) >= horizon:
            out[rid] = math.nan
        else:
            out[rid] = float(unmet.max()) + 1.0
    return out


def _shortfall_from(results: Results, rid: str, day: float) -> float:
    short = results.tables["shortfall"]
    mine = short[(short["region"] == rid) & (short["day"] >= day)]
    return float(mine["shortfall"].sum())


def _comparison(
    real: Scenario, day: float, undisrupted: Results, without: Results, with_replan: Results
) -> pd.DataFrame:
    ids = [r.id for r in real.regions]
    horizon = real.meta.horizon_days
    runs: Mapping[str, Results] = {
        "undisrupted": undisrupted,
        "without_replan": without,
        "with_replan": with_replan,
    }
    closures = {k: closure_days(v, ids, horizon) for k, v in runs.items()}
    rows = []
    for rid in ids:
        row: dict[str, object] = {"region": rid}
        for k in runs:
            row[f"closure_{k}"] = closures[k][rid]
        row["days_recovered"] = closures["without_replan"][rid] - closures["with_replan"][rid]
        short = {k: _shortfall_from(res, rid, day) for k, res in runs.items()}
        for k, value in short.items():
            row[f"shortfall_{k}"] = value
        row["shortfall_recovered"] = short["without_replan"] - short["with_replan"]
        rows.append(row)
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
