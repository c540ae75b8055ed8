"""The HTML report: one self-contained file with interactive plotly charts that opens offline.

The charts are built in :mod:`forcemodel.report.charts`; this module lays out the page: its
sections, tables, the comparison's opening (what changed, the headline) and the file.

plotly.js comes from the plotly Python wheel and is inlined once; every figure's data is inlined
as JSON; the map draws the bundled Natural Earth outlines as ordinary line traces on lon/lat axes
(no geo projection, so nothing is fetched from a CDN). :func:`render_html` takes the
:class:`~forcemodel.report.data.ReportData` and only draws it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forcemodel.common.folders import atomic_write_text
from forcemodel.report.capability_section import KEY, TITLE, capability_html
from forcemodel.report.charts import (
    _json,
    _plotly,
    heatmap_figure,
    power_figure,
    tier_figure,
)
from forcemodel.report.compare_charts import compare_closure_figure, compare_power_figure
from forcemodel.report.comparison import (
    COMPARE_TITLES,
    ComparisonData,
    later_in_b,
)
from forcemodel.report.data import (
    TITLES,
    ReportData,
    number,
)
from forcemodel.report.gantt import gantt_figure
from forcemodel.report.maps import map_figure

#: plotly.js options for every chart: no logo, no link to an online editor.
CONFIG = {"displaylogo": False, "responsive": True, "showLink": False}
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
                if numeric[c] or (number(v) is not None and not isinstance(v, str))
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


def render_html(data: ReportData, extra: Sequence[Any] = ()) -> str:
    """The whole report as one self-contained HTML document; ``extra``: further sections
    (``key``, ``title``, ``html(chart)``), e.g. :mod:`forcemodel.report.sweep_section`."""
    plotly_offline = _plotly("plotly.offline")

    charts: list[tuple[str, dict[str, Any]]] = []

    def chart(fig: dict[str, Any]) -> str:
        div = f"chart-{len(charts)}"
        charts.append((div, fig))
        return f'<div class="chart" id="{div}"></div>'

    warn = "".join(f'<div class="warning">⚠ {html.escape(w)}</div>' for w in data.warnings)
    sections = [*_sections(data, chart), *(x.html(chart) for x in extra)]
    nav = _nav(data) + "".join(f'<a href="#{x.key}">{html.escape(x.title)}</a>' for x in extra)
    subtitle = _subtitle(data)
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


def _sections(data: ReportData, chart: Callable[[dict[str, Any]], str]) -> list[str]:
    """The report's sections in order; ``chart`` places a figure and returns its element."""
    sections: list[str] = []
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
            f"{float(data.meta.get('ratio_threshold', 3.0)):g}).",
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
    sections.append(
        _section("gantt", TITLES["gantt"], _gantt_note(data), chart(gantt_figure(data)))
    )
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
    if data.capability is not None:
        body = capability_html(data.capability, chart, table_html)
        sections.append(_section(KEY, TITLE, "", body))
    sections.append(_section("tables", TITLES["tables"], "", _tables_html(data)))
    return sections


def _gantt_note(data: ReportData) -> str:
    """How to read the movement chart, and how many units it shows when not all."""
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
    return gantt_note


def _tables_html(data: ReportData) -> str:
    """The assessment tables, regions not closed or vulnerable marked."""
    tables = []
    regions_table = next(iter(data.tables.values()), None)
    for caption, frame in data.tables.items():
        bad = None
        if frame is regions_table and "closure_day" in frame:
            bad = frame["closure_day"].isna() | (frame.get("vulnerable_days", 0) > 0)
        tables.append(f"<h3>{html.escape(caption)}</h3>{table_html(frame, bad)}")
    return "".join(tables)


def _nav(data: ReportData) -> str:
    """Links to the sections (the comparison first, when there is one)."""
    nav = "".join(
        f'<a href="#{k}">{html.escape(TITLES[k])}</a>'
        for k in ("power", "tiers", "gantt", "heatmap", "map", "tables")
    )
    if data.capability is not None:
        nav += f'<a href="#{KEY}">{html.escape(TITLE)}</a>'
    if data.comparison is not None:
        nav = f'<a href="#compare">{html.escape(COMPARE_TITLES["compare"])}</a>' + nav
    return nav


def _subtitle(data: ReportData) -> str:
    """The run (and the run compared with it): scenario, digest, seed, horizon, version."""
    meta, c = data.meta, data.comparison
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
    return subtitle


def _section(key: str, title: str, note: str, body: str) -> str:
    n = f'<p class="note">{html.escape(note).replace("`", "")}</p>' if note else ""
    return f'<section id="{key}"><h2>{html.escape(title)}</h2>{n}{body}</section>\n'


def _outside(data: ReportData) -> int:
    x0, y0, x1, y1 = data.view
    n = data.nodes
    inside = n["lon"].between(x0, x1) & n["lat"].between(y0, y1)
    return int((~inside).sum())


def write_html(data: ReportData, path: str | Path, extra: Sequence[Any] = ()) -> Path:
    """Write the report to ``path`` atomically (temporary file, then rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, render_html(data, extra))
    return target
