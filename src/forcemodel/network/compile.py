"""Compile a scenario's network into indexed arrays: arcs, servers, time-to-go tables.

The simulation and the baseline both start from this; it reads no files and prints nothing.
See docs/simulation.md for the rules these structures encode.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from forcemodel.scenario.model import LiftPool, Link, Scenario

EQUIPMENT, PEOPLE = 0, 1
#: Load classes for routing: people, equipment, outsize equipment.
CLASS_PEOPLE, CLASS_EQUIPMENT, CLASS_OUTSIZE = 0, 1, 2
INF = math.inf


@dataclass
class Server:
    """A capacity per calendar day (``rate``) with disruption windows that cut it.

    ``breaks``/``cum`` hold the cumulative factor F(t) = integral of the rate factor from 0,
    as a piecewise linear function (empty when there is no disruption: F(t) = t).
    """

    index: int
    label: str
    kind: str  # "arc", "node", "transship", "pool", "rsom"
    target: str  # id of the link, node, pool or region
    rate: float
    breaks: list[float] = field(default_factory=list)
    cum: list[float] = field(default_factory=list)
    factors: list[float] = field(default_factory=list)
    disruptions: list[tuple[float, float, float, str]] = field(default_factory=list)

    def finalize(self) -> None:
        """Build the cumulative factor function from the disruption windows."""
        if not self.disruptions:
            return
        points = sorted(
            {0.0} | {a for a, _, _, _ in self.disruptions} | {b for _, b, _, _ in self.disruptions}
        )
        self.breaks, self.cum, self.factors = [], [], []
        total = 0.0
        for i, t in enumerate(points):
            f = 1.0
            for a, b, factor, _ in self.disruptions:
                if a <= t < b:
                    f *= factor
            self.breaks.append(t)
            self.cum.append(total)
            self.factors.append(f)
            if i + 1 < len(points):
                total += f * (points[i + 1] - t)

    def day_capacity(self, day: int) -> float:
        """C(d): the capacity of calendar day ``day``, disruptions included."""
        if not self.breaks:
            return self.rate
        return self.rate * (self.factor_integral(day + 1.0) - self.factor_integral(float(day)))

    def factor_integral(self, t: float) -> float:
        """F(t): integral of the rate factor from 0 to t."""
        if not self.breaks:
            return t
        i = bisect_right(self.breaks, t) - 1
        if i < 0:
            return t
        return self.cum[i] + self.factors[i] * (t - self.breaks[i])

    def disruption_at(self, start: float, end: float) -> str | None:
        """Id of a disruption overlapping [start, end], if any."""
        for a, b, _, ident in self.disruptions:
            if a <= end and b >= start:
                return ident
        return None


@dataclass
class Arc:
    """A directed use of a link."""

    index: int
    link: Link
    src: int
    dst: int
    cls: int  # index into CompiledNetwork.classes
    hours: float
    t_server: int | None
    pax_server: int | None
    pool: LiftPool | None
    pool_server: int | None
    usable: tuple[bool, bool, bool]  # by load class: people, equipment, outsize


@dataclass
class CompiledNetwork:
    """Arrays and servers of a scenario's network, indexed by int."""

    scenario: Scenario
    node_ids: list[str]
    node_index: dict[str, int]
    classes: list[str]
    rail_gauge: list[int | None]
    arcs: list[Arc]
    out_arcs: list[list[int]]
    servers: list[Server]
    node_t_server: list[int | None]
    node_pax_server: list[int | None]
    node_transship_server: list[int | None]
    node_delay: list[float]  # handling hours / 24
    node_transship_delay: list[float]  # transship hours / 24
    rsom_t_server: dict[str, int | None]
    rsom_pax_server: dict[str, int | None]
    _h: dict[tuple[int, int, float], list[list[float]]] = field(default_factory=dict)
    _graphs: dict[int, _ExpandedGraph] = field(default_factory=dict)
    _same_as: dict[tuple[int, float], float] = field(default_factory=dict)
    _by_weights: dict[tuple[int, bytes], float] = field(default_factory=dict)

    def gauge_change(self, k_in: int | None, k: int) -> bool:
        """Whether leaving by class ``k`` after arriving by ``k_in`` changes rail gauge."""
        if k_in is None:
            return False
        a, b = self.rail_gauge[k_in], self.rail_gauge[k]
        return a is not None and b is not None and a != b

    def hop_delay(self, v: int, k_in: int | None, arc: Arc, load_class: int) -> float:
        """Uncongested delay of a hop (stages 3 and 6), in days."""
        d = self.node_delay[v] + arc.hours / 24.0
        if load_class != CLASS_PEOPLE and self.gauge_change(k_in, arc.cls):
            d += self.node_transship_delay[v]
        return d

    def time_to_go(self, dest: int, load_class: int, amount: float = 0.0) -> list[list[float]]:
        """H[v][slot]: days from node v to ``dest`` for a load of ``amount``, uncongested.

        ``slot`` is 0 at the load's start, else 1 + the class it arrived by (so gauge changes
        cost their transshipment). A hop costs its delays plus, on each server, the days beyond
        the first that ``amount`` needs at the server's daily capacity, max(0, W / C - 1)
        (docs/simulation.md, "Routing"). Computed by Dijkstra on the state-expanded graph once per
        destination, load class and set of edge weights (amounts with equal weights share it).
        """
        key = (dest, load_class, amount)
        hit = self._h.get(key)
        if hit is not None:
            return hit
        same = self._same_as.get((load_class, amount))
        if same is None:
            same = self._canonical_amount(load_class, amount)
        if same != amount:
            # Another amount gives bit for bit the same edge weights, hence the same table.
            shared = self.time_to_go(dest, load_class, same)
            self._h[key] = shared
            return shared
        g = self._expanded(load_class)
        n, nk = len(self.node_ids), len(self.classes) + 1
        w = self._pair_weights(g, amount)
        # Backwards: an edge u -> v becomes v -> u, so distances are times *to* dest.
        graph = csr_matrix((w, (g.pair_dst, g.pair_src)), shape=(n * nk, n * nk))
        starts = [dest * nk + s for s in range(nk)]
        dist = dijkstra(graph, directed=True, indices=starts, min_only=True)
        h: list[list[float]] = dist.reshape(n, nk).tolist()
        self._h[key] = h
        return h

    def _canonical_amount(self, load_class: int, amount: float) -> float:
        """The first amount seen whose edge weights equal ``amount``'s exactly.

        Every load within the daily capacity of every server it could meet costs only the
        delays, so most amounts share one table: found by comparing the weights themselves,
        which makes sharing exact (never an approximation).
        """
        digest = self._pair_weights(self._expanded(load_class), amount).tobytes()
        same = self._by_weights.setdefault((load_class, digest), amount)
        self._same_as[(load_class, amount)] = same
        return same

    @staticmethod
    def _pair_weights(g: _ExpandedGraph, amount: float) -> np.ndarray:
        """Days per edge of the state-expanded graph for ``amount``, fastest of parallel edges."""
        # Days beyond the first at each server: a load within a day's capacity costs nothing.
        weight = g.delay + np.maximum(0.0, amount * g.slow_node - 1.0)
        weight += np.maximum(0.0, amount * g.slow_x - 1.0)
        weight += np.maximum(0.0, amount * g.slow_link - 1.0)
        if g.pool_rate.size:
            trips = amount / g.pool_cap  # fluid: loads share aircraft and ships
            pool_days = np.maximum(0.0, trips * g.pool_rt / g.pool_rate - 1.0)
            weight += np.where(g.has_pool, pool_days, 0.0)
        # Parallel edges would be summed by the sparse matrix: keep the fastest of each pair.
        return np.minimum.reduceat(weight[g.pair_order], g.pair_start) if weight.size else weight

    def _expanded(self, load_class: int) -> _ExpandedGraph:
        """Edges (v, slot) -> (w, class slot) of the state-expanded graph, per load class."""
        hit = self._graphs.get(load_class)
        if hit is not None:
            return hit
        nk = len(self.classes) + 1
        people = load_class == CLASS_PEOPLE
        src: list[int] = []
        dst: list[int] = []
        delay: list[float] = []
        slow_node: list[float] = []
        slow_x: list[float] = []
        slow_link: list[float] = []
        has_pool: list[bool] = []
        cap: list[float] = []
        rt: list[float] = []
        rate: list[float] = []

        def slowness(s: int | None) -> float:
            """Days per unit of work at a server's undisrupted daily capacity (0: unlimited)."""
            return 1.0 / self.servers[s].rate if s is not None else 0.0

        for arc in self.arcs:
            if not arc.usable[load_class]:
                continue
            v = arc.src
            node_s = self.node_pax_server[v] if people else self.node_t_server[v]
            link_s = arc.pax_server if people else arc.t_server
            pool = arc.pool
            for slot in range(nk):
                k_in = None if slot == 0 else slot - 1
                change = not people and self.gauge_change(k_in, arc.cls)
                x = self.node_transship_server[v] if change else None
                src.append(v * nk + slot)
                dst.append(arc.dst * nk + arc.cls + 1)
                delay.append(self.hop_delay(v, k_in, arc, load_class))
                slow_node.append(slowness(node_s))
                slow_x.append(slowness(x))
                slow_link.append(slowness(link_s))
                has_pool.append(pool is not None)
                if pool is not None and arc.pool_server is not None:
                    cap.append(pool.pax if people else pool.payload_t)
                    rt.append(
                        (2 * arc.link.distance_km / pool.speed_kmh + pool.turnaround_hours) / 24
                    )
                    rate.append(self.servers[arc.pool_server].rate)
                else:
                    cap.append(1.0)
                    rt.append(0.0)
                    rate.append(1.0)
        g = _ExpandedGraph(
            src=np.array(src, dtype=np.int64),
            dst=np.array(dst, dtype=np.int64),
            delay=np.array(delay),
            slow_node=np.array(slow_node),
            slow_x=np.array(slow_x),
            slow_link=np.array(slow_link),
            has_pool=np.array(has_pool, dtype=bool),
            pool_cap=np.array(cap),
            pool_rt=np.array(rt),
            pool_rate=np.array(rate),
        )
        self._graphs[load_class] = g
        return g


@dataclass
class _ExpandedGraph:
    src: np.ndarray
    dst: np.ndarray
    delay: np.ndarray
    slow_node: np.ndarray
    slow_x: np.ndarray
    slow_link: np.ndarray
    has_pool: np.ndarray
    pool_cap: np.ndarray
    pool_rt: np.ndarray
    pool_rate: np.ndarray
    # Edges grouped by (src, dst) once, so each amount's fastest parallel edge is one reduceat.
    pair_order: np.ndarray = field(init=False)
    pair_start: np.ndarray = field(init=False)
    pair_src: np.ndarray = field(init=False)
    pair_dst: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.pair_order = np.lexsort((self.dst, self.src))
        src, dst = self.src[self.pair_order], self.dst[self.pair_order]
        first = np.ones(len(src), dtype=bool)
        first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
        self.pair_start = np.flatnonzero(first)
        self.pair_src, self.pair_dst = src[first], dst[first]


def load_class_of(kind: int, outsize: bool) -> int:
    """Routing class of a load."""
    if kind == PEOPLE:
        return CLASS_PEOPLE
    return CLASS_OUTSIZE if outsize else CLASS_EQUIPMENT


def compile_network(scenario: Scenario) -> CompiledNetwork:
    """Index a scenario's nodes, links, pools and regions into a :class:`CompiledNetwork`."""
    node_ids = [n.id for n in scenario.nodes]
    node_index = {nid: i for i, nid in enumerate(node_ids)}
    servers: list[Server] = []

    def server(label: str, kind: str, target: str, rate: float | None) -> int | None:
        if rate is None:
            return None
        s = Server(len(servers), label, kind, target, rate)
        servers.append(s)
        return s.index

    classes: list[str] = []
    class_index: dict[str, int] = {}
    rail_gauge: list[int | None] = []
    for lk in scenario.links:
        name = f"rail{lk.gauge}" if lk.mode == "rail" else str(lk.mode)
        if name not in class_index:
            class_index[name] = len(classes)
            classes.append(name)
            rail_gauge.append(lk.gauge if lk.mode == "rail" else None)

    node_t = [
        server(f"node {n.id} handling (t)", "node", n.id, n.t_per_day) for n in scenario.nodes
    ]
    node_p = [
        server(f"node {n.id} handling (pax)", "node", n.id, n.pax_per_day) for n in scenario.nodes
    ]
    node_x = [
        server(f"transship at {n.id}", "transship", n.id, n.transship.t_per_day)
        if n.transship is not None
        else None
        for n in scenario.nodes
    ]
    pool_servers = {
        p.id: server(f"lift pool {p.id}", "pool", p.id, p.assets * p.availability)
        for p in scenario.lift_pools
    }
    pools = {p.id: p for p in scenario.lift_pools}
    arcs: list[Arc] = []
    link_servers: dict[str, list[int]] = {}
    for lk in scenario.links:
        ends = [(lk.from_, lk.to)] + ([(lk.to, lk.from_)] if lk.bidirectional else [])
        for src, dst in ends:
            direction = "" if src == lk.from_ else " (return)"
            t_s = server(f"link {lk.id}{direction} (t)", "arc", lk.id, lk.t_per_day)
            p_s = server(f"link {lk.id}{direction} (pax)", "arc", lk.id, lk.pax_per_day)
            link_servers.setdefault(lk.id, []).extend(s for s in (t_s, p_s) if s is not None)
            pool = pools.get(lk.pool) if lk.pool else None
            people_ok = lk.pax_per_day != 0 and (pool is None or pool.pax > 0)
            eq_ok = lk.t_per_day != 0 and (pool is None or pool.payload_t > 0)
            outsize_ok = eq_ok and not (lk.mode == "air" and (pool is None or not pool.outsize))
            arcs.append(
                Arc(
                    index=len(arcs),
                    link=lk,
                    src=node_index[src],
                    dst=node_index[dst],
                    cls=class_index[f"rail{lk.gauge}" if lk.mode == "rail" else str(lk.mode)],
                    hours=lk.distance_km / lk.speed_kmh,
                    t_server=t_s,
                    pax_server=p_s,
                    pool=pool,
                    pool_server=pool_servers.get(lk.pool) if lk.pool else None,
                    usable=(people_ok, eq_ok, outsize_ok),
                )
            )
    out_arcs: list[list[int]] = [[] for _ in node_ids]
    for arc in arcs:
        out_arcs[arc.src].append(arc.index)
    rsom_t = {
        r.id: server(f"RSOM {r.id} (t)", "rsom", r.id, r.rsom.t_per_day) for r in scenario.regions
    }
    rsom_p = {
        r.id: server(f"RSOM {r.id} (pax)", "rsom", r.id, r.rsom.pax_per_day)
        for r in scenario.regions
    }
    for d in scenario.disruptions:
        window = (d.start_day, d.start_day + d.days, d.capacity_factor, d.id or d.target)
        if d.target in node_index:
            i = node_index[d.target]
            targets = [s for s in (node_t[i], node_p[i], node_x[i]) if s is not None]
        else:
            targets = link_servers.get(d.target, [])
        for s in targets:
            servers[s].disruptions.append(window)
    for srv in servers:
        srv.finalize()
    return CompiledNetwork(
        scenario=scenario,
        node_ids=node_ids,
        node_index=node_index,
        classes=classes,
        rail_gauge=rail_gauge,
        arcs=arcs,
        out_arcs=out_arcs,
        servers=servers,
        node_t_server=node_t,
        node_pax_server=node_p,
        node_transship_server=node_x,
        node_delay=[n.handling_hours / 24.0 for n in scenario.nodes],
        node_transship_delay=[
            (n.transship.hours / 24.0 if n.transship is not None else 0.0) for n in scenario.nodes
        ],
        rsom_t_server=rsom_t,
        rsom_pax_server=rsom_p,
    )


def pool_work(arc: Arc, amount: float, kind: int) -> float:
    """Asset-days a pool spends carrying ``amount`` over ``arc`` (stage 5)."""
    pool = arc.pool
    if pool is None or amount <= 0:
        return 0.0
    per_trip = pool.payload_t if kind == EQUIPMENT else pool.pax
    # Fluid trips: loads share assets, so a battalion fills part of a ship, not a whole one.
    trips = amount / per_trip
    round_trip_h = 2.0 * arc.link.distance_km / pool.speed_kmh + pool.turnaround_hours
    return trips * round_trip_h / 24.0
