"""The report's capability section: targets against offers per ally, spending by guideline and
the stockpile curves of the run's scenario (docs/capability.md, "In the main report").

The numbers are those of :mod:`forcemodel.capability` (``targets``, ``spending``, ``industry``)
for the scenario stored with the run, with the bundled tables and an empty capability file
(GDP shares of the year :data:`YEAR`, the 2 % and 20 % guidelines, the bundled stocks, use rates
and production lines); this module only picks their tables (:func:`capability_view`) and draws
them (:func:`capability_html`). A scenario the engines cannot apportion (e.g. no NATO ally
offers forces) gets the section with the engines' reason instead of numbers.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from forcemodel import capability as cap
from forcemodel.scenario import Scenario

#: Section key and title (the report's nav links to it).
KEY = "capability"
TITLE = "Capability targets, spending and stockpiles"
#: Year of the spending figures and the fair shares (the bundled tables' latest).
YEAR = 2024


@dataclass(frozen=True)
class CapabilityView:
    """The capability engines' tables for the report (each as the API returns it)."""

    year: int
    rule: str
    #: ally, capability, target, offer, balance (capabilities with a requirement)
    targets: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: ally, weight (the fair shares)
    shares: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: nation, capability, offer, why (offers not apportioned)
    unattributed: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: ally, share_gdp_pct, equipment_share_pct, one column per guideline (yes/no/no figure)
    by_ally: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: guideline, year, members, meeting, not_meeting, no_figure
    counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: guidelines' shares of GDP (%), drawn as lines
    share_lines: tuple[float, ...] = ()
    #: item, case, day, stock_end (the stockpile curves)
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: item, case, runout_day, refill_days, ... (one row per item and case)
    stock_summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: why there are no numbers (empty when there are)
    problem: str = ""


def capability_view(scenario: Scenario, year: int = YEAR) -> CapabilityView:
    """The capability tables of ``scenario`` through the capability API (bundled tables)."""
    try:
        spend = cap.spending(scenario, year=year)
        stock = cap.industry(scenario)
    except cap.CapabilityError as exc:
        reason = "; ".join(p.message for p in exc.problems)
        return CapabilityView(year=year, rule="gdp", problem=reason)
    t = spend.targets
    return CapabilityView(
        year=t.year,
        rule=t.rule,
        targets=t.targets[["ally", "capability", "target", "offer", "balance"]],
        shares=t.shares[["ally", "weight"]],
        unattributed=t.unattributed,
        by_ally=spend.by_ally,
        counts=spend.counts,
        share_lines=tuple(spend.share_lines),
        curves=stock.curves[["item", "case", "day", "stock_end"]],
        stock_summary=stock.summary,
    )


# --------------------------------------------------------------------------- drawing


def targets_figure(view: CapabilityView, capability: str) -> dict[str, Any]:
    """Grouped bars: each ally's fair-share target and its offer in one capability."""
    t = view.targets[view.targets["capability"] == capability].sort_values(
        "target", ascending=False
    )
    allies = t["ally"].tolist()
    return {
        "data": [
            {"type": "bar", "name": "target", "x": allies, "y": t["target"].tolist()},
            {"type": "bar", "name": "offer", "x": allies, "y": t["offer"].tolist()},
        ],
        "layout": {
            "title": {"text": f"{capability.replace('_', ' ')}: target and offer per ally"},
            "barmode": "group",
            "height": 320,
            "yaxis": {"title": {"text": "power (brigade equivalents)"}},
            "margin": {"t": 40, "b": 40},
        },
    }


def spending_figure(view: CapabilityView) -> dict[str, Any]:
    """Defence expenditure as a share of GDP per ally, the guidelines as dashed lines."""
    b = view.by_ally.dropna(subset=["share_gdp_pct"]).sort_values("share_gdp_pct", ascending=False)
    low = min(view.share_lines) if view.share_lines else 2.0
    colours = ["#55a868" if v >= low - 1e-9 else "#c44e52" for v in b["share_gdp_pct"]]
    shapes = [
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": y,
            "y1": y,
            "line": {"dash": "dash", "width": 1},
        }
        for y in view.share_lines
    ]
    return {
        "data": [
            {
                "type": "bar",
                "x": b["ally"].tolist(),
                "y": b["share_gdp_pct"].tolist(),
                "marker": {"color": colours},
                "name": "% of GDP",
            }
        ],
        "layout": {
            "title": {"text": f"Defence expenditure, % of GDP, {view.year}"},
            "shapes": shapes,
            "height": 340,
            "yaxis": {"title": {"text": "% of GDP"}},
            "margin": {"t": 40, "b": 40},
        },
    }


def stockpile_figure(view: CapabilityView, item: str) -> dict[str, Any]:
    """One item's stock by day in each case (today's lines, the pledge, a joint purchase)."""
    c = view.curves[view.curves["item"] == item]
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": str(case),
            "x": g["day"].tolist(),
            "y": g["stock_end"].tolist(),
        }
        for case, g in c.groupby("case", sort=False)
    ]
    return {
        "data": traces,
        "layout": {
            "title": {"text": f"{item}: stock by day under the scenario"},
            "height": 320,
            "xaxis": {"title": {"text": "day"}},
            "yaxis": {"title": {"text": "stock"}},
            "margin": {"t": 40, "b": 40},
        },
    }


def capability_html(
    view: CapabilityView,
    chart: Callable[[dict[str, Any]], str],
    table: Callable[[pd.DataFrame], str],
) -> str:
    """The section's body: notes, charts and tables (``table`` draws a frame as the report's
    other tables)."""
    if view.problem:
        return (
            '<p class="note">No capability figures for this scenario: '
            f"{html.escape(view.problem)}</p>"
        )
    parts = [
        '<p class="note">From the capability engines with the bundled, sourced tables '
        f"(forcemodel capability targets|spending|industry): fair shares by {view.rule} of "
        f"{view.year}, offers of the scenario's units and forces in place, the bundled stocks, "
        "use rates and production lines (docs/capability.md). Power in brigade equivalents; "
        "balance = offer − target.</p>"
    ]
    parts.append('<h3 id="capability-targets">Targets and offers per ally</h3>')
    for capability in dict.fromkeys(view.targets["capability"]):
        parts.append(chart(targets_figure(view, capability)))
    parts.append(table(view.targets))
    if len(view.unattributed):
        parts.append("<h3>Offers not apportioned</h3>" + table(view.unattributed))
    parts.append('<h3 id="capability-spending">Spending by guideline</h3>')
    parts.append(chart(spending_figure(view)))
    parts.append(table(view.counts))
    parts.append(table(view.by_ally))
    parts.append('<h3 id="capability-stockpiles">Stockpiles</h3>')
    for item in dict.fromkeys(view.curves["item"]):
        parts.append(chart(stockpile_figure(view, item)))
    parts.append(table(view.stock_summary))
    return "".join(parts)
