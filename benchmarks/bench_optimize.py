"""Benchmark: the optimiser's linopy model against the same model built in Pyomo.

On one synthetic scenario (``forcemodel.scenario.synthetic``), in one run:

* build the MIP of docs/optimization.md with forcemodel's vectorised linopy builder, and the
  very same rows and columns in Pyomo as a competent Pyomo user writes them
  (``oracles/pyomo_optimize.py``: numbers precomputed into arrays, each row's terms gathered
  once, ``quicksum``; the baseline, whose ratio is the one reported against the targets), and
  as a first attempt writes them (``build_pyomo_naive``: ``DataArray.sel`` per element and
  ``sum``; printed for reference), from the same precomputed option table;
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
from oracles.pyomo_optimize import build_pyomo, build_pyomo_naive

from benchmarks.measure import peak_rss_mib
from forcemodel import load_scenario, load_scenario_data
from forcemodel.mip.solve import SolverSettings, run_highs
from forcemodel.network.compile import compile_network
from forcemodel.optimize import optimize
from forcemodel.optimize.model import BuiltModel, Weights, build_model, option_table
from forcemodel.scenario.model import Scenario
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
    t_naive, mem_naive, _ = _measure(lambda: build_pyomo_naive(scenario, net, options, built), 1)
    print(
        f"build  pyomo, per element (.sel, sum; reference) {t_naive:8.3f} s  "
        f"{mem_naive:8.1f} MiB: {t_naive / t_lin:.1f}x linopy's time, "
        f"{t_naive / t_pyo:.1f}x the competent Pyomo's"
    )
    n_rows, n_cols = built.model.ncons, built.model.nvars
    print(f"linopy model: {n_rows:,} rows, {n_cols:,} columns")
    print(f"pyomo model:  {pm.nconstraints():,} rows, {pm.nvariables():,} columns")
    same = (n_rows, n_cols) == (pm.nconstraints(), pm.nvariables())
    ratio = t_pyo / t_lin
    share = mem_lin / mem_pyo
    print(f"build  linopy {t_lin:8.3f} s  {mem_lin:8.1f} MiB (tracemalloc peak)")
    print(f"build  pyomo  {t_pyo:8.3f} s  {mem_pyo:8.1f} MiB (arrays, quicksum: the baseline)")
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
    value_naive = _solve_pyomo(build_pyomo_naive(scenario, net, options, built), args.time_limit)
    print(f"objective of the per-element pyomo model: {value_naive:.9f}")
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
    ok &= abs(value_naive - value_pyo) <= 1e-6 * max(1.0, abs(value_pyo))
    return ok and ratio >= TARGET_BUILD_RATIO and share <= TARGET_MEMORY_SHARE and rel <= 1e-6


def end_to_end(scenario: Scenario, label: str, time_limit: float, target_s: float) -> bool:
    start = time.perf_counter()
    result = optimize(scenario, time_limit=time_limit, closure_by="bundled")
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
