"""The attacker's search on any set function: exact where losing more never delays less,
exact everywhere once the attacks the bound cut are checked, and honest under a work limit.

The closure days come from a table (a random set function) instead of the simulation, so that
hypothesis can try thousands of networks, monotone or not, in seconds; the search code is the
same. tests/sweep/test_attack.py checks it against the simulation itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from forcemodel.scenario.load import read_scenario
from forcemodel.sweep.attack import (
    EXACT,
    NOT_PROVEN,
    AttackForm,
    Closures,
    Evaluator,
    count_sets,
    exhaustive_attack,
    feasible_sets,
    worst_attack,
)

RAW = read_scenario("tiny")
SCENARIO = RAW.build()
HORIZON = SCENARIO.meta.horizon_days
EXECUTOR = ThreadPoolExecutor(1)  # never used: the table answers every set


@dataclass
class Table(Evaluator):
    """An evaluator whose closure days are looked up, one "simulation" per new set."""

    values: dict[frozenset[str], float] = field(default_factory=dict)

    def closures(self, sets: Iterable[frozenset[str]]) -> list[Closures]:
        out = []
        for s in sets:
            if s not in self.cache:
                self.cache[s] = {"r": self.values[s]}
                self.simulations += 1
            out.append(self.cache[s])
        return out


def subsets(assets: list[str]) -> list[frozenset[str]]:
    return [frozenset(c) for j in range(len(assets) + 1) for c in combinations(assets, j)]


@st.composite
def functions(draw: Any, monotone: bool) -> tuple[list[str], dict[frozenset[str], float]]:
    """Closure days of every set of 3..6 assets lost (the empty set: the unattacked run)."""
    assets = [f"a{i}" for i in range(draw(st.integers(3, 6)))]
    sets = subsets(assets)
    base = float(draw(st.integers(0, 20)))
    days = draw(st.lists(st.integers(0, 25), min_size=len(sets), max_size=len(sets)))
    values = {s: min(HORIZON + 1.0, base + d) for s, d in zip(sets, days, strict=True)}
    values[frozenset()] = base
    if monotone:  # losing more never delays less: each set at least its subsets' worst
        for s in sorted(sets, key=len):
            values[s] = max([values[s], *(values[s - {a}] for a in s)])
    return assets, values


@st.composite
def forms(draw: Any, n: int) -> AttackForm:
    if draw(st.booleans()):
        return AttackForm(draw(st.integers(1, 4)))
    costs = {f"a{i}": float(draw(st.sampled_from([0.5, 1, 2, 3]))) for i in range(n)}
    return AttackForm(n, float(draw(st.sampled_from([1, 2, 3.5, 5]))), costs, 1.0)


def table(values: dict[frozenset[str], float]) -> Table:
    return Table(RAW, (), SCENARIO, EXECUTOR, values=values)


def optimum(values: dict[frozenset[str], float], assets: list[str], form: AttackForm) -> float:
    base = values[frozenset()]
    return max([0.0, *(values[frozenset(t)] - base for t in feasible_sets(assets, form))])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_bound_alone_is_exact_where_losing_more_never_delays_less(data: Any) -> None:
    assets, values = data.draw(functions(monotone=True))
    form = data.draw(forms(len(assets)))
    ev = table(values)
    found = worst_attack(ev, "r", form, assets, check_limit=0)
    assert found.delay == optimum(values, assets, form)
    assert found.non_monotone == 0
    assert form.allows(found.assets) and found.cost == form.cost(found.assets)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_with_the_check_the_search_is_exact_on_any_network(data: Any) -> None:
    assets, values = data.draw(functions(monotone=False))
    form = data.draw(forms(len(assets)))
    ev = table(values)
    found = worst_attack(ev, "r", form, assets, check_limit=10**6)
    best = optimum(values, assets, form)
    assert found.status == EXACT and found.delay == best
    if found.assets:
        assert values[frozenset(found.assets)] - values[frozenset()] == best
        assert form.allows(found.assets)
    # Every allowed attack was seen: the non-monotone count is that of the whole table.
    base = values[frozenset()]
    witnesses = sum(
        1
        for t in feasible_sets(assets, form)
        if len(t) > 1
        and any(values[frozenset(t)] - base < values[frozenset(t) - {a}] - base for a in t)
    )
    assert found.non_monotone == witnesses
    assert ev.delays([frozenset()], "r") == [0.0]
    assert exhaustive_attack(ev, "r", form, assets)[1] == best


@settings(max_examples=300, deadline=None)
@given(st.data(), st.integers(0, 6))
def test_under_a_work_limit_the_status_says_whether_it_is_proven(data: Any, limit: int) -> None:
    assets, values = data.draw(functions(monotone=False))
    form = data.draw(forms(len(assets)))
    ev = table(values)
    found = worst_attack(ev, "r", form, assets, check_limit=limit)
    best = optimum(values, assets, form)
    assert found.checked <= limit
    assert found.delay <= best
    if found.status == EXACT:
        assert found.delay == best
    if found.delay < best:
        assert found.status == NOT_PROVEN
    if found.assets:  # the attack it names does cause that delay, within the form
        assert values[frozenset(found.assets)] - values[frozenset()] == found.delay
        assert form.allows(found.assets)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_count_of_attacks_is_that_of_the_enumeration(data: Any) -> None:
    n = data.draw(st.integers(0, 7))
    form = data.draw(forms(n))
    order = [f"a{i}" for i in range(n)]
    sets = list(feasible_sets(order, form))
    assert count_sets(order, form) == len(sets) == len(set(map(frozenset, sets)))
    assert all(form.allows(s) for s in sets)
