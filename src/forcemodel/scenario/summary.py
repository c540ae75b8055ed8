"""What a scenario holds, in tables: troops by readiness tier, by nation, by region; network size.

Pure computation over a :class:`Scenario`; the CLI and reports only render these tables.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from forcemodel.scenario.capabilities import CAPABILITIES

if TYPE_CHECKING:
    from forcemodel.scenario.model import Scenario


@dataclass(frozen=True)
class ScenarioSummary:
    """Summary tables of a scenario."""

    name: str
    description: str
    tiers: pd.DataFrame
    nations: pd.DataFrame
    regions: pd.DataFrame
    network: pd.DataFrame
    #: Equipment sets held, and those the optimiser may buy (empty without either).
    sets: pd.DataFrame
    #: ``"<budget> million <currency>"`` for new sets, or None without a budget section.
    budget: str | None = None


def tier_table(scenario: Scenario) -> pd.DataFrame:
    """Reinforcing troops by readiness tier against the force model's targets.

    ``troops`` counts the units of the tier itself, to compare with the tier's target.
    ``ready_by_day`` counts every unit, of any tier, whose notice to move falls within the
    tier's ``by_day``: the cumulative view (by day 30, tier 1 units are ready too).
    """
    by_tier: Counter[int] = Counter()
    units: Counter[int] = Counter()
    for u in scenario.units:
        by_tier[u.tier] += u.personnel
        units[u.tier] += 1
    rows = []
    tiers = {t.tier: t for t in scenario.tiers}
    for tier in sorted(set(by_tier) | set(tiers)):
        t = tiers.get(tier)
        by_day = t.by_day if t is not None else None
        ready = (
            sum(u.personnel for u in scenario.units if u.notice_to_move_days <= by_day)
            if by_day is not None
            else None
        )
        target = t.target_troops if t is not None else None
        rows.append(
            {
                "tier": tier,
                "units": units[tier],
                "troops": by_tier[tier],
                "notice_to_move_days": t.notice_to_move_days if t is not None else None,
                "target_troops": target,
                "by_day": by_day,
                "share_of_target": by_tier[tier] / target if target else None,
                "ready_by_day": ready,
            }
        )
    return pd.DataFrame(rows)


def nation_table(scenario: Scenario) -> pd.DataFrame:
    """Reinforcing units and troops by nation and tier, plus troops in place."""
    troops: dict[str, Counter[str]] = defaultdict(Counter)
    for u in scenario.units:
        troops[u.nation][f"tier_{u.tier}"] += u.personnel
        troops[u.nation]["units"] += 1
    for r in scenario.regions:
        for f in r.in_place:
            troops[f.nation]["in_place"] += f.personnel * f.count
    tier_cols = sorted({f"tier_{u.tier}" for u in scenario.units})
    rows = []
    for nation in sorted(troops):
        c = troops[nation]
        row: dict[str, object] = {"nation": nation, "units": c["units"]}
        for col in tier_cols:
            row[col] = c[col]
        row["in_place"] = c["in_place"]
        row["total"] = sum(c[col] for col in tier_cols) + c["in_place"]
        rows.append(row)
    return pd.DataFrame(rows)


def region_table(scenario: Scenario) -> pd.DataFrame:
    """Per region: troops and land power in place, units pre-assigned, day-0 and peak needs."""
    assigned: dict[str, list[int]] = defaultdict(list)
    for u in scenario.units:
        if u.assigned_to is not None:
            assigned[u.assigned_to].append(u.personnel)
    rows = []
    for r in scenario.regions:
        power = {c: r.in_place_power(c) for c in CAPABILITIES}
        need_land = r.requirement.land
        rows.append(
            {
                "region": r.id,
                "reception": r.reception,
                "troops_in_place": sum(f.personnel * f.count for f in r.in_place),
                "land_in_place": power["land"],
                "land_required_day0": need_land[0][1]
                if need_land and need_land[0][0] == 0
                else 0.0,
                "land_required_peak": max((v for _, v in need_land), default=0.0),
                "assigned_units": len(assigned[r.id]),
                "assigned_troops": sum(assigned[r.id]),
            }
        )
    return pd.DataFrame(rows)


def network_table(scenario: Scenario) -> pd.DataFrame:
    """Counts of the network's components (links by mode)."""
    modes = Counter(str(lk.mode) for lk in scenario.links)
    rows = [
        {"component": "nodes", "count": len(scenario.nodes)},
        *({"component": f"links ({m})", "count": n} for m, n in sorted(modes.items())),
        {"component": "lift pools", "count": len(scenario.lift_pools)},
        {"component": "units", "count": len(scenario.units)},
        {"component": "stocks", "count": len(scenario.stocks)},
        {"component": "regions", "count": len(scenario.regions)},
        {"component": "threats", "count": len(scenario.threats)},
        {"component": "disruptions", "count": len(scenario.disruptions)},
    ]
    return pd.DataFrame(rows)


def sets_table(scenario: Scenario) -> pd.DataFrame:
    """Pre-positioned equipment sets per depot and set type: held, and buyable within a budget.

    One row per (depot, set type) that holds sets or may receive new ones
    (``prepositioning``; only then the cost and capacity columns, in millions of the
    section's currency).
    """
    rows: dict[tuple[str, str], dict[str, object]] = {}

    def row(depot: str, set_type: str) -> dict[str, object]:
        return rows.setdefault(
            (depot, set_type),
            {
                "depot": depot,
                "set_type": set_type,
                "sets_held": 0,
                "draw_days": None,
                "new_set_cost_m": None,
                "depot_fixed_cost_m": None,
                "depot_capacity_sets": None,
            },
        )

    for st in scenario.stocks:
        if st.kind == "equipment_set" and st.set_type is not None:
            r = row(st.depot, st.set_type)
            r["sets_held"] = int(str(r["sets_held"])) + st.sets
            r["draw_days"] = st.draw_days
    pre = scenario.prepositioning
    if pre is not None:
        for d in pre.depots:
            for c in pre.sets:
                r = row(d.depot, c.set_type)
                r["new_set_cost_m"] = c.cost_m
                r["depot_fixed_cost_m"] = d.fixed_cost_m
                r["depot_capacity_sets"] = d.capacity_sets
                if d.draw_days is not None and r["draw_days"] is None:
                    r["draw_days"] = d.draw_days
    columns = ["depot", "set_type", "sets_held", "draw_days"]
    if pre is not None:  # the buying columns only where something may be bought
        columns += ["new_set_cost_m", "depot_fixed_cost_m", "depot_capacity_sets"]
    return pd.DataFrame([rows[k] for k in sorted(rows)], columns=columns)


def summarize(scenario: Scenario) -> ScenarioSummary:
    """All summary tables of a scenario."""
    return ScenarioSummary(
        name=scenario.meta.name,
        description=scenario.meta.description,
        tiers=tier_table(scenario),
        nations=nation_table(scenario),
        regions=region_table(scenario),
        network=network_table(scenario),
        sets=sets_table(scenario),
        budget=(
            f"{scenario.prepositioning.budget_m:g} million {scenario.prepositioning.currency}"
            if scenario.prepositioning is not None
            else None
        ),
    )
