"""Before/after check of the assistance matcher: a refactor must not change one byte of a result.

``record`` solves a fixed set of cases (the bundled example, with and without its recorded
deliveries, and seeded synthetic cases) along every path of :func:`forcemodel.assist.match_case`
(per-arc model, pool model daily and on a 7-day grid, the LP relaxation, the greedy start, the
improvement by parts, the grid relaxation's bound) and writes, per run, the objective (``repr``),
the termination, the sizes of the built models and a SHA-256 of every table that
``forcemodel assist match --out`` writes (and of the greedy start's values) into
``benchmarks/match_before_after.json``. ``check`` does the same again and lists every
difference; it exits 1 if there is one.

Every run stops on an optimality gap of 0 or on deterministic work (the parts path's work
limits), never on the clock, so the same code gives the same bytes on any machine.

Run: ``python -m benchmarks.match_before_after record`` before a change, ``... check`` after.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import linopy
import numpy as np

from forcemodel.assist import (
    AssistanceCase,
    MatchResult,
    compile_case,
    load_case,
    load_case_data,
    match_case,
    result_tables,
)
from forcemodel.assist import parts as parts_module
from forcemodel.assist.greedy import greedy_values
from forcemodel.assist.parts import daily_bound
from forcemodel.assist.pool import build_pool
from forcemodel.assist.synthetic import synthetic_case

try:  # the dispatcher's module after the split of assist/match.py, before it
    from forcemodel.assist.solve import solve
except ImportError:  # pragma: no cover - the layout before the split
    from forcemodel.assist.match import solve  # type: ignore[attr-defined,no-redef]

#: Seconds every solve may take: far more than any needs, so that only the gap stops it.
LIMIT = 600.0

#: Where ``record`` writes and ``check`` reads the figures.
RECORD = Path(__file__).with_name("match_before_after.json")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _result(result: MatchResult) -> dict[str, Any]:
    """What a run gives: objective, termination, the tables' digests."""
    out: dict[str, Any] = {
        "objective": repr(result.objective),
        "termination": result.termination,
    }
    for name, frame in result_tables(result).items():
        out[name] = _digest(frame.to_csv(index=False).encode())
    return out


def _compiled(case: AssistanceCase) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for per_line in (True, False):
        comp = compile_case(case, per_line=per_line)
        for f in dataclasses.fields(comp):
            value = getattr(comp, f.name)
            key = f"{'arcs' if per_line else 'pool'}.{f.name}"
            out[key] = value if isinstance(value, int) else _digest(value.to_csv().encode())
    return out


def _pool(case: AssistanceCase, step: int) -> dict[str, Any]:
    with linopy.options as opts:
        opts(semantics="v1")
        pm = build_pool(case, step=step)
        values = greedy_values(pm)
        outer = build_pool(case, step=step, relax=True, outer=True)
    return {
        "nvars": int(pm.model.nvars),
        "ncons": int(pm.model.ncons),
        "greedy": _digest(np.asarray(values, dtype=float).tobytes()),
        "outer_nvars": int(outer.model.nvars),
        "outer_ncons": int(outer.model.ncons),
    }


@contextmanager
def _parts_path() -> Iterator[None]:
    """``auto`` as at the target size, scaled down (as tests/assist/test_assist_parts.py)."""
    dispatcher = sys.modules[solve.__module__]
    names = ("AUTO_POOL_VARIABLES", "AUTO_GRID_VARIABLES", "AUTO_PARTS_VARIABLES")
    saved = {n: getattr(dispatcher, n) for n in names}
    saved_nb = parts_module.neighbourhoods
    try:
        for n in names:
            setattr(dispatcher, n, 0)
        parts_module.neighbourhoods = functools.partial(saved_nb, max_columns=200)  # type: ignore[assignment]
        yield
    finally:
        for n, v in saved.items():
            setattr(dispatcher, n, v)
        parts_module.neighbourhoods = saved_nb  # type: ignore[assignment]


def _runs() -> dict[str, Callable[[], dict[str, Any]]]:
    example = load_case("example")
    bare = example.model_copy(update={"deliveries": ()})
    small = load_case_data(synthetic_case(40, 10, 6, seed=1))
    medium = load_case_data(synthetic_case(80, 30, 6, seed=3))
    mid = load_case_data(synthetic_case(300, 80, 10, seed=2))
    big = load_case_data(synthetic_case(1000, 200, 20, seed=0))

    def parts_run() -> dict[str, Any]:
        with _parts_path():
            result = match_case(big, time_limit=LIMIT)
        return {**_result(result), "log": _digest(result.log.encode())}

    def bound(case: AssistanceCase) -> dict[str, Any]:
        got = daily_bound(case, step=7)
        return {"bound": repr(got.bound), "solved": got.solved}

    runs: dict[str, Callable[[], dict[str, Any]]] = {
        "example/match_case": lambda: _result(match_case(example, mip_gap=0.0, time_limit=LIMIT)),
        "example/relax": lambda: _result(match_case(example, relax=True, time_limit=LIMIT)),
        "example/compiled": lambda: _compiled(example),
        "bare/arcs": lambda: _result(
            solve(bare, formulation="arcs", mip_gap=0.0, time_limit=LIMIT)
        ),
        "bare/pool": lambda: _result(
            solve(bare, formulation="pool", step=1, mip_gap=0.0, time_limit=LIMIT)
        ),
        "bare/pool7": lambda: _result(
            solve(bare, formulation="pool", step=7, mip_gap=0.0, time_limit=LIMIT)
        ),
        "bare/pool_relax": lambda: _result(
            solve(bare, formulation="pool", relax=True, time_limit=LIMIT)
        ),
        "bare/pool_model7": lambda: _pool(bare, 7),
        "bare/bound7": lambda: bound(bare),
        "small/match_case": lambda: _result(match_case(small, mip_gap=0.0, time_limit=LIMIT)),
        "small/relax": lambda: _result(match_case(small, relax=True, time_limit=LIMIT)),
        "small/pool": lambda: _result(
            solve(small, formulation="pool", step=1, mip_gap=0.0, time_limit=LIMIT)
        ),
        "small/pool7": lambda: _result(
            solve(small, formulation="pool", step=7, mip_gap=0.0, time_limit=LIMIT)
        ),
        "small/compiled": lambda: _compiled(small),
        "small/pool_model": lambda: _pool(small, 1),
        "medium/match_case": lambda: _result(match_case(medium, mip_gap=0.0, time_limit=LIMIT)),
        "medium/pool": lambda: _result(
            solve(medium, formulation="pool", step=1, mip_gap=0.0, time_limit=LIMIT)
        ),
        "mid/pool7": lambda: _result(
            solve(mid, formulation="pool", step=7, mip_gap=0.0, time_limit=LIMIT)
        ),
        "mid/compiled": lambda: _compiled(mid),
        "mid/pool_model7": lambda: _pool(mid, 7),
        "mid/bound7": lambda: bound(mid),
        "big/parts": parts_run,
    }
    return runs


def measure() -> dict[str, dict[str, Any]]:
    """Every run's figures, by run name."""
    out: dict[str, dict[str, Any]] = {}
    for name, run in _runs().items():
        out[name] = run()
        if out[name].get("termination") == "time_limit":
            raise SystemExit(f"{name} stopped at its time limit: its plan depends on the clock")
        print(f"  {name}: {out[name].get('objective', '')}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["record", "check"])
    args = parser.parse_args(argv)
    got = measure()
    if args.mode == "record":
        RECORD.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"recorded {len(got)} runs in {RECORD}")
        return 0
    want = json.loads(RECORD.read_text(encoding="utf-8"))
    diffs = [
        f"{run}.{key}: {want.get(run, {}).get(key)!r} -> {got.get(run, {}).get(key)!r}"
        for run in sorted(set(want) | set(got))
        for key in sorted(set(want.get(run, {})) | set(got.get(run, {})))
        if want.get(run, {}).get(key) != got.get(run, {}).get(key)
    ]
    for d in diffs:
        print(f"DIFFERENT {d}")
    print(f"{len(want)} runs recorded, {len(got)} run now: {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
