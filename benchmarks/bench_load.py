"""Benchmark: loading and validating a large scenario folder.

Generates a synthetic scenario (10,000 units, 2,000 nodes by default) into a temporary folder
and times :func:`forcemodel.load_scenario` on it: reading ``scenario.yaml`` and the CSV tables
with line tracking, filling catalogue defaults, validating every item and resolving every
reference. Target: under 5 s on a 2-core machine.

The baseline, measured in the same run, is what a user would write without forcemodel's loader:
the same (fully resolved) scenario as one YAML file, read with PyYAML's pure-Python
``yaml.safe_load`` and validated by one ``Scenario.model_validate`` of the whole dict, with no
line tracking, no defaults and no cross-reference checks. For reference only, the same with
PyYAML's LibYAML-based ``CSafeLoader`` is shown too.

Run: ``.venv/bin/python -m benchmarks.bench_load`` (``--help`` for sizes and repeats).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

import forcemodel
from benchmarks.measure import peak_rss_mib, timed
from forcemodel.scenario.model import Scenario
from forcemodel.scenario.synthetic import synthetic_scenario
from forcemodel.scenario.write import write_scenario_folder

TARGET_S = 5.0


def _measure_memory(kind: str, path: Path) -> None:
    """In a fresh process: run one load and print its peak RSS and the rise over the imports."""
    before = peak_rss_mib()
    if kind == "loader":
        forcemodel.load_scenario(path)
    elif kind == "baseline":
        Scenario.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    else:
        text = path.read_text(encoding="utf-8")
        Scenario.model_validate(yaml.load(text, Loader=yaml.CSafeLoader))
    after = peak_rss_mib()
    print(f"{after:.1f} {after - before:.1f}")


def _peak_rss(kind: str, path: Path) -> tuple[float, float]:
    """Peak RSS of a fresh process doing one load, and its rise over the process after imports.

    A fresh process each, so that one measurement does not inherit another's high-water mark.
    """
    cmd = [sys.executable, __file__, "--memory-of", kind, str(path)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table; exit status 1 if the loader misses its target."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--nodes", type=int, default=2_000)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--regions", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=5, help="repeats of each timing (median)")
    ap.add_argument(
        "--baseline-repeats", type=int, default=3, help="repeats of the slow baseline timing"
    )
    ap.add_argument("--memory-of", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_of:
        _measure_memory(args.memory_of[0], Path(args.memory_of[1]))
        return 0

    with tempfile.TemporaryDirectory(prefix="forcemodel-bench-") as tmp:
        root = Path(tmp)
        folder = root / "scenario"
        t0 = time.perf_counter()
        data = synthetic_scenario(args.units, args.nodes, args.days, args.regions, args.seed)
        t_gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_scenario_folder(data, folder)
        t_write = time.perf_counter() - t0
        folder_bytes = sum(p.stat().st_size for p in folder.iterdir())

        scenario = forcemodel.load_scenario(folder)  # warm-up: imports, catalogue, schemas
        # The baseline input: the same scenario as one YAML file, as a user would write it
        # without forcemodel's loader: every value the model requires spelled out (no catalogue
        # defaults), fields at their default left out, one flow-style mapping per table row.
        single = root / "scenario-single.yaml"
        dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        resolved = scenario.model_dump(by_alias=True, mode="json", exclude_defaults=True)
        with open(single, "w", encoding="utf-8") as fh:
            yaml.dump(resolved, fh, Dumper=dumper, sort_keys=False, default_flow_style=None)
        single_bytes = single.stat().st_size
        single_text = single.read_text(encoding="utf-8")

        def loader() -> Scenario:
            return forcemodel.load_scenario(folder)

        def baseline() -> Scenario:
            return Scenario.model_validate(yaml.safe_load(single_text))

        def baseline_c() -> Scenario:
            return Scenario.model_validate(yaml.load(single_text, Loader=yaml.CSafeLoader))

        assert baseline().digest() == scenario.digest(), "baseline reads a different scenario"
        assert baseline_c().digest() == scenario.digest()

        t_load, all_load, _ = timed(loader, args.repeats)
        t_base, all_base, _ = timed(baseline, args.baseline_repeats)
        t_base_c, all_base_c, _ = timed(baseline_c, args.repeats)
        mem_load = _peak_rss("loader", folder)
        mem_base = _peak_rss("baseline", single)
        mem_base_c = _peak_rss("baseline_c", single)
    print(
        f"forcemodel {forcemodel.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores, PyYAML {yaml.__version__}"
    )
    print(
        f"scenario: {len(scenario.units):,} units, {len(scenario.nodes):,} nodes, "
        f"{len(scenario.links):,} links, {len(scenario.regions)} regions, "
        f"{len(scenario.stocks)} stocks, {len(scenario.disruptions)} disruptions "
        f"(seed {args.seed})"
    )
    print(
        f"generate {t_gen:.3f} s, write folder {t_write:.3f} s "
        f"({folder_bytes / 2**20:.2f} MiB); single YAML file {single_bytes / 2**20:.2f} MiB"
    )
    print()
    rows = [
        ("load_scenario(folder): YAML + CSV, defaults, refs", t_load, all_load, mem_load),
        ("baseline: yaml.safe_load (pure Python) + model_validate", t_base, all_base, mem_base),
        (
            "reference: yaml CSafeLoader (LibYAML) + model_validate",
            t_base_c,
            all_base_c,
            mem_base_c,
        ),
    ]
    width = max(len(r[0]) for r in rows)
    head = f"{'median s':>9}  {'runs':>4}  {'ratio':>6}  {'peak RSS MiB':>12}  {'rise MiB':>8}"
    print(f"{'':{width}}  {head}")
    for name, median, times, (rss, rise) in rows:
        print(
            f"{name:{width}}  {median:9.3f}  {len(times):4d}  {median / t_base:6.3f}  "
            f"{rss:12.0f}  {rise:8.0f}"
        )
    print()
    print(
        f"ratio = time / baseline time (lower is better): the loader takes {t_load / t_base:.3f}x "
        f"the baseline's time ({t_base / t_load:.0f}x faster)."
    )
    print(
        "peak RSS: max resident memory of a fresh process doing one load (Python, imports "
        "included); rise: that peak minus the process's peak before the load."
    )
    ok = t_load < TARGET_S
    print(f"target: load under {TARGET_S:.0f} s: {'met' if ok else 'MISSED'} ({t_load:.3f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
