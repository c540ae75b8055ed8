"""An intelligent saboteur and the defender who guards against him (docs/sweep.md).

The attacker's problem: which k links or nodes, taken out (``uncertainty.attack``: from its
start day, for its days, to its capacity factor), delay a region's closure most. Every attack
is judged by the simulation, run over the sweep's executor (a local pool or a Dask cluster).

The search is smarter than trying every k-subset:

1. *screening*: only capped assets on the routes the region's units take in the unattacked
   run can be attacked (or the ``attack.candidates`` given);
2. *ranking*: every single loss is simulated (one batch), candidates ordered by their delay;
3. *branch and bound*: a depth-first search over sets in that order. A set's subtree holds
   only subsets of "the set plus every later candidate", whose delay bounds the subtree's
   (losing more delays no less); these bounds fall along the order, so a binary search finds
   the first child that cannot beat the best attack found, and that child and all after it
   are cut. The result is the exhaustive optimum whenever losing more never speeds closure,
   which the tests check against exhaustive search on random networks.

The defender's problem (Brown, Carlyle, Salmerón and Wood, "Defending Critical
Infrastructure", Interfaces 36(6), 2006): guard assets within a budget to minimise the worst
attack. A plan that leaves the worst attack's assets unguarded leaves its delay unchanged, so
the search branches only on guarding an asset of the current worst attack (a min-max tree
over the attacker's answers, each found by the search above, from a shared cache).

Long because the attacker's branch and bound and the defender's loop over it share the
batch evaluation and its cache of simulated attacks.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from forcemodel.scenario.load import RawScenario
from forcemodel.scenario.model import Scenario
from forcemodel.scenario.uncertainty import Attack, Measure

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
