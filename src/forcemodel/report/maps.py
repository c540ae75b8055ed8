"""The report's network map: flows over country outlines, drawn as plotly line traces.

Sea legs along sea lanes and air legs on great circles (:mod:`forcemodel.report.routes`),
link width by tons carried, disruptions marked, every id in the tooltips; lon/lat axes with no
geo projection, so nothing is fetched from a CDN.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from forcemodel.report.charts import _fig_json, _plotly
from forcemodel.report.data import (
    COLOURS,
    DISRUPTION_COLOUR,
    LEG_LABELS,
    ReportData,
    aspect,
)

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
