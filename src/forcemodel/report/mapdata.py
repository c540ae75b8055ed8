"""The data behind the report's map: links with the tons and people they carried, nodes with
what they received, the initial view, and where each disruption is drawn.

Pure functions from a run and its scenario to tidy frames; nothing here draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from forcemodel.report.world import BBox
from forcemodel.results import Results
from forcemodel.scenario.model import Scenario, great_circle_km

#: Nodes farther than this from the theatre are outside the map's initial view.
THEATRE_RADIUS_KM = 2200.0
#: Country outlines are embedded this far (degrees) around the initial map view.
OUTLINE_MARGIN_DEG = 12.0


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
