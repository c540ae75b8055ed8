"""The HTML report: one self-contained file with interactive plotly charts that opens offline.

plotly.js comes from the plotly Python wheel and is inlined once; every figure's data is inlined
as JSON; the map draws the bundled Natural Earth outlines as ordinary line traces on lon/lat axes
(no geo projection, so nothing is fetched from a CDN). :func:`render_html` takes the
:class:`~forcemodel.report.data.ReportData` and only draws it.
"""

from __future__ import annotations

import html
import importlib
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forcemodel.report.comparison import (
    COMPARE_TITLES,
    RUN_COLOURS,
    ComparisonData,
    later_in_b,
)
from forcemodel.report.data import (
    CAPABILITY_LABELS,
    COLOURS,
    DISRUPTION_COLOUR,
    LEG_LABELS,
    TITLES,
    ReportData,
    aspect,
)

#: plotly.js options for every chart: no logo, no link to an online editor.
CONFIG = {"displaylogo": False, "responsive": True, "showLink": False}
NODE_COLOURS = {
    "garrison": "#4d4d4d",
    "depot": "#8c564b",
    "port": "#17becf",
    "airfield": "#9467bd",
    "railhead": "#1f77b4",
    "border_crossing": "#bcbd22",
    "assembly_area": "#d62728",
    "junction": "#aaaaaa",
}

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #fafafa; }
header { background: #1d3557; color: #fff; padding: 16px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 24px; }
header p { margin: 2px 0; font-size: 13px; opacity: 0.9; }
nav { padding: 8px 32px; background: #e9eef5; font-size: 14px; position: sticky; top: 0;
      z-index: 10; }
nav a { margin-right: 18px; color: #1d3557; text-decoration: none; }
main { padding: 8px 32px 32px 32px; max-width: 1500px; }
section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 12px 18px;
          margin: 18px 0; }
h2 { font-size: 20px; margin: 6px 0 8px 0; color: #1d3557; }
h3 { font-size: 16px; margin: 14px 0 4px 0; }
p.note { font-size: 13px; color: #555; margin: 4px 0 8px 0; }
.warning { background: #fff3cd; border: 1px solid #e0c060; padding: 8px 12px; border-radius: 4px;
           margin: 12px 0; font-size: 14px; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 14px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; }
th { background: #f0f3f7; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
p.summary { font-size: 15px; margin: 6px 0 8px 0; }
tr.bad td { background: #fdecea; }
.chart { width: 100%; }
.controls { font-size: 14px; margin: 4px 0; }
footer { font-size: 12px; color: #666; padding: 0 32px 24px 32px; }
"""


def _plotly(module: str) -> Any:
    """A plotly module, imported on first use (plotly ships no type information)."""
    return importlib.import_module(module)


def _json(obj: Any) -> str:
    """JSON safe to place inside a <script> element."""
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False, default=_default)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, np.ndarray):
        return [_default(v) if isinstance(v, np.generic) else v for v in obj.tolist()]
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _fig_json(fig: Any) -> dict[str, Any]:
    """A plotly figure as plain JSON data (typed arrays left as plotly encodes them)."""
    pio = _plotly("plotly.io")
    return json.loads(pio.to_json(fig, validate=False))  # type: ignore[no-any-return]


def _num(v: Any) -> float | None:
    """A number or None for missing values (NaN, None, pd.NA)."""
    if v is None or v is pd.NA:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _day(v: Any) -> str:
    f = _num(v)
    return "not reached" if f is None else f"day {f:g}"


# --------------------------------------------------------------------------- power


def power_figure(data: ReportData, region: str) -> dict[str, Any]:
    """Power, requirement and threat over time for one region.

    Land gets a wide panel on top; the other capabilities present share a grid of small panels
    below it, all on the same day axis.
    """
    go = _plotly("plotly.graph_objects")
    make_subplots = _plotly("plotly.subplots").make_subplots

    p = data.power[data.power["region"] == region]
    caps = list(dict.fromkeys(p["capability"]))
    main, rest = caps[:1], caps[1:]
    ncol = min(3, max(len(rest), 1))
    nrow = 1 + math.ceil(len(rest) / ncol)
    specs: list[list[dict[str, Any] | None]] = [[{"colspan": ncol}] + [None] * (ncol - 1)]
    specs += [[{} for _ in range(ncol)] for _ in range(nrow - 1)]
    titles = [CAPABILITY_LABELS.get(c, c) for c in main + rest]
    fig = make_subplots(
        rows=nrow,
        cols=ncol,
        specs=specs,
        shared_xaxes="all",
        vertical_spacing=0.32 / nrow if nrow > 1 else 0.0,
        horizontal_spacing=0.06,
        subplot_titles=titles or [""],
        row_heights=[2.0] + [1.0] * (nrow - 1) if nrow > 1 else None,
    )
    closure = data.capability_closure
    for k, cap in enumerate(caps):
        row, col = (1, 1) if k == 0 else (2 + (k - 1) // ncol, 1 + (k - 1) % ncol)
        g = p[p["capability"] == cap]
        for column, name, colour, dash, width in (
            ("power", "combat power", "#1f77b4", "solid", 2.5),
            ("required", "requirement", "#222222", "dash", 2.0),
            ("threat", "threat", "#d62728", "solid", 1.8),
            ("in_place", "in place on day 0", "#7f7f7f", "dot", 1.2),
        ):
            if column == "in_place" and not (g[column] > 0).any():
                continue
            fig.add_trace(
                go.Scatter(
                    x=g["day"].tolist(),
                    y=g[column].round(3).tolist(),
                    name=name,
                    legendgroup=name,
                    showlegend=k == 0,
                    mode="lines",
                    line={"shape": "hv", "color": colour, "dash": dash, "width": width},
                    hovertemplate=f"{name}: %{{y:.2f}}<extra>"
                    f"{CAPABILITY_LABELS.get(cap, cap)}</extra>",
                ),
                row=row,
                col=col,
            )
        c = closure[(closure["region"] == region) & (closure["capability"] == cap)]
        cday = _num(c["closure_day"].iloc[0]) if len(c) else None
        if cday is not None and cday > 0:
            fig.add_vline(
                x=cday,
                row=row,
                col=col,
                line={"color": "#2ca02c", "width": 1.2, "dash": "dot"},
            )
    info = data.regions.set_index("region").loc[region]
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for s in data.vulnerable_spans[data.vulnerable_spans["region"] == region].itertuples():
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "y domain",
                "x0": s.start,
                "x1": s.end,
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(214,39,40,0.12)",
                "line": {"width": 0},
                "layer": "below",
            }
        )
    for d in data.disruptions.to_dict("records"):
        # Every disruption of the network, on the land panel: it may slow any region.
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "y domain",
                "x0": float(d["start"]),
                "x1": min(float(d["end"]), float(data.horizon)),
                "y0": 0.93,
                "y1": 1.0,
                "fillcolor": DISRUPTION_COLOUR,
                "opacity": 0.55,
                "line": {"width": 0},
                "layer": "above",
                "name": f"disruption {d['id']}",
            }
        )
        annotations.append(
            _vlabel(
                float(d["start"]), f"⚡ {d['id']} ({d['target']} x{d['factor']:g})", "#a0005a", 0.9
            )
            | {"yanchor": "top", "xanchor": "left", "hovertext": html.escape(str(d["label"]))}
        )
    w = data.warning_day
    cday = _num(info["closure_day"])
    for k in range(len(caps)):
        axis = "x" if k == 0 else f"x{k + 1}"
        yaxis = "y" if k == 0 else f"y{k + 1}"
        shapes.append(_vline(w, "#ff7f0e", "dash", axis, f"{yaxis} domain"))
        if cday is not None:
            shapes.append(_vline(cday, "#2ca02c", "solid", axis, f"{yaxis} domain"))
    annotations.append(_vlabel(w, f"warning day {w:g}", "#ff7f0e", 0.9))
    if cday is not None:
        annotations.append(_vlabel(cday, f"closure day {cday:g}", "#2ca02c", 0.75))
    else:
        annotations.append(
            _vlabel(data.horizon, "requirements not all met by the end", "#2ca02c", 0.75)
            | {"xanchor": "right"}
        )
    if len(data.vulnerable_spans[data.vulnerable_spans["region"] == region]):
        s0 = data.vulnerable_spans[data.vulnerable_spans["region"] == region].iloc[0]
        annotations.append(_vlabel(float(s0["start"]), "window of vulnerability", "#b22222", 0.6))
    return _power_layout(
        fig, data.region_title(region), nrow, 420, data.horizon, shapes, annotations
    )


def _power_layout(
    fig: Any,
    title: str,
    nrow: int,
    height: int,
    horizon: float,
    shapes: list[dict[str, Any]],
    annotations: list[dict[str, Any]],
) -> dict[str, Any]:
    """Lay out a power chart (one run's or two runs'), add its marks, give its JSON form.

    ``height`` is the chart's height with one row of subplots.
    """
    fig.update_layout(
        title={"text": title, "x": 0.01},
        height=230 + 330 + 200 * (nrow - 1) if nrow > 1 else height,
        margin={"l": 60, "r": 20, "t": 90, "b": 50},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        hovermode="x unified",
        template="plotly_white",
    )
    fig.update_xaxes(range=[0, horizon], showgrid=True)
    fig.update_xaxes(title_text="day (0 = decision to reinforce)", row=nrow)
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(title_text="brigade equivalents", row=1, col=1)
    out = _fig_json(fig)
    layout = out["layout"]
    layout["shapes"] = list(layout.get("shapes", [])) + shapes
    layout["annotations"] = list(layout.get("annotations", [])) + annotations
    return out


def _vline(
    x: float, colour: str, dash: str, xref: str = "x", yref: str = "paper"
) -> dict[str, Any]:
    return {
        "type": "line",
        "xref": xref,
        "yref": yref,
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "line": {"color": colour, "width": 2, "dash": dash},
    }


def _vlabel(x: float, text: str, colour: str, y: float, yref: str = "y domain") -> dict[str, Any]:
    return {
        "x": x,
        "y": y,
        "xref": "x",
        "yref": yref,
        "text": text,
        "showarrow": False,
        "xanchor": "left",
        "yanchor": "bottom",
        "font": {"color": colour, "size": 11},
        "bgcolor": "rgba(255,255,255,0.8)",
    }


# --------------------------------------------------------------------------- gantt


def gantt_figure(data: ReportData) -> dict[str, Any]:
    """One bar per leg of every shown unit; a menu shows one region at a time."""
    go = _plotly("plotly.graph_objects")

    bars = data.gantt
    names = dict(zip(data.regions["region"], data.regions["name"], strict=True))
    region_order = [r for r in data.regions["region"] if (bars["region"] == r).any()]
    rows_by_region = {
        r: list(dict.fromkeys(bars.loc[bars["region"] == r, "row"])) for r in region_order
    }
    fig = go.Figure()
    trace_region: list[str] = []
    seen: set[str] = set()
    categories = [c for c in COLOURS if (bars["category"] == c).any()]
    for region in region_order:
        rb = bars[bars["region"] == region]
        for cat in categories:
            b = rb[rb["category"] == cat]
            if b.empty:
                continue
            hover = [_leg_hover(r, cat) for r in b.to_dict("records")]
            fig.add_trace(
                go.Bar(
                    y=b["row"].tolist(),
                    x=(b["end"] - b["start"]).round(4).tolist(),
                    base=b["start"].round(4).tolist(),
                    orientation="h",
                    name=LEG_LABELS.get(cat, cat),
                    legendgroup=cat,
                    showlegend=cat not in seen,
                    marker={"color": COLOURS[cat], "line": {"width": 0}},
                    hovertext=hover,
                    hoverinfo="text",
                    width=0.7,
                )
            )
            seen.add(cat)
            trace_region.append(region)
    all_rows = [row for r in region_order for row in rows_by_region[r]]
    end = float(bars["end"].max()) if len(bars) else float(data.horizon)
    x_max = min(float(data.horizon), max(1.08 * end, 2.0 * data.warning_day, 1.0))

    def height(n_rows: int) -> int:
        return int(max(260, 120 + 15 * n_rows))

    buttons = []
    for region in region_order:
        rows = rows_by_region[region]
        buttons.append(
            {
                "label": names.get(region, region),
                "method": "update",
                "args": [
                    {"visible": [t == region for t in trace_region]},
                    {"yaxis.categoryarray": rows[::-1], "height": height(len(rows))},
                ],
            }
        )
    buttons.append(
        {
            "label": "all regions",
            "method": "update",
            "args": [
                {"visible": [True] * len(trace_region)},
                {"yaxis.categoryarray": all_rows[::-1], "height": height(len(all_rows))},
            ],
        }
    )
    first = region_order[0] if region_order else ""
    first_rows = rows_by_region.get(first, [])
    for trace, region in zip(fig.data, trace_region, strict=True):
        trace.visible = region == first
    fig.update_layout(
        barmode="overlay",
        height=height(len(first_rows)),
        margin={"l": 220, "r": 20, "t": 70, "b": 50},
        template="plotly_white",
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        updatemenus=[
            {
                "buttons": buttons,
                "direction": "down",
                "x": 0,
                "xanchor": "left",
                "y": 1.0,
                "yanchor": "bottom",
                "pad": {"b": 30},
                "showactive": True,
            }
        ]
        if len(region_order) > 1
        else [],
        xaxis={"title": {"text": "day (0 = decision to reinforce)"}, "range": [0, x_max]},
        yaxis={
            "categoryorder": "array",
            "categoryarray": first_rows[::-1],
            "tickfont": {"size": 10},
            "automargin": True,
        },
    )
    out = _fig_json(fig)
    w = data.warning_day
    out["layout"]["shapes"] = [_vline(w, "#ff7f0e", "dash")]
    out["layout"]["annotations"] = [_vlabel(w, f"warning day {w:g}", "#ff7f0e", 1.0)]
    return out


def _leg_hover(r: dict[str, Any], cat: str) -> str:
    where = (
        html.escape(str(r["from"]))
        if r["from"] == r["to"]
        else f"{html.escape(str(r['from']))} → {html.escape(str(r['to']))}"
    )
    text = (
        f"<b>{html.escape(str(r['unit']))}</b> ({r['load']})<br>{LEG_LABELS.get(cat, cat)}: "
        f"{where}<br>day {r['start']:.2f} → {r['end']:.2f}"
    )
    wait = _num(r["wait_days"]) or 0.0
    if cat == "waiting" and wait > 0 and r["wait_reason"]:
        text += f"<br>waited {wait:.2f} d for {html.escape(str(r['wait_reason']))}"
    return text


# --------------------------------------------------------------------------- heat map


def heatmap_figure(data: ReportData) -> dict[str, Any]:
    """Utilisation by server (rows, busiest on top) and day (columns)."""
    go = _plotly("plotly.graph_objects")

    servers = data.servers
    days = np.arange(data.horizon)
    index = {s: i for i, s in enumerate(servers["server"])}
    z = np.full((len(servers), len(days)), np.nan)
    u = data.utilisation
    u = u[u["day"] < data.horizon]
    z[u["server"].map(index).to_numpy(dtype=int), u["day"].to_numpy(dtype=int)] = u[
        "utilisation"
    ].to_numpy()
    z = np.round(z, 3)
    labels = servers["server"].tolist()
    fig = go.Figure(
        go.Heatmap(
            z=[[None if math.isnan(v) else float(v) for v in row] for row in z],
            x=days.tolist(),
            y=labels,
            zmin=0,
            zmax=1,
            colorscale="YlOrRd",
            colorbar={"title": {"text": "utilisation"}, "tickformat": ".0%"},
            hovertemplate="%{y}<br>day %{x}: %{z:.0%} of capacity<extra></extra>",
            xgap=0,
            ygap=1,
        )
    )
    fig.update_layout(
        height=int(max(300, 130 + 17 * len(labels))),
        margin={"l": 300, "r": 20, "t": 30, "b": 50},
        template="plotly_white",
        xaxis={"title": {"text": "day (0 = decision to reinforce)"}},
        yaxis={"autorange": "reversed", "tickfont": {"size": 10}, "automargin": True},
    )
    out = _fig_json(fig)
    w = data.warning_day
    out["layout"]["shapes"] = [_vline(w - 0.5, "#ff7f0e", "dash")]
    return out


# --------------------------------------------------------------------------- map


def _segments(parts: Iterable[np.ndarray]) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for a in parts:
        xs.extend(a[:, 0].tolist())
        ys.extend(a[:, 1].tolist())
        xs.append(None)
        ys.append(None)
    return xs, ys


def flow_widths(tons: pd.Series) -> pd.Series:
    """Line width (px) by tons carried: sqrt scale from 1.5 to 12, zero flow 0."""
    top = float(tons.max()) if len(tons) else 0.0
    if top <= 0:
        return pd.Series(0.0, index=tons.index)
    widths: pd.Series = (1.5 + 10.5 * np.sqrt(tons / top)).where(tons > 0, 0.0)
    return widths


def tier_figure(data: ReportData) -> dict[str, Any]:
    """The force model's tiers: troops offered and closed in their region, against targets."""
    go = _plotly("plotly.graph_objects")
    t = data.tiers
    labels = [f"tier {int(x)}" for x in t["tier"]]
    closed = []
    closed_day = []
    for row in t.to_dict("records"):
        day = _num(row.get("target_day"))
        cols = sorted(
            (int(str(c).removeprefix("closed_by_")), c)
            for c in row
            if str(c).startswith("closed_by_")
        )
        # Closed by the tier's own day, or by the last day counted (the horizon) before it.
        fit = [c for d, c in cols if day is None or d <= day] or [c for _, c in cols[:1]]
        closed.append(row[fit[-1]] if fit else 0)
        closed_day.append(str(fit[-1]).removeprefix("closed_by_") if fit else "-")
    fig = go.Figure()
    fig.add_trace(
        go.Bar(x=labels, y=t["troops"].tolist(), name="troops offered", marker_color="#9ecae1")
    )
    fig.add_trace(
        go.Bar(
            x=labels,
            y=closed,
            name="closed in their region by the tier's day",
            marker_color="#1f77b4",
            customdata=closed_day,
            hovertemplate="%{y:,} troops closed by day %{customdata}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=t["target_troops"].tolist(),
            name="force model target",
            mode="markers",
            marker={"symbol": "line-ew-open", "size": 60, "line": {"width": 3, "color": "#d62728"}},
            customdata=[_day(d) for d in t["target_day"]],
            hovertemplate="target %{y:,} troops by day %{customdata}<extra></extra>",
        )
    )
    fig.update_layout(
        title=TITLES["tiers"],
        barmode="group",
        height=380,
        yaxis={"title": "troops", "rangemode": "tozero"},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.15},
    )
    return _fig_json(fig)


def map_figure(data: ReportData) -> dict[str, Any]:
    """The network over country outlines: link width by tons carried, colour by mode."""
    go = _plotly("plotly.graph_objects")

    fig = go.Figure()
    lx, ly = _segments(data.land)
    fig.add_trace(
        go.Scatter(
            x=lx,
            y=ly,
            mode="lines",
            fill="toself",
            fillcolor="#f1eee6",
            line={"width": 0, "color": "#f1eee6"},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    bx, by = _segments(data.borders)
    fig.add_trace(
        go.Scatter(
            x=bx,
            y=by,
            mode="lines",
            line={"width": 0.7, "color": "#9a9a9a"},
            hoverinfo="skip",
            showlegend=False,
            name="borders",
        )
    )
    flows = data.flows.copy()
    flows["width"] = flow_widths(flows["tons"] + flows["pax"] * 0.1)
    idle = flows[flows["legs"] == 0]
    if len(idle):
        parts = list(idle["route"])
        x, y = _segments(parts)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                line={"width": 0.8, "color": "#bbbbbb", "dash": "dot"},
                name="unused link",
                hoverinfo="skip",
            )
        )
    used = flows[flows["legs"] > 0].sort_values("width")
    for mode in [m for m in COLOURS if (used["mode"] == m).any()]:
        m = used[used["mode"] == mode]
        for i, (width, g) in enumerate(m.groupby(m["width"].round(0), sort=True)):
            parts = list(g["route"])
            x, y = _segments(parts)
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines",
                    line={"width": float(width), "color": COLOURS[mode]},
                    opacity=0.75,
                    name=LEG_LABELS.get(mode, mode),
                    legendgroup=mode,
                    showlegend=i == 0,
                    hoverinfo="skip",
                )
            )
    if len(used):
        fig.add_trace(
            go.Scatter(
                x=[round(float(r[len(r) // 2][0]), 3) for r in used["route"]],
                y=[round(float(r[len(r) // 2][1]), 3) for r in used["route"]],
                mode="markers",
                marker={"size": 9, "color": "rgba(0,0,0,0)"},
                hovertext=[
                    f"<b>{html.escape(str(r['link']))}</b> ({r['mode']})<br>{r['tons']:,.0f} t, "
                    f"{r['pax']:,.0f} people, {r['legs']} loads"
                    for r in used.to_dict("records")
                ],
                hoverinfo="text",
                showlegend=False,
            )
        )
    dis = data.disruptions
    for d in dis.itertuples():
        route = np.asarray(d.route, dtype=float)
        if not len(route):
            continue
        fig.add_trace(
            go.Scatter(
                x=route[:, 0].round(3).tolist(),
                y=route[:, 1].round(3).tolist(),
                mode="lines+markers" if d.kind == "link" else "markers",
                line={"width": 4, "color": DISRUPTION_COLOUR, "dash": "dash"},
                marker={
                    "size": 16 if d.kind == "node" else 4,
                    "symbol": "x",
                    "color": DISRUPTION_COLOUR,
                },
                name="disruption",
                legendgroup="disruption",
                showlegend=d.Index == dis.index[0],
                hovertext=html.escape(str(d.label)),
                hoverinfo="text",
            )
        )
    nodes = data.nodes
    for kind in [k for k in NODE_COLOURS if (nodes["kind"] == k).any()]:
        n = nodes[nodes["kind"] == kind]
        fig.add_trace(
            go.Scatter(
                x=n["lon"].tolist(),
                y=n["lat"].tolist(),
                mode="markers",
                marker={
                    "size": 6 if kind == "junction" else 8,
                    "color": NODE_COLOURS[kind],
                    "line": {"width": 0.5, "color": "#fff"},
                },
                name=kind.replace("_", " "),
                legendgroup="node:" + kind,
                hovertext=[
                    f"<b>{html.escape(str(r['name']))}</b> ({r['id']}, {r['country']})<br>{kind}"
                    + (f"<br>receives for {html.escape(str(r['region']))}" if r["region"] else "")
                    + (f"<br>{r['tons_in']:,.0f} t arrived" if r["tons_in"] else "")
                    for r in n.to_dict("records")
                ],
                hoverinfo="text",
                visible=True if kind != "junction" else "legendonly",
            )
        )
    recv = nodes[nodes["region"] != ""]
    if len(recv):
        fig.add_trace(
            go.Scatter(
                x=recv["lon"].tolist(),
                y=recv["lat"].tolist(),
                mode="markers+text",
                marker={
                    "size": 15,
                    "symbol": "star",
                    "color": "#d62728",
                    "line": {"width": 1, "color": "#fff"},
                },
                text=[str(r).split(" (")[0] for r in recv["region"]],
                textposition="top center",
                textfont={"size": 12, "color": "#7a0000"},
                name="reception (region)",
                hoverinfo="skip",
            )
        )
    x0, y0, x1, y1 = data.view
    fig.update_layout(
        height=760,
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        plot_bgcolor="#dfeaf3",
        paper_bgcolor="#ffffff",
        xaxis={"range": [x0, x1], "showgrid": False, "zeroline": False, "title": "longitude"},
        yaxis={
            "range": [y0, y1],
            "showgrid": False,
            "zeroline": False,
            "title": "latitude",
            "scaleanchor": "x",
            "scaleratio": aspect(data.view),
        },
        legend={
            "x": 1.01,
            "xanchor": "left",
            "y": 1.0,
            "yanchor": "top",
            "bgcolor": "rgba(255,255,255,0.85)",
        },
        hovermode="closest",
    )
    return _fig_json(fig)


# --------------------------------------------------------------------------- comparison

#: How each series of the comparison's power charts is drawn, for run A and run B:
#: (colour, dash, width).
_COMPARE_STYLES: dict[str, tuple[tuple[str, str, float], tuple[str, str, float]]] = {
    "power": ((RUN_COLOURS[0], "solid", 2.5), (RUN_COLOURS[1], "solid", 2.5)),
    "required": (("#222222", "dash", 2.0), ("#222222", "dashdot", 1.6)),
    "threat": (("#d62728", "solid", 1.8), ("#d62728", "dot", 1.6)),
}


def compare_closure_figure(c: ComparisonData) -> dict[str, Any]:
    """Closure day per region, one bar per run; a cross at the horizon: not closed by then."""
    go = _plotly("plotly.graph_objects")

    closure = c.closure()
    names = {r: _region_label(c, r) for r in c.regions["region"]}
    order = [names[r] for r in c.regions["region"]]
    fig = go.Figure()
    for k, label in enumerate(c.labels):
        rows = closure[(closure["run"] == label) & closure["present"]]
        shut = rows[rows["closure_day"].notna()]
        fig.add_trace(
            go.Bar(
                y=[names[r] for r in shut["region"]],
                x=[int(d) for d in shut["closure_day"]],
                orientation="h",
                name=label,
                marker={"color": RUN_COLOURS[k]},
                text=[f"{int(d)}" for d in shut["closure_day"]],
                textposition="outside",
                hovertemplate=f"{html.escape(label)}: closes on day %{{x}}<extra>%{{y}}</extra>",
            )
        )
        open_ = rows[rows["closure_day"].isna()]
        if len(open_):
            fig.add_trace(
                go.Scatter(
                    y=[names[r] for r in open_["region"]],
                    x=[c.horizon] * len(open_),
                    mode="markers",
                    marker={"symbol": "x", "size": 12, "color": RUN_COLOURS[k]},
                    name=f"{label}: not closed by day {c.horizon}",
                    hovertemplate=f"{html.escape(label)}: not closed<extra>%{{y}}</extra>",
                )
            )
    fig.update_layout(
        barmode="group",
        height=int(max(260, 110 + 44 * len(order))),
        margin={"l": 60, "r": 30, "t": 40, "b": 50},
        template="plotly_white",
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        xaxis={
            "title": {"text": "closure day (0 = decision to reinforce)"},
            "range": [0, c.horizon * 1.06],
        },
        yaxis={
            "categoryorder": "array",
            "categoryarray": order[::-1],
            "automargin": True,
        },
    )
    return _fig_json(fig)


def _region_label(c: ComparisonData, region: str) -> str:
    where = c.presence(region)
    return f"{c.region_name(region)} ({where})" if where else c.region_name(region)


def compare_power_figure(c: ComparisonData, region: str) -> dict[str, Any]:
    """Both runs' combat power in one region against the requirement and the threat.

    Land in a wide panel on top, the other capabilities below (as in the run's own chart);
    vertical lines: each run's closure day; bars along the top of the land panel: each run's
    window of vulnerability.
    """
    go = _plotly("plotly.graph_objects")
    make_subplots = _plotly("plotly.subplots").make_subplots

    lines = c.lines[c.lines["region"] == region]
    caps = list(dict.fromkeys(lines["capability"]))
    ncol = min(3, max(len(caps) - 1, 1))
    nrow = 1 + math.ceil((len(caps) - 1) / ncol) if caps else 1
    specs: list[list[dict[str, Any] | None]] = [[{"colspan": ncol}] + [None] * (ncol - 1)]
    specs += [[{} for _ in range(ncol)] for _ in range(nrow - 1)]
    fig = make_subplots(
        rows=nrow,
        cols=ncol,
        specs=specs,
        shared_xaxes="all",
        vertical_spacing=0.32 / nrow if nrow > 1 else 0.0,
        horizontal_spacing=0.06,
        subplot_titles=[CAPABILITY_LABELS.get(x, x) for x in caps] or [""],
        row_heights=[2.0] + [1.0] * (nrow - 1) if nrow > 1 else None,
    )
    shown: set[str] = set()
    for k, cap in enumerate(caps):
        row, col = (1, 1) if k == 0 else (2 + (k - 1) // ncol, 1 + (k - 1) % ncol)
        for (series, run, name), g in lines[lines["capability"] == cap].groupby(
            ["series", "run", "name"], sort=False
        ):
            colour, dash, width = _COMPARE_STYLES[str(series)][c.labels.index(str(run))]
            fig.add_trace(
                go.Scatter(
                    x=g["day"].tolist(),
                    y=g["value"].round(3).tolist(),
                    name=str(name),
                    legendgroup=str(name),
                    showlegend=str(name) not in shown,
                    mode="lines",
                    line={"shape": "hv", "color": colour, "dash": dash, "width": width},
                    hovertemplate=f"{html.escape(str(name))}: %{{y:.2f}}<extra>"
                    f"{CAPABILITY_LABELS.get(cap, cap)}</extra>",
                ),
                row=row,
                col=col,
            )
            shown.add(str(name))
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    closure = c.closure()
    days = [
        (str(r["run"]), _num(r["closure_day"]))
        for r in closure[(closure["region"] == region) & closure["present"]].to_dict("records")
    ]
    warnings = sorted(set(c.warning_days))
    for k in range(len(caps)):
        axis = "x" if k == 0 else f"x{k + 1}"
        yaxis = "y" if k == 0 else f"y{k + 1}"
        for w in warnings:
            shapes.append(_vline(w, "#ff7f0e", "dash", axis, f"{yaxis} domain"))
        for run, day in days:
            if day is not None:
                colour = RUN_COLOURS[c.labels.index(run)]
                shapes.append(_vline(day, colour, "solid", axis, f"{yaxis} domain"))
    for w in warnings:
        annotations.append(_vlabel(w, f"warning day {w:g}", "#ff7f0e", 0.9))
    for i, (run, day) in enumerate(days):
        colour = RUN_COLOURS[c.labels.index(run)]
        y = 0.75 - 0.1 * i
        if day is not None:
            text = f"{html.escape(run)}: closure day {day:g}"
            annotations.append(_vlabel(day, text, colour, y))
        else:
            text = f"{html.escape(run)}: requirements not all met by the end"
            annotations.append(_vlabel(c.horizon, text, colour, y) | {"xanchor": "right"})
    spans = c.vulnerable_spans[c.vulnerable_spans["region"] == region]
    for s in spans.itertuples():
        k = c.labels.index(str(s.run))
        top = 1.0 - 0.05 * k
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "y domain",
                "x0": s.start,
                "x1": s.end,
                "y0": top - 0.04,
                "y1": top,
                "fillcolor": RUN_COLOURS[k],
                "opacity": 0.45,
                "line": {"width": 0},
            }
        )
        annotations.append(
            {
                "x": s.end,
                "y": top - 0.02,
                "xref": "x",
                "yref": "y domain",
                "text": f"{html.escape(str(s.run))}: window of vulnerability",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "middle",
                "font": {"color": RUN_COLOURS[k], "size": 10},
            }
        )
    return _power_layout(
        fig, html.escape(c.region_title(region)), nrow, 440, c.horizon, shapes, annotations
    )


def comparison_section(c: ComparisonData, chart: Any) -> str:
    """The comparison's section: notes, the closure chart, the tables, the power charts."""
    la, lb = c.labels
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in c.notes)
    tables = []
    later = later_in_b(c)
    for i, (caption, frame) in enumerate(c.tables.items()):
        # The first table is the closure day per region, one row per row of c.regions.
        bad = later if i == 0 else None
        tables.append(f"<h3>{html.escape(caption)}</h3>{table_html(frame, bad)}")
    powers = [
        chart(compare_power_figure(c, region))
        for region in c.regions["region"]
        if (c.lines["region"] == region).any()
    ]
    note = (
        f"Run {la} (the rest of this report) against run {lb}; every difference is "
        f"{lb} − {la}, so a negative closure-day difference means {lb} closes earlier. "
        "The numbers are those of `forcemodel compare`. Regions are matched by id; a region "
        "in only one run is marked so. Shaded rows: regions that "
        f"{lb} closes later than {la} (or not at all)."
    )
    body = (
        changes_html(c) + f'<p class="summary"><b>{html.escape(c.summary)}</b></p>{notes}'
        f"<h3>{html.escape(COMPARE_TITLES['closure'])}</h3>{chart(compare_closure_figure(c))}"
        + "".join(tables)
        + f"<h3>{html.escape(COMPARE_TITLES['power'])}</h3>"
        + '<p class="note">Per region and capability (brigade equivalents): each run\'s combat '
        "power; the requirement and the threat (once when both runs have the same, else each "
        "run's); vertical lines: each run's closure day, orange dashed: warning day; bars "
        "along the top: each run's window of vulnerability.</p>" + "".join(powers)
    )
    return _section("compare", f"{COMPARE_TITLES['compare']}: {la} vs {lb}", note, body)


def changes_html(c: ComparisonData) -> str:
    """What changed between the runs' scenarios, then the headline: the comparison opens so."""
    la, lb = c.labels
    if len(c.changes):
        items = []
        for row in c.changes.to_dict("records"):
            text = f"{row['path']}: {row['a']} → {row['b']}"
            note = f' <span class="note">{html.escape(row["note"])}</span>' if row["note"] else ""
            items.append(f'<li class="change"><code>{html.escape(text)}</code>{note}</li>')
        what = f"<ul>{''.join(items)}</ul>"
    else:
        what = f"<p>The scenarios of {html.escape(la)} and {html.escape(lb)} are the same.</p>"
    head = "".join(f'<li class="headline">{html.escape(line)}</li>' for line in c.headline)
    return (
        f'<h3 id="changes">What changed from {html.escape(la)} to {html.escape(lb)}</h3>{what}'
        f'<h3 id="headline">Headline</h3><ul>{head}</ul>'
    )


# --------------------------------------------------------------------------- tables


def table_html(frame: pd.DataFrame, bad: pd.Series | None = None) -> str:
    """A DataFrame as an HTML table: numbers right-aligned, missing values as '-'."""
    head = "".join(f"<th>{html.escape(str(c)).replace('_', ' ')}</th>" for c in frame.columns)
    rows = []
    numeric = {c: pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns}
    for i, row in enumerate(frame.itertuples(index=False)):
        cells = []
        for c, v in zip(frame.columns, row, strict=True):
            cells.append(
                f'<td class="num">{_cell(v)}</td>'
                if numeric[c] or (_num(v) is not None and not isinstance(v, str))
                else f"<td>{_cell(v)}</td>"
            )
        cls = ' class="bad"' if bad is not None and bool(bad.iloc[i]) else ""
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cell(v: Any) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and not math.isfinite(v)):
        return "-" if not (isinstance(v, float) and math.isinf(v)) else "∞"
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        f = float(v)
        if f.is_integer() and abs(f) < 1e15:
            return f"{int(f):,}"
        return f"{f:,.2f}" if abs(f) < 100 else f"{f:,.0f}"
    return html.escape(str(v))


# --------------------------------------------------------------------------- page


def render_html(data: ReportData) -> str:
    """The whole report as one self-contained HTML document."""
    plotly_offline = _plotly("plotly.offline")

    charts: list[tuple[str, dict[str, Any]]] = []
    sections: list[str] = []

    def chart(fig: dict[str, Any]) -> str:
        div = f"chart-{len(charts)}"
        charts.append((div, fig))
        return f'<div class="chart" id="{div}"></div>'

    meta = data.meta
    warn = "".join(f'<div class="warning">⚠ {html.escape(w)}</div>' for w in data.warnings)
    c = data.comparison
    if c is not None:
        sections.append(comparison_section(c, chart))

    power_parts = []
    for region in data.regions["region"]:
        if not (data.power["region"] == region).any():
            continue
        power_parts.append(chart(power_figure(data, region)))
    sections.append(
        _section(
            "power",
            TITLES["power"],
            "Per region and capability (brigade equivalents): combat power in the region "
            "(in place plus reinforcements closed after RSOM), the requirement of the defence "
            "plan and the adversary's threat. Orange dashed: warning day; green: closure day "
            "(every requirement met from then on; dotted: per capability); red band: window of "
            f"vulnerability (attacker:defender land ratio above "
            f"{float(meta.get('ratio_threshold', 3.0)):g}).",
            "".join(power_parts),
        )
    )
    if len(data.tiers):
        sections.append(
            _section(
                "tiers",
                TITLES["tiers"],
                "Per readiness tier: the troops the scenario offers, those closed in their region "
                "by the tier's day (or by the end of the run when that comes first), and the "
                "force model's target (red bar).",
                chart(tier_figure(data)),
            )
        )
    counts = data.gantt_counts
    partial = counts[counts["shown"] < counts["total"]]
    gantt_note = (
        "One bar per leg of each unit's equipment and people, coloured by mode; red: waiting "
        "for capacity or being handled before a leg. Pick a region (or all) in the menu; hover "
        "a bar for its leg and waits."
    )
    if len(partial):
        gantt_note += (
            f" The first {int(counts['shown'].max())} units to close in each region are shown "
            f"({int(counts['shown'].sum())} of {int(counts['total'].sum())}; "
            "`--units-per-region 0` shows all)."
        )
    sections.append(_section("gantt", TITLES["gantt"], gantt_note, chart(gantt_figure(data))))
    sections.append(
        _section(
            "heatmap",
            TITLES["heatmap"],
            f"Share of each server's daily capacity in use, the {len(data.servers)} busiest "
            "(most days at capacity first). Blank: idle.",
            chart(heatmap_figure(data)) if len(data.servers) else "<p>No load recorded.</p>",
        )
    )
    outside = _outside(data)
    sections.append(
        _section(
            "map",
            TITLES["map"],
            "Line width: tons of equipment carried over the run (sqrt scale); colour: mode; "
            "stars: reception nodes of the regions. Drag to pan, scroll to zoom, double-click "
            "to reset; click legend items to hide them."
            + (f" {outside} nodes lie outside the initial view (zoom out)." if outside else "")
            + " Country outlines: Natural Earth (public domain).",
            chart(map_figure(data)),
        )
    )
    tables = []
    regions_table = next(iter(data.tables.values()), None)
    for caption, frame in data.tables.items():
        bad = None
        if frame is regions_table and "closure_day" in frame:
            bad = frame["closure_day"].isna() | (frame.get("vulnerable_days", 0) > 0)
        tables.append(f"<h3>{html.escape(caption)}</h3>{table_html(frame, bad)}")
    sections.append(_section("tables", TITLES["tables"], "", "".join(tables)))

    nav = "".join(
        f'<a href="#{k}">{html.escape(TITLES[k])}</a>'
        for k in ("power", "tiers", "gantt", "heatmap", "map", "tables")
    )
    if c is not None:
        nav = f'<a href="#compare">{html.escape(COMPARE_TITLES["compare"])}</a>' + nav
    subtitle = (
        f"scenario <b>{html.escape(str(meta.get('scenario', '?')))}</b> "
        f"(digest {html.escape(str(meta.get('scenario_digest', '?'))[:12])}), seed "
        f"{html.escape(str(meta.get('seed', '?')))}, horizon {data.horizon} days, warning day "
        f"{data.warning_day:g}; forcemodel {html.escape(str(meta.get('forcemodel_version', '?')))}"
    )
    if c is not None:
        la, lb = c.labels
        other = c.runs.iloc[1]
        subtitle = (
            f"<b>{html.escape(la)}</b>: {subtitle}</p><p>compared with <b>{html.escape(lb)}</b>: "
            f"scenario <b>{html.escape(str(other['scenario']))}</b> (digest "
            f"{html.escape(str(other['scenario_digest'])[:12])}), seed "
            f"{html.escape(str(other['seed']))}, horizon {html.escape(str(other['horizon_days']))}"
            f" days; the figures after the comparison are of {html.escape(la)}"
        )
    scripts = "".join(
        f"Plotly.newPlot({_json(div)},fig{i}.data,fig{i}.layout,CONFIG);"
        for i, (div, _) in enumerate(charts)
    )
    figs = "".join(f"var fig{i}={_json(fig)};\n" for i, (_, fig) in enumerate(charts))
    plotly_js = plotly_offline.get_plotlyjs()
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(data.title)}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<style>{CSS}</style>\n"
        f"<script>{plotly_js}</script>\n</head>\n<body>\n"
        f"<header><h1>{html.escape(data.title)}</h1><p>{subtitle}</p></header>\n"
        f"<nav>{nav}</nav>\n<main>{warn}{''.join(sections)}</main>\n"
        "<footer>Made by forcemodel, an open planning tool working from public figures; "
        "a decision-support and teaching aid, not an operational system. Map data: Natural "
        "Earth (public domain) via world-atlas (ISC).</footer>\n"
        f"<script>\nvar CONFIG={_json(CONFIG)};\n{figs}{scripts}\n</script>\n"
        "</body>\n</html>\n"
    )


def _section(key: str, title: str, note: str, body: str) -> str:
    n = f'<p class="note">{html.escape(note).replace("`", "")}</p>' if note else ""
    return f'<section id="{key}"><h2>{html.escape(title)}</h2>{n}{body}</section>\n'


def _outside(data: ReportData) -> int:
    x0, y0, x1, y1 = data.view
    n = data.nodes
    inside = n["lon"].between(x0, x1) & n["lat"].between(y0, y1)
    return int((~inside).sum())


def write_html(data: ReportData, path: str | Path) -> Path:
    """Write the report to ``path`` atomically (temporary file, then rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render_html(data)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target
