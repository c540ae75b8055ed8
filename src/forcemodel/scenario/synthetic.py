"""Synthetic scenarios of any size, valid by construction, for benchmarks and tests.

The picture is a simplified alliance: garrisons, depots, ports and airfields in the "west" on a
standard-gauge (1435 mm) rail network with roads beside it; gauge-break railheads where the
broad-gauge (1520 mm) lines of the "east" begin, each able to transship; and ``regions`` defended
areas in the east, each with a reception node reached by rail (standard or broad gauge), road,
sea and air. Air and sea links are served by lift pools. Every unit's home garrison is connected
to every region's reception, every reference resolves, every curve is ordered.

Nothing in a synthetic scenario is a real figure: the numbers are plausible orders of magnitude
chosen at random from a seeded generator (:func:`numpy.random.default_rng`), so the same
arguments always give the same data, and :func:`write_scenario_folder` the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from forcemodel.scenario.catalogue import builtin_catalogue
from forcemodel.scenario.write import write_scenario_folder

__all__ = ["synthetic_scenario", "write_scenario_folder"]

_SOURCE = "synthetic (forcemodel.scenario.synthetic): not a real figure"

# Unit types drawn for force offers and how common each is.
_UNIT_TYPES = (
    ("armoured_brigade", 0.10),
    ("mechanised_brigade", 0.14),
    ("infantry_brigade", 0.14),
    ("light_brigade", 0.08),
    ("battlegroup", 0.08),
    ("artillery_battalion", 0.12),
    ("air_defence_battalion", 0.08),
    ("fighter_squadron", 0.07),
    ("naval_task_group", 0.03),
    ("cyber_team", 0.04),
    ("headquarters", 0.04),
    ("enablers", 0.08),
)
# Types that can fall in on a pre-positioned set, and the share of such units that do.
_SET_TYPES = ("armoured_brigade", "mechanised_brigade")
_SET_SHARE = 0.4
_WEST_NATIONS = ("US", "GB", "FR", "DE", "NL", "BE", "IT", "ES", "DK", "NO", "CZ", "CA")
_EAST_COUNTRIES = ("EE", "LV", "LT", "PL", "SK", "HU", "RO", "BG")
# Countries of western nodes by longitude band (0-20 degrees east, in 8 bands).
_WEST_BANDS = ("FR", "BE", "NL", "DE", "DE", "DE", "CZ", "PL")
# Kinds of western nodes (besides the first, always a garrison) and how common each is.
_WEST_KINDS = (
    ("garrison", 0.30),
    ("depot", 0.10),
    ("railhead", 0.18),
    ("junction", 0.18),
    ("port", 0.08),
    ("airfield", 0.10),
    ("border_crossing", 0.06),
)
_RAIL_T_PER_DAY = (6000, 9000, 12000, 15000, 20000)
_CAUSES = ("sabotage", "cyber", "strike", "weather", "accident")


def synthetic_scenario(
    units: int, nodes: int, days: int, regions: int = 4, seed: int = 0
) -> dict[str, Any]:
    """Raw data of a synthetic scenario, valid by construction.

    The result is plain Python data, as :mod:`yaml` would give it (dicts, lists, scalars; the
    tables as lists of dicts), ready for :func:`forcemodel.load_scenario_data` or
    :func:`write_scenario_folder`.

    Args:
        units: number of force offers (units), at least 0.
        nodes: number of nodes, at least 4 and at least ``regions + 2``.
        days: horizon in days, 1 to 3650.
        regions: number of defended regions in the east, at least 1.
        seed: seed of :func:`numpy.random.default_rng`; the same arguments give the same data.

    Raises:
        ValueError: for sizes that cannot make a valid scenario.
    """
    if units < 0:
        raise ValueError(f"units must be 0 or more, got {units}")
    if regions < 1:
        raise ValueError(f"regions must be 1 or more, got {regions}")
    if nodes < max(4, regions + 2):
        raise ValueError(
            f"nodes must be at least 4 and at least regions + 2 ({regions + 2}), got {nodes}"
        )
    if not 1 <= days <= 3650:
        raise ValueError(f"days must be between 1 and 3650, got {days}")
    rng = np.random.default_rng(seed)
    gen = _Generator(rng, units, nodes, days, regions)
    return gen.build(name=f"synthetic-u{units}-n{nodes}-d{days}-r{regions}-s{seed}")


class _Generator:
    """One scenario's worth of random draws, in a fixed order (so seeds reproduce)."""

    def __init__(
        self, rng: np.random.Generator, units: int, nodes: int, days: int, regions: int
    ) -> None:
        self.rng = rng
        self.n_units = units
        self.n_nodes = nodes
        self.days = days
        self.n_regions = regions
        # Gauge-break railheads: one per two broad-gauge regions, at least one; the rest is west.
        n_broad = (regions + 1) // 2
        self.n_gauge = max(1, min(n_broad, nodes - regions - 1))
        self.n_west = nodes - regions - self.n_gauge

    # -- the whole scenario ---------------------------------------------------------------------

    def build(self, name: str) -> dict[str, Any]:
        nodes = self.nodes()
        links = self.links()
        pools = _lift_pools()
        units = self.units()
        stocks = self.stocks()
        regions, threats = self.regions()
        disruptions = self.disruptions(nodes, links)
        scale = _capacity_scale(self.n_units, self.n_regions)
        _scale_capacities(nodes, links, pools, regions, scale)
        warning_day = int(self.rng.integers(0, min(self.days, 14) + 1))
        meta = {
            "name": name,
            "description": (
                f"Synthetic scenario: {self.n_units} units, {self.n_nodes} nodes, "
                f"{self.n_regions} regions, {self.days} days. Not real data."
            ),
            "horizon_days": self.days,
            "warning_day": warning_day,
            "ratio_threshold": 3.0,
        }
        tiers = [
            t.model_dump(mode="json", exclude_none=True)
            for t in builtin_catalogue().tiers
            if t.tier in (1, 2, 3)
        ]
        return {
            "meta": meta,
            "tiers": tiers,
            "nodes": nodes,
            "links": links,
            "lift_pools": pools,
            "units": units,
            "stocks": stocks,
            "regions": regions,
            "threats": threats,
            "disruptions": disruptions,
        }

    # -- nodes ----------------------------------------------------------------------------------

    def nodes(self) -> list[dict[str, Any]]:
        rng, m, g, r = self.rng, self.n_west, self.n_gauge, self.n_regions
        names, probs = zip(*_WEST_KINDS, strict=True)
        kind_idx = rng.choice(len(names), size=m, p=np.array(probs) / sum(probs))
        kind_idx[0] = 0  # at least one garrison
        # West: 0-19.5 degrees east, sorted west to east so that neighbours in the list are near.
        lon = np.sort(rng.uniform(0.0, 19.5, size=m))
        lat = rng.uniform(46.0, 57.0, size=m)
        band = np.minimum((lon / 20.0 * len(_WEST_BANDS)).astype(np.int64), len(_WEST_BANDS) - 1)
        handling = rng.choice(np.array([4000, 8000, 12000, 20000]), size=m)
        has_handling = rng.random(m) < 0.3
        out: list[dict[str, Any]] = []
        self.west_ids: list[str] = []
        self.garrisons: list[str] = []
        self.depots: list[str] = []
        self.ports: list[str] = []
        self.airfields: list[str] = []
        lats, lons = np.round(lat, 4).tolist(), np.round(lon, 4).tolist()
        for i, (k, la, lo, b, h, hh) in enumerate(
            zip(
                kind_idx.tolist(),
                lats,
                lons,
                band.tolist(),
                handling.tolist(),
                has_handling.tolist(),
                strict=True,
            )
        ):
            kind = names[k]
            node_id = f"{kind}-{i:05d}"
            item: dict[str, Any] = {
                "id": node_id,
                "kind": kind,
                "country": _WEST_BANDS[b],
                "lat": la,
                "lon": lo,
            }
            if hh:
                item["t_per_day"] = h
                item["handling_hours"] = 6
            out.append(item)
            self.west_ids.append(node_id)
            {
                "garrison": self.garrisons,
                "depot": self.depots,
                "port": self.ports,
                "airfield": self.airfields,
            }.get(kind, []).append(node_id)
        # Gauge breaks along the eastern edge of the standard-gauge network.
        g_lat = np.round(np.linspace(48.0, 55.5, g + 2)[1:-1] + rng.uniform(-0.5, 0.5, g), 4)
        g_lon = np.round(rng.uniform(20.5, 23.5, g), 4)
        g_t = rng.choice(np.array([4000, 6000, 8000, 10000]), size=g)
        g_hours = rng.choice(np.array([12, 24, 36]), size=g)
        self.gauge_ids = [f"gauge-break-{j:03d}" for j in range(g)]
        for j in range(g):
            out.append(
                {
                    "id": self.gauge_ids[j],
                    "kind": "railhead",
                    "name": f"Gauge break {j + 1}",
                    "country": "PL",
                    "lat": float(g_lat[j]),
                    "lon": float(g_lon[j]),
                    "transship": {"t_per_day": int(g_t[j]), "hours": int(g_hours[j])},
                }
            )
        # Reception nodes of the regions, north to south along the eastern flank.
        r_lat = np.round(np.linspace(59.0, 43.0, r + 2)[1:-1] + rng.uniform(-0.3, 0.3, r), 4)
        r_lon = np.round(rng.uniform(23.5, 29.0, r), 4)
        r_pax = rng.choice(np.array([5000, 10000, 20000]), size=r)
        self.reception_ids = [f"reception-{j:03d}" for j in range(r)]
        for j in range(r):
            out.append(
                {
                    "id": self.reception_ids[j],
                    "kind": "assembly_area",
                    "name": f"Reception area {j + 1}",
                    "country": _EAST_COUNTRIES[j % len(_EAST_COUNTRIES)],
                    "lat": float(r_lat[j]),
                    "lon": float(r_lon[j]),
                    "pax_per_day": int(r_pax[j]),
                }
            )
        return out

    # -- links ----------------------------------------------------------------------------------

    def links(self) -> list[dict[str, Any]]:
        rng, m, g, r = self.rng, self.n_west, self.n_gauge, self.n_regions
        west = self.west_ids
        out: list[dict[str, Any]] = []

        def add(mode: str, a: str, b: str, **extra: Any) -> None:
            out.append({"id": f"{mode}-{len(out):06d}", "from": a, "to": b, "mode": mode, **extra})

        # Standard-gauge spanning tree: node i joins one of the 6 nodes just west of it.
        idx = np.arange(1, m)
        parent = idx - 1 - _below(rng, np.minimum(idx, 6))
        rail_t = rng.choice(np.array(_RAIL_T_PER_DAY), size=m - 1)
        for i, p, t in zip(idx.tolist(), parent.tolist(), rail_t.tolist(), strict=True):
            add("rail", west[p], west[i], gauge=1435, t_per_day=t)
        # Extra rail loops (so there is more than one route) and roads to near neighbours.
        if m > 2:
            loop_at = idx[(idx >= 2) & (rng.random(m - 1) < 0.25)]
            loop_to = loop_at - 2 - _below(rng, np.minimum(loop_at - 1, 8))
            loop_t = rng.choice(np.array(_RAIL_T_PER_DAY), size=loop_at.size)
            for i, p, t in zip(loop_at.tolist(), loop_to.tolist(), loop_t.tolist(), strict=True):
                add("rail", west[p], west[i], gauge=1435, t_per_day=t)
        if m > 1:
            road_at = np.arange(m - 1)[rng.random(m - 1) < 0.8]
            road_to = road_at + 1 + _below(rng, np.minimum(m - 1 - road_at, 3))
            for i, j in zip(road_at.tolist(), road_to.tolist(), strict=True):
                add("road", west[i], west[j])
        # The eastern edge of the west: the last tenth of the nodes by longitude.
        edge = max(1, m // 10)
        edge_pick = (m - edge + rng.integers(0, edge, size=g + r)).tolist()
        for j, gid in enumerate(self.gauge_ids):
            add("rail", west[edge_pick[j]], gid, gauge=1435, t_per_day=12000)
            add("road", west[edge_pick[j]], gid)
        # Regions alternate: broad-gauge (behind a gauge break) and standard-gauge ones.
        broad = 0
        for j, rid in enumerate(self.reception_ids):
            if j % 2 == 0:
                gid = self.gauge_ids[broad % g]
                broad += 1
                add("rail", gid, rid, gauge=1520, t_per_day=int(rng.choice([4000, 6000, 8000])))
                add("road", gid, rid)
            else:
                add("rail", west[edge_pick[g + j]], rid, gauge=1435, t_per_day=9000)
            if j > 0:
                add("road", self.reception_ids[j - 1], rid)
        # Air bridges from western airfields and sea lines from western ports.
        airfields = self.airfields or [west[0]]
        ports = self.ports or [west[-1]]
        air_to = rng.integers(0, r, size=len(airfields)).tolist()
        for k, (a, j) in enumerate(zip(airfields, air_to, strict=True)):
            pool = "airlift-strategic" if k % 2 == 0 else "airlift-tactical"
            add("air", a, self.reception_ids[j], pool=pool)
        sea_to = rng.integers(0, r, size=len(ports)).tolist()
        for p, j in zip(ports, sea_to, strict=True):
            add("sea", p, self.reception_ids[j], pool="sealift", t_per_day=20000)
        self.link_ids = [lk["id"] for lk in out]
        self.rail_ids = [lk["id"] for lk in out if lk["mode"] == "rail"]
        return out

    # -- units and stocks -----------------------------------------------------------------------

    def units(self) -> list[dict[str, Any]]:
        rng, n = self.rng, self.n_units
        types, probs = zip(*_UNIT_TYPES, strict=True)
        type_idx = rng.choice(len(types), size=n, p=np.array(probs) / sum(probs))
        tier = rng.choice(np.array([1, 2, 3]), size=n, p=[0.2, 0.35, 0.45])
        home = rng.integers(0, len(self.garrisons), size=n)
        nation = rng.integers(0, len(_WEST_NATIONS), size=n)
        assigned = np.where(rng.random(n) < 0.3, rng.integers(0, self.n_regions, size=n), -1)
        set_draw = rng.random(n) < _SET_SHARE
        ntm = np.where(rng.random(n) < 0.1, rng.integers(2, 10, size=n), -1)
        set_type_idx = {types.index(t) for t in _SET_TYPES}
        out: list[dict[str, Any]] = []
        for i, (k, t, h, na, a, s, d) in enumerate(
            zip(
                type_idx.tolist(),
                tier.tolist(),
                home.tolist(),
                nation.tolist(),
                assigned.tolist(),
                set_draw.tolist(),
                ntm.tolist(),
                strict=True,
            )
        ):
            item: dict[str, Any] = {
                "id": f"unit-{i:06d}",
                "nation": _WEST_NATIONS[na],
                "type": types[k],
                "tier": t,
                "home": self.garrisons[h],
            }
            if a >= 0:
                item["assigned_to"] = f"region-{a:03d}"
            if s and k in set_type_idx:
                item["set_type"] = types[k]
            if d >= 0:
                item["notice_to_move_days"] = d
            out.append(item)
        return out

    def stocks(self) -> list[dict[str, Any]]:
        rng = self.rng
        # Pre-positioned sites: western depots and the gauge-break railheads near the east.
        sites = self.depots + self.gauge_ids
        n_sets = max(len(_SET_TYPES), min(40, self.n_units // 100))
        where = rng.integers(0, len(sites), size=n_sets + 2).tolist()
        count = rng.integers(1, 4, size=n_sets).tolist()
        draw = rng.integers(4, 15, size=n_sets).tolist()
        out: list[dict[str, Any]] = []
        for k in range(n_sets):
            out.append(
                {
                    "id": f"stock-{k:03d}",
                    "depot": sites[where[k]],
                    "set_type": _SET_TYPES[k % len(_SET_TYPES)],
                    "sets": count[k],
                    "draw_days": draw[k],
                    "source": _SOURCE,
                }
            )
        for k in range(2):
            out.append(
                {
                    "id": f"munitions-{k:03d}",
                    "depot": sites[where[n_sets + k]],
                    "kind": "munitions",
                    "t": 5000 * (k + 1),
                    "draw_days": 2,
                    "source": _SOURCE,
                }
            )
        return out

    # -- regions and threats --------------------------------------------------------------------

    def regions(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rng = self.rng
        regions: list[dict[str, Any]] = []
        threats: list[dict[str, Any]] = []
        for j in range(self.n_regions):
            country = _EAST_COUNTRIES[j % len(_EAST_COUNTRIES)]
            host = int(rng.integers(1, 5))
            ally = _WEST_NATIONS[int(rng.integers(0, len(_WEST_NATIONS)))]
            land0 = host * 0.6 + 0.3
            regions.append(
                {
                    "id": f"region-{j:03d}",
                    "name": f"Region {j + 1}",
                    "country": country,
                    "reception": self.reception_ids[j],
                    "in_place": [
                        {"type": "infantry_brigade", "count": host, "nation": country},
                        {"type": "battlegroup", "count": 1, "nation": ally},
                    ],
                    "rsom": {
                        "t_per_day": int(rng.choice([3000, 5000, 8000])),
                        "pax_per_day": int(rng.choice([3000, 6000, 10000])),
                        "days": int(rng.integers(1, 4)),
                        "assigned_factor": 0.5,
                    },
                    "requirement": {
                        "land": self.curve(land0, 3.0 + host),
                        "fires": self.curve(0.3, 1.5),
                        "air_defence": self.curve(0.0, 1.0 + int(rng.integers(0, 2))),
                        "air": self.curve(0.0, 2.0),
                    },
                    "priority": round(float(rng.uniform(0.5, 2.0)), 2),
                    "source": _SOURCE,
                }
            )
            threats.append(
                {
                    "region": f"region-{j:03d}",
                    "relative_to": "warning_day",
                    "land": self.curve(2.0 * land0, 6.0 * land0),
                    "air": self.curve(1.0, 3.0),
                    "source": _SOURCE,
                }
            )
        return regions, threats

    def curve(self, start: float, end: float) -> list[list[float | int]]:
        """A rising step curve from ``start`` on day 0 to about ``end`` within the horizon."""
        later = self.rng.integers(1, self.days, size=3) if self.days > 1 else np.array([], int)
        days = [0, *np.unique(later).tolist()]
        values = np.linspace(start, end, len(days))
        return [[d, round(float(v), 2)] for d, v in zip(days, values.tolist(), strict=True)]

    # -- disruptions ----------------------------------------------------------------------------

    def disruptions(
        self, nodes: Sequence[dict[str, Any]], links: Sequence[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        rng = self.rng
        n = max(2, min(20, len(links) // 250))
        # Mostly rail links and gauge breaks: the soft spots of a reinforcement.
        targets = [*self.rail_ids, *self.gauge_ids]
        pick = rng.integers(0, len(targets), size=n).tolist()
        start = rng.integers(0, self.days, size=n).tolist()
        length = rng.integers(1, 8, size=n).tolist()
        factor = np.round(rng.uniform(0.0, 0.8, size=n), 2).tolist()
        cause = rng.integers(0, len(_CAUSES), size=n).tolist()
        return [
            {
                "id": f"disruption-{k:03d}",
                "target": targets[pick[k]],
                "start_day": start[k],
                "days": length[k],
                "capacity_factor": factor[k],
                "cause": _CAUSES[cause[k]],
            }
            for k in range(n)
        ]


#: Units per region that the base capacities (real-world orders of magnitude) are sized for.
_UNITS_PER_REGION_AT_BASE = 60


def _capacity_scale(units: int, regions: int) -> float:
    """Capacity multiplier so that a large synthetic force can close within months, not years.

    The base capacities are real-world orders of magnitude, fit for a few dozen units per
    region; a benchmark with thousands of units gets proportionally wider pipes.
    """
    return max(1.0, units / (regions * _UNITS_PER_REGION_AT_BASE))


def _scale_capacities(
    nodes: list[dict[str, Any]],
    links: list[dict[str, Any]],
    pools: list[dict[str, Any]],
    regions: list[dict[str, Any]],
    scale: float,
) -> None:
    if scale == 1.0:
        return

    def widen(item: dict[str, Any], *keys: str) -> None:
        for key in keys:
            if item.get(key) is not None:
                item[key] = round(item[key] * scale)

    for n in nodes:
        widen(n, "t_per_day", "pax_per_day")
        if isinstance(n.get("transship"), dict):
            widen(n["transship"], "t_per_day")
    for lk in links:
        widen(lk, "t_per_day", "pax_per_day")
    for p in pools:
        widen(p, "assets")
    for r in regions:
        widen(r["rsom"], "t_per_day", "pax_per_day")


def _below(rng: np.random.Generator, bound: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """One random integer in ``[0, b)`` for each ``b`` in ``bound`` (every ``b`` at least 1)."""
    drawn: npt.NDArray[np.int64] = np.floor(rng.random(bound.size) * bound).astype(np.int64)
    return drawn


def _lift_pools() -> list[dict[str, Any]]:
    return [
        {
            "id": "airlift-strategic",
            "mode": "air",
            "assets": 20,
            "payload_t": 77,
            "pax": 102,
            "speed_kmh": 750,
            "turnaround_hours": 4,
            "outsize": True,
            "availability": 0.8,
            "source": "synthetic; C-17-class payload (USAF fact sheet)",
        },
        {
            "id": "airlift-tactical",
            "mode": "air",
            "assets": 30,
            "payload_t": 30,
            "pax": 116,
            "speed_kmh": 650,
            "turnaround_hours": 3,
            "outsize": False,
            "availability": 0.75,
            "source": "synthetic; A400M-class payload (Airbus data sheet)",
        },
        {
            "id": "sealift",
            "mode": "sea",
            "assets": 8,
            "payload_t": 15000,
            "pax": 0,
            "speed_kmh": 37,
            "turnaround_hours": 48,
            "outsize": True,
            "source": "synthetic; LMSR-class ro-ro ship",
        },
    ]
