"""Industry and stockpiles: how long munitions and interceptors last once forces close, and
how fast production lines (with the Defence Industrial Pledge's ramp and joint purchases)
refill them.

Rules (docs/capability.md, "Industry and stockpiles"):

* Demand: from the warning day, every region uses ``per_power_per_day`` of an item per unit of
  the capability's power its requirement curve asks for that day (forces are taken to have
  closed to the requirement: the stock question is asked of the force the plan needs).
* Production: each line's output per month, linear between its points and held after the last,
  starting after its lead time; a joint purchase delivers its quantity evenly over its window.
* Stock: ``stock[d+1] = stock[d] + produced[d] - used[d]``, with ``used = min(demand, stock +
  produced)``; what is not used is unmet. Quantities are conserved: initial + produced - used =
  final, and used + unmet = demand.
* Feedback (:func:`scale_power_after_runout`): on a day a region's demand is not fully met, its
  power in that capability counts ``met + (1 - met) · residual`` of itself (``residual`` 0.5 by
  default, an assumption: a unit without its munitions still manoeuvres and has other weapons).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forcemodel.capability.errors import CapabilityInputError, Issue
from forcemodel.capability.load import Tables
from forcemodel.capability.model import (
    CapabilityFile,
    JointPurchase,
    ProductionLine,
    Stockpile,
)
from forcemodel.results import Results
from forcemodel.scenario.model import Scenario

#: Days in a month, for rates per month (365 / 12).
MONTH_DAYS = 365.0 / 12.0
#: Longest time a refill is searched for (ten years); longer reads "more than".
MAX_REFILL_DAYS = 3650
#: Days of the refill curves kept in the results (two years).
REFILL_CURVE_DAYS = 730


@dataclass(frozen=True)
class IndustryResult:
    """Tidy tables of one run (saved by the CLI)."""

    curves: pd.DataFrame  # item, case, day, stock, produced, demand, used, unmet
    summary: pd.DataFrame  # item, case, initial, runout_day, refill_days, produced, unmet
    by_region: pd.DataFrame  # item, case, day, region, demand, used, met
    refill: pd.DataFrame  # item, case, day, made: production alone from empty, by day


def lines_from_table(table: pd.DataFrame) -> list[ProductionLine]:
    """Production lines from a bundled table (one row per point)."""
    out = []
    for (item, line), rows in table.groupby(["item", "line"], sort=False):
        rows = rows.sort_values("day")
        out.append(
            ProductionLine(
                item=str(item),
                line=str(line),
                per_month=tuple(
                    (float(d), float(v))
                    for d, v in zip(rows["day"], rows["per_month"], strict=True)
                ),
                lead_time_days=float(rows["lead_time_days"].iloc[0]),
                source="; ".join(str(s) for s in rows["source"]),
            )
        )
    return out


def daily_output(line: ProductionLine, days: int) -> np.ndarray:
    """A line's output on each day ``0..days-1`` (rate per month / days per month)."""
    d = np.arange(days, dtype=float)
    pts = np.asarray(line.per_month, dtype=float)
    t = d - line.lead_time_days
    rate = np.interp(t, pts[:, 0], pts[:, 1]) / MONTH_DAYS
    rate[t < 0] = 0.0
    return np.asarray(rate * line.share)


def joint_output(purchase: JointPurchase, days: int) -> np.ndarray:
    """A joint purchase's deliveries on each day ``0..days-1`` (even over its window)."""
    start = purchase.order_day + purchase.lead_time_days
    d = np.arange(days, dtype=float)
    # The share of each day [d, d+1) inside [start, start + window): exact for any window.
    overlap = np.clip(
        np.minimum(d + 1, start + purchase.delivery_days) - np.maximum(d, start), 0, 1
    )
    return np.asarray(overlap * purchase.quantity / purchase.delivery_days)


def demand_by_region(
    scenario: Scenario, stock: Stockpile, per_power_per_day: float, days: int
) -> pd.DataFrame:
    """Each region's daily demand for an item: rate × required power from the warning day."""
    d = np.arange(days, dtype=float)
    rows = []
    for r in scenario.regions:
        curve = getattr(r.requirement, stock.capability)
        if not curve:
            continue
        pts = np.asarray(curve, dtype=float)
        idx = np.searchsorted(pts[:, 0], d, side="right") - 1
        power = np.where(idx >= 0, pts[np.clip(idx, 0, None), 1], 0.0)
        power[d < scenario.meta.warning_day] = 0.0
        rows.append(
            pd.DataFrame(
                {"day": d.astype(int), "region": r.id, "demand": power * per_power_per_day}
            )
        )
    if not rows:
        return pd.DataFrame(columns=["day", "region", "demand"])
    return pd.concat(rows, ignore_index=True)


def run_stock(initial: float, produced: np.ndarray, demand: np.ndarray) -> pd.DataFrame:
    """Day-by-day stock: ``stock`` is held at the start of each day (conserves quantities)."""
    n = len(demand)
    stock = np.empty(n + 1)
    used = np.empty(n)
    stock[0] = initial
    for i in range(n):
        avail = stock[i] + produced[i]
        used[i] = min(demand[i], avail)
        stock[i + 1] = avail - used[i]
    return pd.DataFrame(
        {
            "day": np.arange(n),
            "stock": stock[:-1],
            "produced": produced,
            "demand": demand,
            "used": used,
            "unmet": demand - used,
            "stock_end": stock[1:],
        }
    )


def made_from_empty(
    lines: list[ProductionLine], purchases: list[JointPurchase], days: int
) -> np.ndarray:
    """What production alone has made by the end of each day ``0..days-1`` (from day 0)."""
    out = np.zeros(days)
    for line in lines:
        out += daily_output(line, days)
    for p in purchases:
        out += joint_output(p, days)
    return np.cumsum(out)


def refill_days(
    initial: float, lines: list[ProductionLine], purchases: list[JointPurchase]
) -> float:
    """Days for production alone (from day 0, stock empty) to make ``initial``; inf if longer
    than :data:`MAX_REFILL_DAYS`."""
    if initial <= 0:
        return 0.0
    made = made_from_empty(lines, purchases, MAX_REFILL_DAYS)
    hit = np.flatnonzero(made >= initial - 1e-9)
    return float(hit[0] + 1) if hit.size else float("inf")


def _check(plan: CapabilityFile, lines: list[ProductionLine]) -> None:
    issues = []
    for section, group in (("production", plan.production), ("pledge", plan.pledge)):
        for i, line in enumerate(group):
            for j, (_, rate) in enumerate(line.per_month):
                if rate < 0:  # pydantic refuses it too; kept for data built in Python
                    issues.append(
                        Issue(
                            (section, i, "per_month", j),
                            f"a production rate cannot be negative, got {rate:g}",
                        )
                    )
    if issues:
        raise CapabilityInputError(issues)


def stockpiles(plan: CapabilityFile, tables: Tables) -> list[Stockpile]:
    """The file's stockpiles, else the bundled ones (assumptions, see stockpiles.csv)."""
    if plan.stockpiles:
        return list(plan.stockpiles)
    return [
        Stockpile(item=str(i), capability=str(c), quantity=float(q), source=str(s))
        for i, c, q, s in zip(
            tables.stockpiles["item"],
            tables.stockpiles["capability"],
            tables.stockpiles["quantity"],
            tables.stockpiles["source"],
            strict=True,
        )
    ]


def industry(
    scenario: Scenario, plan: CapabilityFile, tables: Tables, days: int | None = None
) -> IndustryResult:
    """Stocks under the scenario's demand with today's lines, with the pledge's ramp, and with
    the pledge plus the file's joint purchases (when it has any)."""
    days = int(days if days is not None else scenario.meta.horizon_days + 1)
    today = list(plan.production) or lines_from_table(tables.production)
    pledge = list(plan.pledge) or lines_from_table(tables.pledge)
    _check(plan, today + pledge)
    rates: dict[str, float] = {
        str(k): float(v)
        for k, v in zip(
            tables.consumption["item"], tables.consumption["per_power_per_day"], strict=True
        )
    }
    cases: list[tuple[str, list[ProductionLine], list[JointPurchase]]] = [
        ("today", today, []),
        ("pledge", pledge, []),
    ]
    if plan.joint_purchases:
        cases.append(("pledge+joint", pledge, list(plan.joint_purchases)))
    curves, summary, regions, refills = [], [], [], []
    issues = []
    for k, s in enumerate(stockpiles(plan, tables)):
        rate = s.per_power_per_day if s.per_power_per_day is not None else rates.get(s.item)
        if rate is None:
            issues.append(
                Issue(
                    ("stockpiles", k, "per_power_per_day"),
                    f"no use rate for '{s.item}': give per_power_per_day",
                )
            )
            continue
        by_region = demand_by_region(scenario, s, float(rate), days)
        total = (
            by_region.groupby("day")["demand"]
            .sum()
            .reindex(range(days), fill_value=0.0)
            .to_numpy(dtype=float)  # float also when no region uses the item (empty groups)
        )
        for case, lines, buys in cases:
            mine = [ln for ln in lines if ln.item == s.item]
            mine_buys = [b for b in buys if b.item == s.item]
            produced = np.zeros(days)
            for ln in mine:
                produced += daily_output(ln, days)
            for b in mine_buys:
                produced += joint_output(b, days)
            run = run_stock(s.quantity, produced, total)
            run.insert(0, "case", case)
            run.insert(0, "item", s.item)
            curves.append(run)
            short = np.flatnonzero(run["unmet"].to_numpy() > 1e-9)
            summary.append(
                {
                    "item": s.item,
                    "case": case,
                    "capability": s.capability,
                    "initial": s.quantity,
                    "per_power_per_day": float(rate),
                    "runout_day": int(short[0]) if short.size else None,
                    "refill_days": refill_days(s.quantity, mine, mine_buys),
                    "produced": float(produced.sum()),
                    "used": float(run["used"].sum()),
                    "unmet": float(run["unmet"].sum()),
                    "final": float(run["stock_end"].iloc[-1]),
                }
            )
            met = np.divide(
                run["used"].to_numpy(dtype=float), total, out=np.ones(days), where=total > 0
            )
            made = made_from_empty(mine, mine_buys, REFILL_CURVE_DAYS)
            refills.append(
                pd.DataFrame(
                    {
                        "item": s.item,
                        "case": case,
                        "day": np.arange(REFILL_CURVE_DAYS),
                        "made": made,
                    }
                )
            )
            reg = by_region.copy()
            reg["met"] = met[reg["day"].to_numpy(dtype=int)]
            reg["used"] = reg["demand"] * reg["met"]
            reg.insert(0, "case", case)
            reg.insert(0, "item", s.item)
            regions.append(reg)
    if issues:
        raise CapabilityInputError(issues)
    return IndustryResult(
        curves=pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(),
        summary=pd.DataFrame(summary),
        by_region=pd.concat(regions, ignore_index=True) if regions else pd.DataFrame(),
        refill=pd.concat(refills, ignore_index=True) if refills else pd.DataFrame(),
    )


def scale_power_after_runout(
    region_power: pd.DataFrame,
    result: IndustryResult,
    item: str,
    case: str = "today",
    residual: float = 0.5,
) -> pd.DataFrame:
    """A copy of a Results' ``region_power`` whose ``power`` in the item's capability counts
    ``met + (1 - met) · residual`` of itself on each day and region (the documented rule).

    ``met`` is the share of the region's demand for the item that the stock met that day
    (1 where there was no demand). Only this function feeds stocks back into assessment.
    """
    if not 0 <= residual <= 1:
        raise ValueError(f"residual must be between 0 and 1, got {residual}")
    rows = result.summary[(result.summary["item"] == item) & (result.summary["case"] == case)]
    if rows.empty:
        raise ValueError(f"no stockpile '{item}' in case '{case}'")
    capability = str(rows["capability"].iloc[0])
    reg = result.by_region[(result.by_region["item"] == item) & (result.by_region["case"] == case)]
    met = reg.set_index(["day", "region"])["met"]
    out = region_power.copy()
    mask = out["capability"] == capability
    keys = pd.MultiIndex.from_arrays([out.loc[mask, "day"].astype(int), out.loc[mask, "region"]])
    m = met.reindex(keys).fillna(1.0).to_numpy()
    out.loc[mask, "power"] = out.loc[mask, "power"].to_numpy() * (m + (1 - m) * residual)
    return out


def results_after_runout(
    results: Results,
    result: IndustryResult,
    items: list[str] | str,
    case: str = "today",
    residual: float = 0.5,
) -> Results:
    """A copy of ``results`` with the rule of :func:`scale_power_after_runout` applied for
    each item, its ``shortfall`` table recomputed from the scaled power, ready for
    :func:`forcemodel.assess` (closure days, shortfall-days, force ratios after run-out)."""
    power = results.region_power
    for item in [items] if isinstance(items, str) else items:
        power = scale_power_after_runout(power, result, item, case, residual)
    tables = dict(results.tables)
    tables["region_power"] = power
    if "shortfall" in tables:
        sf = tables["shortfall"].drop(columns=["power"])
        sf = sf.merge(
            power[["day", "region", "capability", "power"]],
            on=["day", "region", "capability"],
            how="left",
        )
        sf["shortfall"] = (sf["required"] - sf["power"]).clip(lower=0.0)
        tables["shortfall"] = sf[list(results.tables["shortfall"].columns)]
    meta = {
        **results.meta,
        "capability_runout": {"items": items, "case": case, "residual": residual},
    }
    return Results(meta=meta, tables=tables)
