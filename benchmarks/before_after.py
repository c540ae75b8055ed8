"""Before/after check of a change that must not change results: digests of every result table.

Simulates the bundled scenarios and a few synthetic ones, assesses each run, and prints (or
records, or checks) a SHA-256 digest of every result table's CSV text and of the assessment.
Run it on the commit before a refactor with ``--record FILE`` and after it with
``--check FILE``: any table that differs is named, and the exit status is 1.

    python -m benchmarks.before_after --record /tmp/before.json    # on the old commit
    python -m benchmarks.before_after --check /tmp/before.json     # on the new one

It uses only the public API that every version has (``load_scenario``, ``load_scenario_data``,
``simulate``, ``assess``, ``Results.tables``), so the same file runs on both sides.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

import forcemodel

#: Synthetic cases: (units, nodes, days, regions, seed); small enough to run in seconds.
SYNTHETIC = ((40, 30, 60, 3, 1), (120, 60, 90, 4, 2), (300, 120, 120, 5, 3))


def _synthetic(units: int, nodes: int, days: int, regions: int, seed: int) -> dict[str, Any]:
    try:  # the generator moved beside the scenario's reader
        from forcemodel.scenario.synthetic import synthetic_scenario
    except ImportError:
        from forcemodel.synthetic import synthetic_scenario  # type: ignore[no-redef]
    return synthetic_scenario(units, nodes, days, regions=regions, seed=seed)


def _digest(frame: pd.DataFrame) -> str:
    text = frame.to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()


def _assessment_digest(assessment: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in sorted(vars(assessment)):
        value = getattr(assessment, name)
        if isinstance(value, pd.DataFrame):
            out[f"assess.{name}"] = _digest(value)
    return out


def digests() -> dict[str, dict[str, str]]:
    """Scenario label -> table name -> digest, for every case."""
    cases: list[tuple[str, Any]] = [
        (name, forcemodel.load_scenario(name)) for name in ("tiny", "eastern-flank")
    ]
    for spec in SYNTHETIC:
        label = "synthetic-" + "-".join(map(str, spec))
        cases.append((label, forcemodel.load_scenario_data(_synthetic(*spec), label)))
    out: dict[str, dict[str, str]] = {}
    for label, scenario in cases:
        results = forcemodel.simulate(scenario, seed=0)
        tables = {name: _digest(frame) for name, frame in sorted(results.tables.items())}
        tables.update(_assessment_digest(forcemodel.assess(results)))
        out[label] = tables
        print(f"{label}: {len(tables)} tables", file=sys.stderr)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--record", type=Path, help="write the digests to this JSON file")
    group.add_argument("--check", type=Path, help="compare with digests recorded earlier")
    args = parser.parse_args()
    now = digests()
    if args.record:
        args.record.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        return 0
    if not args.check:
        print(json.dumps(now, indent=1, sort_keys=True))
        return 0
    before = json.loads(args.check.read_text())
    differ = [
        f"{case}.{table}"
        for case in sorted(set(before) | set(now))
        for table in sorted(set(before.get(case, {})) | set(now.get(case, {})))
        if before.get(case, {}).get(table) != now.get(case, {}).get(table)
    ]
    for name in differ:
        print(f"differs: {name}")
    total = sum(len(t) for t in now.values())
    print(f"{total - len(differ)} of {total} tables identical")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
