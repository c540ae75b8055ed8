"""Benchmark: the security-assistance matcher against a per-element Pyomo build of the same MIP.

Target (issue #5): 10,000 pledges against 2,000 requirements with 50 training courses matched
in under 30 s. Cases come from :func:`forcemodel.assist.synthetic.synthetic_case` (seeded,
byte-reproducible). For each size of the ladder it times, in the same run:

* :func:`forcemodel.assist.match_case` end to end (compile, build with linopy, solve with HiGHS,
  read the plan, explain what is unmet);
* the baseline ``oracles/pyomo_match.py``: the same model built element by element in Pyomo and
  solved by HiGHS (appsi), on the sizes where it finishes; both objectives must agree to 1e-6
  (relative).

At the target size ``solve`` runs as ``formulation="auto"`` chooses (the pool model
:mod:`forcemodel.assist.pool` on a 7-day grid, a restriction, its greedy start
:mod:`forcemodel.assist.greedy` improved part by part :mod:`forcemodel.assist.parts`), or with
``--step`` / ``--formulation`` forced; the plan's value is then compared with an upper bound of
the daily (exact) model's optimum (:func:`forcemodel.assist.parts.daily_bound`, computed
after the timed run, not part of it) and the gap printed. The ladder uses
``formulation="auto"`` (exact, daily; the per-arc model at those sizes). Every line is
flushed: run with ``python -u`` or redirect freely.

Run: ``.venv/bin/python -m benchmarks.bench_match`` (``--help`` for sizes and limits).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import platform
import time
from typing import cast

import linopy
import numpy as np
import yaml
from oracles.pyomo_match import solve_baseline

from forcemodel.assist import (
    AssistanceCase,
    MatchResult,
    compile_case,
    load_case_data,
    match_case,
)
from forcemodel.assist.compile import pool_size
from forcemodel.assist.explain import unmet_requirements
from forcemodel.assist.greedy import greedy_values
from forcemodel.assist.parts import daily_bound
from forcemodel.assist.pool import build_pool
from forcemodel.assist.solve import AUTO_GRID_VARIABLES, AUTO_STEP, solve
from forcemodel.assist.synthetic import synthetic_case

TARGET_S = 30.0
TOLERANCE = 1e-6
LADDER_GAP = 1e-6


def _case(pledges: int, requirements: int, courses: int, seed: int) -> object:
    return load_case_data(synthetic_case(pledges, requirements, courses, seed=seed))


def match_case_with(case: object, args: argparse.Namespace) -> MatchResult:
    """The target case end to end (compile, build, solve, read, explain)."""
    res = solve(
        cast(AssistanceCase, case),
        time_limit=args.target_time_limit,
        mip_gap=args.gap,
        formulation=args.formulation,
        step=args.step,
    )
    return dataclasses.replace(res, unmet=unmet_requirements(res))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pledges", type=int, default=10_000)
    parser.add_argument("--requirements", type=int, default=2_000)
    parser.add_argument("--courses", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--ladder",
        default="20x5x4,40x10x6,80x20x10",
        help="pledges x requirements x courses of the sizes timed against the baseline",
    )
    parser.add_argument("--time-limit", type=float, default=300.0, help="ladder solves (s)")
    parser.add_argument(
        "--target-time-limit", type=float, default=60.0, help="target: solver time limit (s)"
    )
    parser.add_argument("--gap", type=float, default=1e-2, help="target MIP gap")
    parser.add_argument(
        "--step", type=int, default=None, help="target: days between decisions (default: auto)"
    )
    parser.add_argument("--formulation", default="auto", help="target: auto, pool or arcs")
    parser.add_argument(
        "--bound-step", type=int, default=7, help="grid of the bound's relaxation (0: no bound)"
    )
    args = parser.parse_args(argv)

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    data = synthetic_case(args.pledges, args.requirements, args.courses, seed=args.seed)
    digest = hashlib.sha256(yaml.safe_dump(data, sort_keys=True).encode()).hexdigest()[:16]
    print(
        f"target case: {args.pledges} pledges, {args.requirements} requirements, "
        f"{args.courses} courses, seed {args.seed} (sha256 of its YAML {digest})",
        flush=True,
    )
    start = time.perf_counter()
    case = load_case_data(data)
    comp = compile_case(case, per_line=False)
    compile_s = time.perf_counter() - start
    step = args.step
    if step is None:
        step = AUTO_STEP if pool_size(comp) > AUTO_GRID_VARIABLES else 1
    print(
        f"  load + compile: {compile_s:.1f} s; {len(comp.sources)} sources (merged), "
        f"{len(comp.lines)} lines, {len(comp.slots)} slots, {len(comp.arcs)} source-route arcs, "
        f"{len(comp.cohorts)} cohorts; daily pool model about {pool_size(comp):,} variables",
        flush=True,
    )
    start = time.perf_counter()
    with linopy.options as opts:
        opts(semantics="v1")
        pm = build_pool(case, step=step, comp=comp)
        build_s = time.perf_counter() - start
        start = time.perf_counter()
        values = greedy_values(pm)
        greedy_s = time.perf_counter() - start
        expr = pm.model.objective.expression
        v, co = expr.vars.to_numpy().ravel(), expr.coeffs.to_numpy().ravel()
        greedy = float((np.where(v >= 0, values[np.maximum(v, 0)], 0.0) * co).sum())
    print(
        f"  pool model, step {step}: build (alone, not reused) {build_s:.1f} s; "
        f"{pm.model.nvars:,} variables, {pm.model.ncons:,} constraints; greedy start "
        f"{greedy_s:.1f} s, objective {greedy:.6g}",
        flush=True,
    )
    start = time.perf_counter()
    res = match_case_with(case, args)
    took = time.perf_counter() - start
    verdict = "meets" if took < TARGET_S else "misses"
    # The plan's fingerprint: the same on every run (the improvement is limited by work, not
    # time), so two runs can be compared by it.
    plan = hashlib.sha256(
        b"".join(f.to_csv(index=False).encode() for f in (res.deliveries, res.unmet))
    ).hexdigest()[:16]
    print(
        f"  solve + explain ({args.formulation}, step {args.step or 'auto'}): {took:.1f} s end to "
        f"end (solver {res.runtime_s or 0:.1f} s, {res.termination}, objective "
        f"{res.objective:.6g}, solver's gap {res.mip_gap}); {verdict} the {TARGET_S:.0f} s "
        f"target; plan sha256 {plan}; {' '.join(res.log.strip().splitlines()[-2:])}",
        flush=True,
    )
    if args.bound_step:
        bound = daily_bound(case, step=args.bound_step, comp=comp, time_limit=args.time_limit)
        gap = (bound.bound - res.objective) / max(1.0, abs(res.objective))
        print(
            f"  upper bound of the daily model (LP of its {args.bound_step}-day relaxation, "
            f"{len(bound.parts)} parts): {bound.bound:.6g} in {bound.seconds:.1f} s; gap of the "
            f"plan {gap:.4f}, of the greedy start "
            f"{(bound.bound - greedy) / max(1.0, abs(greedy)):.4f}",
            flush=True,
        )

    print("ladder (engine vs per-element Pyomo baseline, same case, both to gap 1e-6):")
    ok = True
    for size in args.ladder.split(","):
        p, r, c = (int(v) for v in size.split("x"))
        case = cast(AssistanceCase, _case(p, r, c, args.seed))
        start = time.perf_counter()
        # Both solved to a gap of 1e-6, so that their objectives can agree to 1e-6 (gap 0 can
        # leave HiGHS proving the last bit of optimality for minutes).
        res = match_case(case, time_limit=args.time_limit, mip_gap=LADDER_GAP)
        engine_s = time.perf_counter() - start
        start = time.perf_counter()
        base = solve_baseline(case, time_limit=args.time_limit, mip_gap=LADDER_GAP)
        base_s = time.perf_counter() - start
        rel = abs(res.objective - base) / max(1.0, abs(base))
        same = rel <= TOLERANCE
        ok &= same
        print(
            f"  {p:>6} pledges {r:>5} req {c:>3} courses: engine {engine_s:7.2f} s "
            f"(HiGHS {res.runtime_s or 0:.2f} s, {res.termination}), baseline {base_s:7.2f} s, "
            f"speed-up {base_s / engine_s:5.1f}x, objective {res.objective:.9g} vs {base:.9g} "
            f"({'same' if same else 'DIFFERENT'}, rel {rel:.1e})",
            flush=True,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
