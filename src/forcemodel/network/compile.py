"""Compile a scenario's network into indexed arrays: arcs, servers, time-to-go tables.

The simulation and the baseline both start from this; it reads no files and prints nothing.
See docs/simulation.md for the rules these structures encode.

Long because the arcs, their servers, the movement classes (gauges, profiles, road-march
limits) and the time-to-go tables are indexed together, in the order the compiled engine's
arrays expect; split, the modules would pass a dozen index maps between them.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np

from forcemodel.network.shortest import distances_to, pair_weights
from forcemodel.scenario.model import (
    LiftPool,
    Link,
    Mode,
    Node,
    Profile,
    Region,
    Scenario,
    Unit,
)

EQUIPMENT, PEOPLE = 0, 1
#: Load classes for routing: people, equipment, outsize equipment (the first three of every
#: network; the movement profiles and road-march limits of its units add more).
CLASS_PEOPLE, CLASS_EQUIPMENT, CLASS_OUTSIZE = 0, 1, 2
INF = math.inf


@dataclass(frozen=True)
class LoadClass:
    """What routing tells apart about a load (docs/simulation.md, "Movement profiles").

    ``modes``: the only modes it may use (empty: all); ``own_power``: it sails or flies by
    itself, so its hops pass no server and no handling (a ship's crew stays aboard);
    ``road_km``: its longest road march (a longer road link is closed to it, and it never takes
    two road links in a row), None: no limit.
    """

    kind: int  # EQUIPMENT or PEOPLE
    outsize: bool = False
    modes: tuple[str, ...] = ()
    own_power: bool = False
    road_km: float | None = None


BASE_CLASSES = (LoadClass(PEOPLE), LoadClass(EQUIPMENT), LoadClass(EQUIPMENT, outsize=True))


def profile_reception(region: Region, unit: Unit) -> tuple[str, object] | None:
    """``(profile, reception)`` where the region receives the unit's profile at a port or an
    air base of its own; None: the unit moves and is received as the army is."""
    if unit.profile == Profile.ship and region.port is not None:
        return "port", region.port
    if unit.profile == Profile.aircraft and region.air_base is not None:
        return "air_base", region.air_base
    return None


def unit_load_classes(unit: Unit, region: Region) -> tuple[LoadClass, LoadClass]:
    """The (equipment, people) load classes of a unit bound for a region."""
    applied = profile_reception(region, unit)
    if applied is not None:
        mode = "sea" if applied[0] == "port" else "air"
        own = applied[0] == "port"
        return (
            LoadClass(EQUIPMENT, unit.outsize, (mode,), own),
            LoadClass(PEOPLE, False, (mode,), own),
        )
    return LoadClass(EQUIPMENT, unit.outsize, road_km=unit.max_road_march_km), BASE_CLASSES[0]


def arc_usable(lk: Link, pool: LiftPool | None, spec: LoadClass) -> bool:
    """Whether a load of class ``spec`` may use an arc of link ``lk`` (docs/simulation.md)."""
    if spec.modes and str(lk.mode) not in spec.modes:
        return False
    if spec.own_power:
        return True  # no lift, no arc capacity: the ship sails
    if spec.road_km is not None and lk.mode == "road" and lk.distance_km > spec.road_km:
        return False
    if spec.kind == PEOPLE:
        return lk.pax_per_day != 0 and (pool is None or pool.pax > 0)
    eq_ok = lk.t_per_day != 0 and (pool is None or pool.payload_t > 0)
    if spec.outsize:
        return eq_ok and not (lk.mode == "air" and (pool is None or not pool.outsize))
    return eq_ok


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
    usable: tuple[bool, ...]  # by load class (CompiledNetwork.load_classes)

    @property
    def round_trip_hours(self) -> float:
        """Hours an asset of the arc's lift pool takes there and back, turnaround included."""
        if self.pool is None:
            return 0.0
        return 2.0 * self.link.distance_km / self.pool.speed_kmh + self.pool.turnaround_hours


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
    class_transfer_hours: list[float]  # hours to load onto or unload from each class's mode
    #: By node and arc class: the node's server loading onto or unloading from the class's mode
    #: (its ``transfer``), and the hours it takes there (its own, else meta.transfer_hours).
    node_mode_server: list[list[int | None]]
    node_class_hours: list[list[float]]
    node_country: list[int]  # index of each node's country
    node_permit_day: list[float]  # day from which loads may enter the node's country (0: any)
    rsom_t_server: dict[str, int | None]
    rsom_pax_server: dict[str, int | None]
    load_classes: list[LoadClass] = field(default_factory=lambda: list(BASE_CLASSES))
    #: Servers of the ports' and air bases' reception, by (region id, "port" or "air_base").
    reception_t_server: dict[tuple[str, str], int | None] = field(default_factory=dict)
    reception_pax_server: dict[tuple[str, str], int | None] = field(default_factory=dict)
    _h_array: dict[tuple[int, int, float], np.ndarray] = field(default_factory=dict)
    _h_lists: dict[int, list[list[float]]] = field(default_factory=dict)  # by id of the array
    _graphs: dict[int, _ExpandedGraph] = field(default_factory=dict)
    _same_as: dict[tuple[int, float], float] = field(default_factory=dict)
    _by_weights: dict[tuple[int, bytes], float] = field(default_factory=dict)
    _weights: dict[tuple[int, float], np.ndarray] = field(default_factory=dict)

    def class_of(self, spec: LoadClass) -> int:
        """Index of a load class (every class of the scenario's units was compiled)."""
        return self.load_classes.index(spec)

    @property
    def road_class(self) -> int:
        """Index of the arc class ``road``, -1 if no link is a road."""
        return self.classes.index("road") if "road" in self.classes else -1

    def receiving(self, unit: Unit, region: Region) -> tuple[int, int, int, int | None, int | None]:
        """How a unit bound for a region arrives: (reception node, equipment class, people
        class, reception tons server, reception people server)."""
        eq, px = unit_load_classes(unit, region)
        applied = profile_reception(region, unit)
        if applied is None:
            node = region.reception
            t_s, p_s = self.rsom_t_server[region.id], self.rsom_pax_server[region.id]
        else:
            where, rec = applied
            node = rec.node  # type: ignore[attr-defined]
            t_s = self.reception_t_server[(region.id, where)]
            p_s = self.reception_pax_server[(region.id, where)]
        return self.node_index[node], self.class_of(eq), self.class_of(px), t_s, p_s

    def class_change(self, k_in: int | None, k: int) -> bool:
        """Whether leaving by class ``k`` after arriving by ``k_in`` changes mode or gauge."""
        return k_in is not None and k_in != k

    def transfer_days(self, v: int, k_in: int | None, k: int) -> float:
        """Days a change of class at node ``v`` takes: its transship hours, else unloading
        from ``k_in``'s mode plus loading onto ``k``'s (docs/simulation.md, stage 3)."""
        if not self.class_change(k_in, k) or k_in is None:
            return 0.0
        if self.node_transship_server[v] is not None:
            return self.node_transship_delay[v]
        return (self.node_class_hours[v][k_in] + self.node_class_hours[v][k]) / 24.0

    def transfer_servers(self, v: int, k_in: int | None, k: int) -> tuple[int | None, int | None]:
        """Stage 2's servers of a change of class at node ``v``: its transship (and none), else
        the unloading server of ``k_in``'s mode and the loading server of ``k``'s."""
        if not self.class_change(k_in, k) or k_in is None:
            return None, None
        if self.node_transship_server[v] is not None:
            return self.node_transship_server[v], None
        return self.node_mode_server[v][k_in], self.node_mode_server[v][k]

    def time_to_go(self, dest: int, load_class: int, amount: float = 0.0) -> list[list[float]]:
        """H[v][slot]: :meth:`time_to_go_array` as lists, for quick lookups from Python."""
        array = self.time_to_go_array(dest, load_class, amount)
        hit = self._h_lists.get(id(array))  # amounts that share a table share its lists
        if hit is None:
            hit = self._h_lists[id(array)] = array.tolist()
        return hit

    def time_to_go_array(self, dest: int, load_class: int, amount: float = 0.0) -> np.ndarray:
        """H[v, slot]: days from node v to ``dest`` for a load of ``amount``, uncongested.

        ``slot`` is 0 at the load's start, else 1 + the class it arrived by (so gauge changes
        cost their transshipment). A hop costs its delays plus, on each server, the days beyond
        the first that ``amount`` needs at the server's daily capacity, max(0, W / C - 1)
        (docs/simulation.md, "Routing"). Computed by Dijkstra on the state-expanded graph once per
        destination, load class and set of edge weights (amounts with equal weights share it).
        """
        key = (dest, load_class, amount)
        hit = self._h_array.get(key)
        if hit is not None:
            return hit
        same = self._same_as.get((load_class, amount))
        if same is None:
            same = self._canonical_amount(load_class, amount)
        if same != amount:
            # Another amount gives bit for bit the same edge weights, hence the same table.
            shared = self.time_to_go_array(dest, load_class, same)
            self._h_array[key] = shared
            return shared
        g = self._expanded(load_class)
        n, nk = len(self.node_ids), len(self.classes) + 1
        w = self._weights.pop((load_class, amount), None)
        if w is None:
            w = self._pair_weights(g, amount)
        # Backwards from dest's states over incoming edges: distances are times *to* dest.
        starts = np.arange(dest * nk, dest * nk + nk, dtype=np.int64)
        dist = distances_to(g.in_ptr, g.in_src, g.in_edge, w, starts, n * nk)
        table: np.ndarray = dist.reshape(n, nk)
        self._h_array[key] = table
        return table

    def _canonical_amount(self, load_class: int, amount: float) -> float:
        """The first amount seen whose edge weights equal ``amount``'s exactly.

        Every load within the daily capacity of every server it could meet costs only the
        delays, so most amounts share one table: found by comparing the weights themselves,
        which makes sharing exact (never an approximation).
        """
        weights = self._pair_weights(self._expanded(load_class), amount)
        same = self._by_weights.setdefault((load_class, weights.tobytes()), amount)
        self._same_as[(load_class, amount)] = same
        if same == amount:
            self._weights[(load_class, amount)] = weights  # its table is made next
        return same

    @staticmethod
    def _pair_weights(g: _ExpandedGraph, amount: float) -> np.ndarray:
        """Days per edge of the state-expanded graph for ``amount``, fastest of parallel edges."""
        weights: np.ndarray = pair_weights(
            amount, g.delay, g.slow_node, g.slow_x, g.slow_x2, g.slow_link, g.has_pool, g.pool_cap,
            g.pool_rt, g.pool_rate, g.pair_order, g.pair_start,
        )  # fmt: skip
        return weights

    def _expanded(self, load_class: int) -> _ExpandedGraph:
        """Edges (v, slot) -> (w, class slot) of the state-expanded graph, per load class.

        One row per usable arc and one column per slot the load may have arrived by, flattened
        arc by arc. A hop's delay is handling plus travel, plus the transshipment when a
        gauge changes (not for people): stages 3 and 6 of docs/simulation.md.
        """
        hit = self._graphs.get(load_class)
        if hit is not None:
            return hit
        nk = len(self.classes) + 1
        spec = self.load_classes[load_class]
        people, own = spec.kind == PEOPLE, spec.own_power
        arcs = [arc for arc in self.arcs if arc.usable[load_class]]
        rate = np.array([s.rate for s in self.servers] + [np.inf])  # last: no server

        def server_of(ids: list[int | None]) -> np.ndarray:
            return np.array([len(self.servers) if s is None else s for s in ids], dtype=np.int64)

        def slowness(servers: np.ndarray) -> np.ndarray:
            """Days per unit of work at each server's undisrupted capacity (0: unlimited)."""
            return np.where(servers < len(self.servers), 1.0 / rate[servers], 0.0)

        v = np.array([arc.src for arc in arcs], dtype=np.int64)
        cls = np.array([arc.cls for arc in arcs], dtype=np.int64)
        hours = np.array([arc.hours for arc in arcs], dtype=float)
        node_delay = np.array(self.node_delay, dtype=float)
        x_delay = np.array(self.node_transship_delay, dtype=float)
        n_cls = len(self.classes)
        # Slot 0: at the start (no class arrived by, written as the last entry, -1).
        k_in = np.array([-1, *range(n_cls)])
        change = (k_in[None, :] >= 0) & (k_in[None, :] != cls[:, None])
        if people or own:
            change[:] = False
        # Hours by node and class (the last column, slot 0's "none", 0).
        cx = np.array([[*row, 0.0] for row in self.node_class_hours], dtype=float).reshape(
            len(self.node_ids), n_cls + 1
        )
        has_x = np.array([s is not None for s in self.node_transship_server], dtype=bool)
        # A change of class: the node's transship time, else unloading plus loading.
        x_days = np.where(
            has_x[v][:, None],
            x_delay[v][:, None],
            (cx[v][:, k_in] + cx[v, cls][:, None]) / 24.0,
        )
        base = (0.0 if own else node_delay[v]) + hours / 24.0
        delay = np.where(change, base[:, None] + x_days, base[:, None])
        if spec.road_km is not None and self.road_class >= 0:
            # A road march is one road link: no road link after arriving by road.
            chain = (cls[:, None] == self.road_class) & (k_in[None, :] == self.road_class)
            delay = np.where(chain, np.inf, delay)

        def no_server(ids: list[int | None]) -> list[int | None]:
            return [None] * len(ids) if own else ids  # under its own power: no server

        node_s = server_of(
            no_server(
                [(self.node_pax_server if people else self.node_t_server)[a.src] for a in arcs]
            )
        )
        x_s = server_of(no_server([self.node_transship_server[a.src] for a in arcs]))
        link_s = server_of(no_server([a.pax_server if people else a.t_server for a in arcs]))
        # Without a transship: the unloading server of the mode arrived by (per slot) and the
        # loading server of the arc's mode (the node's ``transfer``).
        modes = np.array([[*row, None] for row in self.node_mode_server], dtype=object).reshape(
            len(self.node_ids), n_cls + 1
        )
        unload = server_of(no_server(list(modes[v][:, k_in].ravel()))).reshape(len(arcs), nk)
        load = server_of(no_server(list(modes[v, cls]))) if len(arcs) else np.zeros(0, np.int64)
        slow_x = np.where(
            change,
            np.where(has_x[v][:, None], slowness(x_s)[:, None], slowness(unload.ravel()).reshape(
                len(arcs), nk
            )),
            0.0,
        )  # fmt: skip
        slow_x2 = np.where(change & ~has_x[v][:, None], slowness(load)[:, None], 0.0)
        has_pool = np.array([a.pool is not None and not own for a in arcs], dtype=bool)
        # Per trip, round trip (days) and asset-days a day; neutral where no pool server.
        pool_columns = np.array(
            [
                (
                    a.pool.pax if people else a.pool.payload_t,
                    a.round_trip_hours / 24,
                    self.servers[a.pool_server].rate,
                )
                if a.pool is not None and a.pool_server is not None and not own
                else (1.0, 0.0, 1.0)
                for a in arcs
            ],
            dtype=float,
        ).reshape(len(arcs), 3)
        cap, rt, pool_rate = pool_columns.T
        dst = np.array([arc.dst for arc in arcs], dtype=np.int64) * nk + cls + 1

        def per_slot(x: np.ndarray) -> np.ndarray:
            return np.repeat(x, nk)

        g = _ExpandedGraph(
            n_states=len(self.node_ids) * nk,
            src=(v[:, None] * nk + np.arange(nk)[None, :]).ravel(),
            dst=per_slot(dst),
            delay=delay.ravel(),
            slow_node=per_slot(slowness(node_s)),
            slow_x=slow_x.ravel(),
            slow_x2=slow_x2.ravel(),
            slow_link=per_slot(slowness(link_s)),
            has_pool=per_slot(has_pool),
            pool_cap=per_slot(cap),
            pool_rt=per_slot(rt),
            pool_rate=per_slot(pool_rate),
        )
        self._graphs[load_class] = g
        return g


@dataclass
class _ExpandedGraph:
    n_states: int  # nodes times slots
    src: np.ndarray
    dst: np.ndarray
    delay: np.ndarray
    slow_node: np.ndarray
    slow_x: np.ndarray
    slow_x2: np.ndarray
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
    # Incoming edges of each state (CSR): in_src[in_ptr[y]:in_ptr[y + 1]] -> y, weight in_edge.
    in_ptr: np.ndarray = field(init=False)
    in_src: np.ndarray = field(init=False)
    in_edge: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.pair_order = np.lexsort((self.dst, self.src))
        src, dst = self.src[self.pair_order], self.dst[self.pair_order]
        first = np.ones(len(src), dtype=bool)
        first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
        self.pair_start = np.flatnonzero(first)
        self.pair_src, self.pair_dst = src[first], dst[first]
        self.in_edge = np.argsort(self.pair_dst, kind="stable")
        self.in_src = self.pair_src[self.in_edge]
        self.in_ptr = np.zeros(self.n_states + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.pair_dst, minlength=self.n_states), out=self.in_ptr[1:])


def load_class_of(kind: int, outsize: bool) -> int:
    """Routing class of a load."""
    if kind == PEOPLE:
        return CLASS_PEOPLE
    return CLASS_OUTSIZE if outsize else CLASS_EQUIPMENT


def compile_network(scenario: Scenario) -> CompiledNetwork:
    """Index a scenario's nodes, links, pools and regions into a :class:`CompiledNetwork`.

    Long because every node, link, pool and region adds its servers and arcs to the same
    index lists in one pass (the server closure numbers them in the engine's order).
    """
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
    load_classes = list(BASE_CLASSES)
    kinds = {(u.profile, u.outsize, u.max_road_march_km): u for u in scenario.units}
    for u in kinds.values():
        # The army's classes always (the planner weighs them), and those of each region.
        specs = [LoadClass(EQUIPMENT, u.outsize, road_km=u.max_road_march_km)]
        for r in scenario.regions:
            specs.extend(unit_load_classes(u, r))
        for spec in specs:
            if spec not in load_classes:
                load_classes.append(spec)
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
                    usable=tuple(arc_usable(lk, pool, spec) for spec in load_classes),
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
    reception_t: dict[tuple[str, str], int | None] = {}
    reception_p: dict[tuple[str, str], int | None] = {}
    receiving = (("t", reception_t, "t_per_day"), ("pax", reception_p, "pax_per_day"))
    for kind_, table, attr in receiving:
        for r in scenario.regions:
            for where in ("port", "air_base"):
                rec = getattr(r, where)
                if rec is not None:
                    table[(r.id, where)] = server(
                        f"{where.replace('_', ' ')} {r.id} ({kind_})", "rsom", r.id,
                        getattr(rec, attr),
                    )  # fmt: skip
    # Last, the nodes' loading and unloading servers by mode (ramps, berths, air terminals).
    mode_servers: list[dict[str, int | None]] = [
        {
            str(m): server(f"transfer {m} at {n.id}", "transfer", n.id, n.transfer[m].t_per_day)
            for m in Mode
            if m in n.transfer
        }
        for n in scenario.nodes
    ]
    for d in scenario.disruptions:
        window = (d.start_day, d.start_day + d.days, d.capacity_factor, d.id or d.target)
        if d.target in node_index:
            i = node_index[d.target]
            cut = (node_t[i], node_p[i], node_x[i], *mode_servers[i].values())
            targets = [s for s in cut if s is not None]
        else:
            targets = link_servers.get(d.target, [])
        for s in targets:
            servers[s].disruptions.append(window)
    for p in scenario.lift_pools:  # reserve ships and recalled crews: no lift before activation
        s_id = pool_servers[p.id]
        if p.activation_days > 0 and s_id is not None:
            servers[s_id].disruptions.append((0.0, p.activation_days, 0.0, f"activation of {p.id}"))
    for srv in servers:
        srv.finalize()
    countries = sorted({n.country for n in scenario.nodes})
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
        node_country=[countries.index(n.country) for n in scenario.nodes],
        node_permit_day=[scenario.meta.permit_days.get(n.country, 0.0) for n in scenario.nodes],
        class_transfer_hours=[scenario.meta.transfer_hours.of(_mode_of(name)) for name in classes],
        node_mode_server=[[ms.get(_mode_of(name)) for name in classes] for ms in mode_servers],
        node_class_hours=[
            [_hours_at(n, _mode_of(name), scenario) for name in classes] for n in scenario.nodes
        ],
        rsom_t_server=rsom_t,
        rsom_pax_server=rsom_p,
        load_classes=load_classes,
        reception_t_server=reception_t,
        reception_pax_server=reception_p,
    )


def _mode_of(arc_class: str) -> str:
    """The mode of an arc class (``rail1435`` is rail)."""
    return "rail" if arc_class.startswith("rail") else arc_class


def _hours_at(node: Node, mode: str, scenario: Scenario) -> float:
    """Hours to load onto or unload from a mode at a node: its own, else the scenario's."""
    own = node.transfer.get(Mode(mode))
    if own is not None and own.hours is not None:
        return own.hours
    return scenario.meta.transfer_hours.of(mode)


def pool_work(arc: Arc, amount: float, kind: int) -> float:
    """Asset-days a pool spends carrying ``amount`` over ``arc`` (stage 5)."""
    pool = arc.pool
    if pool is None or amount <= 0:
        return 0.0
    per_trip = pool.payload_t if kind == EQUIPMENT else pool.pax
    # Fluid trips: loads share assets, so a battalion fills part of a ship, not a whole one.
    trips = amount / per_trip
    return trips * arc.round_trip_hours / 24.0
