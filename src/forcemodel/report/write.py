"""``write_report``: the report of a run (optionally compared with another) in one call."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from forcemodel.report.data import MAX_SERVERS, UNITS_PER_REGION, prepare
from forcemodel.results import Results


def write_report(
    results: Results,
    path: str | Path = "report.html",
    *,
    other: Results | None = None,
    labels: Sequence[str] = ("A", "B"),
    png: str | Path | None = None,
    units_per_region: int | None = UNITS_PER_REGION,
    max_servers: int | None = MAX_SERVERS,
) -> Path:
    """Write the offline HTML report of ``results`` to ``path`` (and PNG figures into ``png``).

    The scenario comes with the results. With ``other``, the report opens with the comparison
    of this run (A) with that one (B). Returns the HTML file's path.

    >>> import forcemodel  # doctest: +SKIP
    >>> forcemodel.report.write_report(forcemodel.simulate(forcemodel.load_scenario("tiny")))
    """
    from forcemodel.report.html import write_html

    data = prepare(results, None, units_per_region, max_servers, other=other, labels=labels)
    if png is not None:
        from forcemodel.report.figures import write_pngs

        write_pngs(data, png)
    return write_html(data, path)
