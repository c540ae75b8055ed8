"""Where a leg is drawn on the map: sea legs along sea lanes around land, air legs on great
circles, land legs straight between their ends.

A straight line from Bremerhaven to Gdańsk crosses Jutland, and one from Valencia to Constanța
the Balkans; no reader believes a ship does that. Sea legs are routed here over a grid of sea
cells (land from the bundled Natural Earth outlines), with the narrow passages that a grid of
this size closes carved open (Danish straits, Gibraltar, the Turkish straits, the St Lawrence,
the Scheldt, the Trondheimsfjord): the shortest path over the grid, simplified. Drawing only:
the simulation's distances are the scenario's, never these.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from forcemodel.report.world import BBox, load_world, unwrap

#: Narrow passages kept open, each a polyline of (lon, lat) (public geography, approximate).
PASSAGES: dict[str, tuple[tuple[float, float], ...]] = {
    "great belt": ((11.0, 56.1), (10.95, 55.6), (11.0, 55.3), (10.95, 54.9), (11.2, 54.55)),
    "oresund": ((12.6, 56.1), (12.68, 55.75), (12.75, 55.4), (12.9, 55.2)),
    "gibraltar": ((-6.3, 35.9), (-5.6, 35.97), (-5.0, 36.05)),
    "dardanelles": ((25.9, 39.9), (26.4, 40.15), (26.7, 40.42), (27.3, 40.55), (28.0, 40.7)),
    "bosphorus": ((28.0, 40.7), (28.95, 40.95), (29.05, 41.12), (29.13, 41.25), (29.3, 41.5)),
    "dover": ((1.2, 51.1), (1.5, 50.95), (1.8, 50.8)),
    "st lawrence": (
        (-73.55, 45.5),
        (-72.55, 46.35),
        (-71.2, 46.8),
        (-70.2, 47.4),
        (-68.5, 48.6),
        (-66.5, 49.4),
    ),
    "scheldt": ((4.4, 51.25), (4.1, 51.35), (3.6, 51.42), (3.3, 51.5)),
    "trondheimsfjord": ((10.4, 63.44), (9.9, 63.55), (9.6, 63.65), (8.8, 63.78), (8.3, 63.9)),
    "irbe strait": ((21.0, 57.95), (21.6, 57.85), (22.1, 57.75), (22.7, 57.65), (23.3, 57.5)),
    "sabine pass": ((-94.1, 30.08), (-93.95, 29.9), (-93.85, 29.65), (-93.8, 29.5)),
}
#: Grid cells across the longer side of the routing area (the cell size follows from it).
CELLS = 420
#: Points kept per route (a route is drawn, not navigated).
ROUTE_POINTS = 60


def great_circle(lon0: float, lat0: float, lon1: float, lat1: float, n: int = 32) -> np.ndarray:
    """``n`` points (lon, lat) along the great circle from the first point to the second."""
    p0, p1 = _unit(lon0, lat0), _unit(lon1, lat1)
    omega = math.acos(max(-1.0, min(1.0, float(np.dot(p0, p1)))))
    if omega < 1e-9:
        return np.array([[lon0, lat0], [lon1, lat1]])
    t = np.linspace(0.0, 1.0, n)[:, None]
    pts = (np.sin((1 - t) * omega) * p0 + np.sin(t * omega) * p1) / math.sin(omega)
    lon = np.degrees(np.arctan2(pts[:, 1], pts[:, 0]))
    lat = np.degrees(np.arcsin(np.clip(pts[:, 2], -1, 1)))
    return unwrap(np.column_stack([lon, lat]))


def _unit(lon: float, lat: float) -> np.ndarray:
    lo, la = math.radians(lon), math.radians(lat)
    return np.array([math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la)])


def sea_routes(
    legs: Sequence[tuple[float, float, float, float]],
) -> list[np.ndarray]:
    """A drawn route (lon, lat points) for each sea leg ``(lon0, lat0, lon1, lat1)``.

    All legs share one grid over their area; a leg whose ends find no sea path between them
    (a port in a lake, a passage not carved) is drawn on its great circle.
    """
    if not legs:
        return []
    ends = np.array(legs, dtype=float)
    lons = np.concatenate([ends[:, 0], ends[:, 2]])
    lats = np.concatenate([ends[:, 1], ends[:, 3]])
    pad = 6.0
    bbox = (
        math.floor(lons.min() - pad),
        max(-80.0, math.floor(lats.min() - pad)),
        math.ceil(lons.max() + pad),
        min(80.0, math.ceil(lats.max() + pad)),
    )
    grid = _grid(bbox)
    out = []
    for x0, y0, x1, y1 in ends:
        route = grid.route((x0, y0), (x1, y1))
        out.append(route if route is not None else great_circle(x0, y0, x1, y1))
    return out


class _Grid:
    """Sea cells of an area as a graph; shortest paths between cells, cached by source."""

    def __init__(self, bbox: BBox) -> None:
        from scipy.sparse import coo_matrix

        x0, y0, x1, y1 = bbox
        self.step = max(x1 - x0, y1 - y0) / CELLS
        self.nx = math.ceil((x1 - x0) / self.step)
        self.ny = math.ceil((y1 - y0) / self.step)
        self.x0, self.y0 = x0, y0
        lon = x0 + (np.arange(self.nx) + 0.5) * self.step
        lat = y0 + (np.arange(self.ny) + 0.5) * self.step
        glon, glat = np.meshgrid(lon, lat)
        points = np.column_stack([glon.ravel(), glat.ravel()])
        land = self._rasterise_land(bbox)
        for line in PASSAGES.values():
            for cell in self._cells_along(line):
                land[cell] = False
        self.sea = ~land
        self.lon, self.lat = points[:, 0], points[:, 1]
        rows, cols, weights = [], [], []
        idx = np.arange(len(points)).reshape(self.ny, self.nx)
        km = 111.2 * self.step
        for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
            a = idx[max(0, -dy) : self.ny - max(0, dy), max(0, -dx) : self.nx - max(0, dx)]
            b = idx[max(0, dy) :, max(0, dx) : self.nx + min(0, dx) or None][
                : a.shape[0], : a.shape[1]
            ]
            a, b = a.ravel(), b.ravel()
            ok = self.sea[a] & self.sea[b]
            a, b = a[ok], b[ok]
            mid = np.radians((self.lat[a] + self.lat[b]) / 2)
            w = km * np.sqrt((dx * np.cos(mid)) ** 2 + dy**2)
            rows.append(a)
            cols.append(b)
            weights.append(w)
        n = len(points)
        self.graph = coo_matrix(
            (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
        ).tocsr()
        self.sea_cells = np.flatnonzero(self.sea)
        self._paths: dict[int, np.ndarray] = {}

    def _rasterise_land(self, bbox: BBox) -> np.ndarray:
        """Land cells, by filling the land rings on an image of one pixel per cell (fast)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        x0, y0, x1, y1 = bbox
        fig = Figure(figsize=(self.nx / 100, self.ny / 100), dpi=100)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(x0, x0 + self.nx * self.step)
        ax.set_ylim(y0, y0 + self.ny * self.step)
        ax.axis("off")
        for ring in load_world().land:
            ring = unwrap(ring)
            if (
                ring[:, 0].max() < x0
                or ring[:, 0].min() > x1
                or ring[:, 1].max() < y0
                or ring[:, 1].min() > y1
            ):
                continue
            ax.fill(ring[:, 0], ring[:, 1], color="k", linewidth=0, antialiased=False)
        canvas.draw()  # type: ignore[no-untyped-call]
        rgba = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
        image = np.asarray(rgba)[: self.ny, : self.nx, 0]
        return np.asarray(image[::-1] < 128).ravel()

    def _cells_along(self, line: Sequence[tuple[float, float]]) -> list[int]:
        cells = []
        for (ax, ay), (bx, by) in itertools.pairwise(line):
            n = max(2, int(math.hypot(bx - ax, by - ay) / (self.step / 3)))
            for t in np.linspace(0, 1, n):
                i = int((ax + t * (bx - ax) - self.x0) / self.step)
                j = int((ay + t * (by - ay) - self.y0) / self.step)
                # A channel three cells wide, so that it joins the open water at both ends.
                for di in (-1, 0, 1):
                    for dj in (-1, 0, 1):
                        if 0 <= i + di < self.nx and 0 <= j + dj < self.ny:
                            cells.append((j + dj) * self.nx + i + di)
        return cells

    def _nearest_sea(self, lon: float, lat: float) -> int | None:
        if not len(self.sea_cells):
            return None
        d = (self.lon[self.sea_cells] - lon) ** 2 * math.cos(math.radians(lat)) ** 2 + (
            self.lat[self.sea_cells] - lat
        ) ** 2
        k = int(np.argmin(d))
        return int(self.sea_cells[k]) if d[k] <= 1.5**2 else None

    def route(self, a: tuple[float, float], b: tuple[float, float]) -> np.ndarray | None:
        from scipy.sparse.csgraph import dijkstra

        s, t = self._nearest_sea(*a), self._nearest_sea(*b)
        if s is None or t is None:
            return None
        if s not in self._paths:
            _, pred = dijkstra(self.graph, directed=False, indices=s, return_predecessors=True)
            self._paths[s] = pred
        pred = self._paths[s]
        if t != s and pred[t] < 0:
            return None
        cells = [t]
        while cells[-1] != s:
            cells.append(int(pred[cells[-1]]))
        cells.reverse()
        keep = np.unique(np.linspace(0, len(cells) - 1, min(len(cells), ROUTE_POINTS)).astype(int))
        pts = np.column_stack([self.lon[cells][keep], self.lat[cells][keep]])
        return np.vstack([[a], pts, [b]])


@lru_cache(maxsize=4)
def _grid(bbox: BBox) -> _Grid:
    return _Grid(bbox)
