"""The charts of the comparison of two runs: closure days, both runs' power per region."""

from __future__ import annotations

import html
import math
from typing import Any

from forcemodel.report.charts import _fig_json, _num, _plotly, _power_layout, _vlabel, _vline
from forcemodel.report.comparison import (
    RUN_COLOURS,
    ComparisonData,
)
from forcemodel.report.data import (
    CAPABILITY_LABELS,
)

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
