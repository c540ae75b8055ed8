"""An intelligent saboteur and the defender who guards against him (docs/sweep.md).

The attacker's problem: which k links or nodes, taken out (``uncertainty.attack``: from its
start day, for its days, to its capacity factor), delay a region's closure most. Every attack
is judged by the simulation, run over the sweep's executor (a local pool or a Dask cluster).

The attacker may take out at most k assets (k = 1..5), or, in the budget form
(:class:`AttackForm`), assets whose attack costs (``attack.costs``, else ``attack.cost``) sum
to at most a budget. The search is smarter than trying every allowed set:

1. *screening*: only capped assets on the routes the region's units take in the unattacked
   run can be attacked (or the ``attack.candidates`` given);
2. *ranking*: every single loss is simulated (one batch), candidates ordered by their delay;
3. *branch and bound*: a depth-first search over sets in that order. A set's subtree holds
   only subsets of "the set plus every later candidate", whose delay bounds the subtree's
   if losing more never delays less; these bounds fall along the order, so a binary search
   finds the first child that cannot beat the best attack found, and that child and all
   after it are cut (and, in the budget form, every child over the budget);
4. *the check*: the simulation does not promise that losing more never delays less, so the
   attacks the bound cut are simulated afterwards, best ranked first, up to a work limit of
   new simulations. All checked: the answer is the optimum on any network (``exact``); else
   ``best found, not proven``, with the count of non-monotone cases seen. The tests check
   both against exhaustive search on random set functions and random networks.

The defender's problem (Brown, Carlyle, Salmerón and Wood, "Defending Critical
Infrastructure", Interfaces 36(6), 2006): guard assets within a budget to minimise the worst
attack. A plan that leaves the worst attack's assets unguarded leaves its delay unchanged, so
the search branches only on guarding an asset of the current worst attack (a min-max tree
over the attacker's answers, each found by the search above, from a shared cache).

The evaluation is in :mod:`.evaluate`, the attacker's search in :mod:`.attacker`, the
defender's in :mod:`.defender`; this module puts them together (:func:`run_attack`) and
re-exports their names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from forcemodel.scenario.load import RawScenario
from forcemodel.sweep.attacker import (
    EXACT,
    NOT_PROVEN,
    AttackForm,
    AttackResult,
    count_sets,
    criticality,
    exhaustive_attack,
    feasible_sets,
    non_monotone,
    worst_attack,
)
from forcemodel.sweep.defender import (
    Defence,
    Guard,
    best_defence,
    days_per_million,
    guards,
    protection_curve,
)
from forcemodel.sweep.evaluate import (
    Closures,
    Evaluator,
    capped_assets,
    evaluate_sets,
    route_assets,
)

__all__ = [
    "CHECK_LIMIT",
    "EXACT",
    "NOT_PROVEN",
    "AttackForm",
    "AttackReport",
    "AttackResult",
    "Closures",
    "Defence",
    "Evaluator",
    "Guard",
    "analyse",
    "best_defence",
    "capped_assets",
    "count_sets",
    "criticality",
    "days_per_million",
    "evaluate_sets",
    "exhaustive_attack",
    "feasible_sets",
    "guards",
    "non_monotone",
    "protection_curve",
    "route_assets",
    "run_attack",
    "worst_attack",
]


@dataclass(frozen=True)
class AttackReport:
    """The attacker's and defender's answers for some regions."""

    criticality: pd.DataFrame
    attacks: pd.DataFrame
    protection: pd.DataFrame
    measures: pd.DataFrame
    simulations: int


#: New simulations the check of each attacker's answer may spend by default (a work limit).
CHECK_LIMIT = 200


def analyse(
    ev: Evaluator,
    regions: Sequence[str],
    k: int,
    budgets: Sequence[float] = (),
    *,
    attack_budgets: Sequence[float] = (),
    check_limit: int = CHECK_LIMIT,
) -> AttackReport:
    """Criticality, the worst attacks of each size 1..k (and within each attack budget), and
    the protection curve (against the largest attack budget, else k assets), per region."""
    from forcemodel.flow import simulate

    base = simulate(ev.scenario)
    given = ev.attack.candidates
    per_region = {r: list(given) if given else route_assets(ev.scenario, base, r) for r in regions}
    union = list(dict.fromkeys(c for cs in per_region.values() for c in cs))
    crit = criticality(ev, union, regions)
    crit = crit[[a in per_region[r] for a, r in zip(crit["asset"], crit["region"], strict=True)]]
    attacks, curves, measures = [], [], []
    for r in regions:
        cands = per_region[r]
        forms = [("k", AttackForm.of(ev.attack, j)) for j in range(1, k + 1)]
        forms += [
            ("budget", AttackForm.of(ev.attack, max(1, len(cands)), b))
            for b in sorted(set(attack_budgets))
        ]
        for kind, form in forms:
            a = worst_attack(ev, r, form, cands, check_limit=check_limit)
            attacks.append(
                {
                    "region": r,
                    "form": kind,
                    "k": form.k if kind == "k" else len(a.assets),
                    "attack_budget": form.budget,
                    "assets": " ".join(a.assets),
                    "attack_cost": a.cost,
                    "delay": a.delay,
                    "status": a.status,
                    "checked": a.checked,
                    "non_monotone": a.non_monotone,
                    "candidates": len(cands),
                    "simulations": a.simulations,
                    "exhaustive_would_need": a.subsets,
                }
            )
        if budgets:
            defend = forms[-1][1]
            opts = guards(ev, cands)
            curves.append(
                protection_curve(ev, r, defend, cands, budgets, opts, check_limit=check_limit)
            )
            measures.append(days_per_million(ev, r, defend, cands, opts, check_limit=check_limit))
    return AttackReport(
        crit.reset_index(drop=True),
        pd.DataFrame(attacks),
        pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(),
        pd.concat(measures, ignore_index=True) if measures else pd.DataFrame(),
        ev.simulations,
    )


def run_attack(
    scenario: str | Any,
    *,
    regions: Sequence[str] = (),
    k: int = 2,
    budgets: Sequence[float] = (),
    attack_budgets: Sequence[float] = (),
    check_limit: int = CHECK_LIMIT,
    settings: Sequence[str] = (),
    uncertainty: str | Any | None = None,
    workers: int = 0,
    scheduler: str | Any | None = None,
    progress: Callable[[int], None] | None = None,
) -> AttackReport:
    """The attacker's and defender's answers for ``regions`` (all when empty): the worst
    attacks of k = 1..``k`` assets and within each of ``attack_budgets`` (attack costs:
    ``uncertainty.attack.cost``/``costs``), the protection curve over ``budgets`` (millions).

    Each attacker's answer is checked against the attacks its bound cut, up to
    ``check_limit`` new simulations, and says whether it is proven exact (``status``).
    Simulations run over the sweep's executor: a local pool of ``workers`` or the Dask
    cluster at ``scheduler``. Raises a located :class:`~forcemodel.sweep.spec.SweepError`
    for bad input before any simulation.
    """
    from forcemodel.common.errors import LocatedError, Problem
    from forcemodel.sweep.run import cluster
    from forcemodel.sweep.spec import SweepError, check_uncertainty, load_uncertainty_file

    problems = []
    if not 1 <= k <= 5:
        problems.append(Problem("--k", None, "", f"k is 1..5, got {k}"))
    problems += [
        Problem("--budget", None, "", f"a budget is not negative, got {b:g}")
        for b in budgets
        if b < 0
    ]
    problems += [
        Problem("--attack-budget", None, "", f"an attack budget is positive, got {b:g}")
        for b in attack_budgets
        if not b > 0 or math.isinf(b)
    ]
    if check_limit < 0:
        problems.append(
            Problem("--check", None, "", f"a work limit is not negative, got {check_limit}")
        )
    raw = scenario if isinstance(scenario, RawScenario) else read_scenario(scenario)
    if uncertainty is not None:
        raw = load_uncertainty_file(raw, uncertainty)
    try:
        built = raw.build(list(settings))
    except LocatedError as exc:
        raise SweepError([*problems, *exc.problems]) from None
    problems += check_uncertainty(raw, built)  # candidates and costs name capped assets
    known = [r.id for r in built.regions]
    for r in regions:
        if r not in known:
            problems.append(
                Problem(f"--region {r}", None, "", f"no such region (regions: {', '.join(known)})")
            )
    if problems:
        raise SweepError(problems)
    with cluster(workers, scheduler) as where:
        ev = Evaluator(raw, tuple(settings), built, where.executor, where.workers)
        ev.progress = progress
        return analyse(
            ev,
            list(regions) or known,
            k,
            sorted(set(budgets)),
            attack_budgets=attack_budgets,
            check_limit=check_limit,
        )


def read_scenario(source: Any) -> RawScenario:
    """The raw scenario of a path or bundled name."""
    from forcemodel.scenario.load import read_scenario as read

    return read(source)
