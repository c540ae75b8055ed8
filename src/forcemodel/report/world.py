"""Country outlines for the network map, decoded from the bundled Natural Earth TopoJSON.

The file ``forcemodel/data/world/countries-50m.json`` (world-atlas 2.0.2, Natural Earth 1:50m;
see the README beside it) is read once and decoded here: TopoJSON stores each shared border
once, as a quantised, delta-encoded *arc*; a country is a list of rings, each ring a list of arc
indices (``~i`` for arc ``i`` reversed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

WORLD_FILE = "countries-50m.json"

#: (lon_min, lat_min, lon_max, lat_max)
BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class World:
    """Decoded outlines: every arc (a border or coast segment) and every land ring, lon/lat."""

    arcs: tuple[np.ndarray, ...]
    land: tuple[np.ndarray, ...]


def decode_arcs(topology: dict[str, Any]) -> list[np.ndarray]:
    """Decode the arcs of a TopoJSON topology into ``(n, 2)`` arrays of lon/lat."""
    transform = topology.get("transform")
    out = []
    for arc in topology["arcs"]:
        a = np.asarray(arc, dtype=float).reshape(-1, 2)
        if transform is not None:
            a = np.cumsum(a, axis=0) * np.asarray(transform["scale"]) + np.asarray(
                transform["translate"]
            )
        out.append(a)
    return out


def _ring(indices: list[int], arcs: list[np.ndarray]) -> np.ndarray:
    parts = []
    for k, i in enumerate(indices):
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(a if k == 0 else a[1:])  # consecutive arcs share their end point
    return np.concatenate(parts) if parts else np.empty((0, 2))


def decode_rings(topology: dict[str, Any], obj: str, arcs: list[np.ndarray]) -> list[np.ndarray]:
    """Every outer and inner ring of the (multi)polygons of one object of the topology."""
    rings: list[np.ndarray] = []

    def geometry(g: dict[str, Any]) -> None:
        kind = g.get("type")
        if kind == "GeometryCollection":
            for child in g.get("geometries", []):
                geometry(child)
        elif kind == "Polygon":
            rings.extend(_ring(r, arcs) for r in g["arcs"])
        elif kind == "MultiPolygon":
            for poly in g["arcs"]:
                rings.extend(_ring(r, arcs) for r in poly)

    geometry(topology["objects"][obj])
    return rings


@lru_cache(maxsize=1)
def load_world() -> World:
    """The bundled country borders and land, decoded (cached)."""
    path = resources.files("forcemodel") / "data" / "world" / WORLD_FILE
    topology = json.loads(path.read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    land = decode_rings(topology, "land", arcs)
    return World(arcs=tuple(arcs), land=tuple(land))


def unwrap(a: np.ndarray) -> np.ndarray:
    """Make longitudes continuous where a line crosses the antimeridian (may pass 180).

    Without this, a border crossing from 180 to -180 would be drawn as a line across the map.
    """
    if len(a) < 2 or not (np.abs(np.diff(a[:, 0])) > 180).any():
        return a
    out = a.copy()
    out[:, 0] = np.degrees(np.unwrap(np.radians(a[:, 0])))
    return out


def _touches(a: np.ndarray, bbox: BBox) -> bool:
    x0, y0, x1, y1 = bbox
    return bool(
        a.size
        and a[:, 0].max() >= x0
        and a[:, 0].min() <= x1
        and a[:, 1].max() >= y0
        and a[:, 1].min() <= y1
    )


def outlines(bbox: BBox, decimals: int = 2) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Borders/coasts and land rings that reach into ``bbox``, rounded to ``decimals``.

    Rounding to 0.01 degree (about 1 km) keeps an embedded map small; points that rounding makes
    equal to their predecessor are dropped.
    """
    world = load_world()

    def fit(parts: tuple[np.ndarray, ...]) -> list[np.ndarray]:
        out = []
        for a in parts:
            a = unwrap(a)
            if not _touches(a, bbox):
                continue
            r = np.round(a, decimals)
            keep = np.ones(len(r), dtype=bool)
            keep[1:] = np.any(np.diff(r, axis=0) != 0, axis=1)
            r = r[keep]
            if len(r) >= 2:
                out.append(r)
        return out

    return fit(world.arcs), fit(world.land)
