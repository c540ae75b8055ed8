"""The dashboard's charts as SVG geometry: power by day, unit movements, bottlenecks.

The numbers are the run's (:mod:`forcemodel.web.planning`, from the report's data layer); this
module only scales them to the page (axes, ticks, step lines, bars, cells) for the templates'
chart macros.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forcemodel.assessment import AT_CAPACITY
from forcemodel.report import data as report_data
from forcemodel.web.mapview import MODE_STYLE
from forcemodel.web.tables import cell

if TYPE_CHECKING:
    from forcemodel.web.planning import Run

SERIES_STYLE = {
    "power": ("#0072B2", "", "combat power"),
    "required": ("#E69F00", "7 4", "requirement"),
    "threat": ("#D55E00", "2 3", "threat"),
}

CHART_W, CHART_H = 720.0, 300.0
PAD_L, PAD_R, PAD_T, PAD_B = 56.0, 16.0, 14.0, 40.0


def _ticks(top: float, n: int = 5) -> list[float]:
    if top <= 0:
        return [0.0]
    raw = top / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw)
    return [i * step for i in range(int(top // step) + 1)]


def power_chart(run: Run, region: str, capability: str) -> dict[str, Any]:
    """One region's power, requirement and threat by day for one capability, as SVG geometry.

    Each series is a step line (values hold for the day); vulnerable spans are shaded and the
    closure day marked. Returns the chart's parts for the ``power_chart`` template macro.
    """
    p = run.power[(run.power["region"] == region) & (run.power["capability"] == capability)]
    horizon = max(int(run.results.meta.get("horizon_days", 0)), 1)
    top = float(p[["power", "required", "threat"]].to_numpy().max()) if len(p) else 1.0
    ticks = _ticks(top * 1.05 or 1.0)
    ymax = max(ticks[-1], top * 1.05, 1e-9)
    w, h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def x(day: float) -> float:
        return round(PAD_L + w * day / horizon, 1)

    def y(v: float) -> float:
        return round(PAD_T + h * (1 - v / ymax), 1)

    series = []
    days = p["day"].to_numpy(dtype=float)
    for key, (colour, dash, label) in SERIES_STYLE.items():
        values = p[key].to_numpy(dtype=float)
        if not len(values) or (key != "power" and not np.any(values > 0)):
            continue
        pts: list[str] = []
        for i, (d, v) in enumerate(zip(days, values, strict=True)):
            end = days[i + 1] if i + 1 < len(days) else horizon
            pts.append(f"{x(d)},{y(v)} {x(end)},{y(v)}")
        series.append(
            {"key": key, "label": label, "colour": colour, "dash": dash, "points": " ".join(pts)}
        )
    spans = run.spans[run.spans["region"] == region]
    shades = (
        [
            {
                "x": x(start),
                "w": round(x(end) - x(start), 1),
                "start": int(start),
                "end": int(end),
            }
            for start, end in zip(
                spans["start"].to_numpy(dtype=float),
                spans["end"].to_numpy(dtype=float),
                strict=True,
            )
        ]
        if capability == "land"
        else []
    )
    caps = run.assessment.capabilities
    row = caps[(caps["region"] == region) & (caps["capability"] == capability)]
    closure = None
    if len(row) and not pd.isna(row["closure_day"].iloc[0]):
        closure = int(row["closure_day"].iloc[0])
    step = 30 if horizon > 90 else 10
    return {
        "title": f"{run.regions.set_index('region')['name'].get(region, region)}: "
        f"{report_data.CAPABILITY_LABELS.get(capability, capability)}",
        "width": CHART_W,
        "height": CHART_H,
        "left": PAD_L,
        "right": CHART_W - PAD_R,
        "top": PAD_T,
        "bottom": CHART_H - PAD_B,
        "yticks": [{"y": y(t), "label": cell(float(t))} for t in ticks],
        "xticks": [{"x": x(d), "label": str(d)} for d in range(0, horizon + 1, step)],
        "series": series,
        "shades": shades,
        "closure": None if closure is None else {"x": x(closure), "day": closure},
        "warning": {"x": x(float(run.results.meta.get("warning_day", 0.0)))},
    }


def capabilities_of(run: Run, region: str) -> list[str]:
    """The capabilities shown for a region, in the standard order."""
    present = set(run.power.loc[run.power["region"] == region, "capability"])
    return [c for c in report_data.CAPABILITY_LABELS if c in present]


# --- the movement chart (Gantt) ------------------------------------------------------------

#: Each kind of leg: colour (Okabe-Ito; modes as on the map) and bar thickness (a share of the
#: row), so that waiting and the stages at either end differ from moves by shape, not colour only.
LEG_STYLE: dict[str, tuple[str, float]] = {
    **{mode: (colour, 0.7) for mode, (colour, _dash) in MODE_STYLE.items()},
    "notice_to_move": ("#999999", 0.3),
    "waiting": ("#D55E00", 0.45),
    "draw": ("#F0E442", 0.55),
    "rsom": ("#000000", 0.3),
}
GANTT_LABEL_W, GANTT_ROW_H, GANTT_TOP, GANTT_BOTTOM = 230.0, 18.0, 10.0, 38.0


def _day_ticks(horizon: float) -> list[int]:
    step = 30 if horizon > 120 else 10 if horizon > 30 else 5
    return list(range(0, int(horizon) + 1, step))


def gantt_chart(run: Run, region: str) -> dict[str, Any]:
    """One region's unit movements as SVG geometry: a row per unit and load, a bar per leg.

    The bars are the report's (:func:`forcemodel.report.data.gantt_frame`: the units that close
    first, at most ``UNITS_PER_REGION`` of a region); this only scales them to the page.
    """
    bars = run.gantt[run.gantt["region"] == region]
    counts = run.gantt_counts[run.gantt_counts["region"] == region]
    shown = int(counts["shown"].iloc[0]) if len(counts) else 0
    total = int(counts["total"].iloc[0]) if len(counts) else 0
    rows = list(dict.fromkeys(bars["row"]))
    horizon = float(max(int(run.results.meta.get("horizon_days", 0)), 1))
    end = float(bars["end"].max()) if len(bars) else horizon
    warning = float(run.results.meta.get("warning_day", 0.0))
    x_max = min(horizon, max(1.08 * end, 2.0 * warning, 1.0))
    width = CHART_W + 200.0
    w = width - GANTT_LABEL_W - PAD_R
    height = GANTT_TOP + GANTT_ROW_H * max(len(rows), 1) + GANTT_BOTTOM
    index = {r: i for i, r in enumerate(rows)}

    def x(day: float) -> float:
        return round(GANTT_LABEL_W + w * min(max(day, 0.0), x_max) / x_max, 1)

    marks = []
    for b in bars.to_dict("records"):
        cat = str(b["category"])
        colour, share = LEG_STYLE.get(cat, ("#555555", 0.5))
        start, stop = float(b["start"]), float(b["end"])
        if start >= x_max:
            continue
        where = str(b["from"]) if b["from"] == b["to"] else f"{b['from']} → {b['to']}"
        wait = report_data.number(b["wait_days"]) or 0.0
        title = (
            f"{b['unit']} ({b['load']}), {report_data.LEG_LABELS.get(cat, cat)}: {where}, "
            f"day {start:.2f} → {stop:.2f}"
        )
        if cat == "waiting" and wait > 0 and b["wait_reason"]:
            title += f"; waited {wait:.2f} d for {b['wait_reason']}"
        mid = GANTT_TOP + GANTT_ROW_H * (index[b["row"]] + 0.5)
        bar_h = round(GANTT_ROW_H * share, 1)
        marks.append(
            {
                "x": x(start),
                "y": round(mid - bar_h / 2, 1),
                "w": max(round(x(stop) - x(start), 1), 0.8),
                "h": bar_h,
                "colour": colour,
                "category": cat,
                "title": title,
            }
        )
    present = set(bars["category"])
    bottom = height - GANTT_BOTTOM
    return {
        "title": f"{run.regions.set_index('region')['name'].get(region, region)}: "
        f"{report_data.TITLES['gantt'].lower()}",
        "width": width,
        "height": round(height, 1),
        "left": GANTT_LABEL_W,
        "right": width - PAD_R,
        "top": GANTT_TOP,
        "bottom": round(bottom, 1),
        "rows": [
            {"label": r, "y": round(GANTT_TOP + GANTT_ROW_H * (i + 0.5) + 4, 1)}
            for i, r in enumerate(rows)
        ],
        "bars": marks,
        "xticks": [{"x": x(d), "label": str(d)} for d in _day_ticks(x_max)],
        "warning": {"x": x(warning), "day": warning} if warning < x_max else None,
        "legend": [
            {"category": c, "label": report_data.LEG_LABELS.get(c, c)}
            for c in LEG_STYLE
            if c in present
        ],
        "shown": shown,
        "total": total,
    }


# --- bottlenecks: utilisation of the busiest servers by day ---------------------------------

#: Servers in the bottleneck chart (the busiest first).
BOTTLENECK_ROWS = 20
#: Utilisation bands of the chart: upper bound (exclusive) and colour, light to dark (one hue,
#: so that order reads without colour vision); at capacity is the darkest and also marked.
UTILISATION_BANDS = (
    (0.25, "#deebf7"),
    (0.5, "#9ecae1"),
    (0.75, "#4292c6"),
    (AT_CAPACITY, "#08519c"),
    (math.inf, "#08306b"),
)


#: A day's cell at least this wide (SVG units) also carries a × when at capacity; narrower
#: cells would turn the marks into noise (the darkest band still says it).
MARK_MIN_W = 8.0


def bottleneck_chart(run: Run) -> dict[str, Any]:
    """The busiest servers' utilisation by day as SVG geometry (the report's heat map data,
    :func:`forcemodel.report.data.server_frames`): a row per server, a cell per loaded day."""
    servers = run.servers
    horizon = float(max(int(run.results.meta.get("horizon_days", 0)), 1))
    width = CHART_W + 200.0
    w = width - GANTT_LABEL_W - PAD_R
    keys = list(zip(servers["server"], servers["kind"], strict=True))
    rows = [f"{s} ({k})" for s, k in keys]
    index = {key: i for i, key in enumerate(keys)}
    height = GANTT_TOP + GANTT_ROW_H * max(len(rows), 1) + GANTT_BOTTOM
    day_w = w / horizon

    def x(day: float) -> float:
        return round(GANTT_LABEL_W + day_w * day, 1)

    cells = []
    util = run.utilisation
    for s, k, day, u in zip(
        util["server"], util["kind"], util["day"], util["utilisation"], strict=True
    ):
        value = float(u)
        if value <= 0 or (s, k) not in index or float(day) >= horizon:
            continue
        colour = next(c for top, c in UTILISATION_BANDS if value < top)
        cells.append(
            {
                "x": x(float(day)),
                "y": round(GANTT_TOP + GANTT_ROW_H * index[(s, k)] + 1, 1),
                "w": round(max(day_w, 0.8), 2),
                "h": GANTT_ROW_H - 2,
                "colour": colour,
                "full": value >= AT_CAPACITY and day_w >= MARK_MIN_W,
                "title": f"{s} ({k}), day {int(day)}: {value:.0%} of capacity",
            }
        )
    return {
        "title": "Bottlenecks: utilisation of the busiest links, nodes, lift pools and RSOM by day",
        "width": width,
        "height": round(height, 1),
        "left": GANTT_LABEL_W,
        "right": width - PAD_R,
        "top": GANTT_TOP,
        "bottom": round(height - GANTT_BOTTOM, 1),
        "rows": [
            {"label": r, "y": round(GANTT_TOP + GANTT_ROW_H * (i + 0.5) + 4, 1)}
            for i, r in enumerate(rows)
        ],
        "cells": cells,
        "xticks": [{"x": x(d), "label": str(d)} for d in _day_ticks(horizon)],
        "bands": [
            {"colour": c, "label": _band_label(i, day_w >= MARK_MIN_W)}
            for i, (_top, c) in enumerate(UTILISATION_BANDS)
        ],
    }


def _band_label(i: int, marked: bool) -> str:
    full = "at capacity (marked ×)" if marked else "at capacity"
    return ("under 25 %", "25–50 %", "50–75 %", "75 % to capacity", full)[i]
