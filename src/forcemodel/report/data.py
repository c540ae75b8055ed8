"""The data behind the report's figures: :class:`ReportData` and pure functions from results
to tidy frames.

Nothing here draws, reads results from disk or prints. :class:`ReportData` names every column
the faces (the HTML report and the matplotlib figures) may use; this module holds the frames of
the charts and tables, :mod:`forcemodel.report.mapdata` those of the map, and
:func:`forcemodel.report.assemble.prepare` builds the whole from a run and its assessment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forcemodel.assessment import AT_CAPACITY, Assessment

# The map's view, also read from here by the web pages (forcemodel.web.mapview).
from forcemodel.report.mapdata import OUTLINE_MARGIN_DEG as OUTLINE_MARGIN_DEG
from forcemodel.report.mapdata import map_view as map_view
from forcemodel.report.world import BBox
from forcemodel.results import Results
from forcemodel.scenario.model import CAPABILITIES, Scenario

if TYPE_CHECKING:
    from forcemodel.report.capability_section import CapabilityView
    from forcemodel.report.comparison import ComparisonData

#: Figure titles, shared by the HTML report and the PNG figures.
TITLES = {
    "power": "Combat power vs requirement vs threat",
    "tiers": "Force model: troops by readiness tier against the targets",
    "gantt": "Unit movements",
    "heatmap": "Utilisation of links, nodes, lift pools and RSOM by day",
    "map": "Network flows: tons carried per link over the run",
    "tables": "Assessment",
}

#: Colour of disruptions on the power charts and the map (HTML and PNG).
DISRUPTION_COLOUR = "#e6007e"

#: Units shown per region in the movement chart by default (the earliest to close).
UNITS_PER_REGION = 12
#: Servers shown in the utilisation heat map by default (the busiest).
MAX_SERVERS = 40

#: Colours by mode of transport and by kind of leg, shared by both faces.
COLOURS = {
    "rail": "#1f77b4",
    "road": "#ff7f0e",
    "sea": "#17becf",
    "air": "#9467bd",
    "inland": "#2ca02c",
    "notice_to_move": "#c7c7c7",
    "waiting": "#d62728",
    "draw": "#8c564b",
    "rsom": "#e377c2",
}
CAPABILITY_LABELS = {
    "land": "Land",
    "fires": "Fires",
    "air_defence": "Air defence",
    "air": "Air",
    "maritime": "Maritime",
    "cyber": "Cyber",
}
LEG_LABELS = {
    "rail": "rail",
    "road": "road",
    "sea": "sea",
    "air": "air",
    "inland": "inland water",
    "notice_to_move": "notice to move",
    "waiting": "waiting / handling",
    "draw": "drawing a pre-positioned set",
    "rsom": "RSOM",
}


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, as tidy frames; drawn by ``html`` and ``figures``."""

    title: str
    meta: dict[str, Any]
    #: region, name, closure_day, vulnerable_days, max_ratio (one row per region, in order)
    regions: pd.DataFrame
    #: region, capability, day, power, in_place, required, threat (capabilities present only)
    power: pd.DataFrame
    #: region, capability, closure_day (per capability with a requirement)
    capability_closure: pd.DataFrame
    #: region, start, end: contiguous runs of vulnerable days ([start, end) in days)
    vulnerable_spans: pd.DataFrame
    #: row, region, unit, load, category, start, end, from, to, link, wait_days, wait_reason
    gantt: pd.DataFrame
    #: region, shown, total: units per region in the movement chart
    gantt_counts: pd.DataFrame
    #: server, kind, day, utilisation (rows of the heat map only; days without load absent)
    utilisation: pd.DataFrame
    #: server, kind, days_at_capacity, mean_utilisation, peak (heat-map rows, top first)
    servers: pd.DataFrame
    #: link, from, to, mode, lon0, lat0, lon1, lat1, tons, pax, legs (every scenario link),
    #: route (the points it is drawn along: sea lanes, great circles)
    flows: pd.DataFrame
    #: id, name, kind, country, lon, lat, tons_in, region (region received there, or "")
    nodes: pd.DataFrame
    #: initial map view (lon_min, lat_min, lon_max, lat_max)
    view: BBox
    borders: list[np.ndarray] = field(default_factory=list)
    land: list[np.ndarray] = field(default_factory=list)
    #: assessment tables to print, by caption
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: things the reader must know (e.g. the scenario changed since the run)
    warnings: tuple[str, ...] = ()
    #: this run (A) side by side with another (B), when one was given
    comparison: ComparisonData | None = None
    #: id, target, kind (link or node), start, end, factor, cause, label, route (points drawn)
    disruptions: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the assessment's tiers: tier, troops, target_troops, target_day, closed_by_<day>, ...
    tiers: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the capability section's tables (report.capability_section), None: no section
    capability: CapabilityView | None = None

    @property
    def horizon(self) -> int:
        """Days simulated."""
        return int(self.meta["horizon_days"])

    @property
    def warning_day(self) -> float:
        """The day hostilities may begin."""
        return float(self.meta["warning_day"])

    def region_name(self, region: str) -> str:
        """Display name of a region (its id if the scenario gives none)."""
        names = dict(zip(self.regions["region"], self.regions["name"], strict=True))
        return str(names.get(region, region))

    def region_title(self, region: str) -> str:
        """Title of a region's power figure."""
        return f"{self.region_name(region)}: {TITLES['power'].lower()}"


def number(v: Any) -> float | None:
    """A number or None for missing values (NaN, None, pd.NA, text that is not a number)."""
    if v is None or v is pd.NA:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def tier_closed_column(row: Mapping[Any, Any]) -> Any | None:
    """The ``closed_by_<day>`` column of a tier's row that counts against its target: closed by
    the tier's own day, or by the last day counted (the horizon) before it; None if none."""
    day = number(row.get("target_day"))
    cols = sorted(
        (int(str(c).removeprefix("closed_by_")), c) for c in row if str(c).startswith("closed_by_")
    )
    fit = [c for d, c in cols if day is None or d <= day] or [c for _, c in cols[:1]]
    return fit[-1] if fit else None


def region_frame(results: Results, assessment: Assessment, scenario: Scenario) -> pd.DataFrame:
    """One row per region of the results with its display name and assessment figures."""
    names = {r.id: r.name or r.id for r in scenario.regions}
    order = {r.id: i for i, r in enumerate(scenario.regions)}
    a = assessment.regions.copy()
    a["name"] = [names.get(r, r) for r in a["region"]]
    a["order"] = [order.get(r, len(order)) for r in a["region"]]
    a = a.sort_values(["order", "region"], kind="stable").drop(columns="order")
    cols = ["region", "name", "closure_day", "vulnerable_days", "max_ratio"]
    return a[cols].reset_index(drop=True)


def power_frame(results: Results) -> pd.DataFrame:
    """Power, requirement and threat by region, capability and day, for capabilities present.

    A capability is present in a region when its power, requirement or threat is above zero on
    some day; land always is when the region has a row for it.
    """
    rp = results.region_power
    cols = ["region", "capability", "day", "power", "in_place", "required", "threat"]
    if rp.empty:
        return pd.DataFrame(columns=cols)
    g = rp.groupby(["region", "capability"])[["power", "required", "threat"]].max()
    present = g[(g.max(axis=1) > 0) | (g.index.get_level_values("capability") == "land")]
    keep = rp.set_index(["region", "capability"]).index.isin(present.index)
    out = rp.loc[keep, cols].copy()
    out["cap_order"] = out["capability"].map({c: i for i, c in enumerate(CAPABILITIES)})
    out = out.sort_values(["region", "cap_order", "day"], kind="stable")
    return out.drop(columns="cap_order").reset_index(drop=True)


def vulnerable_spans(assessment: Assessment) -> pd.DataFrame:
    """Contiguous runs of vulnerable days per region as [start, end) intervals."""
    rows = []
    fr = assessment.force_ratio
    for region, g in fr[fr["vulnerable"]].groupby("region", sort=True):
        days = np.sort(g["day"].to_numpy(dtype=float))
        start = prev = days[0]
        for d in days[1:]:
            if d > prev + 1:
                rows.append({"region": region, "start": start, "end": prev + 1})
                start = d
            prev = d
        rows.append({"region": region, "start": start, "end": prev + 1})
    return pd.DataFrame(rows, columns=["region", "start", "end"])


def gantt_frame(
    results: Results, units_per_region: int | None = UNITS_PER_REGION
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bars of the movement chart and, per region, how many units it shows of how many.

    Each leg of each load (people, equipment) of a unit gives one bar: a move from departure to
    arrival coloured by mode, preceded by a ``waiting`` bar while it waits for capacity or is
    handled; notice to move, drawing a set and RSOM are bars of their own. Units are taken per
    region in order of closure (the first ``units_per_region``; ``None`` or 0: all of them).
    """
    units = results.units
    cols = [
        "row",
        "region",
        "unit",
        "load",
        "category",
        "start",
        "end",
        "from",
        "to",
        "link",
        "wait_days",
        "wait_reason",
    ]
    order = units.assign(_c=units["closure_day"].fillna(np.inf)).sort_values(
        ["region", "_c", "unit"], kind="stable"
    )
    counts = order.groupby("region", sort=True).size().rename("total").to_frame()
    if units_per_region:
        order = order.groupby("region", sort=True).head(units_per_region)
    counts["shown"] = order.groupby("region", sort=True).size()
    counts = counts.reset_index()[["region", "shown", "total"]]
    counts["shown"] = counts["shown"].fillna(0).astype(int)

    ev = results.unit_events
    if ev.empty or order.empty:
        return pd.DataFrame(columns=cols), counts
    rank = {u: i for i, u in enumerate(order["unit"])}
    region_of = dict(zip(order["unit"], order["region"], strict=True))
    ev = ev[ev["unit"].isin(rank)].copy()
    ev["region"] = ev["unit"].map(region_of)
    ev["link"] = ev["link"].fillna("").astype(str)
    ev["wait_reason"] = ev["wait_reason"].fillna("").astype(str)
    mode = ev["mode"].fillna("").astype(str)
    is_move = ev["kind"] == "move"

    moves = ev[is_move]
    travel = moves.assign(category=mode[is_move], start=moves["depart"], end=moves["arrive"])
    waits = moves[moves["depart"] > moves["start"] + 1e-9]
    waits = waits.assign(category="waiting", end=waits["depart"])
    other = ev[~is_move]
    other = other.assign(category=other["kind"], end=other["arrive"])
    bars = pd.concat([waits, travel, other], ignore_index=True)
    bars = bars[bars["end"] > bars["start"] + 1e-9]
    bars["row"] = bars["unit"] + " · " + bars["load"]
    bars["_rank"] = bars["unit"].map(rank)
    bars = bars.sort_values(["_rank", "load", "start"], kind="stable")
    return bars[cols].reset_index(drop=True), counts


def server_frames(
    results: Results, max_servers: int | None = MAX_SERVERS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Utilisation by server and day for the busiest servers, and those servers in order.

    Servers are links, nodes (handling, transshipment), lift pools and RSOM, each for tons or
    people; the busiest have the most days at capacity, then the highest mean utilisation.
    """
    frames = []
    for table in ("link_load", "node_load", "pool_load", "rsom_load"):
        t = results.tables[table]
        if len(t):
            frames.append(t.assign(kind=table.removesuffix("_load")))
    scols = ["server", "kind", "days_at_capacity", "mean_utilisation", "peak"]
    ucols = ["server", "kind", "day", "utilisation"]
    if not frames:
        return pd.DataFrame(columns=ucols), pd.DataFrame(columns=scols)
    loads = pd.concat(frames, ignore_index=True)
    loads["utilisation"] = loads["utilisation"].clip(upper=10.0)
    g = loads.groupby(["server", "kind"], sort=True)["utilisation"]
    horizon = max(int(results.meta["horizon_days"]), 1)
    servers = pd.DataFrame(
        {
            "days_at_capacity": g.apply(lambda u: int((u >= AT_CAPACITY).sum())),
            "mean_utilisation": g.sum() / horizon,
            "peak": g.max(),
        }
    ).reset_index()
    servers = servers.sort_values(
        ["days_at_capacity", "mean_utilisation", "server"],
        ascending=[False, False, True],
        kind="stable",
    )
    if max_servers:
        servers = servers.head(max_servers)
    servers = servers[scols].reset_index(drop=True)
    util = loads[loads["server"].isin(set(servers["server"]))][ucols].reset_index(drop=True)
    return util, servers


def aspect(view: BBox) -> float:
    """Degrees of latitude per degree of longitude on screen (equirectangular at mid-latitude)."""
    mid = (view[1] + view[3]) / 2
    return 1.0 / max(math.cos(math.radians(mid)), 0.2)


def by_severity(regions: pd.DataFrame) -> pd.DataFrame:
    """Regions worst first: not closed, then the latest closure, then the most shortfall."""
    never = regions["closure_day"].isna()
    day = pd.to_numeric(regions["closure_day"], errors="coerce").fillna(np.inf)
    order = pd.DataFrame(
        {
            "never": never,
            "day": day,
            "short": regions["shortfall_bde_days"],
            "id": regions["region"],
        }
    ).sort_values(["never", "day", "short", "id"], ascending=[False, False, False, True])
    return regions.loc[order.index].reset_index(drop=True)


def assessment_tables(assessment: Assessment, regions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The assessment tables to print, by caption, regions with their display names.

    Regions (and the closure per capability) are sorted worst first (:func:`by_severity`);
    bottlenecks by their days at capacity.
    """
    names = dict(zip(regions["region"], regions["name"], strict=True))
    reg = by_severity(assessment.regions)
    reg.insert(1, "name", [names.get(r, r) for r in reg["region"]])
    caps = assessment.capabilities
    if len(caps):
        # Object dtype throughout: days and "not met" side by side, and a missing cell stays
        # blank (an all-integer column would turn float on the pivot's gaps).
        closure = ["not met" if d is None or pd.isna(d) else int(d) for d in caps["closure_day"]]
        shown = caps.assign(closure=pd.Series(closure, index=caps.index, dtype=object))
        pivot = shown.pivot(index="region", columns="capability", values="closure").fillna("")
        pivot = pivot[[c for c in CAPABILITIES if c in pivot.columns]]
        pivot = pivot.reindex([r for r in reg["region"] if r in pivot.index])
        pivot.columns = [CAPABILITY_LABELS.get(str(c), str(c)) for c in pivot.columns]
        pivot = pivot.reset_index()
        pivot.insert(1, "name", [names.get(r, r) for r in pivot["region"]])
    else:
        pivot = pd.DataFrame(columns=["region", "name"])
    return {
        "Regions: closure day, shortfall, window of vulnerability": reg,
        "Closure day per capability (blank: no requirement)": pivot,
        "Troops by readiness tier: ready to move / closed in region by day": assessment.tiers,
        "Worst bottlenecks (days at capacity)": assessment.bottlenecks,
    }
