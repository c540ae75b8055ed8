"""Attacks judged by the simulation: the batch evaluation over an executor, its cache, and
the assets an attack may take (docs/sweep.md, "The attacker and the defender").
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from forcemodel.scenario.load import RawScenario
from forcemodel.scenario.model import Scenario
from forcemodel.scenario.uncertainty import Attack

Closures = dict[str, float]


def evaluate_sets(
    raw: RawScenario,
    settings: tuple[str, ...],
    base_rows: tuple[dict[str, Any], ...],
    attack: Attack,
    sets: Sequence[tuple[str, ...]],
) -> list[Closures]:
    """Closure day of every region with each set of assets lost (a worker's task).

    A region not closed by the horizon (or a run the loss makes impossible) closes on
    ``horizon + 1``.
    """
    from forcemodel.assessment import capability_table, force_ratio_table, region_table
    from forcemodel.flow import simulate

    out: list[Closures] = []
    for lost in sets:
        rows = [
            *base_rows,
            *(
                {
                    "id": f"attack-{n}",
                    "target": asset,
                    "start_day": attack.start_day,
                    "days": attack.days,
                    "capacity_factor": attack.capacity_factor,
                    "cause": "sabotage",
                }
                for n, asset in enumerate(lost)
            ),
        ]
        extra = [f"disruptions={json.dumps(rows)}"] if rows else []
        scenario = raw.build([*settings, *extra])
        late = float(scenario.meta.horizon_days + 1)
        try:
            results = simulate(scenario)
        except Exception:  # a loss that makes the run impossible: never closes
            out.append({r.id: late for r in scenario.regions})
            continue
        caps = capability_table(results)
        table = region_table(results, caps, force_ratio_table(results))
        out.append(
            {
                str(r["region"]): late
                if r["closure_day"] != r["closure_day"] or r["closure_day"] is None
                else float(r["closure_day"])
                for r in table.to_dict("records")
            }
        )
    return out


@dataclass
class Evaluator:
    """Simulates attacks over an executor, once each (a cache shared by every search)."""

    raw: RawScenario
    settings: tuple[str, ...]
    scenario: Scenario
    executor: Executor
    workers: int = 1
    cache: dict[frozenset[str], Closures] = field(default_factory=dict)
    simulations: int = 0
    #: Called with the number of simulations so far, as batches finish (a display's business).
    progress: Callable[[int], None] | None = None

    @property
    def attack(self) -> Attack:
        """What an attack does (the scenario's, or the defaults)."""
        unc = self.scenario.uncertainty
        return unc.attack if unc is not None else Attack()

    def closures(self, sets: Iterable[frozenset[str]]) -> list[Closures]:
        """Closure days per region for each set of lost assets (simulating the new ones)."""
        sets = list(sets)
        todo = list(dict.fromkeys(s for s in sets if s not in self.cache))
        if todo:
            base_rows = tuple(_raw_disruptions(self.raw, self.settings))
            size = max(1, min(8, math.ceil(len(todo) / (2 * self.workers))))
            batches = [todo[i : i + size] for i in range(0, len(todo), size)]
            futures = [
                self.executor.submit(
                    evaluate_sets,
                    self.raw,
                    self.settings,
                    base_rows,
                    self.attack,
                    [tuple(sorted(s)) for s in b],
                )
                for b in batches
            ]
            for b, fut in zip(batches, futures, strict=True):
                for s, c in zip(b, fut.result(), strict=True):
                    self.cache[s] = c
                self.simulations += len(b)
                if self.progress is not None:
                    self.progress(self.simulations)
        return [self.cache[s] for s in sets]

    def delay(self, lost: Iterable[str], region: str) -> float:
        """Days the loss of ``lost`` delays ``region``'s closure."""
        base = self.closures([frozenset()])[0][region]
        return self.closures([frozenset(lost)])[0][region] - base

    def delays(self, sets: Sequence[frozenset[str]], region: str) -> list[float]:
        """Delays of several sets (simulated together)."""
        base = self.closures([frozenset()])[0][region]
        return [c[region] - base for c in self.closures(sets)]


def _raw_disruptions(raw: RawScenario, settings: Sequence[str]) -> list[dict[str, Any]]:
    import copy

    from forcemodel.scenario.paths import apply_settings

    data = copy.deepcopy(raw.raw)
    apply_settings(data, list(settings), dict(raw.locs))
    return [r for r in data.get("disruptions") or [] if isinstance(r, dict)]


def capped_assets(scenario: Scenario) -> set[str]:
    """Links and nodes with a capacity an attack can cut."""
    return {n.id for n in scenario.nodes if n.t_per_day or n.pax_per_day or n.transship} | {
        lk.id for lk in scenario.links if lk.t_per_day is not None or lk.pax_per_day is not None
    }


def route_assets(scenario: Scenario, results: Any, region: str) -> list[str]:
    """Capped assets on the routes the region's units take (screening), in first-use order."""
    capped = capped_assets(scenario)
    units = set(results.units.loc[results.units["region"] == region, "unit"])
    ev = results.unit_events
    ev = ev[ev["unit"].isin(units)]
    seen: dict[str, None] = {}
    for rec in ev[["link", "from", "to"]].itertuples(index=False):
        for a in rec:
            if isinstance(a, str) and a in capped:
                seen[a] = None
    return list(seen)
