"""Short HTML views for Jupyter (``_repr_html_``) of a scenario, results, an assessment, a
comparison: what the object is and its main tables, never every item (printing eastern-flank
whole is 400,000 characters)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from forcemodel.scenario.model import Scenario

#: Rows shown per table; the object itself holds them all.
MAX_ROWS = 12


def html_view(
    title: str, lines: Iterable[str], tables: Mapping[str, pd.DataFrame], max_rows: int = MAX_ROWS
) -> str:
    """A title, a few lines and the first ``max_rows`` rows of each table, as HTML."""
    parts = [f"<div><b>{html.escape(title)}</b>"]
    parts += [f"<div>{html.escape(line)}</div>" for line in lines]
    for caption, frame in tables.items():
        more = f" (first {max_rows} of {len(frame):,})" if len(frame) > max_rows else ""
        parts.append(f"<div><i>{html.escape(caption)}{more}</i></div>")
        parts.append(
            frame.head(max_rows).to_html(index=False, na_rep="-", float_format="{:,.2f}".format)
        )
    parts.append("</div>")
    return "".join(parts)


def scenario_html(scenario: Scenario) -> str:
    """A scenario's name, clock, sizes, troops by tier and regions."""
    from forcemodel.scenario.summary import summarize

    s = summarize(scenario)
    meta = scenario.meta
    sizes = ", ".join(
        f"{len(getattr(scenario, t)):,} {t.replace('_', ' ')}"
        for t in (
            "nodes",
            "links",
            "lift_pools",
            "units",
            "stocks",
            "regions",
            "threats",
            "disruptions",
        )
    )
    lines = [
        s.description,
        f"horizon {meta.horizon_days} days, warning day {meta.warning_day:g}; {sizes}",
    ]
    return html_view(
        f"Scenario {s.name}", lines, {"troops by readiness tier": s.tiers, "regions": s.regions}
    )
