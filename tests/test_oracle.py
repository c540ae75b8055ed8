"""The engine against the event-by-event SimPy reference (benchmarks/baseline_simpy.py).

Both follow docs/simulation.md; on the same scenario they must give every unit the same arrival
and closure day. Besides ``tiny`` and plain synthetic scenarios, two variants stress the rules:
one with tight capacities and many pre-positioned sets drawn (queues, draws, RSOM), and one where
every delay is a whole number of days and every service time a binary fraction of a day, so that
many things happen at exactly the same instant and the tie-breaking rules decide the outcome.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest

import forcemodel
from forcemodel import simulate
from forcemodel.scenario.model import Scenario
from forcemodel.synthetic import synthetic_scenario

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from baseline_simpy import baseline_days

TOL = 1e-9


def _assert_same(scenario: Scenario) -> None:
    units = simulate(scenario).tables["units"]
    reference = baseline_days(scenario)
    assert len(reference) == len(units)
    wrong = []
    for uid, arrival, closure in zip(
        units["unit"], units["arrival_day"], units["closure_day"], strict=True
    ):
        ref_arrival, ref_closure = reference[uid]
        assert math.isfinite(closure), uid
        if abs(arrival - ref_arrival) > TOL or abs(closure - ref_closure) > TOL:
            wrong.append((uid, arrival, ref_arrival, closure, ref_closure))
    assert not wrong, (
        f"{len(wrong)} of {len(units)} units differ (engine vs reference: arrival, arrival, "
        f"closure, closure), first: {wrong[:5]}"
    )


def _tight(data: dict[str, Any]) -> dict[str, Any]:
    """Quarter rail and road capacities, plenty of sets with short draws."""
    for stock in data["stocks"]:
        if "set_type" in stock:
            stock["sets"], stock["draw_days"] = 30, 1
    for link in data["links"]:
        if link.get("t_per_day"):
            link["t_per_day"] /= 4
    return data


def _pow2(x: float) -> int:
    return int(2 ** round(math.log2(x)))


def _whole_days(data: dict[str, Any]) -> dict[str, Any]:
    """Delays in whole days, amounts and rates powers of two: many exact ties in time."""
    for node in data["nodes"]:
        node["handling_hours"] = 24
        for key in ("t_per_day", "pax_per_day"):
            if node.get(key):
                node[key] = _pow2(node[key])
        if node.get("transship"):
            node["transship"] = {"t_per_day": 4096, "hours": 24}
    for i, link in enumerate(data["links"]):
        link["speed_kmh"], link["distance_km"] = 25, 25 * 24 * (1 + i % 3)
        for key in ("t_per_day", "pax_per_day"):
            if link.get(key):
                link[key] = _pow2(link[key])
    for pool in data["lift_pools"]:
        pool.update(assets=16, availability=1.0, speed_kmh=25, turnaround_hours=0)
        pool.update(payload_t=1024, pax=512 if pool["pax"] else 0)
    for i, unit in enumerate(data["units"]):
        unit["equipment_t"], unit["personnel"] = 1024 * (1 + i % 3), 512 * (1 + i % 3)
        unit["notice_to_move_days"] = i % 5
    for stock in data["stocks"]:
        if "set_type" in stock:
            stock["sets"], stock["draw_days"] = 30, 0
    for region in data["regions"]:
        region["rsom"].update(t_per_day=4096, pax_per_day=2048)
    for d in data["disruptions"]:
        d["capacity_factor"] = 0.5
    return data


def test_tiny() -> None:
    _assert_same(forcemodel.load_scenario("tiny"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synthetic(seed: int) -> None:
    data = synthetic_scenario(300, 60, 120, regions=4, seed=seed)
    _assert_same(forcemodel.load_scenario_data(data))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tight_with_sets(seed: int) -> None:
    data = _tight(synthetic_scenario(300, 40, 90, regions=3, seed=seed))
    scenario = forcemodel.load_scenario_data(data)
    assert simulate(scenario).tables["units"]["set_from"].ne("").any()  # sets are drawn
    _assert_same(scenario)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_exact_ties(seed: int) -> None:
    data = _whole_days(synthetic_scenario(300, 40, 90, regions=3, seed=seed))
    _assert_same(forcemodel.load_scenario_data(data))
