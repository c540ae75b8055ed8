"""The attacker's problem: the worst attack of k assets or within a budget of attack costs,
by ranking, branch and bound and a final check under a work limit (see
:mod:`forcemodel.sweep.attack` and docs/sweep.md).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from forcemodel.scenario.uncertainty import Attack
from forcemodel.sweep.evaluate import Evaluator

#: The attacker's answer is the optimum: every attack the bound cut was simulated after all.
EXACT = "exact"
#: Some attack the bound cut was not simulated (the work limit stopped the check).
NOT_PROVEN = "best found, not proven"
_EPS = 1e-9


@dataclass(frozen=True)
class AttackForm:
    """Which attacks the attacker may choose: at most ``k`` assets, and, with a ``budget``,
    assets whose attack costs (``costs``; ``default_cost`` for the others) sum to at most it.
    """

    k: int
    budget: float | None = None
    costs: Mapping[str, float] = field(default_factory=dict)
    default_cost: float = 1.0

    def cost(self, assets: Iterable[str]) -> float:
        """What attacking ``assets`` costs the attacker."""
        return float(sum(self.costs.get(a, self.default_cost) for a in assets))

    def allows(self, assets: Sequence[str]) -> bool:
        """Whether the attacker may take out ``assets`` together."""
        if len(assets) > self.k:
            return False
        return self.budget is None or self.cost(assets) <= self.budget + _EPS

    @classmethod
    def of(cls, attack: Attack, k: int, budget: float | None = None) -> AttackForm:
        """The form with the attack costs of the uncertainty section's ``attack``."""
        costs = {c.asset: c.cost for c in attack.costs}
        return cls(k, budget, costs, attack.cost)


@dataclass(frozen=True)
class AttackResult:
    """The worst attack of a form (k assets, or a budget of attack costs) on a region."""

    region: str
    k: int
    assets: tuple[str, ...]
    delay: float
    simulations: int  # new simulations this search needed
    subsets: int  # the sets an exhaustive search would simulate
    budget: float | None = None
    cost: float = 0.0
    #: EXACT or NOT_PROVEN (see :func:`worst_attack`).
    status: str = EXACT
    #: Attacks the bound had cut that the final check simulated.
    checked: int = 0
    #: Attacks seen that delay less than one of them with an asset fewer: the bound's
    #: assumption (losing more never delays less) fails on this network.
    non_monotone: int = 0


def feasible_sets(order: Sequence[str], form: AttackForm) -> Iterator[tuple[str, ...]]:
    """Every attack the form allows, as sets in ``order`` (depth first, best ranked first)."""
    n = len(order)

    def walk(chosen: tuple[str, ...], start: int, spent: float) -> Iterator[tuple[str, ...]]:
        if len(chosen) >= form.k:
            return
        for i in range(start, n):
            c = order[i]
            cost = spent + form.costs.get(c, form.default_cost)
            if form.budget is not None and cost > form.budget + _EPS:
                continue
            nxt = (*chosen, c)
            yield nxt
            yield from walk(nxt, i + 1, cost)

    yield from walk((), 0, 0.0)


def count_sets(order: Sequence[str], form: AttackForm) -> int:
    """How many attacks the form allows (what an exhaustive search would simulate)."""
    n = len(order)
    if form.budget is None:
        return sum(math.comb(n, j) for j in range(1, min(form.k, n) + 1))
    costs = sorted(form.costs.get(c, form.default_cost) for c in order)
    budget = form.budget

    @functools.cache
    def count(i: int, size: int, left: float) -> int:
        # Sets of at most ``size`` more assets from costs[i:] within ``left`` (the empty one too).
        total = 1
        if size == 0:
            return total
        for j in range(i, n):
            if costs[j] > left + _EPS:
                break  # sorted: no later cost fits either
            total += count(j + 1, size - 1, round(left - costs[j], 9))
        return total

    return count(0, form.k, budget) - 1


def worst_attack(
    ev: Evaluator,
    region: str,
    k: int | AttackForm,
    candidates: Sequence[str],
    guarded: frozenset[str] = frozenset(),
    *,
    check_limit: int = 0,
) -> AttackResult:
    """The unguarded candidates whose loss delays ``region`` most, within ``k`` assets (or the
    :class:`AttackForm`'s size and budget of attack costs): ranking, then branch and bound.

    The bound assumes that losing more never delays less. So that the answer is exact on any
    network, the attacks the bound cut are simulated afterwards, best ranked first, up to
    ``check_limit`` new simulations (a deterministic work limit): when every one is checked,
    the status is :data:`EXACT`, else :data:`NOT_PROVEN` (the answer is then the optimum only
    if the assumption holds, and ``non_monotone`` counts the cases seen where it does not).
    """
    form = k if isinstance(k, AttackForm) else AttackForm(k)
    before = ev.simulations
    pool = [c for c in candidates if c not in guarded]
    pool = [c for c in pool if form.allows([c])]  # an asset the budget cannot buy: never
    singles = ev.delays([frozenset([c]) for c in pool], region)
    order = [c for _, c in sorted(zip(singles, pool, strict=True), key=lambda t: (-t[0], t[1]))]
    n = len(order)
    horizon = ev.scenario.meta.horizon_days
    cap = horizon + 1 - ev.closures([frozenset()])[0][region]
    best_set: tuple[str, ...] = (order[0],) if order else ()
    best = max(singles, default=0.0)
    seen: set[frozenset[str]] = {frozenset([c]) for c in pool}

    def search(chosen: tuple[str, ...], start: int) -> None:
        nonlocal best, best_set
        if len(chosen) >= form.k or best >= cap or start >= n:
            return
        # U(i) = delay(chosen + order[i:]) bounds child i's subtree and falls as i grows: find
        # the first i with U(i) <= best by a search probing one position per worker at once.
        lo, hi = start, n
        probes_per_round = max(1, ev.workers)
        while lo < hi:
            step = max(1, (hi - lo) // (probes_per_round + 1))
            probes = sorted({min(hi - 1, lo + step * (j + 1)) for j in range(probes_per_round)})
            bounds = ev.delays([frozenset((*chosen, *order[m:])) for m in probes], region)
            new_lo, new_hi = lo, hi
            for m, u in zip(probes, bounds, strict=True):
                if u <= best:
                    new_hi = m
                    break
                new_lo = m + 1
            lo, hi = new_lo, new_hi
        # Children over the budget are no attack, nor is any set below them.
        kids = [i for i in range(start, lo) if form.allows((*chosen, order[i]))]
        children = [(*chosen, order[i]) for i in kids]
        values = ev.delays([frozenset(c) for c in children], region)
        seen.update(frozenset(c) for c in children)
        for c, v in zip(children, values, strict=True):
            if v > best:
                best, best_set = v, c
        for i, c in zip(kids, children, strict=True):
            search(c, i + 1)

    if form.k > 1:
        search((), 0)
    # The check: every allowed attack the search did not simulate, best ranked first.
    checked, status = 0, EXACT
    if best < cap:
        batch: list[frozenset[str]] = []
        size = max(8, 2 * ev.workers)

        def flush() -> None:
            nonlocal best, best_set
            for s, v in zip(batch, ev.delays(batch, region), strict=True):
                seen.add(s)
                if v > best + _EPS or (v > best - _EPS and len(s) < len(best_set)):
                    best, best_set = v, tuple(c for c in order if c in s)
            batch.clear()

        for t in feasible_sets(order, form):
            s = frozenset(t)
            if s in seen:
                continue
            if s not in ev.cache:
                if checked >= check_limit:
                    status = NOT_PROVEN
                    break
                checked += 1
            batch.append(s)
            if len(batch) >= size:
                flush()
        flush()
    if best <= 0:
        best_set = ()  # no loss delays the region
    return AttackResult(
        region,
        form.k,
        tuple(best_set),
        best,
        ev.simulations - before,
        count_sets(order, form),
        form.budget,
        form.cost(best_set),
        status,
        checked,
        non_monotone(ev, region, seen),
    )


def non_monotone(ev: Evaluator, region: str, sets: Iterable[frozenset[str]]) -> int:
    """How many of ``sets`` delay ``region`` less than one of their subsets one asset smaller
    among the simulated ones (each a witness that losing more can delay less)."""
    base = ev.closures([frozenset()])[0][region]
    out = 0
    for s in sets:
        if len(s) < 2 or s not in ev.cache:
            continue
        mine = ev.cache[s][region]
        for a in s:
            sub = ev.cache.get(s - {a})
            if sub is not None and mine - base < sub[region] - base - _EPS:
                out += 1
                break
    return out


def exhaustive_attack(
    ev: Evaluator, region: str, k: int | AttackForm, candidates: Sequence[str]
) -> tuple[tuple[str, ...], float]:
    """Every allowed set of candidates simulated: the reference the search must match."""
    form = k if isinstance(k, AttackForm) else AttackForm(k)
    sets = [frozenset(t) for t in feasible_sets(list(candidates), form)]
    values = ev.delays(sets, region)
    if not sets:
        return (), 0.0
    v, s = max(zip(values, sets, strict=True), key=lambda t: (t[0], -len(t[1])))
    return tuple(sorted(s)), v


def criticality(ev: Evaluator, candidates: Sequence[str], regions: Sequence[str]) -> pd.DataFrame:
    """Delay of each region's closure by the loss of each single asset (one batch)."""
    sets = [frozenset([c]) for c in candidates]
    base = ev.closures([frozenset()])[0]
    rows = []
    for c, closures in zip(candidates, ev.closures(sets), strict=True):
        for r in regions:
            rows.append({"asset": c, "region": r, "delay": closures[r] - base[r]})
    frame = pd.DataFrame(rows, columns=["asset", "region", "delay"])
    return frame.sort_values(["region", "delay", "asset"], ascending=[True, False, True])
