"""The report's movement chart: one plotly bar per leg of every shown unit, by region.

Drawn from :attr:`forcemodel.report.data.ReportData.gantt`; a menu shows one region at a time.
"""

from __future__ import annotations

import html
from typing import Any

from forcemodel.report.charts import _fig_json, _plotly, _vlabel, _vline
from forcemodel.report.data import COLOURS, LEG_LABELS, ReportData, number


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
    wait = number(r["wait_days"]) or 0.0
    if cat == "waiting" and wait > 0 and r["wait_reason"]:
        text += f"<br>waited {wait:.2f} d for {html.escape(str(r['wait_reason']))}"
    return text
