"""When each donated system becomes usable, and the training pipeline and hubs behind it.

A system counts as usable on the day it is operational: delivered, supplied with compatible
ammunition and crewed by people trained on it (the matcher's ``operational_day``). These tables
gather, per item, what the plan's deliveries and cohorts say, so that a coordinator sees which
stage holds a system back: its arrival, or its crews (cohorts, their prerequisites).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forcemodel.assist.result import MatchResult

USABLE_COLUMNS = [
    "item",
    "delivered",
    "first_delivery_date",
    "trainees",
    "cohorts",
    "first_crews_date",
    "usable",
    "first_usable_date",
    "held_by",
]
COURSE_COLUMNS = ["course", "prerequisites", "qualifies", "cohort_size", "duration_days"]


def _date(result: MatchResult, day: float) -> str:
    return "" if pd.isna(day) else result.case.date(int(day)).isoformat()


def usable_systems(result: MatchResult) -> pd.DataFrame:
    """Per item delivered as itself (not as a system's first load): quantity delivered and the
    first delivery, crews trained on it (trainees, cohorts) and the first cohort's end, the
    quantity usable by the horizon and the first day one is usable, and what holds it back:
    ``crews`` when the first one is usable only after its first cohort ends later than the
    first delivery, ``delivery`` when the first delivery is the later, ``""`` when none is
    usable."""
    dl = result.deliveries
    main = dl[dl["role"] == "main"] if len(dl) else dl
    tr = result.training
    rows = []
    for item, d in main.groupby("item", sort=True):
        first_delivery = float(d["delivery_day"].min())
        op = d["operational_day"].dropna().astype(float)
        mine = tr[tr["item"] == item] if len(tr) else tr
        crews_end = float(mine["end"].min()) if len(mine) else np.nan
        first_usable = float(op.min()) if len(op) else np.nan
        if np.isnan(first_usable):
            held = ""
        elif not np.isnan(crews_end) and crews_end > first_delivery:
            held = "crews"
        else:
            held = "delivery"
        rows.append(
            {
                "item": str(item),
                "delivered": float(d["quantity"].sum()),
                "first_delivery_date": _date(result, first_delivery),
                "trainees": float(mine["trainees"].sum()) if len(mine) else 0.0,
                "cohorts": len(mine),
                "first_crews_date": _date(result, crews_end),
                "usable": float(d.loc[d["operational_day"].notna(), "quantity"].sum()),
                "first_usable_date": _date(result, first_usable),
                "held_by": held,
            }
        )
    return pd.DataFrame(rows, columns=USABLE_COLUMNS)


def courses(result: MatchResult) -> pd.DataFrame:
    """The case's courses with their prerequisites and the items they train crews on."""
    rows = [
        {
            "course": c.id,
            "prerequisites": ", ".join(c.prerequisites),
            "qualifies": ", ".join(c.qualifies),
            "cohort_size": c.cohort_size,
            "duration_days": c.duration_days,
        }
        for c in result.case.courses
    ]
    return pd.DataFrame(rows, columns=COURSE_COLUMNS)


def hub_throughput(result: MatchResult, every: int = 1) -> pd.DataFrame:
    """Per hub and day: tons through it, its capacity and the share used (0..1; blank without
    a capacity), with the date; one day in ``every`` (and the last) to keep the table short,
    the tons summed over the days each row stands for."""
    hubs = result.hubs
    cols = ["hub", "day", "date", "tons", "capacity", "used"]
    if hubs.empty:
        return pd.DataFrame(columns=cols)
    step = max(1, every)
    h = hubs.assign(bucket=(hubs["day"] + step - 1) // step * step)
    horizon = int(hubs["day"].max())
    h.loc[h["bucket"] > horizon, "bucket"] = horizon
    out = (
        h.groupby(["hub", "bucket"], sort=True)
        .agg(tons=("tons", "sum"), capacity=("capacity", "first"), days=("day", "size"))
        .reset_index()
        .rename(columns={"bucket": "day"})
    )
    cap = out["capacity"] * out["days"]
    out["used"] = np.where(cap > 0, out["tons"] / cap.where(cap > 0, 1.0), np.nan)
    out["date"] = [_date(result, d) for d in out["day"]]
    return out[cols]
