"""Spending against the guidelines, and what closing each ally's shortfall costs.

The guidelines always checked are NATO's 2 % of GDP on defence (2006) and 20 % of defence
spending on major equipment (Wales, 2014); the capability file adds its own (e.g. The Hague's
3.5 % core defence). An ally meets a guideline when its figure is at or above it; an ally
without the figure is counted apart ("no figure"), never as meeting or missing it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forcemodel.capability.load import Tables
from forcemodel.capability.model import CapabilityFile, Guideline
from forcemodel.capability.targets import TargetsResult

#: The guidelines every report checks.
STANDARD: tuple[Guideline, ...] = (
    Guideline(name="2% of GDP", share_gdp_pct=2.0, source="NATO defence ministers, 2006"),
    Guideline(
        name="20% on equipment", equipment_share_pct=20.0, source="Wales summit declaration, 2014"
    ),
)


def guideline_list(plan: CapabilityFile) -> list[Guideline]:
    """The standard guidelines and the file's."""
    return [*STANDARD, *plan.guidelines]


def members(tables: Tables, year: int) -> list[str]:
    """Allies that were members in ``year`` (joined that year or before)."""
    a = tables.allies
    return list(a[a["member_since"] <= year]["ally"])


def by_ally(tables: Tables, plan: CapabilityFile, year: int) -> pd.DataFrame:
    """Per member ally in ``year``: its figures and, per guideline, met / not met / no figure."""
    rows = tables.spending[tables.spending["year"] == year].set_index("ally")
    extra = {f.ally: f for f in plan.figures if f.year == year}
    out = []
    for ally in members(tables, year) + [a for a in extra if a not in members(tables, year)]:
        share = rows["share_gdp_pct"].get(ally, np.nan) if ally in rows.index else np.nan
        equip = rows["equipment_share_pct"].get(ally, np.nan) if ally in rows.index else np.nan
        if ally in extra:
            f = extra[ally]
            share = f.share_gdp_pct if f.share_gdp_pct is not None else share
            equip = f.equipment_share_pct if f.equipment_share_pct is not None else equip
        row: dict[str, object] = {
            "ally": ally,
            "share_gdp_pct": share,
            "equipment_share_pct": equip,
        }
        for g in guideline_list(plan):
            row[g.name] = _meets(g, float(share), float(equip))
        out.append(row)
    return pd.DataFrame(out)


def _meets(g: Guideline, share: float, equip: float) -> str:
    checks = []
    if g.share_gdp_pct is not None:
        checks.append(None if not np.isfinite(share) else share >= g.share_gdp_pct - 1e-9)
    if g.equipment_share_pct is not None:
        checks.append(None if not np.isfinite(equip) else equip >= g.equipment_share_pct - 1e-9)
    if any(c is False for c in checks):
        return "no"
    if any(c is None for c in checks):
        return "no figure"
    return "yes"


def counts(tables: Tables, plan: CapabilityFile, years: list[int]) -> pd.DataFrame:
    """Per guideline and year: members, allies with the figure, allies at or above it."""
    rows = []
    for year in years:
        table = by_ally(tables, plan, year)
        for g in guideline_list(plan):
            col = table[g.name] if len(table) else pd.Series(dtype=str)
            rows.append(
                {
                    "guideline": g.name,
                    "year": year,
                    "members": len(members(tables, year)),
                    "meeting": int((col == "yes").sum()),
                    "not_meeting": int((col == "no").sum()),
                    "no_figure": int((col == "no figure").sum()),
                }
            )
    return pd.DataFrame(rows)


def real_growth(tables: Tables, plan: CapabilityFile, years: list[int]) -> pd.DataFrame:
    """Per ally and year: defence expenditure at 2015 prices (MUSD) and its real change (%)
    since the ally's previous year in ``years`` with a figure (``from_year``) and since the
    first year with one. The file's figures (``expenditure_const_musd``) win over the table's.
    """
    table = tables.spending[tables.spending["year"].isin(years)]
    values: dict[tuple[str, int], float] = {}
    for ally, year, value in zip(
        table["ally"].tolist(),
        table["year"].tolist(),
        table["expenditure_const_musd"].tolist(),
        strict=True,
    ):
        if pd.notna(value):
            values[(str(ally), int(year))] = float(value)
    for f in plan.figures:
        if f.year in years and f.expenditure_const_musd is not None:
            values[(f.ally, f.year)] = float(f.expenditure_const_musd)
    rows: list[dict[str, object]] = []
    for ally in dict.fromkeys(a for a, _ in sorted(values)):
        seen = [(y, values[(ally, y)]) for y in sorted(years) if (ally, y) in values]
        for k, (year, value) in enumerate(seen):
            prev_year, prev = seen[k - 1] if k else (None, np.nan)
            first = seen[0][1]
            rows.append(
                {
                    "ally": ally,
                    "year": year,
                    "expenditure_const_musd": value,
                    "from_year": prev_year,
                    "real_change_pct": (value / prev - 1) * 100 if k and prev > 0 else np.nan,
                    "since_first_pct": (value / first - 1) * 100 if k and first > 0 else np.nan,
                }
            )
    cols = [
        "ally",
        "year",
        "expenditure_const_musd",
        "from_year",
        "real_change_pct",
        "since_first_pct",
    ]
    return pd.DataFrame(rows, columns=cols).astype({"from_year": "Int64"})


def unit_costs(tables: Tables, plan: CapabilityFile) -> pd.DataFrame:
    """Cost of one unit of power per capability: the file's, else the bundled (often none)."""
    bundled = tables.unit_costs[tables.unit_costs["per_power"].notna()]
    rows = {
        r.capability: {
            "capability": r.capability,
            "low": r.low,
            "default": r.default,
            "high": r.high,
            "currency": r.currency,
            "source": r.source,
        }
        for r in bundled.itertuples()
    }
    for c in plan.unit_costs:
        rows[c.capability] = {
            "capability": c.capability,
            "low": c.default if c.low is None else c.low,
            "default": c.default,
            "high": c.default if c.high is None else c.high,
            "currency": c.currency,
            "source": c.source or "capability file",
        }
    return pd.DataFrame(list(rows.values()))


def shortfall_costs(result: TargetsResult, tables: Tables, plan: CapabilityFile) -> pd.DataFrame:
    """Per ally and capability with a shortfall (target above offer): its cost, low to high.

    A capability without a unit cost has empty cost cells (give one in ``unit_costs``).
    """
    costs = unit_costs(tables, plan).set_index("capability")
    t = result.targets
    short = t[t["balance"] < -1e-9][["ally", "capability", "target", "offer"]].copy()
    short["shortfall"] = short["target"] - short["offer"]
    for col in ("low", "default", "high"):
        per = short["capability"].map(costs[col]) if col in costs else np.nan
        short[f"cost_{col}"] = short["shortfall"] * pd.to_numeric(per, errors="coerce")
    short["currency"] = short["capability"].map(costs["currency"]) if len(costs) else ""
    return short.reset_index(drop=True)
