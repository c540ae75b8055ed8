"""Binding capacities grouped by server and span of consecutive days, each priced in its unit.

The shadow prices are the bindings table's (:func:`forcemodel.optimize.explain.bindings_table`,
one row per capacity and day); this only groups them, so that a span of days on which one RSOM
load, shared server or stock binds reads as one line. docs/optimization.md, "Grouped by server
and span of days", says what the sums mean.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forcemodel.optimize.explain import _SERVER_WORD, CAPACITY_KINDS, _server_unit

SPAN_COLUMNS = [
    "unit",
    "kind",
    "binding",
    "from_day",
    "to_day",
    "days",
    "price_per_day_min",
    "price_per_day_max",
    "price_sum",
    "bde_days_sum",
    "holds_for",
]


def _unit_of(kind: str, server: str) -> str:
    """What one more of a capacity is: a ton, a person or an asset-day a day, or a set."""
    if kind == "shared":
        return _SERVER_WORD[_server_unit(server)]
    return {"rsom_tons": "ton", "rsom_people": "person", "stock": "set"}[kind]


def capacity_spans(bindings: pd.DataFrame) -> pd.DataFrame:
    """The binding capacities of ``bindings`` grouped by server and span of consecutive days.

    One row per capacity (an RSOM load of a region, a shared server, a stock) and run of
    consecutive days on which it binds with prices of one sign: ``unit`` (``ton``, ``person``,
    ``asset-day`` a day, or ``set``: prices in different units are never ranked together),
    ``price_per_day_min`` / ``max`` (the days' shadow prices), ``price_sum`` (their sum: the
    first-order change of the objective for one more unit on every day of the span),
    ``bde_days_sum`` (the same in brigade-days of shortfall: the bindings' ``price_bde_days``
    summed; NaN when they have none) and
    ``holds_for`` (the least room any day of the span has, HiGHS ranging: each day's price
    holds alone up to it). Sorted by unit, then by ``|price_sum|``, largest first."""
    cap = bindings[bindings["kind"].isin(CAPACITY_KINDS)]
    cap = cap[cap["shadow_price"].notna()]
    rows: list[dict[str, object]] = []
    if not cap.empty:
        key = cap["kind"].astype(str) + "|" + cap["region"].astype(str) + "|"
        key = key + cap["stock"].astype(str) + "|" + cap["server"].astype(str)
        for _, group in cap.groupby([key, np.sign(cap["shadow_price"])], sort=True):
            group = group.sort_values("day")
            first = group.iloc[0]
            kind, server = str(first["kind"]), str(first["server"])
            words = {"rsom_tons": "RSOM tons at ", "rsom_people": "RSOM people at "}
            binding = server or str(first["stock"]) or words.get(kind, "") + str(first["region"])
            days = group["day"].to_numpy(int)
            breaks = np.flatnonzero(np.diff(days) != 1) + 1
            for part in np.split(np.arange(len(group)), breaks):
                g = group.iloc[part]
                price = g["shadow_price"].to_numpy(float)
                holds = g["holds_for"].to_numpy(float)
                rows.append(
                    {
                        "unit": _unit_of(kind, server),
                        "kind": kind,
                        "binding": binding,
                        "from_day": int(g["day"].iloc[0]),
                        "to_day": int(g["day"].iloc[-1]),
                        "days": len(g),
                        "price_per_day_min": float(price.min()),
                        "price_per_day_max": float(price.max()),
                        "price_sum": float(price.sum()),
                        "bde_days_sum": float(g["price_bde_days"].to_numpy(float).sum())
                        if "price_bde_days" in g
                        else math.nan,
                        "holds_for": float(np.nanmin(holds))
                        if (~np.isnan(holds)).any()
                        else math.nan,
                    }
                )
    table = pd.DataFrame(rows, columns=SPAN_COLUMNS)
    if table.empty:
        return table
    order = table["price_sum"].abs()
    table = table.assign(_o=-order).sort_values(["unit", "_o", "binding", "from_day"])
    return table.drop(columns="_o").reset_index(drop=True)
