"""The key figures of one run, per region: what the runs table keeps of a simulation.

Computed with the assessment's own functions (:mod:`forcemodel.assessment`), so that a sweep's
closure day is the one ``forcemodel simulate`` reports for the same world.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from forcemodel.assessment import capability_table, force_ratio_table, region_table
from forcemodel.results import Results
from forcemodel.scenario.model import CAPABILITIES

#: Per-region figures, in the order of the runs table's columns.
FIGURES = (
    "closure_day",
    "shortfall_days",
    "shortfall_bde_days",
    "vulnerable_days",
    "vulnerable_from",
    "vulnerable_until",
    "max_ratio",
)
CAPABILITY_COLUMNS = tuple(f"closure_{c}" for c in CAPABILITIES)


def run_figures(results: Results) -> list[dict[str, Any]]:
    """One row per region: closure day (overall and per capability), shortfall, window, ratio.

    A closure day is NaN when the region is not closed by the horizon; ``land_power`` and
    ``land_required`` are the region's land power and requirement by day (fan charts).
    """
    caps = capability_table(results)
    ratios = force_ratio_table(results)
    regions = region_table(results, caps, ratios)
    rp = results.region_power
    land = rp[rp["capability"] == "land"]
    rows: list[dict[str, Any]] = []
    for rec in regions.to_dict("records"):
        region = rec["region"]
        row: dict[str, Any] = {"region": region}
        for f in FIGURES:
            v = rec.get(f)
            row[f] = float("nan") if v is None or v != v else float(v)
        mine = caps[caps["region"] == region]
        by_cap = dict(zip(mine["capability"], mine["closure_day"], strict=True))
        for c, col in zip(CAPABILITIES, CAPABILITY_COLUMNS, strict=True):
            v = by_cap.get(c, 0)  # no requirement: met from day 0
            row[col] = float("nan") if v is None or v != v else float(v)
        g = land[land["region"] == region].sort_values("day")
        row["land_power"] = g["power"].to_numpy(dtype=np.float32).tolist()
        row["land_required"] = g["required"].to_numpy(dtype=np.float32).tolist()
        rows.append(row)
    return rows
