"""The assistance plan of a case, ready for its page: the matcher's result, kept, and charts.

Numbers come from :func:`forcemodel.assist.match_case` and the assist domain's tables
(:mod:`forcemodel.assist.pipeline`, :func:`forcemodel.assist.fleet_mix`); this module only keeps
a case's result (matched once per server, on first view) and scales the tables to SVG.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from forcemodel.assist import MatchResult, fleet_mix, load_case, match_case
from forcemodel.assist.pipeline import courses, hub_throughput, usable_systems
from forcemodel.web.charts import CHART_H, CHART_W, PAD_B, PAD_L, PAD_R, PAD_T, _ticks
from forcemodel.web.tables import cell, table

#: Seconds the matcher may run on a case the page shows (its default).
MATCH_TIME_LIMIT = 60.0
#: Days between two rows of the hub and fleet tables.
HUB_EVERY, FLEET_EVERY = 7, 15
#: Okabe-Ito; each series also has its own dash pattern.
FLEET_STYLE = {
    "nato": ("#0072B2", "", "NATO-standard"),
    "soviet": ("#D55E00", "7 4", "Soviet-era"),
    "other": ("#009E73", "2 3", "other"),
}
LANE_H, LANE_LABEL_W = 20.0, 170.0


@dataclass(frozen=True)
class CasePlan:
    """A case's matching and the tables its page shows, by name."""

    name: str
    result: MatchResult
    tables: dict[str, pd.DataFrame]


class CaseCache:
    """Matched cases, one matching per case per server (the matcher takes seconds)."""

    def __init__(self) -> None:
        self._plans: dict[str, CasePlan] = {}
        self._lock = threading.Lock()

    def get(self, name: str, source: str | Path | None = None) -> CasePlan:
        """The plan of a case (bundled, or uploaded: its folder ``source``), matched on first
        use (one matching at a time)."""
        with self._lock:
            if name not in self._plans:
                result = match_case(load_case(source or name), time_limit=MATCH_TIME_LIMIT)
                self._plans[name] = plan_of(name, result)
            return self._plans[name]

    def has(self, name: str) -> bool:
        """Whether the case's plan is at hand."""
        with self._lock:
            return name in self._plans

    def put(self, name: str, result: MatchResult) -> None:
        """Keep a matching done elsewhere (an uploaded case's match job)."""
        plan = plan_of(name, result)
        with self._lock:
            self._plans[name] = plan


def page_context(plan: CasePlan, skip_hubs: Collection[str] = ()) -> dict[str, Any]:
    """What the plan's sections show (templates/plan_sections.html): its tables and charts,
    the hubs in ``skip_hubs`` left out (the board's own route for pledges without one)."""
    t = plan.tables
    hubs = t["hubs"]
    return {
        "plan": plan,
        "meta": plan.result.case.meta,
        "usable": table(t["usable"]),
        "courses": table(t["courses"]),
        "cohorts": table(t["cohorts"][["course", "item", "trainees", "start_date", "end_date"]]),
        "cohort_chart": cohort_chart(plan),
        "hub_charts": hub_charts(plan, skip_hubs),
        "hubs": table(hubs[(hubs["tons"] > 0) & ~hubs["hub"].isin(list(skip_hubs))]),
        "fleet_chart": fleet_chart(plan),
        "fleet": table(t["fleet"]),
    }


def plan_of(name: str, result: MatchResult) -> CasePlan:
    """The tables of a matching, by the name of their CSV download."""
    return CasePlan(
        name,
        result,
        {
            "usable": usable_systems(result),
            "courses": courses(result),
            "cohorts": result.training,
            "hubs": hub_throughput(result, HUB_EVERY),
            "fleet": fleet_mix(result, every=FLEET_EVERY),
            "requirements": result.requirements,
            "deliveries": result.deliveries,
        },
    )


def _x_axis(horizon: float, left: float, right: float) -> tuple[Any, list[dict[str, Any]]]:
    w = right - left

    def x(day: float) -> float:
        return round(left + w * min(max(day, 0.0), horizon) / max(horizon, 1.0), 1)

    step = 30 if horizon > 120 else 10
    return x, [{"x": x(d), "label": str(d)} for d in range(0, int(horizon) + 1, step)]


def cohort_chart(plan: CasePlan) -> dict[str, Any]:
    """The cohorts that run as bars on one lane each (course, item), by day."""
    tr = plan.result.training
    horizon = float(plan.result.case.meta.horizon_days)
    width = CHART_W + 200.0
    x, xticks = _x_axis(horizon, LANE_LABEL_W, width - PAD_R)
    bars = []
    for i, r in enumerate(tr.to_dict("records")):
        label = f"{r['course']}" + (f" ({r['item']})" if r["item"] else "")
        bars.append(
            {
                "label": label,
                "x": x(float(r["start"])),
                "w": max(round(x(float(r["end"])) - x(float(r["start"])), 1), 1.0),
                "y": round(PAD_T + LANE_H * i + 3, 1),
                "ty": round(PAD_T + LANE_H * i + 14, 1),
                "title": f"{label}: {cell(r['trainees'])} trainees, "
                f"{r['start_date']} to {r['end_date']}",
            }
        )
    height = PAD_T + LANE_H * max(len(bars), 1) + PAD_B
    return {
        "width": width,
        "height": round(height, 1),
        "left": LANE_LABEL_W,
        "right": width - PAD_R,
        "bottom": round(height - PAD_B, 1),
        "top": PAD_T,
        "bar_h": LANE_H - 6,
        "bars": bars,
        "xticks": xticks,
    }


def _line_chart(
    frame: pd.DataFrame, series: dict[str, tuple[str, str, str]], horizon: float, title: str
) -> dict[str, Any]:
    """Step lines of ``frame``'s columns named in ``series`` by ``day``."""
    top = float(frame[list(series)].to_numpy().max()) if len(frame) else 1.0
    ticks = _ticks(top * 1.05 or 1.0)
    ymax = max(ticks[-1], top * 1.05, 1e-9)
    x, xticks = _x_axis(horizon, PAD_L, CHART_W - PAD_R)
    h = CHART_H - PAD_T - PAD_B

    def y(v: float) -> float:
        return round(PAD_T + h * (1 - v / ymax), 1)

    days = frame["day"].to_numpy(dtype=float)
    lines = []
    for key, (colour, dash, label) in series.items():
        values = frame[key].to_numpy(dtype=float)
        pts = []
        for i, (d, v) in enumerate(zip(days, values, strict=True)):
            end = days[i + 1] if i + 1 < len(days) else horizon
            pts.append(f"{x(d)},{y(v)} {x(end)},{y(v)}")
        lines.append(
            {"key": key, "label": label, "colour": colour, "dash": dash, "points": " ".join(pts)}
        )
    return {
        "title": title,
        "width": CHART_W,
        "height": CHART_H,
        "left": PAD_L,
        "right": CHART_W - PAD_R,
        "top": PAD_T,
        "bottom": CHART_H - PAD_B,
        "yticks": [{"y": y(t), "label": cell(float(t))} for t in ticks],
        "xticks": xticks,
        "series": lines,
    }


def hub_charts(plan: CasePlan, skip: Collection[str] = ()) -> list[dict[str, Any]]:
    """Per hub (but those in ``skip``): tons through it each day against its daily capacity."""
    hubs = plan.result.hubs
    hubs = hubs[~hubs["hub"].isin(list(skip))] if len(hubs) else hubs
    horizon = float(plan.result.case.meta.horizon_days)
    style = {
        "tons": ("#0072B2", "", "tons through the hub"),
        "capacity": ("#555555", "6 3", "daily capacity"),
    }
    return [
        _line_chart(h.sort_values("day"), style, horizon, f"Hub {hub}: tons a day")
        for hub, h in hubs.groupby("hub", sort=True)
    ]


def fleet_chart(plan: CasePlan) -> dict[str, Any]:
    """Usable systems by standard over time (the partner's own and the donated, operational)."""
    mix = fleet_mix(plan.result)
    present = {k: v for k, v in FLEET_STYLE.items() if (mix[k] > 0).any()}
    horizon = float(plan.result.case.meta.horizon_days)
    return _line_chart(mix, present or FLEET_STYLE, horizon, "Fleet mix: systems by standard")
