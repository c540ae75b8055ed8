"""Before/after check of the optimiser's results (issue 13: a refactor changes no result).

Prints, as JSON, the objective and plan of tiny and of a small synthetic scenario solved at gap
0 (eastern-flank's LP relaxation does not finish in 10 minutes on a loaded 2-core machine, so
it is not a deterministic reference). ``benchmarks/optimize_before.json`` is the record made
before the refactor of issue 13; ``--check`` compares with it and exits 1 on any difference.

    python -m benchmarks.optimize_before_after --check benchmarks/optimize_before.json
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from forcemodel import load_scenario, load_scenario_data
from forcemodel.optimize import optimize
from forcemodel.scenario.synthetic import synthetic_scenario


def record() -> dict[str, Any]:
    """Objective and choices of each case, rounded to 9 significant digits."""
    cases = {
        "tiny": load_scenario("tiny"),
        "synthetic-12": load_scenario_data(
            synthetic_scenario(units=12, nodes=10, days=60, regions=2, seed=1)
        ),
    }
    out: dict[str, Any] = {}
    for name, scenario in cases.items():
        r = optimize(scenario, mip_gap=0.0, threads=1, time_limit=300, duals=False)
        out[name] = {
            "termination": r.termination,
            "objective": float(f"{r.objective_value:.9g}"),
            "choices": {u: list(c) for u, c in sorted(r.choices.items())},
        }
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--check", help="a recorded run to compare with")
    args = p.parse_args()
    now = record()
    print(json.dumps(now, indent=1, sort_keys=True))
    if args.check:
        with open(args.check, encoding="utf-8") as f:
            before = json.load(f)
        same = before == now
        print("identical" if same else "DIFFERENT", file=sys.stderr)
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
