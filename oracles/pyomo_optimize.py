"""The optimiser's MIP (docs/optimization.md, "The model", without the shared capacities) in
Pyomo, two ways: as a competent Pyomo user writes it (the baseline ``bench_optimize`` reports)
and element by element as a first attempt does (kept to show what the difference costs).

:func:`build_pyomo` is the baseline: every per-option and per-day number is computed once into
plain Python lists and dicts with numpy (no ``xarray.sel`` per element), each row's terms are
gathered by index beforehand, and every sum is ``pyomo.quicksum``. :func:`build_pyomo_naive`
looks each number up per element (``DataArray.sel``) and sums with Python's ``sum``. Both take
the per-option data the linopy builder computed (``ref``: first day, RSOM lag, own-speed rows),
so that the three models are the same rows and columns with the same objective.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from forcemodel.optimize.model import BuiltModel
from forcemodel.scenario.model import CAPABILITIES, Scenario

LOADS = (0, 1)


def _servers(scenario: Scenario, net: Any) -> dict[tuple[str, int], Any]:
    out: dict[tuple[str, int], Any] = {}
    for r in scenario.regions:
        for li, srv in enumerate((net.rsom_t_server[r.id], net.rsom_pax_server[r.id])):
            if srv is not None:
                out[(r.id, li)] = net.servers[srv]
    return out


def _beta(
    o: int,
    s: int,
    first: list[int],
    lag: list[int],
    arrive: list[tuple[float, float]],
    amount: list[tuple[float, float]],
    servers: dict[tuple[str, int], Any],
    region_of: list[str],
    cum: dict[tuple[str, int], list[float]] | None = None,
) -> float:
    """Own-speed bound of option ``o`` counting ``s`` days after its first day: the share of
    its load its region's RSOM could pass from its arrival to the day it must be through
    (with ``cum``, the capacities' running sums; else summed day by day)."""
    until = first[o] + s - lag[o]
    beta = 1.0
    for li in LOADS:
        srv = servers.get((region_of[o], li))
        if srv is None or amount[o][li] <= 0:
            continue
        start = max(0, math.floor(arrive[o][li]))
        if cum is not None:
            c = cum[(region_of[o], li)]
            avail = c[until + 1] - c[min(start, until + 1)] if until >= start else 0.0
        else:
            avail = sum(srv.day_capacity(d) for d in range(start, until + 1))
        beta = min(beta, max(0.0, min(1.0, avail / amount[o][li])))
    return beta


def build_pyomo(scenario: Scenario, net: Any, options: pd.DataFrame, ref: BuiltModel) -> Any:
    """The MIP as a competent Pyomo user writes it: arrays, indices gathered once, quicksum."""
    horizon = scenario.meta.horizon_days
    n_days = horizon + 1
    window = ref.window
    n_opt = len(options)
    regions = [r.id for r in scenario.regions]
    first = ref.first_day.tolist()
    lag = ref.lag.tolist()
    region_of = options["region_id"].tolist()
    amount = list(zip(options["tons"].tolist(), options["people"].tolist(), strict=True))
    arrive = list(
        zip(options["arrive_equipment"].tolist(), options["arrive_people"].tolist(), strict=True)
    )
    unit_rate = ref.rsom_unit.to_numpy()
    rate = {(r, li): float(unit_rate[i, li]) for i, r in enumerate(regions) for li in LOADS}
    servers = _servers(scenario, net)
    cap = {k: [srv.day_capacity(d) for d in range(n_days)] for k, srv in servers.items()}
    cum = {k: [0.0, *np.cumsum(v).tolist()] for k, v in cap.items()}
    unit_power = np.array([[getattr(u.power, c) for c in CAPABILITIES] for u in scenario.units])
    opt_power = unit_power[options["unit"].to_numpy(int)]
    need = ref.required.transpose("region", "capability", "day").to_numpy()
    weight = ref.shortfall_weight.transpose("region", "day").to_numpy()
    ri = {r: i for i, r in enumerate(regions)}
    ci = {c: i for i, c in enumerate(CAPABILITIES)}

    valid = [(o, s) for o in range(n_opt) for s in range(window + 1) if first[o] + s <= horizon]
    rld = [(r, li, d) for (r, li) in servers for d in range(n_days)]
    rcd = [(r, c, d) for r in regions for c in CAPABILITIES for d in range(n_days)]
    by_unit: dict[str, list[int]] = defaultdict(list)
    for o, u in enumerate(options["unit_id"].tolist()):
        by_unit[u].append(o)
    by_stock: dict[str, list[int]] = defaultdict(list)
    for o, sid in enumerate(options["stock_id"].tolist()):
        if sid:
            by_stock[sid].append(o)
    steps: dict[int, list[int]] = defaultdict(list)
    for o, s in valid:
        steps[o].append(s)
    released: dict[tuple[str, int, int], list[int]] = defaultdict(list)
    counted: dict[tuple[str, int, int], list[tuple[int, int]]] = defaultdict(list)
    starts: dict[tuple[str, str, int], list[tuple[int, int]]] = defaultdict(list)
    for o in range(n_opt):
        for li in LOADS:
            if (region_of[o], li) in servers and amount[o][li] > 0:
                rel = math.floor(arrive[o][li])
                if rel <= horizon:
                    released[(region_of[o], li, rel)].append(o)
    for o, s in valid:
        for li in LOADS:
            e = first[o] + s - lag[o]
            if (region_of[o], li) in servers and amount[o][li] > 0 and e >= 0:
                counted[(region_of[o], li, e)].append((o, s))
        for c in CAPABILITIES:
            if opt_power[o, ci[c]] > 0:
                starts[(region_of[o], c, first[o] + s)].append((o, s))
    own = [
        (int(o), int(s), _beta(int(o), int(s), first, lag, arrive, amount, servers, region_of, cum))
        for o, s in zip(ref.own_speed["option"], ref.own_speed["step"], strict=True)
    ]
    sets = {st.id: st.sets for st in scenario.stocks}

    m = pyo.ConcreteModel()
    m.z = pyo.Var(range(n_opt), domain=pyo.Binary)
    m.dx = pyo.Var(valid, bounds=(0, 1))
    m.v = pyo.Var(range(n_opt), bounds=(0, 1))
    m.arrived = pyo.Var(rld, domain=pyo.NonNegativeReals)
    m.through = pyo.Var(rld, domain=pyo.NonNegativeReals)
    m.done = pyo.Var(rld, domain=pyo.NonNegativeReals)
    m.power = pyo.Var(rcd, domain=pyo.NonNegativeReals)
    m.s = pyo.Var(rcd, domain=pyo.NonNegativeReals)
    q = pyo.quicksum
    z, dx, v = m.z, m.dx, m.v

    m.one = pyo.Constraint(list(by_unit), rule=lambda m, u: q(z[o] for o in by_unit[u]) == 1)
    m.sets = pyo.Constraint(
        list(by_stock), rule=lambda m, k: q(z[o] for o in by_stock[k]) <= sets[k]
    )
    m.served = pyo.Constraint(range(n_opt), rule=lambda m, o: v[o] == q(dx[o, s] for s in steps[o]))
    m.served_chosen = pyo.Constraint(range(n_opt), rule=lambda m, o: v[o] <= z[o])
    m.own = pyo.Constraint(
        range(len(own)),
        rule=lambda m, i: (
            q(dx[own[i][0], k] for k in range(own[i][1] + 1)) <= own[i][2] * z[own[i][0]]
        ),
    )

    def prev(var: Any, r: str, li: int, d: int) -> Any:
        return var[r, li, d - 1] if d > 0 else 0

    m.arrivals = pyo.Constraint(
        rld,
        rule=lambda m, r, li, d: (
            m.arrived[r, li, d] - prev(m.arrived, r, li, d)
            == q(amount[o][li] / rate[r, li] * v[o] for o in released.get((r, li, d), ()))
        ),
    )
    m.released = pyo.Constraint(
        rld, rule=lambda m, r, li, d: m.through[r, li, d] <= m.arrived[r, li, d]
    )
    m.capacity = pyo.Constraint(
        rld,
        rule=lambda m, r, li, d: (
            m.through[r, li, d] - prev(m.through, r, li, d) <= cap[r, li][d] / rate[r, li]
        ),
    )
    m.counted = pyo.Constraint(
        rld,
        rule=lambda m, r, li, d: (
            m.done[r, li, d] - prev(m.done, r, li, d)
            == q(amount[o][li] / rate[r, li] * dx[o, s] for o, s in counted.get((r, li, d), ()))
        ),
    )
    m.done_before = pyo.Constraint(
        rld, rule=lambda m, r, li, d: m.done[r, li, d] <= m.through[r, li, d]
    )
    m.power_counted = pyo.Constraint(
        rcd,
        rule=lambda m, r, c, d: (
            m.power[r, c, d] - (m.power[r, c, d - 1] if d > 0 else 0)
            == q(float(opt_power[o, ci[c]]) * dx[o, s] for o, s in starts.get((r, c, d), ()))
        ),
    )
    m.gap = pyo.Constraint(
        rcd,
        rule=lambda m, r, c, d: m.s[r, c, d] + m.power[r, c, d] >= float(need[ri[r], ci[c], d]),
    )
    scale = float(max(1, len(scenario.units)) * n_days)
    closure = options["closure"].tolist()
    m.obj = pyo.Objective(
        expr=q(float(weight[ri[r], d]) * m.s[r, c, d] for r, c, d in rcd)
        + ref.cost_weight
        * (
            q(min(closure[o], n_days) / scale * z[o] for o in range(n_opt))
            + q(s / scale * dx[o, s] for o, s in valid)
        ),
        sense=pyo.minimize,
    )
    return m


def build_pyomo_naive(scenario: Scenario, net: Any, options: pd.DataFrame, ref: BuiltModel) -> Any:
    """The same MIP looked up element by element (``DataArray.sel``) and summed with ``sum``:
    how a first attempt reads; kept to measure what the competent form saves."""
    horizon = scenario.meta.horizon_days
    days = range(horizon + 1)
    window = ref.window
    n_opt = len(options)
    regions = [r.id for r in scenario.regions]
    first = ref.first_day.tolist()
    lag = ref.lag.tolist()
    unit_ids = options["unit_id"].tolist()
    region_of = options["region_id"].tolist()
    stock_of = options["stock_id"].tolist()
    amount = list(zip(options["tons"].tolist(), options["people"].tolist(), strict=True))
    arrive = list(
        zip(options["arrive_equipment"].tolist(), options["arrive_people"].tolist(), strict=True)
    )
    rate = {(r, li): float(ref.rsom_unit.sel(region=r).values[li]) for r in regions for li in LOADS}
    servers = _servers(scenario, net)
    power = {
        (o, c): getattr(scenario.units[int(u)].power, c)
        for o, u in enumerate(options["unit"].tolist())
        for c in CAPABILITIES
    }
    m = pyo.ConcreteModel()
    m.O = pyo.Set(initialize=range(n_opt))
    valid = [(o, s) for o in range(n_opt) for s in range(window + 1) if first[o] + s <= horizon]
    m.V = pyo.Set(initialize=valid, dimen=2)
    m.RLD = pyo.Set(initialize=[(r, li, d) for (r, li) in servers for d in days], dimen=3)
    m.RCD = pyo.Set(initialize=[(r, c, d) for r in regions for c in CAPABILITIES for d in days])
    m.z = pyo.Var(m.O, domain=pyo.Binary)
    m.dx = pyo.Var(m.V, bounds=(0, 1))
    m.v = pyo.Var(m.O, bounds=(0, 1))
    m.arrived = pyo.Var(m.RLD, domain=pyo.NonNegativeReals)
    m.through = pyo.Var(m.RLD, domain=pyo.NonNegativeReals)
    m.done = pyo.Var(m.RLD, domain=pyo.NonNegativeReals)
    m.power = pyo.Var(m.RCD, domain=pyo.NonNegativeReals)
    m.s = pyo.Var(m.RCD, domain=pyo.NonNegativeReals)
    by_unit: dict[str, list[int]] = {}
    for o, u in enumerate(unit_ids):
        by_unit.setdefault(u, []).append(o)
    m.one = pyo.Constraint(list(by_unit), rule=lambda m, u: sum(m.z[o] for o in by_unit[u]) == 1)
    by_stock: dict[str, list[int]] = {}
    for o, sid in enumerate(stock_of):
        if sid:
            by_stock.setdefault(sid, []).append(o)
    sets = {st.id: st.sets for st in scenario.stocks}
    m.sets = pyo.Constraint(
        list(by_stock), rule=lambda m, k: sum(m.z[o] for o in by_stock[k]) <= sets[k]
    )
    steps: dict[int, list[int]] = {}
    for o, s in valid:
        steps.setdefault(o, []).append(s)
    m.served = pyo.Constraint(
        m.O, rule=lambda m, o: m.v[o] == sum(m.dx[o, s] for s in steps.get(o, []))
    )
    m.served_chosen = pyo.Constraint(m.O, rule=lambda m, o: m.v[o] <= m.z[o])
    beta_rows = [
        (
            int(r.option),
            int(r.step),
            _beta(int(r.option), int(r.step), first, lag, arrive, amount, servers, region_of),
        )
        for r in ref.own_speed.itertuples(index=False)
    ]
    m.own = pyo.Constraint(
        range(len(beta_rows)),
        rule=lambda m, i: (
            sum(m.dx[beta_rows[i][0], k] for k in range(beta_rows[i][1] + 1))
            <= beta_rows[i][2] * m.z[beta_rows[i][0]]
        ),
    )
    released: dict[tuple[str, int, int], list[int]] = {}
    counted: dict[tuple[str, int, int], list[tuple[int, int]]] = {}
    for o in range(n_opt):
        for li in LOADS:
            if (region_of[o], li) not in servers or amount[o][li] <= 0:
                continue
            rel = math.floor(arrive[o][li])
            if rel <= horizon:
                released.setdefault((region_of[o], li, rel), []).append(o)
    for o, s in valid:
        for li in LOADS:
            e = first[o] + s - lag[o]
            if (region_of[o], li) in servers and amount[o][li] > 0 and e >= 0:
                counted.setdefault((region_of[o], li, e), []).append((o, s))

    def prev(var: Any, r: str, li: int, d: int) -> Any:
        return var[r, li, d - 1] if d > 0 else 0

    m.arrivals = pyo.Constraint(
        m.RLD,
        rule=lambda m, r, li, d: (
            m.arrived[r, li, d] - prev(m.arrived, r, li, d)
            == sum(amount[o][li] / rate[r, li] * m.v[o] for o in released.get((r, li, d), []))
        ),
    )
    m.released = pyo.Constraint(
        m.RLD, rule=lambda m, r, li, d: m.through[r, li, d] <= m.arrived[r, li, d]
    )
    m.capacity = pyo.Constraint(
        m.RLD,
        rule=lambda m, r, li, d: (
            m.through[r, li, d] - prev(m.through, r, li, d)
            <= servers[r, li].day_capacity(d) / rate[r, li]
        ),
    )
    m.counted = pyo.Constraint(
        m.RLD,
        rule=lambda m, r, li, d: (
            m.done[r, li, d] - prev(m.done, r, li, d)
            == sum(amount[o][li] / rate[r, li] * m.dx[o, s] for o, s in counted.get((r, li, d), []))
        ),
    )
    m.done_before = pyo.Constraint(
        m.RLD, rule=lambda m, r, li, d: m.done[r, li, d] <= m.through[r, li, d]
    )
    starts: dict[tuple[str, str, int], list[tuple[int, int]]] = {}
    for o, s in valid:
        for c in CAPABILITIES:
            if power[o, c] > 0:
                starts.setdefault((region_of[o], c, first[o] + s), []).append((o, s))
    m.power_counted = pyo.Constraint(
        m.RCD,
        rule=lambda m, r, c, d: (
            m.power[r, c, d] - (m.power[r, c, d - 1] if d > 0 else 0)
            == sum(power[o, c] * m.dx[o, s] for o, s in starts.get((r, c, d), []))
        ),
    )
    need = ref.required
    m.gap = pyo.Constraint(
        m.RCD,
        rule=lambda m, r, c, d: (
            m.s[r, c, d] + m.power[r, c, d] >= float(need.sel(region=r, capability=c, day=d))
        ),
    )
    weight = ref.shortfall_weight
    n_days = horizon + 1
    scale = float(max(1, len(scenario.units)) * n_days)
    closure = options["closure"].tolist()
    m.obj = pyo.Objective(
        expr=sum(float(weight.sel(region=r, day=d)) * m.s[r, c, d] for r, c, d in m.RCD)
        + ref.cost_weight
        * (
            sum(min(closure[o], n_days) / scale * m.z[o] for o in m.O)
            + sum(max(0, s) / scale * m.dx[o, s] for o, s in valid)
        ),
        sense=pyo.minimize,
    )
    return m
