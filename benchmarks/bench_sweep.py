"""Benchmark: sweep throughput on eastern-flank with drawn disruptions; 1 vs 2 workers, Dask.

Every figure comes from this one run, on warm workers (each pool or cluster first runs a short
warm-up sweep, so that process start-up and Numba's cache load are not counted as throughput;
they are shown apart): runs per second with a local pool of 1 and of 2 processes, and with a
Dask ``LocalCluster`` of 2 worker processes (one thread each) reached through
``Client.get_executor()``. The three are kept open together and measured in interleaved
rounds (1, 2, Dask, 1, 2, Dask, ...), so that the load of a shared machine falls on all of
them alike. The ratios are 2 workers / 1 worker and Dask / local (2 workers).
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


def _throughput(plan: Plan, where: Cluster, folder: Path) -> tuple[float, list[float], float]:
    """Runs per second of one sweep on warm workers, from the first run submitted to the last
    written (the driver's set-up and the summaries after are timed apart); the driver's RSS
    along the way (MiB); the seconds of set-up and summaries."""
    rss: list[float] = []
    marks: list[float] = []

    def sample(done: int, total: int, failed: int) -> None:
        marks.append(time.perf_counter())
        rss.append(_rss_mib())

    start = time.perf_counter()
    result = run_sweep(plan, folder, scheduler=where, progress=sample)
    whole = time.perf_counter() - start
    assert result.failed == 0, f"{result.failed} runs failed"
    running = marks[-1] - marks[0]
    return plan.runs / running, rss, whole - running


def _warm(where: Cluster, folder: Path) -> float:
    start = time.perf_counter()
    warm = prepare(SCENARIO, draws=2 * where.workers, seed=999, uncertainty=SCENARIO)
    run_sweep(warm, folder, scheduler=where)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="runs per configuration, in all")
    ap.add_argument("--rounds", type=int, default=4, help="interleaved rounds")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cli-runs", type=int, default=0, help="end-to-end command line (0: skip)")
    args = ap.parse_args()
    per_round = max(4, args.runs // args.rounds)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(
        f"scenario {SCENARIO} with its bundled uncertainty; {args.rounds} rounds of "
        f"{per_round} runs per configuration"
    )
    from distributed import Client, LocalCluster

    ctx = get_context("forkserver")
    took: dict[str, float] = {"local 1": 0.0, "local 2": 0.0, "dask 2": 0.0}
    overhead: dict[str, float] = dict.fromkeys(took, 0.0)
    runs: dict[str, int] = dict.fromkeys(took, 0)
    rss: list[float] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        ProcessPoolExecutor(1, mp_context=ctx) as p1,
        ProcessPoolExecutor(2, mp_context=ctx) as p2,
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as lc,
        Client(lc) as client,
    ):
        base = Path(tmp)
        wheres = {
            "local 1": Cluster(p1, 1, "local pool of 1"),
            "local 2": Cluster(p2, 2, "local pool of 2"),
            "dask 2": Cluster(client.get_executor(pure=False), 2, "dask LocalCluster of 2"),
        }
        for name, where in wheres.items():
            print(f"{name}: start-up and warm-up {_warm(where, base / ('warm ' + name)):.1f} s")
        for r in range(args.rounds):
            # Each round draws other worlds (its own seed); every configuration the same ones.
            plan = prepare(SCENARIO, draws=per_round, seed=args.seed + r, uncertainty=SCENARIO)
            for name, where in wheres.items():
                rate, seen, extra = _throughput(plan, where, base / f"{name} {r}")
                took[name] += plan.runs / rate
                overhead[name] += extra
                runs[name] += plan.runs
                if name == "local 2":
                    rss += seen
    rates = {k: runs[k] / took[k] for k in took}
    for k in took:
        print(
            f"{k}: {runs[k]} runs in {took[k]:.1f} s, {rates[k]:.2f} runs/s "
            f"(set-up and summaries besides: {overhead[k]:.1f} s)"
        )
    q = max(1, len(rss) // 4)
    print(
        f"driver RSS (local 2): {rss[q]:.0f} MiB after a quarter of the runs, "
        f"{max(rss):.0f} MiB at most, {rss[-1]:.0f} MiB at the end"
    )
    print(f"ratio 2 workers / 1 worker: {rates['local 2'] / rates['local 1']:.2f}x")
    print(f"ratio dask / local (2 workers): {rates['dask 2'] / rates['local 2']:.2f}")
    if args.cli_runs:
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [
                sys.executable,
                "-m",
                "forcemodel",
                "sweep",
                SCENARIO,
                "-u",
                SCENARIO,
                "-n",
                str(args.cli_runs),
                "--seed",
                str(args.seed),
                "-w",
                "2",
                "--no-plots",
                "-o",
                str(Path(tmp) / "cli"),
            ]
            start = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            wall = time.perf_counter() - start
        print(
            f"command line end to end, {args.cli_runs} runs, 2 workers: {wall:.1f} s "
            f"({args.cli_runs / wall:.2f} runs/s, start-up included)"
        )


if __name__ == "__main__":
    main()
