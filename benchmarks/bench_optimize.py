"""Benchmark: the optimiser's linopy model against the same model built per element in Pyomo.

On one synthetic scenario (``forcemodel.scenario.synthetic``), in one run:

* build the MIP of docs/optimization.md with forcemodel's vectorised linopy builder, and the
  very same rows and columns per element in Pyomo (one Python object per variable and per
  constraint, the classic way), from the same precomputed option table;
* time each build (median of ``--repeats``) and its Python memory (``tracemalloc`` peak during
  the build, collected before, after the timed builds so that import-time caches are not
  counted on either side): both build the whole model (every row and column, checked equal in
  number);
* solve both with HiGHS to optimality (gap 0): the objective values must agree to 1e-6
  relative. A model too large to solve to gap 0 in minutes (eastern-flank's size) is checked
  on a smaller synthetic model in the same run (``--check-units`` and friends; 0 units: solve
  the compared model itself).

Targets: linopy builds at least 5x faster, in at most a third of Pyomo's memory.
``--big`` also runs ``forcemodel.optimize`` end to end on a synthetic scenario about ten times
eastern-flank's size (target: within 10 minutes), and ``--eastern-flank`` the bundled scenario
(target: under 60 s end to end).

Run: ``.venv/bin/python -m benchmarks.bench_optimize`` (``--help`` for sizes).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import linopy
import numpy as np
import pyomo.environ as pyo

from benchmarks.measure import peak_rss_mib
from forcemodel import load_scenario, load_scenario_data
from forcemodel.mip.solve import SolverSettings, run_highs
from forcemodel.network.compile import compile_network
from forcemodel.optimize import optimize
from forcemodel.optimize.model import BuiltModel, Weights, build_model, option_table
from forcemodel.scenario.model import CAPABILITIES, Scenario
from forcemodel.scenario.synthetic import synthetic_scenario

TARGET_BUILD_RATIO = 5.0
TARGET_MEMORY_SHARE = 1 / 3


def _measure(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Median seconds over ``repeats`` calls, then the tracemalloc peak (MiB) of one more call
    (traced apart: tracing slows Python down); the last result."""
    times, out = [], None
    for _ in range(repeats):
        out = None
        gc.collect()
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    out = None
    gc.collect()
    tracemalloc.start()
    out = fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return float(np.median(times)), peak, out


def build_linopy(scenario: Scenario, net: Any, options: Any) -> BuiltModel:
    """forcemodel's own builder (vectorised)."""
    with linopy.options as opts:
        opts(semantics="v1")
        # The shared capacities on the way (links, nodes, lift pools) are left out here: the
        # per-element Pyomo model below has only the RSOM rows.
        return build_model(scenario, net, options, Weights(), shared=False)


def build_pyomo(scenario: Scenario, net: Any, options: Any, ref: BuiltModel) -> pyo.ConcreteModel:
    """The same MIP, one Pyomo component entry per variable and constraint.

    The per-option data (first day, RSOM lag, own-speed bounds) is what the linopy builder
    computed (``ref``), so that both models are the same; the rows are written element by
    element here.
    """
    horizon = scenario.meta.horizon_days
    days = range(horizon + 1)
    window = ref.window
    n_opt = len(options)
    regions = [r.id for r in scenario.regions]
    loads = (0, 1)
    first = ref.first_day.tolist()
    lag = ref.lag.tolist()
    unit_ids = options["unit_id"].tolist()
    region_of = options["region_id"].tolist()
    stock_of = options["stock_id"].tolist()
    amount = list(zip(options["tons"].tolist(), options["people"].tolist(), strict=True))
    arrive = list(
        zip(options["arrive_equipment"].tolist(), options["arrive_people"].tolist(), strict=True)
    )
    rate = {(r, li): float(ref.rsom_unit.sel(region=r).values[li]) for r in regions for li in loads}
    servers: dict[tuple[str, int], Any] = {}
    for r in scenario.regions:
        for li, srv in enumerate((net.rsom_t_server[r.id], net.rsom_pax_server[r.id])):
            if srv is not None:
                servers[(r.id, li)] = net.servers[srv]
    power = {
        (o, c): getattr(scenario.units[int(u)].power, c)
        for o, u in enumerate(options["unit"].tolist())
        for c in CAPABILITIES
    }

    m = pyo.ConcreteModel()
    m.O = pyo.Set(initialize=range(n_opt))
    valid = [(o, s) for o in range(n_opt) for s in range(window + 1) if first[o] + s <= horizon]
    m.V = pyo.Set(initialize=valid, dimen=2)
    rl = [(r, li) for (r, li) in servers]
    m.RLD = pyo.Set(initialize=[(r, li, d) for (r, li) in rl for d in days], dimen=3)
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
    rows = ref.own_speed
    beta_rows: list[tuple[int, int, float]] = []
    for row in rows.itertuples(index=False):
        o, s = int(row.option), int(row.step)
        beta_rows.append((o, s, _beta(o, s, first, lag, arrive, amount, servers, region_of)))
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
        for li in loads:
            if (region_of[o], li) not in servers or amount[o][li] <= 0:
                continue
            rel = math.floor(arrive[o][li])
            if rel <= horizon:
                released.setdefault((region_of[o], li, rel), []).append(o)
    for o, s in valid:
        for li in loads:
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


def _beta(
    o: int,
    s: int,
    first: list[int],
    lag: list[int],
    arrive: list[tuple[float, float]],
    amount: list[tuple[float, float]],
    servers: dict[tuple[str, int], Any],
    region_of: list[str],
) -> float:
    """Own-speed bound of option ``o`` counting ``s`` days after its first day, per element."""
    until = first[o] + s - lag[o]
    beta = 1.0
    for li in (0, 1):
        srv = servers.get((region_of[o], li))
        if srv is None or amount[o][li] <= 0:
            continue
        start = max(0, math.floor(arrive[o][li]))
        avail = sum(srv.day_capacity(d) for d in range(start, until + 1))
        beta = min(beta, max(0.0, min(1.0, avail / amount[o][li])))
    return beta


def _solve_pyomo(m: pyo.ConcreteModel, time_limit: float) -> float:
    solver = pyo.SolverFactory("appsi_highs")
    solver.config.time_limit = time_limit
    solver.config.mip_gap = 0.0
    solver.config.stream_solver = False
    solver.highs_options = {"mip_abs_gap": 0.0, "threads": 1}
    solver.solve(m)
    return float(pyo.value(m.obj))


def _synthetic(
    units: int, nodes: int, regions: int, days: int, seed: int
) -> tuple[Scenario, Any, Any]:
    data = synthetic_scenario(units=units, nodes=nodes, days=days, regions=regions, seed=seed)
    scenario = load_scenario_data(data)
    net = compile_network(scenario)
    options = option_table(scenario, net)
    print(
        f"synthetic scenario: {units} units, {nodes} nodes, {regions} regions, {days} days, "
        f"seed {seed}: {len(options):,} options"
    )
    return scenario, net, options


def compare(args: argparse.Namespace) -> bool:
    scenario, net, options = _synthetic(args.units, args.nodes, args.regions, args.days, args.seed)
    t_lin, mem_lin, built = _measure(lambda: build_linopy(scenario, net, options), args.repeats)
    t_pyo, mem_pyo, pm = _measure(lambda: build_pyomo(scenario, net, options, built), args.repeats)
    n_rows, n_cols = built.model.ncons, built.model.nvars
    print(f"linopy model: {n_rows:,} rows, {n_cols:,} columns")
    print(f"pyomo model:  {pm.nconstraints():,} rows, {pm.nvariables():,} columns")
    same = (n_rows, n_cols) == (pm.nconstraints(), pm.nvariables())
    ratio = t_pyo / t_lin
    share = mem_lin / mem_pyo
    print(f"build  linopy {t_lin:8.3f} s  {mem_lin:8.1f} MiB (tracemalloc peak)")
    print(f"build  pyomo  {t_pyo:8.3f} s  {mem_pyo:8.1f} MiB")
    print(f"build time ratio pyomo/linopy: {ratio:.1f}x (target >= {TARGET_BUILD_RATIO:g}x)")
    print(f"build memory linopy/pyomo:     {share:.2f} (target <= {TARGET_MEMORY_SHARE:.2f})")
    if args.check_units > 0:
        built = pm = None
        gc.collect()
        scenario, net, options = _synthetic(
            args.check_units, args.check_nodes, args.check_regions, args.check_days, args.seed
        )
        built = build_linopy(scenario, net, options)
        pm = build_pyomo(scenario, net, options, built)
        print(
            f"objective check on this smaller model: {built.model.ncons:,} rows, "
            f"{built.model.nvars:,} columns (pyomo {pm.nconstraints():,}, {pm.nvariables():,})"
        )
        same &= (built.model.ncons, built.model.nvars) == (pm.nconstraints(), pm.nvariables())
    settings = SolverSettings(time_limit=args.time_limit, mip_gap=0.0, threads=1)
    with linopy.options as opts:
        opts(semantics="v1")
        start = time.perf_counter()
        out = run_highs(built.model, settings, mip=True)
        t_solve = time.perf_counter() - start
    start = time.perf_counter()
    value_pyo = _solve_pyomo(pm, args.time_limit)
    t_solve_pyo = time.perf_counter() - start
    value_lin = float(out.objective) if out.objective is not None else math.nan
    rel = abs(value_lin - value_pyo) / max(1.0, abs(value_lin))
    print(
        f"objective linopy {value_lin:.9f} ({out.termination}, {t_solve:.1f} s); "
        f"pyomo {value_pyo:.9f} ({t_solve_pyo:.1f} s); relative difference {rel:.1e} "
        "(target <= 1e-6)"
    )
    gaps = f"gap {out.mip_gap:.1e}" if out.mip_gap is not None else "no gap"
    print(f"linopy solve: {out.termination}, {gaps}; same rows and columns: {same}")
    ok = out.termination == "optimal" and same
    return ok and ratio >= TARGET_BUILD_RATIO and share <= TARGET_MEMORY_SHARE and rel <= 1e-6


def end_to_end(scenario: Scenario, label: str, time_limit: float, target_s: float) -> bool:
    start = time.perf_counter()
    result = optimize(scenario, time_limit=time_limit)
    wall = time.perf_counter() - start
    gap = f"{result.mip_gap:.1%}" if result.mip_gap is not None else "-"
    bound = f"{result.bound:,.2f}" if result.bound is not None else "none"
    print(
        f"{label}: optimize end to end {wall:.1f} s (time limit {time_limit:g} s, target "
        f"< {target_s:g} s): objective {result.objective_value:,.2f}, bound {bound}, gap "
        f"{gap}, {result.termination}; peak RSS so far {peak_rss_mib():,.0f} MiB"
    )
    # The stage lines of the search (which plan was kept, which bound was used).
    for line in result.log.splitlines():
        if line.startswith(
            ("====", "Incumbents:", "Bound:", "Kept:", "Day-0", "LP relax", "Regions search: pass")
        ):
            print(f"  {line}")
    return wall < target_s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--units", type=int, default=120)
    p.add_argument("--nodes", type=int, default=30)
    p.add_argument("--regions", type=int, default=4)
    p.add_argument("--days", type=int, default=120)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--check-units", type=int, default=60, help="0: solve the compared model")
    p.add_argument("--check-nodes", type=int, default=20)
    p.add_argument("--check-regions", type=int, default=3)
    p.add_argument("--check-days", type=int, default=90)
    p.add_argument("--time-limit", type=float, default=300.0, help="per solve, seconds")
    p.add_argument("--eastern-flank", action="store_true", help="also time eastern-flank")
    p.add_argument("--big", action="store_true", help="also a scenario ~10x eastern-flank")
    args = p.parse_args()
    print(
        f"machine: {platform.machine()} {platform.system()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, linopy {linopy.__version__}"
    )
    ok = compare(args)
    if args.eastern_flank:
        ok &= end_to_end(load_scenario("eastern-flank"), "eastern-flank", 50.0, 60.0)
    if args.big:
        big = load_scenario_data(synthetic_scenario(units=3890, nodes=400, days=180, regions=80))
        ok &= end_to_end(big, "synthetic 3,890 units, 80 regions, 180 days", 540.0, 600.0)
    print("all targets met" if ok else "some targets missed")


if __name__ == "__main__":
    main()
