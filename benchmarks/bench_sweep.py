"""Benchmark: sweep throughput on eastern-flank with drawn disruptions; 1 vs 2 workers, Dask.

Every figure comes from this one run, on warm workers (each pool or cluster first runs a short
warm-up sweep, so that process start-up and Numba's cache load are not counted as throughput;
they are shown apart): runs per second with a local pool of 1 and of 2 processes, and with a
Dask ``LocalCluster`` of 2 worker processes (one thread each) reached through
``Client.get_executor()``. The ratios are 2 workers / 1 worker and Dask / local (2 workers).
Then the whole command line as a user runs it (``forcemodel sweep eastern-flank -u
eastern-flank -n RUNS -w 2``, start-up included), timed end to end. Memory: the driver's
resident memory while the runs stream to disk (it must not grow with the number of runs).

Run: ``.venv/bin/python -m benchmarks.bench_sweep`` (``--runs 1000`` for the recorded figure).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from forcemodel.sweep import run_sweep
from forcemodel.sweep.run import Cluster
from forcemodel.sweep.spec import Plan, prepare

SCENARIO = "eastern-flank"


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _throughput(plan: Plan, where: Cluster, folder: Path) -> tuple[float, list[float]]:
    """Runs per second of one sweep on warm workers; the driver's RSS along the way (MiB)."""
    rss: list[float] = []

    def sample(done: int, total: int, failed: int) -> None:
        rss.append(_rss_mib())

    start = time.perf_counter()
    result = run_sweep(plan, folder, scheduler=where, progress=sample)
    took = time.perf_counter() - start
    assert result.failed == 0, f"{result.failed} runs failed"
    return plan.runs / took, rss


def _warm(where: Cluster, folder: Path) -> float:
    start = time.perf_counter()
    warm = prepare(SCENARIO, draws=2 * where.workers, seed=999, uncertainty=SCENARIO)
    run_sweep(warm, folder, scheduler=where)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="runs of the 2-worker sweeps")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-cli", action="store_true", help="skip the end-to-end command line")
    args = ap.parse_args()
    n2, n1 = args.runs, max(20, args.runs // 4)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(f"scenario {SCENARIO} with its bundled uncertainty; seed {args.seed}")
    plan1 = prepare(SCENARIO, draws=n1, seed=args.seed, uncertainty=SCENARIO)
    plan2 = prepare(SCENARIO, draws=n2, seed=args.seed, uncertainty=SCENARIO)
    ctx = get_context("forkserver")
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for n in (1, 2):
            pool = ProcessPoolExecutor(n, mp_context=ctx)
            try:
                where = Cluster(pool, n, f"local pool of {n}")
                warm = _warm(where, base / f"warm{n}")
                plan = plan1 if n == 1 else plan2
                rate, rss = _throughput(plan, where, base / f"local{n}")
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
            rates[f"local{n}"] = rate
            print(
                f"local pool, {n} worker(s): {plan.runs} runs, {rate:.2f} runs/s "
                f"(start-up and warm-up {warm:.1f} s)"
            )
            if n == 2:
                q = max(1, len(rss) // 4)
                print(
                    f"  driver RSS: {rss[q]:.0f} MiB after a quarter of the runs, "
                    f"{max(rss):.0f} MiB at most, {rss[-1]:.0f} MiB at the end"
                )
        from distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as lc,
            Client(lc) as client,
        ):
            where = Cluster(client.get_executor(pure=False), 2, "dask LocalCluster of 2")
            warm = _warm(where, base / "warmdask")
            rate, _ = _throughput(plan2, where, base / "dask")
        rates["dask2"] = rate
        print(
            f"dask LocalCluster, 2 workers: {plan2.runs} runs, {rate:.2f} runs/s "
            f"(start-up and warm-up {warm:.1f} s)"
        )
        print(f"ratio 2 workers / 1 worker: {rates['local2'] / rates['local1']:.2f}x")
        print(f"ratio dask / local (2 workers): {rates['dask2'] / rates['local2']:.2f}")
        if not args.no_cli:
            cmd = [
                sys.executable,
                "-m",
                "forcemodel",
                "sweep",
                SCENARIO,
                "-u",
                SCENARIO,
                "-n",
                str(n2),
                "--seed",
                str(args.seed),
                "-w",
                "2",
                "--no-plots",
                "-o",
                str(base / "cli"),
            ]
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            took = time.perf_counter() - start
            print(
                f"command line end to end, {n2} runs, 2 workers: {took:.1f} s "
                f"({n2 / took:.2f} runs/s, start-up included)"
            )


if __name__ == "__main__":
    main()
