"""The report's data assembled: :func:`prepare` takes a loaded
:class:`~forcemodel.results.Results` (with the scenario it carries, for names, coordinates and
disruptions) and its :class:`~forcemodel.assessment.Assessment`, and returns a
:class:`~forcemodel.report.data.ReportData` that both faces, the HTML report and the matplotlib
figures, draw as is.

Its own module above :mod:`.data`, :mod:`.mapdata` and :mod:`.comparison`, which build on one
another's frames, so that none of them imports another back.
"""

from __future__ import annotations

from collections.abc import Sequence

from forcemodel.assessment import Assessment
from forcemodel.assessment.compare import compare
from forcemodel.report.capability_section import capability_view
from forcemodel.report.comparison import prepare_comparison
from forcemodel.report.data import (
    MAX_SERVERS,
    UNITS_PER_REGION,
    ReportData,
    assessment_tables,
    gantt_frame,
    power_frame,
    region_frame,
    server_frames,
    vulnerable_spans,
)
from forcemodel.report.mapdata import (
    OUTLINE_MARGIN_DEG,
    disruption_frame,
    flow_frame,
    map_view,
    node_frame,
)
from forcemodel.report.world import outlines
from forcemodel.results import Results


def prepare(
    results: Results,
    assessment: Assessment | None = None,
    units_per_region: int | None = UNITS_PER_REGION,
    max_servers: int | None = MAX_SERVERS,
    *,
    other: Results | None = None,
    labels: Sequence[str] = ("A", "B"),
) -> ReportData:
    """All the report's data from one run (with the scenario it carries) and its assessment.

    ``assessment`` defaults to :func:`~forcemodel.assessment.assess` of ``results``. Names, the
    map and the network come from the scenario stored with the run, never from a scenario read
    again by name. Raises :class:`ValueError` for results that carry no scenario.

    With ``other``, the report also compares this run (A, named ``labels[0]``) with that one
    (B, ``labels[1]``) through :func:`forcemodel.assessment.compare`; regions are matched by id, so
    ``other`` may come from another scenario (e.g. the optimised plan). Raises
    :class:`ValueError` for bad labels (see :func:`forcemodel.assessment.check_labels`).
    """
    scenario = results.scenario
    if scenario is None:
        raise ValueError("these results carry no scenario: simulate them with forcemodel")
    if assessment is None:
        from forcemodel.assessment.assess import assess

        assessment = assess(results)
    comparison = None
    if other is not None:
        comparison = prepare_comparison(compare(results, other, labels), results, other, scenario)
    regions = region_frame(results, assessment, scenario)
    gantt, counts = gantt_frame(results, units_per_region)
    util, servers = server_frames(results, max_servers)
    nodes = node_frame(results, scenario)
    view = map_view(nodes, scenario)
    x0, y0, x1, y1 = view
    pad = OUTLINE_MARGIN_DEG
    borders, land = outlines((x0 - pad, y0 - pad, x1 + pad, y1 + pad))
    caps = assessment.capabilities[["region", "capability", "closure_day"]].reset_index(drop=True)
    flows = flow_frame(results, scenario)
    return ReportData(
        title=f"forcemodel report: {results.meta.get('scenario', scenario.meta.name)}",
        meta=dict(results.meta),
        regions=regions,
        power=power_frame(results),
        capability_closure=caps,
        vulnerable_spans=vulnerable_spans(assessment),
        gantt=gantt,
        gantt_counts=counts,
        utilisation=util,
        servers=servers,
        flows=flows,
        nodes=nodes,
        view=view,
        borders=borders,
        land=land,
        tables=assessment_tables(assessment, regions),
        warnings=(),
        comparison=comparison,
        disruptions=disruption_frame(scenario, flows, nodes),
        tiers=assessment.tiers,
        capability=capability_view(scenario),
    )
