"""Benchmark: the security-assistance matcher against a per-element Pyomo build of the same MIP.

Target (issue #5): 10,000 pledges against 2,000 requirements with 50 training courses matched
in under 30 s. Cases come from :func:`forcemodel.assist.synthetic.synthetic_case` (seeded,
byte-reproducible). For each size of the ladder it times, in the same run:

* :func:`forcemodel.assist.match_case` end to end (compile, build with linopy, solve with HiGHS,
  read the plan, explain what is unmet);
* the baseline ``baseline_pyomo.py``: the same model built element by element in Pyomo and
  solved by HiGHS (appsi), on the sizes where it finishes; both objectives must agree to 1e-6
  (relative).

At the target size the pool model (:mod:`forcemodel.assist.pool`) is used on a grid of
``--step`` days (7 by default: a restriction, docs/assistance.md) with a HiGHS time limit,
starting from the greedy plan (:mod:`forcemodel.assist.greedy`); the ladder uses
``formulation="auto"`` (exact, daily; the per-arc model at those sizes). Every line is
flushed: run with ``python -u`` or redirect freely.

Run: ``.venv/bin/python benchmarks/bench_match.py`` (``--help`` for sizes and limits).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import platform
import sys
import time
from pathlib import Path
from typing import cast

import linopy
import yaml

from forcemodel.assist import (
    AssistanceCase,
    MatchResult,
    compile_case,
    load_case_data,
    match_case,
)
from forcemodel.assist.explain import unmet_requirements
from forcemodel.assist.match import solve
from forcemodel.assist.pool import build_pool
from forcemodel.assist.synthetic import synthetic_case

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline_pyomo import solve_baseline

TARGET_S = 30.0
TOLERANCE = 1e-6
LADDER_GAP = 1e-6


def _case(pledges: int, requirements: int, courses: int, seed: int) -> object:
    return load_case_data(synthetic_case(pledges, requirements, courses, seed=seed))


def match_case_with(case: object, args: argparse.Namespace) -> MatchResult:
    """The target case end to end (compile, build, solve, read, explain), on the pool model."""
    res = solve(
        cast(AssistanceCase, case),
        time_limit=args.target_time_limit,
        mip_gap=args.gap,
        formulation="pool",
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
    parser.add_argument("--target-time-limit", type=float, default=20.0, help="target HiGHS (s)")
    parser.add_argument("--gap", type=float, default=1e-2, help="target MIP gap")
    parser.add_argument("--step", type=int, default=7, help="days between decisions (target)")
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
    print(
        f"  load + compile: {compile_s:.1f} s; {len(comp.sources)} sources (merged), "
        f"{len(comp.lines)} lines, {len(comp.slots)} slots, {len(comp.arcs)} source-route arcs, "
        f"{len(comp.cohorts)} cohorts; pool model, step {args.step} day(s)",
        flush=True,
    )
    start = time.perf_counter()
    with linopy.options as opts:
        opts(semantics="v1")
        pm = build_pool(case, step=args.step, comp=comp)
    build_s = time.perf_counter() - start
    print(
        f"  build (alone, not reused): {build_s:.1f} s; {pm.model.nvars:,} variables, "
        f"{pm.model.ncons:,} constraints",
        flush=True,
    )
    start = time.perf_counter()
    res = match_case_with(case, args)
    took = time.perf_counter() - start
    verdict = "meets" if took < TARGET_S else "misses"
    print(
        f"  match_case (pool, step {args.step}): {took:.1f} s end to end (HiGHS "
        f"{res.runtime_s or 0:.1f} s, {res.termination}, objective {res.objective:.6g}, "
        f"gap {res.mip_gap}); {verdict} the {TARGET_S:.0f} s target",
        flush=True,
    )

    print("ladder (engine vs per-element Pyomo baseline, same case, both to gap 1e-6):")
    ok = True
    for size in args.ladder.split(","):
        p, r, c = (int(v) for v in size.split("x"))
        case = _case(p, r, c, args.seed)
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
