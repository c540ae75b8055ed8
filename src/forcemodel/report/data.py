"""The data behind every figure of the report: pure functions from results to tidy frames.

Nothing here draws, reads results from disk or prints: :func:`prepare` takes a loaded
:class:`~forcemodel.results.Results` (with the scenario it carries, for names, coordinates and
disruptions) and its :class:`~forcemodel.assessment.Assessment`, and returns a
:class:`ReportData` that both faces, the HTML report and the matplotlib figures, draw as is.

About 580 lines, on purpose: one frame function per figure, all read together with
:class:`ReportData`, which names every column the faces may use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forcemodel.assessment import AT_CAPACITY, Assessment
from forcemodel.report.world import BBox, outlines
from forcemodel.results import Results
from forcemodel.scenario.model import CAPABILITIES, Scenario, great_circle_km

if TYPE_CHECKING:
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
#: Nodes farther than this from the theatre are outside the map's initial view.
THEATRE_RADIUS_KM = 2200.0
#: Country outlines are embedded this far (degrees) around the initial map view.
OUTLINE_MARGIN_DEG = 12.0

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


def flow_frame(results: Results, scenario: Scenario) -> pd.DataFrame:
    """Tons and people carried over each scenario link during the run, with its end points."""
    pos = {n.id: (n.lon, n.lat) for n in scenario.nodes}
    ev = results.unit_events
    units = results.units.set_index("unit")
    moves = ev[(ev["kind"] == "move") & ev["link"].notna() & (ev["link"] != "")]
    tons = np.where(
        moves["load"] == "equipment", moves["unit"].map(units["equipment_t"]).fillna(0.0), 0.0
    )
    pax = np.where(
        moves["load"] == "people", moves["unit"].map(units["personnel"]).fillna(0.0), 0.0
    )
    carried = (
        pd.DataFrame({"link": moves["link"].to_numpy(), "tons": tons, "pax": pax, "legs": 1})
        .groupby("link")
        .sum()
    )
    rows = []
    for link in scenario.links:
        if link.from_ not in pos or link.to not in pos:
            continue
        (x0, y0), (x1, y1) = pos[link.from_], pos[link.to]
        c: dict[Any, Any] | None = (
            carried.loc[link.id].to_dict() if link.id in carried.index else None
        )
        rows.append(
            {
                "link": link.id,
                "from": link.from_,
                "to": link.to,
                "mode": str(link.mode),
                "lon0": x0,
                "lat0": y0,
                "lon1": x1,
                "lat1": y1,
                "tons": float(c["tons"]) if c is not None else 0.0,
                "pax": float(c["pax"]) if c is not None else 0.0,
                "legs": int(c["legs"]) if c is not None else 0,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "link",
            "from",
            "to",
            "mode",
            "lon0",
            "lat0",
            "lon1",
            "lat1",
            "tons",
            "pax",
            "legs",
        ],
    )
    frame["route"] = pd.Series(link_routes(frame), index=frame.index, dtype=object)
    return frame


def link_routes(flows: pd.DataFrame) -> list[np.ndarray]:
    """How each link is drawn: sea legs along sea lanes, air legs on great circles, the rest
    straight (:mod:`forcemodel.report.routes`); ``(n, 2)`` arrays of lon, lat."""
    from forcemodel.report.routes import great_circle, sea_routes

    ends = flows[["lon0", "lat0", "lon1", "lat1"]].to_numpy(dtype=float)
    routes: list[np.ndarray] = [e.reshape(2, 2) for e in ends]
    sea = np.flatnonzero((flows["mode"] == "sea").to_numpy())
    for i, route in zip(sea, sea_routes([tuple(ends[i]) for i in sea]), strict=True):
        routes[i] = route
    for i in np.flatnonzero((flows["mode"] == "air").to_numpy()):
        routes[i] = great_circle(*ends[i])
    return routes


def node_frame(results: Results, scenario: Scenario) -> pd.DataFrame:
    """Scenario nodes with coordinates, tons received over the run, and the region received."""
    ev = results.unit_events
    units = results.units.set_index("unit")
    moves = ev[(ev["kind"] == "move") & (ev["load"] == "equipment")]
    tons_in = (
        pd.Series(moves["unit"].map(units["equipment_t"]).fillna(0.0).to_numpy(), index=moves["to"])
        .groupby(level=0)
        .sum()
    )
    reception = {r.reception: r.name or r.id for r in scenario.regions}
    rows = [
        {
            "id": n.id,
            "name": n.name or n.id,
            "kind": str(n.kind),
            "country": n.country,
            "lon": n.lon,
            "lat": n.lat,
            "tons_in": float(tons_in.get(n.id, 0.0)),
            "region": reception.get(n.id, ""),
        }
        for n in scenario.nodes
    ]
    return pd.DataFrame(
        rows, columns=["id", "name", "kind", "country", "lon", "lat", "tons_in", "region"]
    )


def map_view(nodes: pd.DataFrame, scenario: Scenario, margin_deg: float = 1.5) -> BBox:
    """The initial map view: the nodes near the theatre (the regions' reception nodes).

    Nodes far from every region (home bases across an ocean) would shrink the theatre to a
    corner; they stay on the map, outside the initial view.
    """
    if nodes.empty:
        return (-10.0, 35.0, 40.0, 70.0)
    recv = nodes[nodes["region"] != ""]
    centre = recv if len(recv) else nodes
    clon, clat = float(centre["lon"].median()), float(centre["lat"].median())
    reach = max(
        (
            great_circle_km(clat, clon, float(lat), float(lon))
            for lat, lon in zip(centre["lat"], centre["lon"], strict=True)
        ),
        default=0.0,
    )
    radius = max(THEATRE_RADIUS_KM, 1.5 * reach)
    near = nodes[
        [
            great_circle_km(clat, clon, float(lat), float(lon)) <= radius
            for lat, lon in zip(nodes["lat"], nodes["lon"], strict=True)
        ]
    ]
    if near.empty:
        near = nodes
    x0, x1 = float(near["lon"].min()), float(near["lon"].max())
    y0, y1 = float(near["lat"].min()), float(near["lat"].max())
    return (
        max(-180.0, x0 - margin_deg),
        max(-90.0, y0 - margin_deg),
        min(180.0, x1 + margin_deg),
        min(90.0, y1 + margin_deg),
    )


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


def disruption_frame(scenario: Scenario, flows: pd.DataFrame, nodes: pd.DataFrame) -> pd.DataFrame:
    """The scenario's disruptions with where they are drawn (a link's route, a node's point)."""
    routes = dict(zip(flows["link"], flows["route"], strict=True))
    where = zip(nodes["id"], nodes["lon"], nodes["lat"], strict=True)
    points = {n: np.array([[x, y]]) for n, x, y in where}
    rows = []
    for n, d in enumerate(scenario.disruptions):
        kind = "link" if d.target in routes else "node"
        route = routes.get(d.target, points.get(d.target, np.empty((0, 2))))
        ident = d.id or f"disruption {n + 1}"
        end = d.start_day + d.days
        rows.append(
            {
                "id": ident,
                "target": d.target,
                "kind": kind,
                "start": float(d.start_day),
                "end": float(end),
                "factor": float(d.capacity_factor),
                "cause": str(d.cause),
                "label": f"{ident}: {kind} {d.target}, days {d.start_day:g}-{end:g}, "
                f"capacity x{d.capacity_factor:g} ({d.cause})",
                "route": route,
            }
        )
    columns = ["id", "target", "kind", "start", "end", "factor", "cause", "label", "route"]
    return pd.DataFrame(rows, columns=columns)


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
        shown = caps.assign(
            closure=["not met" if d is None or pd.isna(d) else int(d) for d in caps["closure_day"]]
        )
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
        # Imported here: the comparison module builds on this one's frames.
        from forcemodel.assessment.compare import compare
        from forcemodel.report.comparison import prepare_comparison

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
    )
