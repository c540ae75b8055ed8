"""Build the optimisation model of a scenario: the options table, then the linopy model.

Every unit has a set of **options**: a region it can reach, with its own equipment or with one
set from a stock of its ``set_type``. For each option the uncongested arrival of its two loads at
the region's reception is precomputed from the compiled network (``time_to_go``, the same
estimate the simulation's planner uses), so the model itself only decides which option each
unit takes and how the region's RSOM capacity is shared day by day. The maths, and what is left
out, are in docs/optimization.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from forcemodel.flow.plan import step_value
from forcemodel.network.compile import (
    CLASS_PEOPLE,
    EQUIPMENT,
    CompiledNetwork,
    load_class_of,
)
from forcemodel.optimize.errors import InfeasibleError
from forcemodel.scenario.model import CAPABILITIES, Scenario, Unit

#: The two loads of a unit, in the order of the ``load`` dimension.
LOADS: tuple[str, str] = ("equipment", "people")

#: Default weight of the cost term (unit-days to closure over units times horizon).
DEFAULT_COST_WEIGHT = 1e-3

#: A chosen option per unit id: (region id, stock id or None for its own equipment).
Choice = tuple[str, str | None]


@dataclass(frozen=True)
class Weights:
    """How shortfall and cost are weighed in the objective.

    ``w(d)`` multiplies a day's shortfall: by default ``1 + early_weight * (H - d) / H`` (a gap on
    day 0 costs ``1 + early_weight`` times one on the horizon day ``H``); ``day_weights`` gives
    the whole sequence instead (``H + 1`` values, one per day ``0..H``, non-negative). Each
    region's gaps are multiplied by its ``priority`` as well. The cost term (docs/optimization.md)
    is below 2 and is multiplied by ``cost_weight``.
    """

    early_weight: float = 1.0
    day_weights: tuple[float, ...] | None = None
    cost_weight: float = DEFAULT_COST_WEIGHT

    def by_day(self, horizon: int) -> np.ndarray:
        """The weight of each day ``0..horizon``."""
        if self.day_weights is not None:
            w = np.asarray(self.day_weights, dtype=float)
            if w.shape != (horizon + 1,):
                raise ValueError(
                    f"day_weights needs {horizon + 1} values (days 0..{horizon}), got {w.size}"
                )
            if (w < 0).any() or not np.isfinite(w).all():
                raise ValueError("day_weights must be finite and 0 or more")
            return w
        if not (math.isfinite(self.early_weight) and self.early_weight >= 0):
            raise ValueError(f"early_weight must be 0 or more, got {self.early_weight}")
        days = np.arange(horizon + 1, dtype=float)
        return 1.0 + self.early_weight * (horizon - days) / horizon


@dataclass
class BuiltModel:
    """A linopy model with the tables needed to read its solution."""

    model: linopy.Model
    options: pd.DataFrame
    days: np.ndarray
    day_weight: np.ndarray
    required: xr.DataArray  # (region, capability, day): requirement above forces in place
    region_weight: xr.DataArray  # (region,): priority
    cost_weight: float


def option_table(
    scenario: Scenario,
    net: CompiledNetwork,
    *,
    keep_assignments: bool = False,
    fixed: Mapping[str, Choice] | None = None,
) -> pd.DataFrame:
    """One row per (unit, region, own equipment or stock) a unit can take.

    Columns: ``unit`` (index), ``unit_id``, ``region`` (index), ``region_id``, ``stock`` (index
    into ``scenario.stocks``, -1 for its own equipment), ``stock_id`` ('' for own), ``ready``,
    ``arrive_equipment`` and ``arrive_people`` (uncongested arrival of each load at the
    reception, days), ``tons``, ``people``, ``rsom_days`` (RSOM time with the pre-assigned
    factor: the plan pre-assigns every unit), ``closure`` (estimated closure without
    queues: the later arrival plus ``rsom_days``).

    ``keep_assignments`` keeps each pre-assigned unit in its region; ``fixed`` pins units to
    one option (region, stock id or None). Raises :class:`InfeasibleError` naming every unit that
    has no option at all.
    """
    regions = scenario.regions
    receptions = [net.node_index[r.reception] for r in regions]
    region_index = {r.id: i for i, r in enumerate(regions)}
    stock_index = {s.id: i for i, s in enumerate(scenario.stocks)}
    rows: list[dict[str, object]] = []
    problems: list[tuple[str, str]] = []
    for ui, u in enumerate(scenario.units):
        home = net.node_index[u.home]
        allowed_regions: list[int] = list(range(len(regions)))
        allowed_stocks: set[int] | None = None  # None: any; else these (-1: own equipment)
        if fixed is not None and u.id in fixed:
            rid, sid = fixed[u.id]
            allowed_regions = [region_index[rid]]
            allowed_stocks = {stock_index[sid] if sid is not None else -1}
        elif keep_assignments and u.assigned_to is not None:
            allowed_regions = [region_index[u.assigned_to]]
        before = len(rows)
        for r in allowed_regions:
            region = regions[r]
            dest = receptions[r]
            rsom = region.rsom.days * region.rsom.assigned_factor
            ready = u.notice_to_move_days
            choices: list[tuple[int, float, float]] = []  # (stock, eq arrival, pax arrival)
            if allowed_stocks is None or -1 in allowed_stocks:
                t_eq, t_pax = _legs(net, u, home, dest)
                choices.append((-1, ready + t_eq, ready + t_pax))
            for si, s in enumerate(scenario.stocks):
                if allowed_stocks is not None and si not in allowed_stocks:
                    continue
                if s.kind != "equipment_set" or s.sets <= 0 or s.set_type != u.set_type:
                    continue
                depot = net.node_index[s.depot]
                to_depot = _people_time(net, u, home, depot)
                drawn = ready + to_depot + s.draw_days
                t_eq, t_pax = _legs(net, u, depot, dest)
                choices.append((si, drawn + t_eq, drawn + t_pax))
            for si, a_eq, a_pax in choices:
                if not (math.isfinite(a_eq) and math.isfinite(a_pax)):
                    continue
                rows.append(
                    {
                        "unit": ui,
                        "unit_id": u.id,
                        "region": r,
                        "region_id": region.id,
                        "stock": si,
                        "stock_id": scenario.stocks[si].id if si >= 0 else "",
                        "ready": ready,
                        "arrive_equipment": a_eq,
                        "arrive_people": a_pax,
                        "tons": u.equipment_t,
                        "people": float(u.personnel),
                        "rsom_days": rsom,
                        "closure": max(a_eq, a_pax) + rsom,
                    }
                )
        if len(rows) == before:
            problems.append((u.id, _why_no_option(u, fixed, keep_assignments)))
    if problems:
        raise InfeasibleError(
            "no plan exists: some units cannot reach any region they may go to",
            [f"{uid}: {why}" for uid, why in problems],
        )
    columns = [
        "unit",
        "unit_id",
        "region",
        "region_id",
        "stock",
        "stock_id",
        "ready",
        "arrive_equipment",
        "arrive_people",
        "tons",
        "people",
        "rsom_days",
        "closure",
    ]
    return pd.DataFrame(rows, columns=columns)


def _why_no_option(u: Unit, fixed: Mapping[str, Choice] | None, keep: bool) -> str:
    if fixed is not None and u.id in fixed:
        rid, sid = fixed[u.id]
        how = f"with a set from '{sid}'" if sid is not None else "with its own equipment"
        return f"cannot reach '{rid}' {how} from '{u.home}'"
    if keep and u.assigned_to is not None:
        return f"pre-assigned to '{u.assigned_to}', which it cannot reach from '{u.home}'"
    return f"no route from '{u.home}' to any region's reception for its equipment or people"


def _people_time(net: CompiledNetwork, u: Unit, origin: int, dest: int) -> float:
    if u.personnel <= 0:
        return 0.0
    return net.time_to_go(dest, CLASS_PEOPLE, float(u.personnel))[origin][0]


def _legs(net: CompiledNetwork, u: Unit, origin: int, dest: int) -> tuple[float, float]:
    """Uncongested days of the equipment and of the people from ``origin`` to ``dest``."""
    if u.equipment_t > 0:
        cls = load_class_of(EQUIPMENT, u.outsize)
        t_eq = net.time_to_go(dest, cls, u.equipment_t)[origin][0]
    else:
        t_eq = 0.0
    return t_eq, _people_time(net, u, origin, dest)


def build_model(
    scenario: Scenario,
    net: CompiledNetwork,
    options: pd.DataFrame,
    weights: Weights,
    *,
    relax: bool = False,
    fix_choices: np.ndarray | None = None,
) -> BuiltModel:
    """The linopy model over the options table (docs/optimization.md, "The model").

    Call under linopy's v1 semantics (:func:`forcemodel.optimize.optimize` does). With ``relax``
    the option choices are continuous in [0, 1] (the LP relaxation); otherwise binary (a MIP).
    ``fix_choices`` (one value per option) fixes the choices at those values and makes them
    continuous: the LP that remains once a MIP's integers are fixed, whose duals
    :mod:`forcemodel.optimize.explain` reads.
    """
    horizon = scenario.meta.horizon_days
    days = np.arange(horizon + 1)
    day_weight = weights.by_day(horizon)
    n_opt = len(options)
    opt = pd.RangeIndex(n_opt, name="option")
    load = pd.Index(list(LOADS), name="load")
    day = pd.Index(days, name="day")
    # phi runs from day -1 (always 0) so that a day's increment is one subtraction.
    day_ext = pd.Index(np.arange(-1, horizon + 1), name="day")
    region_ids = [r.id for r in scenario.regions]
    region = pd.Index(region_ids, name="region")
    cap_idx = pd.Index(list(CAPABILITIES), name="capability")

    arrive = np.stack(
        [options["arrive_equipment"].to_numpy(float), options["arrive_people"].to_numpy(float)],
        axis=1,
    )
    amount = np.stack([options["tons"].to_numpy(float), options["people"].to_numpy(float)], axis=1)
    closure = options["closure"].to_numpy(float)
    # A load passes RSOM on a day d >= floor(arrival); the rest is processed after the horizon.
    phi_ub = (
        (day_ext.to_numpy()[None, None, :] >= np.floor(arrive)[:, :, None])
        & (day_ext.to_numpy()[None, None, :] >= 0)
        & (amount[:, :, None] > 0)
    ).astype(float)
    # A unit can count on day d only once its uncongested closure is <= d.
    g_ub = (closure[:, None] <= days[None, :] + 1e-9).astype(float)

    m = linopy.Model()
    if fix_choices is not None:
        fix = xr.DataArray(np.asarray(fix_choices, dtype=float), coords=[opt])
        z = m.add_variables(lower=fix, upper=fix, name="choose")
    elif relax:
        z = m.add_variables(lower=0.0, upper=1.0, coords=[opt], name="choose")
    else:
        z = m.add_variables(coords=[opt], binary=True, name="choose")
    phi = m.add_variables(
        lower=0.0,
        upper=xr.DataArray(phi_ub, coords=[opt, load, day_ext]),
        name="rsom_done",
    )
    g = m.add_variables(lower=0.0, upper=xr.DataArray(g_ub, coords=[opt, day]), name="counted")
    s = m.add_variables(lower=0.0, coords=[region, cap_idx, day], name="shortfall")

    unit_of = xr.DataArray(options["unit_id"].to_numpy(), coords=[opt], name="unit")
    region_of = xr.DataArray(options["region_id"].to_numpy(), coords=[opt], name="region")

    # Each unit takes exactly one option.
    m.add_constraints(z.groupby(unit_of).sum() == 1, name="one_option")

    # A stock gives at most its sets.
    drawing = options["stock"].to_numpy() >= 0
    if drawing.any():
        sel = opt[drawing]
        stock_of = xr.DataArray(
            options.loc[drawing, "stock_id"].to_numpy(), coords=[sel], name="stock"
        )
        used = z.sel(option=sel).groupby(stock_of).sum()
        stock_ids = [str(x) for x in used.coords["stock"].values]
        by_id = {st.id: st.sets for st in scenario.stocks}
        sets = xr.DataArray([float(by_id[i]) for i in stock_ids], coords=[("stock", stock_ids)])
        m.add_constraints(used <= sets, name="sets")

    # RSOM progress: non-decreasing, done only for the chosen option.
    phi_now = phi.sel(day=day)
    phi_before = phi.sel(day=day_ext[:-1]).assign_coords(day=day)
    increment = phi_now - phi_before
    m.add_constraints(increment >= 0, name="rsom_monotone")
    m.add_constraints(phi.sel(day=horizon) - z <= 0, name="rsom_chosen")

    # RSOM capacity per region, load and calendar day (disruptions are on links and nodes only).
    cap = np.full((len(region_ids), 2, horizon + 1), np.inf)
    for ri, r in enumerate(scenario.regions):
        for li, srv in enumerate((net.rsom_t_server[r.id], net.rsom_pax_server[r.id])):
            if srv is not None:
                cap[ri, li, :] = [net.servers[srv].day_capacity(int(d)) for d in days]
    amount_da = xr.DataArray(amount, coords=[opt, load])
    through = (increment * amount_da).groupby(region_of).sum()
    present = [str(x) for x in through.coords["region"].values]
    cap_da = xr.DataArray(cap, coords=[region, load, day]).sel(region=present)
    finite = np.isfinite(cap_da)
    m.add_constraints(through <= cap_da.where(finite, 0.0), name="rsom_capacity", mask=finite)

    # Power counts in proportion to the share of each load through RSOM, rsom_days earlier.
    m.add_constraints(g - z <= 0, name="counted_chosen")
    for rid in present:
        mine = opt[options["region_id"].to_numpy() == rid]
        lag = math.ceil(float(options.loc[mine[0], "rsom_days"]) - 1e-9)
        if lag > horizon:
            continue
        later = day[lag:]
        done = phi.sel(option=mine, day=day_ext[1 : horizon + 2 - lag]).assign_coords(day=later)
        has = xr.DataArray(amount[mine] > 0, coords=[mine, load])
        m.add_constraints(
            g.sel(option=mine, day=later) - done <= 0, name=f"counted_{rid}", mask=has
        )

    # Shortfall against the requirement above the forces in place.
    need = np.zeros((len(region_ids), len(CAPABILITIES), horizon + 1))
    for ri, r in enumerate(scenario.regions):
        for ci, c in enumerate(CAPABILITIES):
            in_place = sum(getattr(f.power, c) * f.count for f in r.in_place)
            curve = getattr(r.requirement, c)
            need[ri, ci] = [step_value(curve, float(d)) - in_place for d in days]
    need = np.maximum(need, 0.0)
    required = xr.DataArray(need, coords=[region, cap_idx, day])
    power = np.array(
        [[getattr(scenario.units[u].power, c) for c in CAPABILITIES] for u in options["unit"]]
    ).reshape(n_opt, len(CAPABILITIES))
    arrived = (g * xr.DataArray(power, coords=[opt, cap_idx])).groupby(region_of).sum()
    m.add_constraints(s.sel(region=present) + arrived >= required.sel(region=present), name="gap")
    absent = [rid for rid in region_ids if rid not in present]
    if absent:
        m.add_constraints(s.sel(region=absent) >= required.sel(region=absent), name="gap_empty")

    priority = xr.DataArray([r.priority for r in scenario.regions], coords=[region])
    # Cost: unit-days to each unit's uncongested closure (capped at H + 1) plus the RSOM
    # backlog (share of each load not yet through, summed over days), each scaled to at most 1,
    # so the whole cost term stays below 2 * cost_weight. The backlog term makes RSOM serve as
    # early as capacity allows, as a work-conserving server does.
    n_units = max(1, len(scenario.units))
    cost_scale = float(n_units * (horizon + 1))
    tau = np.minimum(closure, horizon + 1.0) / cost_scale
    has_load = amount > 0
    backlog_scale = float(n_units * 2 * (horizon + 1))
    z_coef = tau + has_load.sum(axis=1) * (horizon + 1) / backlog_scale
    backlog = phi.sel(day=day) * xr.DataArray(has_load / backlog_scale, coords=[opt, load])
    cost = (z * xr.DataArray(z_coef, coords=[opt])).sum() - backlog.sum()
    w = xr.DataArray(day_weight, coords=[day]) * priority
    m.add_objective((s * w).sum() + weights.cost_weight * cost)
    return BuiltModel(
        model=m,
        options=options,
        days=days,
        day_weight=day_weight,
        required=required,
        region_weight=priority,
        cost_weight=weights.cost_weight,
    )
