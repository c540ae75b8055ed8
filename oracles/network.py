"""The network of a scenario, built by hand for the SimPy reference (docs/simulation.md).

From the scenario's nodes, links, lift pools, regions and disruptions: the arcs with their
classes and the load classes that may use them, the servers with their capacity per calendar
day, and the uncongested time-to-go tables, one Dijkstra (networkx) per destination, load class
and amount. Nothing here comes from forcemodel's own compiler; only the scenario is read.

The arithmetic is written out so that it gives the same floating-point numbers as the engine's:
the reference compares arrival and closure times to 1e-9, and a difference in the last bit can
turn a tie the other way.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx

from forcemodel.scenario.model import LiftPool, Link, Region, Scenario, Unit

EQUIPMENT, PEOPLE = 0, 1  # the two loads of a unit (also their load index in the keys)
LOAD_CLASSES = ("people", "equipment", "outsize")  # what routing tells apart
INF = math.inf


def load_class(kind: int, outsize: bool) -> str:
    """The routing class of a load: people, equipment or outsize equipment."""
    if kind == PEOPLE:
        return "people"
    return "outsize" if outsize else "equipment"


def reception_of(region: Region, unit: Unit) -> tuple[str, str, float, str]:
    """Where a unit is received in a region, by its movement profile: (how it moves: "army",
    "ship" or "aircraft"; the reception node; the reception's days before a pre-assignment
    discount; the key of its reception servers: "rsom", "port" or "air_base")."""
    if unit.profile == "ship" and region.port is not None:
        return "ship", region.port.node, region.port.days, "port"
    if unit.profile == "aircraft" and region.air_base is not None:
        return "aircraft", region.air_base.node, region.air_base.days, "air_base"
    return "army", region.reception, region.rsom.days, "rsom"


def unit_class(unit: Unit, kind: int, region: Region) -> str:
    """The routing class of one load of a unit bound for a region: a base class (people,
    equipment, outsize) for the army, the profile's name before it for a ship ("ship:people")
    or aircraft, the road-march limit after it for tracked equipment ("outsize:road100.0")."""
    how = reception_of(region, unit)[0]
    base = load_class(kind, unit.outsize)
    if how != "army":
        return f"{how}:{base}"
    if kind == EQUIPMENT and unit.max_road_march_km is not None:
        return f"{base}:road{unit.max_road_march_km!r}"
    return base


@dataclass
class Server:
    """A capacity per calendar day, cut by disruption windows (start, end, factor)."""

    index: int  # at one instant, servers' day starts run in this order
    label: str
    rate: float  # undisrupted capacity per day
    windows: list[tuple[float, float, float]] = field(default_factory=list)

    @cached_property
    def steps(self) -> tuple[list[float], list[float], list[float]]:
        """F(t) = integral of the capacity factor from 0 to t, piecewise linear: at each window
        edge t, F(t) and the factor in force from t on (overlapping windows multiply)."""
        points = sorted({0.0} | {a for a, _, _ in self.windows} | {b for _, b, _ in self.windows})
        cums, factors = [], []
        total = 0.0
        for i, t in enumerate(points):
            factor = 1.0
            for a, b, f in self.windows:
                if a <= t < b:
                    factor *= f
            cums.append(total)
            factors.append(factor)
            if i + 1 < len(points):
                total += factor * (points[i + 1] - t)
        return points, cums, factors

    def factor_integral(self, t: float) -> float:
        """F(t), from the window edge at or before t."""
        points, cums, factors = self.steps
        i = bisect_right(points, t) - 1
        if i < 0:
            return t
        return cums[i] + factors[i] * (t - points[i])

    def day_capacity(self, day: int) -> float:
        """C(d) = rate * integral over [d, d+1) of the factor in force."""
        if not self.windows:
            return self.rate
        return self.rate * (self.factor_integral(day + 1.0) - self.factor_integral(float(day)))


@dataclass
class Arc:
    """One direction of a link."""

    index: int  # ties between equal route estimates go to the lower index
    link: Link
    src: str
    dst: str
    cls: str  # mode, or rail<gauge>
    t_server: Server | None
    pax_server: Server | None
    pool: LiftPool | None
    pool_server: Server | None
    usable: dict[str, bool]  # by base load class (people, equipment, outsize)

    @property
    def hours(self) -> float:
        return self.link.distance_km / self.link.speed_kmh

    def pool_work(self, amount: float, kind: int) -> float:
        """Asset-days the lift pool spends carrying ``amount`` (stage 5: fluid trips)."""
        if self.pool is None or amount <= 0:
            return 0.0
        per_trip = self.pool.payload_t if kind == EQUIPMENT else self.pool.pax
        round_trip_h = (
            2.0 * self.link.distance_km / self.pool.speed_kmh + self.pool.turnaround_hours
        )
        return (amount / per_trip) * round_trip_h / 24.0


@dataclass
class Hop:
    """What routing needs to cost one way of leaving a node over an arc (one edge)."""

    delay: float  # handling (+ transship) and travel, days
    slowness: list[float]  # days per unit of work at each server passed (1 / capacity)
    pool_round_trip: float = 0.0  # days
    pool_capacity: float = 0.0  # tons or people per trip
    pool_rate: float = 0.0  # asset-days per day

    def days(self, amount: float) -> float:
        """Delays, plus at each server the days beyond the first that ``amount`` needs there."""
        days = self.delay
        for slow in self.slowness:
            days += max(0.0, amount * slow - 1.0)
        if self.pool_rate:
            trips = amount / self.pool_capacity
            days += max(0.0, trips * self.pool_round_trip / self.pool_rate - 1.0)
        return days


class Network:
    """Arcs, servers and time-to-go tables of one scenario."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.servers: list[Server] = []

        # Classes in order of first appearance among the links.
        self.classes: list[str] = []
        self.mode: dict[str, str] = {}
        for lk in scenario.links:
            cls = link_class(lk)
            if cls not in self.mode:
                self.classes.append(cls)
                self.mode[cls] = str(lk.mode)

        # Servers, in the order that decides simultaneous day starts.
        nodes = scenario.nodes
        self.node_t = {n.id: self.server(f"{n.id} handling (t)", n.t_per_day) for n in nodes}
        self.node_pax = {n.id: self.server(f"{n.id} handling (pax)", n.pax_per_day) for n in nodes}
        self.transship = {
            n.id: self.server(f"{n.id} transship", n.transship.t_per_day) if n.transship else None
            for n in nodes
        }
        self.pool_server = {
            p.id: self.server(f"pool {p.id}", p.assets * p.availability)
            for p in scenario.lift_pools
        }
        pools = {p.id: p for p in scenario.lift_pools}
        self.arcs: list[Arc] = []
        for lk in scenario.links:
            ends = [(lk.from_, lk.to)]
            if lk.bidirectional:
                ends.append((lk.to, lk.from_))
            for src, dst in ends:
                t_server = self.server(f"{lk.id} {src}->{dst} (t)", lk.t_per_day)
                pax_server = self.server(f"{lk.id} {src}->{dst} (pax)", lk.pax_per_day)
                pool = pools.get(lk.pool) if lk.pool else None
                people = lk.pax_per_day != 0 and (pool is None or pool.pax > 0)
                equipment = lk.t_per_day != 0 and (pool is None or pool.payload_t > 0)
                outsize = equipment and not (
                    lk.mode == "air" and (pool is None or not pool.outsize)
                )
                arc = Arc(
                    index=len(self.arcs),
                    link=lk,
                    src=src,
                    dst=dst,
                    cls=link_class(lk),
                    t_server=t_server,
                    pax_server=pax_server,
                    pool=pool,
                    pool_server=self.pool_server[pool.id] if pool is not None else None,
                    usable={"people": people, "equipment": equipment, "outsize": outsize},
                )
                self.arcs.append(arc)
        self.rsom_t = {
            r.id: self.server(f"RSOM {r.id} (t)", r.rsom.t_per_day) for r in scenario.regions
        }
        self.rsom_pax = {
            r.id: self.server(f"RSOM {r.id} (pax)", r.rsom.pax_per_day) for r in scenario.regions
        }
        # Ports' and air bases' reception: every tons server, then every people server.
        self.reception: dict[tuple[str, str], tuple[Server | None, Server | None]] = {}
        received = [
            (r, where) for r in scenario.regions for where in ("port", "air_base")
            if getattr(r, where) is not None
        ]  # fmt: skip
        tons = [self.server(f"{w} {r.id} (t)", getattr(r, w).t_per_day) for r, w in received]
        people = [self.server(f"{w} {r.id} (pax)", getattr(r, w).pax_per_day) for r, w in received]
        for (r, w), t_s, p_s in zip(received, tons, people, strict=True):
            self.reception[(r.id, w)] = (t_s, p_s)
        # Last, each node's ramps, berths and air terminals: loading and unloading by mode.
        self.mode_server: dict[tuple[str, str], Server | None] = {}
        for n in nodes:
            for mode in ("rail", "road", "sea", "air", "inland"):
                own = n.transfer.get(mode)  # type: ignore[call-overload]
                if own is not None:
                    self.mode_server[(n.id, mode)] = self.server(
                        f"{n.id} {mode} transfer", own.t_per_day
                    )
        self.out_arcs: dict[str, list[Arc]] = {n.id: [] for n in nodes}
        for arc in self.arcs:
            self.out_arcs[arc.src].append(arc)

        # Disruptions: a node's cut its handling and transship servers, a link's both arcs'.
        for d in scenario.disruptions:
            window = (d.start_day, d.start_day + d.days, d.capacity_factor)
            if d.target in self.node_t:
                hit = [self.node_t[d.target], self.node_pax[d.target], self.transship[d.target]]
                hit += [s for (v, _), s in self.mode_server.items() if v == d.target]
            else:
                hit = [
                    s
                    for a in self.arcs
                    if a.link.id == d.target
                    for s in (a.t_server, a.pax_server)
                ]
            for s in hit:
                if s is not None:
                    s.windows.append(window)

        # Reserve lift: no capacity before its activation (a window of factor 0 from day 0).
        for p in scenario.lift_pools:
            s = self.pool_server[p.id]
            if p.activation_days > 0 and s is not None:
                s.windows.append((0.0, p.activation_days, 0.0))
        self.country = {n.id: n.country for n in nodes}
        self.node = {n.id: n for n in nodes}
        self.handling_days = {n.id: n.handling_hours / 24.0 for n in nodes}
        self.transship_days = {
            n.id: n.transship.hours / 24.0 if n.transship else 0.0 for n in nodes
        }
        self.graphs: dict[str, nx.DiGraph] = {}
        self.tables: dict[tuple[str, str, float], dict[tuple[str, str | None], float]] = {}

    def server(self, label: str, rate: float | None) -> Server | None:
        """A new server, or None where no capacity is given (unlimited)."""
        if rate is None:
            return None
        s = Server(len(self.servers), label, rate)
        self.servers.append(s)
        return s

    # -- load classes -------------------------------------------------------------------------

    def may_use(self, arc: Arc, cls: str) -> bool:
        """Whether a load of class ``cls`` may take ``arc``: a ship only sea links, under its own
        power (whatever their lift); aircraft only air links; tracked equipment no road link
        longer than its march."""
        how, _, rest = cls.partition(":")
        if how in ("ship", "aircraft"):
            return str(arc.link.mode) == ("sea" if how == "ship" else "air") and (
                how == "ship" or arc.usable[rest]
            )
        road = rest.startswith("road") and arc.link.mode == "road"
        if road and arc.link.distance_km > float(rest[4:]):
            return False
        return arc.usable[how]

    @staticmethod
    def own_power(cls: str) -> bool:
        """A ship sails: no handling, no server, no lift pool on its hops."""
        return cls.startswith("ship:")

    @staticmethod
    def marches(cls: str) -> bool:
        """Tracked equipment: a road march is one road link, never two in a row."""
        return ":road" in cls

    def chained(self, cls: str, k_in: str | None, k: str) -> bool:
        """Leaving by road after arriving by road, for a class that marches one link at most."""
        return self.marches(cls) and k == "road" and k_in == "road"

    # -- a hop --------------------------------------------------------------------------------

    def permit_day(self, v: str, w: str) -> float:
        """Crossing from v into another country: the day its permit allows entry (0: none)."""
        if self.country[v] == self.country[w]:
            return 0.0
        return self.scenario.meta.permit_days.get(self.country[w], 0.0)

    def class_change(self, k_in: str | None, k: str) -> bool:
        """Arrived by one mode or gauge, leaving by another: a transfer."""
        return k_in is not None and k_in != k

    def transfer_days(self, v: str, k_in: str, k: str) -> float:
        """A transfer's time at v: its transship hours if it has one, else the hours to
        unload from k_in's mode plus those to load onto k's."""
        if self.transship[v] is not None:
            return self.transship_days[v]
        return (self.hours_at(v, self.mode[k_in]) + self.hours_at(v, self.mode[k])) / 24.0

    def hours_at(self, v: str, mode: str) -> float:
        """Hours to load onto or unload from ``mode`` at v: the node's own, else the meta's."""
        own = self.node[v].transfer.get(mode)  # type: ignore[call-overload]
        if own is not None and own.hours is not None:
            return float(own.hours)
        return float(self.scenario.meta.transfer_hours.of(mode))

    def hop_delay(self, v: str, k_in: str | None, arc: Arc, cls: str) -> float:
        """Stages 3 and 6: handling (and transfer) delay plus travel, days (a ship: travel)."""
        if self.own_power(cls):
            return 0.0 + arc.hours / 24.0
        days = self.handling_days[v] + arc.hours / 24.0
        if "people" not in cls.split(":") and k_in is not None and self.class_change(k_in, arc.cls):
            days += self.transfer_days(v, k_in, arc.cls)
        return days

    def hop_servers(
        self, v: str, k_in: str | None, arc: Arc, kind: int, cls: str = "people"
    ) -> tuple[list[Server], list[Server]]:
        """The servers of a hop before its handling delay (node, transship) and after (arc);
        none for a ship, which sails."""
        if self.own_power(cls):
            return [], []
        people = kind == PEOPLE
        before = [self.node_pax[v] if people else self.node_t[v]]
        if not people and k_in is not None and self.class_change(k_in, arc.cls):
            if self.transship[v] is not None:
                before.append(self.transship[v])
            else:  # unload from the mode arrived by, load onto the arc's
                before.append(self.mode_server.get((v, self.mode[k_in])))
                before.append(self.mode_server.get((v, self.mode[arc.cls])))
        after = [arc.pax_server if people else arc.t_server]
        return [s for s in before if s is not None], [s for s in after if s is not None]

    # -- time to go ---------------------------------------------------------------------------

    def graph(self, cls: str) -> nx.DiGraph:
        """The state graph of a load class, edges pointing backwards (arrival -> departure).

        A state is (node, class arrived by), None at the load's start. Each edge holds the
        hops between its two states (parallel links give several); the fastest one counts.
        """
        if cls in self.graphs:
            return self.graphs[cls]
        g = nx.DiGraph()
        arrived_by: list[str | None] = [None, *self.classes]
        g.add_nodes_from((n.id, k) for n in self.scenario.nodes for k in arrived_by)
        kind = PEOPLE if "people" in cls.split(":") else EQUIPMENT
        for arc in self.arcs:
            if not self.may_use(arc, cls):
                continue
            for k_in in arrived_by:
                if self.chained(cls, k_in, arc.cls):
                    continue  # a second road link in a row: closed to a tracked load
                before, after = self.hop_servers(arc.src, k_in, arc, kind, cls)
                hop = Hop(
                    delay=self.hop_delay(arc.src, k_in, arc, cls),
                    slowness=[1.0 / s.rate for s in before + after],
                )
                if arc.pool is not None and arc.pool_server is not None and not self.own_power(cls):
                    hop.pool_capacity = arc.pool.pax if kind == PEOPLE else arc.pool.payload_t
                    hop.pool_round_trip = (
                        2 * arc.link.distance_km / arc.pool.speed_kmh + arc.pool.turnaround_hours
                    ) / 24
                    hop.pool_rate = arc.pool_server.rate
                arrive, leave = (arc.dst, arc.cls), (arc.src, k_in)
                if g.has_edge(arrive, leave):
                    g[arrive][leave]["hops"].append(hop)
                else:
                    g.add_edge(arrive, leave, hops=[hop])
        self.graphs[cls] = g
        return g

    def time_to_go(self, dest: str, cls: str, amount: float) -> dict[tuple[str, str | None], float]:
        """H[(node, class arrived by)]: uncongested days to ``dest`` for a load of ``amount``.

        A Dijkstra from all of the destination's states over the backward state graph; a hop
        costs its delays plus, at each server, ``max(0, amount / capacity - 1)`` days. States
        missing from the table cannot reach ``dest`` (use ``.get(state, INF)``).
        """
        key = (dest, cls, amount)
        if key not in self.tables:
            g = self.graph(cls)
            sources = [(dest, k) for k in [None, *self.classes]]
            self.tables[key] = nx.multi_source_dijkstra_path_length(
                g, sources, weight=lambda _u, _v, edge: min(h.days(amount) for h in edge["hops"])
            )
        return self.tables[key]


def link_class(lk: Link) -> str:
    """A link's class: its mode, or rail<gauge>."""
    return f"rail{lk.gauge}" if lk.mode == "rail" else str(lk.mode)
