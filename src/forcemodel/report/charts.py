"""The report's interactive charts: plotly figures built from :class:`ReportData`, as JSON.

Power against requirement and threat (with disruptions), the force model's tiers and
utilisation here; unit movements in :mod:`forcemodel.report.gantt`, the network map in
:mod:`forcemodel.report.maps`, the comparison's charts in :mod:`forcemodel.report.compare_charts`.
:mod:`forcemodel.report.html` lays them out in the page; nothing here computes a result (that is
:mod:`forcemodel.report.data`).
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
    DISRUPTION_COLOUR,
    TITLES,
    ReportData,
    number,
    tier_closed_column,
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


def _day(v: Any) -> str:
    f = number(v)
    return "not reached" if f is None else f"day {f:g}"


# --------------------------------------------------------------------------- power


def power_figure(data: ReportData, region: str) -> dict[str, Any]:
    """Power, requirement and threat over time for one region.

    Land gets a wide panel on top; the other capabilities present share a grid of small panels
    below it, all on the same day axis.
    """
    go = _plotly("plotly.graph_objects")

    p = data.power[data.power["region"] == region]
    caps = list(dict.fromkeys(p["capability"]))
    fig, nrow, ncol = capability_grid(caps)
    _add_power_traces(fig, go, data, region, p, caps, ncol)
    shapes, annotations = _power_marks(data, region, len(caps))
    return _power_layout(
        fig, data.region_title(region), nrow, 420, data.horizon, shapes, annotations
    )


def capability_grid(caps: list[str]) -> tuple[Any, int, int]:
    """A figure of one panel per capability, all on one day axis: the first (land) wide on top,
    the others in rows of up to three below; with its number of rows and of columns."""
    make_subplots = _plotly("plotly.subplots").make_subplots
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
        subplot_titles=[CAPABILITY_LABELS.get(c, c) for c in caps] or [""],
        row_heights=[2.0] + [1.0] * (nrow - 1) if nrow > 1 else None,
    )
    return fig, nrow, ncol


def step_line(
    go: Any,
    days: pd.Series,
    values: pd.Series,
    name: str,
    cap: str,
    style: tuple[str, str, float],
    showlegend: bool,
) -> Any:
    """One series of a power panel as a step line (``style``: colour, dash, width), its name
    and capability in the tooltip."""
    colour, dash, width = style
    return go.Scatter(
        x=days.tolist(),
        y=values.round(3).tolist(),
        name=name,
        legendgroup=name,
        showlegend=showlegend,
        mode="lines",
        line={"shape": "hv", "color": colour, "dash": dash, "width": width},
        hovertemplate=f"{html.escape(name)}: %{{y:.2f}}<extra>"
        f"{CAPABILITY_LABELS.get(cap, cap)}</extra>",
    )


def _add_power_traces(
    fig: Any, go: Any, data: ReportData, region: str, p: Any, caps: list[str], ncol: int
) -> None:
    """Each capability's power, requirement, threat (and power in place) in its panel, with the
    capability's closure day dotted."""
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
            line = step_line(go, g["day"], g[column], name, cap, (colour, dash, width), k == 0)
            fig.add_trace(line, row=row, col=col)
        c = closure[(closure["region"] == region) & (closure["capability"] == cap)]
        cday = number(c["closure_day"].iloc[0]) if len(c) else None
        if cday is not None and cday > 0:
            fig.add_vline(
                x=cday,
                row=row,
                col=col,
                line={"color": "#2ca02c", "width": 1.2, "dash": "dot"},
            )


def _power_marks(
    data: ReportData, region: str, panels: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Shapes and labels of a region's power figure: windows of vulnerability, disruptions,
    the warning day and the closure day (on every panel)."""
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
    cday = number(info["closure_day"])
    for k in range(panels):
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
    return shapes, annotations


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
        col = tier_closed_column(row)
        closed.append(row[col] if col is not None else 0)
        closed_day.append(str(col).removeprefix("closed_by_") if col is not None else "-")
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
