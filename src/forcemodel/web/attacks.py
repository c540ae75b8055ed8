"""What an attack run started from the dashboard keeps, and how its page draws it.

An attack job runs :func:`forcemodel.sweep.attack.run_attack` and keeps its tables in the
job's ``attack/`` folder as ``forcemodel attack --out`` does (``criticality.csv``,
``attacks.csv``, ``protection.csv`` and ``measures.csv`` when budgets were given, and
``attack.json``), so that ``forcemodel report RESULTS --attack JOB/attack`` reads it too.

The criticality map is the report's (:func:`forcemodel.report.sweep_section.criticality_figure`:
the network on lon/lat, each candidate asset coloured by the delay its loss causes); this module
only turns that figure's traces into SVG geometry (the pages allow no script but their own, so
no plotly), and the protection curve's rows (the defender's table) into a step chart. Every
number on the page is one of those tables'.
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forcemodel.common.folders import atomic_write_text, staged_folder
from forcemodel.web.charts import CHART_H, CHART_W, PAD_B, PAD_L, PAD_R, PAD_T, _ticks
from forcemodel.web.tables import cell, table

if TYPE_CHECKING:
    from forcemodel.scenario.model import Scenario
    from forcemodel.sweep.attack import AttackReport

#: Where an attack job keeps its tables, beside its (absent) results folder.
ATTACK_FOLDER = "attack"
#: The tables of an attack folder, in the order the page shows them.
ATTACK_TABLES = ("criticality", "attacks", "protection", "measures")
#: Columns of the worst attacks shown on the page (attacks.csv has every column).
ATTACK_COLUMNS = (
    "region",
    "form",
    "k",
    "attack_budget",
    "assets",
    "attack_cost",
    "delay",
    "status",
    "checked",
    "non_monotone",
    "simulations",
)
#: Assets of a region's criticality map labelled with their delay (the worst first), so that
#: the delay reads without colour.
LABELLED = 5


def save_attack(report: AttackReport, folder: Path, scenario: str, uncertainty: str | None) -> None:
    """Write the report's tables and ``attack.json`` as ``forcemodel attack --out`` does; the
    folder appears whole or not at all."""
    about = {
        "scenario": scenario,
        "regions": sorted(set(report.attacks["region"])),
        "settings": [],
        "uncertainty": uncertainty,
        "simulations": report.simulations,
    }
    with staged_folder(folder) as tmp:
        for name in ATTACK_TABLES:
            frame: pd.DataFrame = getattr(report, name)
            if not frame.empty:  # no budget given: no protection tables
                text = frame.to_csv(index=False, lineterminator="\n")
                atomic_write_text(tmp / f"{name}.csv", text)
        atomic_write_text(tmp / "attack.json", json.dumps(about, indent=2) + "\n")


def read_attack(folder: Path) -> dict[str, pd.DataFrame]:
    """The tables of a finished attack folder, by name (the protection tables only when
    budgets were given)."""
    out: dict[str, pd.DataFrame] = {}
    for name in ATTACK_TABLES:
        path = folder / f"{name}.csv"
        if path.is_file():
            out[name] = pd.read_csv(path)
    return out


def network(scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scenario's nodes (id, lon, lat) and links (id, src, dst), as the report reads them."""
    nodes = pd.DataFrame(
        [{"id": n.id, "lon": n.lon, "lat": n.lat} for n in scenario.nodes],
        columns=["id", "lon", "lat"],
    )
    links = pd.DataFrame(
        [{"id": lk.id, "src": lk.from_, "dst": lk.to} for lk in scenario.links],
        columns=["id", "src", "dst"],
    )
    return nodes, links


# --- the criticality map --------------------------------------------------------------------

MAP_W, MAP_PAD = 720.0, 24.0


def _values(v: Any) -> list[Any]:
    """A trace's array: a list, or plotly's typed array ({"dtype", "bdata"})."""
    if isinstance(v, dict) and "bdata" in v:
        return list(np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist())
    return list(v) if v is not None else []


def _hover_text(template: str) -> str:
    return template.replace("<extra></extra>", "")


def criticality_chart(
    crit: pd.DataFrame, nodes: pd.DataFrame, links: pd.DataFrame, region: str
) -> dict[str, Any]:
    """A region's criticality map as SVG geometry, from the report's figure of it.

    The figure's traces are: the links no attack may take (grey), one trace per candidate link
    (its colour the delay's on the report's scale) and the candidate nodes (markers coloured by
    the delay on the figure's colour scale). Positions are lon/lat with the figure's aspect.
    """
    from forcemodel.report.charts import _plotly
    from forcemodel.report.sweep_section import criticality_figure

    fig = criticality_figure(crit, nodes, links, region)
    colours = _plotly("plotly.colors")
    traces = fig["data"]
    ratio = float(fig["layout"].get("yaxis", {}).get("scaleratio", 1.0))
    xs = [float(x) for t in traces for x in _values(t.get("x")) if x is not None]
    ys = [float(y) for t in traces for y in _values(t.get("y")) if y is not None]
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    y0, y1 = (min(ys), max(ys)) if ys else (0.0, 1.0)
    span_x, span_y = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6) * ratio
    scale = (MAP_W - 2 * MAP_PAD) / max(span_x, span_y * 0.75)
    height = round(span_y * scale + 2 * MAP_PAD, 1)

    def px(x: float) -> float:
        return round(MAP_PAD + (x - x0) * scale, 1)

    def py(y: float) -> float:
        return round(height - MAP_PAD - (y - y0) * ratio * scale, 1)

    grey: list[dict[str, float]] = []
    lines: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    scale_stops: list[list[Any]] = []
    top = 1.0
    for t in traces:
        x, y = _values(t.get("x")), _values(t.get("y"))
        if t.get("mode") == "lines" and t.get("hoverinfo") == "skip":
            for i in range(0, len(x) - 1, 3):  # segments separated by None
                if x[i] is None or x[i + 1] is None:
                    continue
                grey.append(
                    {"x0": px(x[i]), "y0": py(y[i]), "x1": px(x[i + 1]), "y1": py(y[i + 1])}
                )
        elif t.get("mode") == "lines":
            title = _hover_text(str(t.get("hovertemplate", "")))
            asset, _, delay = title.rpartition(": ")
            lines.append(
                {
                    "points": " ".join(f"{px(a)},{py(b)}" for a, b in zip(x, y, strict=True)),
                    "colour": t["line"]["color"],
                    "width": float(t["line"].get("width", 3)),
                    "asset": asset,
                    "delay": float(delay.split()[0]),
                    "x": px(x[1]),
                    "y": py(y[1]),
                }
            )
        elif t.get("mode") == "markers":
            m = t["marker"]
            scale_stops = m["colorscale"]
            lo, top = float(m.get("cmin", 0.0)), float(m.get("cmax", 1.0))
            for name, a, b, d in zip(
                _values(t.get("text")), x, y, _values(m["color"]), strict=True
            ):
                share = 0.0 if top <= lo else min(1.0, max(0.0, (float(d) - lo) / (top - lo)))
                colour = colours.sample_colorscale(scale_stops, [share])[0]
                points.append(
                    {
                        "asset": str(name),
                        "delay": float(d),
                        "x": px(a),
                        "y": py(b),
                        "colour": colour,
                    }
                )
    marks = sorted(
        [*lines, *points], key=lambda m: -m["delay"] if m["delay"] == m["delay"] else 0.0
    )
    labels = [
        {"x": m["x"] + 6, "y": m["y"] - 6, "text": f"{m['asset']}: {cell(m['delay'])} d"}
        for m in marks[:LABELLED]
        if m["delay"] > 0
    ]
    legend_w = 200.0
    steps = [
        {
            "x": round(i * legend_w / len(scale_stops), 1),
            "w": round(legend_w / len(scale_stops) + 0.5, 1),
            "colour": c,
        }
        for i, (_pos, c) in enumerate(scale_stops)
    ]
    return {
        "region": region,
        "title": str(fig["layout"].get("title", {}).get("text", region)),
        "width": MAP_W,
        "height": height,
        "grey": grey,
        "lines": lines,
        "points": points,
        "labels": labels,
        "legend": {"steps": steps, "width": legend_w, "top": cell(top)},
    }


# --- the protection curve -------------------------------------------------------------------


def protection_chart(curve: pd.DataFrame, region: str) -> dict[str, Any]:
    """A region's protection curve as SVG geometry: the worst attack's delay (days) against
    the protection budget (millions), a step that holds until the next budget."""
    rows = curve[curve["region"] == region].sort_values("budget_m")
    budgets = rows["budget_m"].to_numpy(dtype=float)
    delays = rows["worst_delay"].to_numpy(dtype=float)
    finite = delays[np.isfinite(delays)]
    top_y = float(finite.max()) if len(finite) else 1.0
    top_x = float(budgets.max()) if len(budgets) else 1.0
    yt = _ticks(top_y * 1.05 or 1.0)
    xt = _ticks(top_x or 1.0)
    ymax, xmax = max(yt[-1], top_y * 1.05, 1e-9), max(xt[-1], top_x, 1e-9)
    w, h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def x(v: float) -> float:
        return round(PAD_L + w * v / xmax, 1)

    def y(v: float) -> float:
        return round(PAD_T + h * (1 - v / ymax), 1)

    pts: list[str] = []
    marks = []
    for i, (b, d) in enumerate(zip(budgets, delays, strict=True)):
        if not math.isfinite(d):
            continue
        end = budgets[i + 1] if i + 1 < len(budgets) else xmax
        pts.append(f"{x(b)},{y(d)} {x(end)},{y(d)}")
        marks.append(
            {
                "x": x(b),
                "y": y(d),
                "title": f"budget {cell(b)} M: worst attack {cell(d)} days "
                f"({rows['status'].iloc[i]}); guards: {rows['plan'].fillna('').iloc[i] or 'none'}",
            }
        )
    return {
        "title": f"{region}: delay of the worst attack against the protection budget",
        "width": CHART_W,
        "height": CHART_H,
        "left": PAD_L,
        "right": CHART_W - PAD_R,
        "top": PAD_T,
        "bottom": CHART_H - PAD_B,
        "yticks": [{"y": y(t), "label": cell(float(t))} for t in yt],
        "xticks": [{"x": x(t), "label": cell(float(t))} for t in xt],
        "points": " ".join(pts),
        "marks": marks,
    }


def attack_page(folder: Path, scenario: Scenario) -> dict[str, Any]:
    """What a finished attack job's page shows: per region the criticality map and the
    protection curve, and the tables (as the attack wrote them)."""
    tables = read_attack(folder)
    crit = tables.get("criticality", pd.DataFrame(columns=["asset", "region", "delay"]))
    attacks = tables.get("attacks", pd.DataFrame(columns=list(ATTACK_COLUMNS)))
    curve = tables.get("protection")
    nodes, links = network(scenario)
    regions = sorted(set(attacks["region"]) | set(crit["region"]))
    return {
        "regions": [
            {
                "id": r,
                "map": criticality_chart(crit, nodes, links, r),
                "criticality": table(crit[crit["region"] == r].reset_index(drop=True), 15),
                "curve": protection_chart(curve, r) if curve is not None else None,
            }
            for r in regions
        ],
        "attacks": table(attacks[[c for c in ATTACK_COLUMNS if c in attacks]]),
        "unproven": int((attacks["status"] != "exact").sum()) if len(attacks) else 0,
        "protection": table(curve) if curve is not None else None,
        "measures": table(tables["measures"], 30) if "measures" in tables else None,
        "tables": [t for t in ATTACK_TABLES if t in tables],
    }
