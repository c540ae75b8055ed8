"""The attacker's search gives the exhaustive optimum; the defender's plan is the best one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations, pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forcemodel.scenario.load import RawScenario, read_scenario
from forcemodel.sweep.attack import (
    EXACT,
    NOT_PROVEN,
    AttackForm,
    Evaluator,
    Guard,
    best_defence,
    capped_assets,
    exhaustive_attack,
    feasible_sets,
    worst_attack,
)
from forcemodel.sweep.spec import load_uncertainty_file


@pytest.fixture(scope="module")
def executor() -> Iterator[ThreadPoolExecutor]:
    # Any concurrent.futures executor runs the evaluations; in-process keeps the test quick.
    with ThreadPoolExecutor(1) as ex:
        yield ex


@st.composite
def networks(draw: Any) -> dict[str, Any]:
    """A random rail network from a garrison to a region, two or three units, an attack."""
    n = draw(st.integers(2, 4))
    mids = [f"n{i}" for i in range(n)]
    nodes = [
        {"id": "home", "kind": "garrison", "country": "DE", "lat": 52.0, "lon": 10.0},
        {"id": "front", "kind": "assembly_area", "country": "LT", "lat": 55.0, "lon": 24.0},
    ] + [
        {
            "id": m,
            "kind": "junction",
            "country": "PL",
            "lat": 53.0 + i * 0.3,
            "lon": 14.0 + i,
            "t_per_day": draw(st.sampled_from([3000, 6000, 20000])),
        }
        for i, m in enumerate(mids)
    ]
    chain = ["home", *mids, "front"]
    pairs = list(pairwise(chain))
    extra = draw(st.lists(st.sampled_from(list(combinations(chain, 2))), max_size=3, unique=True))
    pairs += [p for p in extra if p not in pairs]
    links = [
        {
            "from": a,
            "to": b,
            "mode": "rail",
            "gauge": 1435,
            "distance_km": draw(st.sampled_from([200, 400, 800])),
            "speed_kmh": 25,
            "t_per_day": draw(st.sampled_from([2500, 5000, 12000])),
        }
        for a, b in pairs
    ]
    units = [
        {
            "id": f"u{i}",
            "nation": "DE",
            "type": draw(st.sampled_from(["mechanised_brigade", "infantry_brigade"])),
            "tier": 1,
            "notice_to_move_days": draw(st.integers(0, 15)),
            "home": "home",
            "power": {"land": 1.0},
        }
        for i in range(draw(st.integers(2, 3)))
    ]
    return {
        "meta": {"name": "random", "horizon_days": 90, "warning_day": 5},
        "nodes": nodes,
        "links": links,
        "units": units,
        "regions": [
            {
                "id": "ally",
                "reception": "front",
                "in_place": [{"type": "infantry_brigade", "count": 1, "nation": "LT"}],
                "rsom": {"days": 1},
                # Closed when every unit has arrived: each one's delay can show.
                "requirement": {"land": [[0, 0.5], [20, 0.5 + len(units)]]},
            }
        ],
        "uncertainty": {
            "attack": {
                "start_day": draw(st.integers(0, 20)),
                "days": draw(st.integers(3, 20)),
                "capacity_factor": draw(st.sampled_from([0.0, 0.2])),
            }
        },
    }


@pytest.mark.slow
@settings(max_examples=12, deadline=None)
@given(networks(), st.integers(2, 3), st.one_of(st.none(), st.sampled_from([1.5, 2.0, 3.0])))
def test_the_search_finds_the_exhaustive_optimum(
    executor: ThreadPoolExecutor, data: dict[str, Any], k: int, budget: float | None
) -> None:
    raw = RawScenario(data, {}, "random", (), {})
    scenario = raw.build()
    ev = Evaluator(raw, (), scenario, executor)
    candidates = sorted(capped_assets(scenario))
    # k assets, or a budget of attack costs: junctions cost 1, links 0.5 or 2 by their order.
    costs = {c: (1.0 if c.startswith("n") else (0.5, 2.0)[i % 2]) for i, c in enumerate(candidates)}
    form = AttackForm(k) if budget is None else AttackForm(len(candidates), budget, costs)
    # Unchecked (the bound alone): never more than the optimum; the status says if it is.
    alone = worst_attack(ev, "ally", form, candidates, check_limit=0)
    worst, best = exhaustive_attack(ev, "ally", form, candidates)
    assert alone.delay <= best
    if alone.status == EXACT:
        assert alone.delay == best
    # Checked: the exhaustive optimum on every network, losing more delaying less or not.
    found = worst_attack(ev, "ally", form, candidates, check_limit=10**6)
    assert found.status == EXACT and found.delay == best, (found, worst, best)
    assert form.allows(found.assets)
    if found.assets:  # the set it names does cause that delay
        assert ev.delay(found.assets, "ally") == found.delay


@pytest.fixture(scope="module")
def tiny(executor: ThreadPoolExecutor) -> Evaluator:
    raw = load_uncertainty_file(read_scenario("tiny"), "tiny")
    return Evaluator(raw, (), raw.build(), executor)


def test_on_tiny_the_congested_line_is_the_worst_single_loss(tiny: Evaluator) -> None:
    cands = sorted(capped_assets(tiny.scenario))
    a = worst_attack(tiny, "lithuania", 1, cands)
    assert a.assets == ("garrison-a_depot-p_rail",) and a.delay > 0
    # Pairs: fewer simulations than there are pairs (the singles were simulated already).
    b = worst_attack(tiny, "lithuania", 2, cands)
    assert b.delay >= a.delay and b.simulations < b.subsets


def test_the_defence_is_the_best_plan_within_the_budget(tiny: Evaluator) -> None:
    cands = sorted(capped_assets(tiny.scenario))
    options = [Guard(f"g:{c}", frozenset([c]), 10.0) for c in cands]
    for budget in (0.0, 10.0, 20.0):
        d = best_defence(tiny, "lithuania", 1, cands, budget, options)
        assert d.cost_m <= budget
        # Exhaustive over every affordable plan: none leaves a smaller worst attack.
        for r in range(int(budget // 10) + 1):
            for plan in combinations(options, r):
                guarded = frozenset().union(*(g.assets for g in plan)) if plan else frozenset()
                assert worst_attack(tiny, "lithuania", 1, cands, guarded).delay >= d.worst_delay
    none = best_defence(tiny, "lithuania", 1, cands, 0.0, options)
    some = best_defence(tiny, "lithuania", 1, cands, 10.0, options)
    assert some.worst_delay < none.worst_delay


def test_on_tiny_a_budget_of_attack_costs_buys_what_it_can(tiny: Evaluator) -> None:
    cands = sorted(capped_assets(tiny.scenario))
    worst_line = "garrison-a_depot-p_rail"
    # The congested line costs 3 to attack, the rest 1: a budget of 2 cannot buy it.
    costs = {worst_line: 3.0}
    cheap = worst_attack(tiny, "lithuania", AttackForm(len(cands), 2.0, costs), cands)
    assert worst_line not in cheap.assets and cheap.cost <= 2.0
    rich = worst_attack(tiny, "lithuania", AttackForm(len(cands), 3.0, costs), cands)
    assert worst_line in rich.assets and rich.delay >= cheap.delay
    # With every cost 1, a budget of k is the k-form.
    one = worst_attack(tiny, "lithuania", AttackForm(len(cands), 2.0), cands)
    assert one.delay == worst_attack(tiny, "lithuania", 2, cands).delay


def test_on_a_network_where_losing_more_delays_less_the_check_finds_the_optimum(
    executor: ThreadPoolExecutor,
) -> None:
    # A network hypothesis found (networks() above): losing the n0-n1 line makes closure a day
    # earlier (the planner's other route ends up faster), so losing more can delay less.
    data = json.loads((Path(__file__).with_name("non_monotone_network.json")).read_text())
    raw = RawScenario(data, {}, "random", (), {})
    ev = Evaluator(raw, (), raw.build(), executor)
    cands = sorted(capped_assets(ev.scenario))
    assert ev.delay(["n0_n1_rail"], "ally") < 0 == ev.delay([], "ally")
    base = ev.closures([frozenset()])[0]["ally"]

    def delay(s: frozenset[str]) -> float:
        return ev.cache[s]["ally"] - base

    for k in (2, 3):
        form = AttackForm(k)
        found = worst_attack(ev, "ally", form, cands, check_limit=10**6)
        _, best = exhaustive_attack(ev, "ally", form, cands)
        assert found.status == EXACT and found.delay == best
        # Every allowed attack was simulated: the witnesses it counts are all there are.
        witnesses = [
            s
            for s in map(frozenset, feasible_sets(cands, form))
            if len(s) > 1 and any(delay(s) < delay(s - {a}) for a in s)
        ]
        assert found.non_monotone == len(witnesses) > 0
    # Unchecked (and nothing simulated before), the bound cannot prove its answer here; once
    # every attack is in the cache, checking it costs no simulation and proves it.
    fresh = Evaluator(raw, (), ev.scenario, executor)
    assert worst_attack(fresh, "ally", 2, cands, check_limit=0).status == NOT_PROVEN
    assert worst_attack(ev, "ally", 2, cands, check_limit=0).status == EXACT
