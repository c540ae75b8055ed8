"""A scenario's network as an SVG map: outlines, links by mode, nodes, regions, stocks.

The view and the outlines are the report's (:func:`forcemodel.report.data.map_view`,
:func:`forcemodel.report.world.outlines`); this module projects them onto the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forcemodel.report import data as report_data
from forcemodel.report.world import BBox, outlines
from forcemodel.scenario.model import Scenario

#: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), each mode
#: also drawn with its own dash pattern so that colour is never the only cue.
MODE_STYLE: dict[str, tuple[str, str]] = {
    "rail": ("#0072B2", ""),
    "road": ("#E69F00", "6 3"),
    "sea": ("#56B4E9", "2 3"),
    "air": ("#CC79A7", "8 3 2 3"),
    "inland": ("#009E73", "4 2"),
}

MAP_W = 1000.0


@dataclass(frozen=True)
class Projection:
    """Equirectangular at the view's mid-latitude, to an SVG of width ``MAP_W``."""

    view: BBox

    @property
    def scale(self) -> float:
        return MAP_W / max(self.view[2] - self.view[0], 1e-6)

    @property
    def ratio(self) -> float:
        return report_data.aspect(self.view)

    @property
    def height(self) -> float:
        return round((self.view[3] - self.view[1]) * self.scale * self.ratio, 1)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            round((lon - self.view[0]) * self.scale, 1),
            round((self.view[3] - lat) * self.scale * self.ratio, 1),
        )

    def path(self, ring: np.ndarray, closed: bool) -> str:
        pts = [self.xy(float(lon), float(lat)) for lon, lat in ring]
        text = "M" + " L".join(f"{a},{b}" for a, b in pts)
        return text + ("Z" if closed else "")


def scenario_map(scenario: Scenario) -> dict[str, Any]:
    """A scenario's network as SVG parts: outlines, links by mode, nodes, regions, stocks."""
    reception = {r.reception: r.name or r.id for r in scenario.regions}
    nodes = pd.DataFrame(
        [
            {
                "id": n.id,
                "name": n.name or n.id,
                "kind": str(n.kind),
                "country": n.country,
                "lon": n.lon,
                "lat": n.lat,
                "tons_in": 0.0,
                "region": reception.get(n.id, ""),
            }
            for n in scenario.nodes
        ],
        columns=["id", "name", "kind", "country", "lon", "lat", "tons_in", "region"],
    )
    view = report_data.map_view(nodes, scenario)
    proj = Projection(view)
    pad = report_data.OUTLINE_MARGIN_DEG
    borders, land = outlines((view[0] - pad, view[1] - pad, view[2] + pad, view[3] + pad))
    pos = {n.id: proj.xy(n.lon, n.lat) for n in scenario.nodes}
    links = []
    for link in scenario.links:
        if link.from_ in pos and link.to in pos:
            colour, dash = MODE_STYLE.get(str(link.mode), ("#555555", ""))
            (x0, y0), (x1, y1) = pos[link.from_], pos[link.to]
            links.append(
                {
                    "id": link.id,
                    "mode": str(link.mode),
                    "colour": colour,
                    "dash": dash,
                    "x0": x0,
                    "y0": y0,
                    "x1": x1,
                    "y1": y1,
                    "title": f"{link.id}: {link.from_} → {link.to} ({link.mode})",
                }
            )
    stocks: dict[str, int] = {}
    for s in scenario.stocks:
        stocks[s.depot] = stocks.get(s.depot, 0) + 1
    units_at: dict[str, list[str]] = {}
    for u in scenario.units:
        units_at.setdefault(u.home, []).append(u.id)
    in_place = {r.reception: sum(f.count for f in r.in_place) for r in scenario.regions}
    node_marks = []
    for n in scenario.nodes:
        x, y = pos[n.id]
        node_marks.append(
            {
                "id": n.id,
                "x": x,
                "y": y,
                "kind": str(n.kind),
                "region": reception.get(n.id, ""),
                "stocks": stocks.get(n.id, 0),
                "units": len(units_at.get(n.id, [])),
                "in_place": in_place.get(n.id, 0),
                "title": f"{n.id} ({n.kind}, {n.country})"
                + (f"; {len(units_at[n.id])} unit(s) at home" if n.id in units_at else "")
                + (f"; {stocks[n.id]} pre-positioned stock(s)" if n.id in stocks else "")
                + (f"; reception of {reception[n.id]}" if n.id in reception else ""),
            }
        )
    return {
        "width": MAP_W,
        "height": proj.height,
        "land": [proj.path(r, True) for r in land],
        "borders": [proj.path(r, False) for r in borders],
        "links": links,
        "nodes": node_marks,
        "modes": [
            {"mode": m, "colour": c, "dash": d}
            for m, (c, d) in MODE_STYLE.items()
            if any(str(link.mode) == m for link in scenario.links)
        ],
    }
