"""What a worker does: run a batch of a sweep's runs and return their rows.

Runs in a process of the local pool or on a Dask worker; imports nothing from the driver but
the plan it is handed. A run that fails gives one row with its error instead of its figures,
so that one bad world does not stop the others.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from forcemodel.scenario.model import Scenario
from forcemodel.scenario.uncertainty import Uncertainty
from forcemodel.sweep.draws import draw, world_settings
from forcemodel.sweep.spec import Plan, build_point, build_variant, raw_after


@dataclass(frozen=True)
class Point:
    """A grid point as a worker needs it: its scenario, uncertainty and raw disruptions."""

    scenario: Scenario
    uncertainty: Uncertainty
    disruptions: tuple[dict[str, Any], ...]
    units: tuple[dict[str, Any], ...]
    fixed: frozenset[str]


# Built grid points by (plan digest, point), kept for the next batch of the same sweep.
_POINTS: dict[tuple[str, int], Point] = {}


def point_of(plan: Plan, point: int) -> Point:
    """The grid point's scenario and what draws need of it (cached in this process)."""
    key = (plan.digest, point)
    found = _POINTS.get(key)
    if found is None:
        if len(_POINTS) >= 8:  # grid points run in order: a few suffice, memory stays flat
            _POINTS.clear()
        scenario = build_point(plan, point)
        raw = raw_after(plan, point)
        fixed = frozenset(s.partition("=")[0].strip() for s in plan.points[point])
        found = Point(
            scenario,
            scenario.uncertainty or Uncertainty(),
            tuple(r for r in raw.get("disruptions") or [] if isinstance(r, dict)),
            tuple(r for r in raw.get("units") or [] if isinstance(r, dict)),
            fixed,
        )
        _POINTS[key] = found
    return found


def run_batch(plan: Plan, runs: Sequence[int]) -> list[dict[str, Any]]:
    """The rows of some runs of ``plan`` (one per region, or one with the error)."""
    rows: list[dict[str, Any]] = []
    for run in runs:
        rows.extend(run_one(plan, run))
    return rows


def run_one(plan: Plan, run: int, extra: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Draw, build and simulate one run; its rows for the runs table."""
    from forcemodel.flow import simulate
    from forcemodel.sweep.figures import run_figures

    point, d = plan.where(run)
    head: dict[str, Any] = {"run": run, "point": point, "draw": d}
    for p, s in zip(plan.params, plan.points[point], strict=True):
        head[f"p.{p.path}"] = s.partition("=")[2]
    inputs: dict[str, float] = {}
    try:
        pt = point_of(plan, point)
        world = draw(pt.scenario, pt.uncertainty, plan.seed, d, pt.fixed)
        inputs = {f"in.{k}": v for k, v in world.inputs.items()}
        grid = [*plan.settings, *plan.points[point]]
        settings = world_settings(world, grid, pt.units, pt.disruptions)
        scenario = build_variant(plan.raw, [*settings, *extra])
        figures = run_figures(simulate(scenario, seed=plan.seed))
    except Exception as exc:  # any failure of one world is that run's result, not the sweep's
        return [{**head, **inputs, "region": None, "error": _error_text(exc)}]
    return [{**head, **inputs, **f, "error": None} for f in figures]


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 2000 else text[:2000] + "..."


def batch_size(runs: int, workers: int) -> int:
    """Runs per task: enough to pay for sending the plan, few enough to balance the workers."""
    return max(1, min(16, math.ceil(runs / (max(1, workers) * 8))))
