"""The defender's problem: guards within a budget that minimise the worst attack (Brown,
Carlyle, Salmerón and Wood 2006; see :mod:`forcemodel.sweep.attack` and docs/sweep.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from forcemodel.scenario.uncertainty import Measure
from forcemodel.sweep.attacker import EXACT, NOT_PROVEN, AttackForm, worst_attack
from forcemodel.sweep.evaluate import Evaluator


@dataclass(frozen=True)
class Guard:
    """A way to guard assets against the attacker, at a cost."""

    id: str
    assets: frozenset[str]
    cost_m: float


def guards(ev: Evaluator, candidates: Sequence[str]) -> list[Guard]:
    """The guarding measures of the uncertainty section, and one per unguardable candidate."""
    unc = ev.scenario.uncertainty
    measures: tuple[Measure, ...] = unc.measures if unc is not None else ()
    out = [Guard(m.id, frozenset(m.targets), m.cost_m) for m in measures if m.guards]
    covered = set().union(*(g.assets for g in out)) if out else set()
    cost = ev.attack.guard_cost_m
    out += [Guard(f"guard:{c}", frozenset([c]), cost) for c in candidates if c not in covered]
    return out


@dataclass(frozen=True)
class Defence:
    """The best protection plan within a budget and the worst attack that remains."""

    budget_m: float
    plan: tuple[str, ...]
    cost_m: float
    attack: tuple[str, ...]
    worst_delay: float
    #: EXACT when every attacker's answer in the defender's tree was proven.
    status: str = EXACT


def best_defence(
    ev: Evaluator,
    region: str,
    k: int | AttackForm,
    candidates: Sequence[str],
    budget_m: float,
    options: Sequence[Guard],
    *,
    check_limit: int = 0,
) -> Defence:
    """Guards within ``budget_m`` minimising the worst attack on ``region`` (min-max tree);
    ``k``: the attacker's size limit or :class:`AttackForm` (a budget of attack costs)."""
    best: list[Defence] = []
    proven = [True]

    def solve(plan: tuple[Guard, ...], spent: float) -> None:
        guarded = frozenset().union(*(g.assets for g in plan)) if plan else frozenset()
        worst = worst_attack(ev, region, k, candidates, guarded, check_limit=check_limit)
        proven[0] = proven[0] and worst.status == EXACT
        here = Defence(
            budget_m,
            tuple(sorted(g.id for g in plan)),
            spent,
            worst.assets,
            worst.delay,
        )
        if not best or (here.worst_delay, here.cost_m) < (best[0].worst_delay, best[0].cost_m):
            best[:] = [here]
        if worst.delay <= 0:
            return
        # Unless one of the worst attack's assets is guarded, that attack stands.
        for g in options:
            if g in plan or spent + g.cost_m > budget_m + 1e-9:
                continue
            if g.assets & set(worst.assets):
                solve(tuple(sorted((*plan, g), key=lambda x: x.id)), spent + g.cost_m)

    solve((), 0.0)
    found = best[0]
    return Defence(
        found.budget_m,
        found.plan,
        found.cost_m,
        found.attack,
        found.worst_delay,
        EXACT if proven[0] else NOT_PROVEN,
    )


def protection_curve(
    ev: Evaluator,
    region: str,
    k: int | AttackForm,
    candidates: Sequence[str],
    budgets: Sequence[float],
    options: Sequence[Guard],
    *,
    check_limit: int = 0,
) -> pd.DataFrame:
    """The best plan and its worst attack for each budget."""
    rows = []
    for b in budgets:
        d = best_defence(ev, region, k, candidates, b, options, check_limit=check_limit)
        rows.append(
            {
                "region": region,
                "budget_m": b,
                "plan": " ".join(d.plan),
                "cost_m": d.cost_m,
                "attack": " ".join(d.attack),
                "worst_delay": d.worst_delay,
                "status": d.status,
            }
        )
    return pd.DataFrame(rows)


def days_per_million(
    ev: Evaluator,
    region: str,
    k: int | AttackForm,
    candidates: Sequence[str],
    options: Sequence[Guard],
    *,
    check_limit: int = 0,
) -> pd.DataFrame:
    """Days of closure each guard alone buys against the worst attack, per million spent."""
    first = worst_attack(ev, region, k, candidates, check_limit=check_limit)
    worst = first.delay
    rows = []
    for g in options:
        # A guard that leaves the worst attack's assets open leaves that attack standing.
        touches = bool(g.assets & set(first.assets))
        after = (
            worst_attack(ev, region, k, candidates, g.assets, check_limit=check_limit).delay
            if touches
            else worst
        )
        gained = worst - after
        rows.append(
            {
                "region": region,
                "measure": g.id,
                "cost_m": g.cost_m,
                "days_gained": gained,
                "days_per_million": gained / g.cost_m if g.cost_m > 0 else math.inf,
            }
        )
    frame = pd.DataFrame(rows)
    return frame.sort_values(["days_per_million", "measure"], ascending=[False, True])
