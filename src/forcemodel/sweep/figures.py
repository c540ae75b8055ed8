"""The key figures of one run, per region: what the runs table keeps of a simulation.

The definitions are the assessment's (:mod:`forcemodel.assessment`): closure day (first day
every requirement is met and stays met to the horizon), shortfall-days and brigade-days, the
window of vulnerability (days from the warning day on which the land force ratio exceeds the
threshold). They are computed here in one pass over whole columns, because a sweep computes
them thousands of times; tests/sweep/test_figures.py checks them against ``assess`` itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

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
_EPS = 1e-9  # the assessment's tolerance for "met"


def run_figures(results: Results) -> list[dict[str, Any]]:
    """One row per region: closure day (overall and per capability), shortfall, window, ratio.

    A closure day is NaN when the region is not closed by the horizon; ``land_power`` and
    ``land_required`` are the region's land power and requirement by day (fan charts).
    """
    horizon = int(results.meta["horizon_days"])
    caps = _capabilities(results.shortfall, horizon)
    rp = results.region_power
    land = rp[rp["capability"] == "land"].sort_values(["region", "day"], kind="stable")
    warning = float(results.meta["warning_day"])
    threshold = float(results.meta["ratio_threshold"])
    rows: list[dict[str, Any]] = []
    for region, g in land.groupby("region", sort=True):
        days = g["day"].to_numpy()
        power = g["power"].to_numpy(dtype=float)
        threat = g["threat"].to_numpy(dtype=float)
        after = days >= warning
        p, t = power[after], threat[after]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(t > 0, np.where(p > 0, t / np.where(p > 0, p, 1), np.inf), 0.0)
        vul = days[after][ratio > threshold]
        mine = caps.get(str(region), {})
        closures = [c[0] for c in mine.values()]
        closure = float("nan") if any(c != c for c in closures) else float(max(closures, default=0))
        row: dict[str, Any] = {
            "region": region,
            "closure_day": closure,
            "shortfall_days": float(max((c[1] for c in mine.values()), default=0)),
            "shortfall_bde_days": float(sum(c[2] for c in mine.values())),
            "vulnerable_days": float(vul.size),
            "vulnerable_from": float(vul.min()) if vul.size else float("nan"),
            "vulnerable_until": float(vul.max()) if vul.size else float("nan"),
            "max_ratio": float(ratio.max()) if ratio.size else 0.0,
        }
        for c, col in zip(CAPABILITIES, CAPABILITY_COLUMNS, strict=True):
            row[col] = mine[c][0] if c in mine else 0.0  # no requirement: met from day 0
        row["land_power"] = power.astype(np.float32).tolist()
        row["land_required"] = g["required"].to_numpy(dtype=np.float32).tolist()
        rows.append(row)
    return rows


def _capabilities(sf: pd.DataFrame, horizon: int) -> dict[str, dict[str, tuple[float, int, float]]]:
    """Per region and capability: (closure day or NaN, shortfall days, shortfall bde-days)."""
    out: dict[str, dict[str, tuple[float, int, float]]] = {}
    if sf.empty:
        return out
    sf = sf.sort_values(["region", "capability", "day"], kind="stable")
    for (region, cap), g in sf.groupby(["region", "capability"], sort=True):
        short = g["shortfall"].to_numpy(dtype=float)
        unmet = g["day"].to_numpy()[short > _EPS]
        if not unmet.size:
            closed = 0.0
        elif unmet[-1] >= horizon:
            closed = float("nan")
        else:
            closed = float(unmet[-1] + 1)
        out.setdefault(str(region), {})[str(cap)] = (
            closed,
            int((short > _EPS).sum()),
            float(short.sum()),
        )
    return out
