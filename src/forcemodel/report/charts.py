"""The report's interactive charts: plotly figures built from :class:`ReportData`, as JSON.

Power against requirement and threat (with disruptions), the force model's tiers, unit
movements, utilisation, the network map (sea lanes, great circles, disruptions) and the
comparison's charts. :mod:`forcemodel.report.html` lays them out in the page; nothing here
computes a result (that is :mod:`forcemodel.report.data`).
"""

from __future__ import annotations

import html
import importlib
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from forcemodel.report.data import (
    CAPABILITY_LABELS,
    COLOURS,
    DISRUPTION_COLOUR,
    LEG_LABELS,
    TITLES,
    ReportData,
)


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
