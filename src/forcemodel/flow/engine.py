"""The force-flow engine: loads through servers with a capacity per day on a compiled network.

A lean discrete-event core (one heap of (time, phase, key, seq)) that follows the rules in
docs/simulation.md exactly. Servers with unlimited capacity generate no events at all, and a
load that finds capacity left in the day passes at once without an event, so the work is
proportional to the saturated stages.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

from forcemodel.flow.plan import UnitPlan, rsom_days
from forcemodel.network.compile import (
    EQUIPMENT,
    INF,
    PEOPLE,
    Arc,
    CompiledNetwork,
    load_class_of,
    pool_work,
)

_STEP, _DAY = 0, 1


def _covers(left: float, work: float) -> bool:
    """Whether capacity ``left`` covers ``work`` (tolerant of rounding in sums of loads)."""
    return work <= left + 1e-9 * max(1.0, work)


@dataclass
class _Load:
    index: int
    unit: int
    kind: int  # EQUIPMENT or PEOPLE
    amount: float
    cls: int
    key: tuple[Any, ...]  # (tier, -urgency, unit index, load index)
    dest: int
    node: int
    k_in: int | None = None
    stages: list[tuple[int, Any]] = field(default_factory=list)  # (0 delay | 1 server, value)
    hop_arc: int = -1
    hop_start: float = 0.0
    hop_depart: float = 0.0
    hop_wait: float = 0.0
    hop_reason: str = ""
    hop_reason_wait: float = 0.0
    phase: str = "move"  # "move" to dest, "to_depot" then drawn, "rsom" at reception
    request_time: float = 0.0
    done_at: float = INF


@dataclass
class _Srv:
    day: int = -1  # the calendar day whose capacity `left` is
    left: float = 0.0
    queue: list[tuple[Any, ...]] = field(default_factory=list)
    need: dict[int, float] = field(default_factory=dict)  # waiting load -> work still needed
    queued_work: float = 0.0
    pending: bool = False  # a day start is scheduled
    served: dict[int, float] = field(default_factory=dict)  # day -> work passed that day

    def pass_work(self, day: int, work: float) -> None:
        self.served[day] = self.served.get(day, 0.0) + work


@dataclass
class EngineOutput:
    """Raw output of a run: event rows, unit timings, work each server passed each day."""

    events: dict[str, list[Any]]
    ready: list[float]
    arrival: list[float]
    closure: list[float]
    server_days: list[dict[int, float]]


class Engine:
    """One run of the simulation over a compiled network and a day-0 plan."""

    def __init__(self, net: CompiledNetwork, plans: list[UnitPlan]) -> None:
        self.net = net
        self.plans = plans
        self.sc = net.scenario
        self.srv = [_Srv() for _ in net.servers]
        # Per load class and node: the usable outgoing arcs with their head's time-to-go slot.
        self.usable_out: list[list[list[tuple[int, Arc, int, int]]]] = [
            [
                [
                    (ai, net.arcs[ai], net.arcs[ai].dst, net.arcs[ai].cls + 1)
                    for ai in arcs
                    if net.arcs[ai].usable[cls]
                ]
                for arcs in net.out_arcs
            ]
            for cls in range(3)
        ]
        self.heap: list[tuple[Any, ...]] = []
        self.seq = 0
        self.loads: list[_Load] = []
        n = len(self.sc.units)
        self.ready = [u.notice_to_move_days for u in self.sc.units]
        self.arrival = [0.0] * n
        self.closure = [INF] * n
        self.pending = [0] * n  # loads of the unit not yet through RSOM
        self.load_done = [0.0] * n
        self.ev: dict[str, list[Any]] = {
            k: []
            for k in (
                "unit",
                "load",
                "leg",
                "kind",
                "from",
                "to",
                "link",
                "mode",
                "start",
                "depart",
                "arrive",
                "wait_days",
                "wait_reason",
            )
        }
        self.leg_count: dict[int, int] = {}

    # -- bookkeeping ----------------------------------------------------------------------------

    def _push(self, t: float, phase: int, key: tuple[Any, ...], what: int) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, phase, key, self.seq, what))

    def _row(
        self,
        load: _Load,
        kind: str,
        src: str,
        dst: str,
        link: str,
        mode: str,
        start: float,
        depart: float,
        arrive: float,
        wait: float,
        reason: str,
    ) -> None:
        ev = self.ev
        leg = self.leg_count.get(load.index, 0)
        self.leg_count[load.index] = leg + 1
        ev["unit"].append(self.sc.units[load.unit].id)
        ev["load"].append("equipment" if load.kind == EQUIPMENT else "people")
        ev["leg"].append(leg)
        ev["kind"].append(kind)
        ev["from"].append(src)
        ev["to"].append(dst)
        ev["link"].append(link)
        ev["mode"].append(mode)
        ev["start"].append(start)
        ev["depart"].append(depart)
        ev["arrive"].append(arrive)
        ev["wait_days"].append(wait)
        ev["wait_reason"].append(reason)

    # -- run ------------------------------------------------------------------------------------

    def run(self) -> EngineOutput:
        sc = self.sc
        for ui, (u, plan) in enumerate(zip(sc.units, self.plans, strict=True)):
            home = self.net.node_index[u.home]
            key_base = (u.tier, -plan.urgency, ui)
            self.pending[ui] = 2
            if plan.stock is not None and plan.depot is not None:
                people = self._new_load(
                    ui, PEOPLE, u.personnel, u.outsize, key_base, plan.depot, home
                )
                people.phase = "to_depot"
                self._ready_row(people, u.home)
                self._push(u.notice_to_move_days, _STEP, people.key, people.index)
                # The equipment stays home; the set's equipment is created when drawn.
                continue
            for kind, amount in ((EQUIPMENT, u.equipment_t), (PEOPLE, float(u.personnel))):
                load = self._new_load(ui, kind, amount, u.outsize, key_base, plan.reception, home)
                self._ready_row(load, u.home)
                self._push(u.notice_to_move_days, _STEP, load.key, load.index)
        heap = self.heap
        while heap:
            t, phase, _key, _seq, what = heapq.heappop(heap)
            if phase == _STEP:
                self._step(self.loads[what], t)
            else:
                self._day_start(what, t)
        return EngineOutput(
            events=self.ev,
            ready=self.ready,
            arrival=self.arrival,
            closure=self.closure,
            server_days=[s.served for s in self.srv],
        )

    def _new_load(
        self,
        ui: int,
        kind: int,
        amount: float,
        outsize: bool,
        key_base: tuple[Any, ...],
        dest: int,
        node: int,
    ) -> _Load:
        load = _Load(
            index=len(self.loads),
            unit=ui,
            kind=kind,
            amount=float(amount),
            cls=load_class_of(kind, outsize),
            key=(*key_base, kind),
            dest=dest,
            node=node,
        )
        self.loads.append(load)
        return load

    def _ready_row(self, load: _Load, home: str) -> None:
        u = self.sc.units[load.unit]
        if u.notice_to_move_days > 0:
            self._row(
                load,
                "notice_to_move",
                home,
                home,
                "",
                "",
                0.0,
                u.notice_to_move_days,
                u.notice_to_move_days,
                u.notice_to_move_days,
                "notice to move",
            )

    # -- the load's state machine ---------------------------------------------------------------

    def _step(self, load: _Load, t: float) -> None:
        """Advance a load at time t through its stages until it must wait."""
        while True:
            if load.stages:
                what, value = load.stages.pop(0)
                if what == 0:  # delay
                    if value > 0:
                        self._push(t + value, _STEP, load.key, load.index)
                        return
                    continue
                if value == -1:  # marker: the hop's server stages are over, travel begins
                    load.hop_depart = t
                    continue
                s_idx, work = value
                if self._request(load, s_idx, work, t):
                    return  # waiting for capacity; a day start resumes it
                continue
            if load.hop_arc >= 0:
                self._end_hop(load, t)
            if load.phase == "rsom":
                self._rsom_done(load, t)
                return
            if load.node == load.dest:
                self._at_destination(load, t)
                continue
            if load.amount <= 0:
                load.node = load.dest
                continue
            self._start_hop(load, t)

    def _request(self, load: _Load, s_idx: int, work: float, t: float) -> bool:
        """Ask server s for work at t; False if it passes at once, True if it must wait."""
        srv = self.srv[s_idx]
        load.request_time = t
        if not srv.queue:
            d = math.floor(t)
            if d != srv.day:
                srv.day, srv.left = d, self.net.servers[s_idx].day_capacity(d)
            if _covers(srv.left, work):
                srv.left = max(0.0, srv.left - work)
                srv.pass_work(d, work)
                return False
            if srv.left > 0:  # take what is left today, wait for the rest
                srv.pass_work(d, srv.left)
                work -= srv.left
                srv.left = 0.0
        heapq.heappush(srv.queue, (*load.key[:2], t, *load.key[2:], load.index))
        srv.need[load.index] = work
        srv.queued_work += work
        if not srv.pending:
            srv.pending = True
            self._push(float(srv.day + 1), _DAY, (s_idx,), s_idx)
        return True

    def _day_start(self, s_idx: int, t: float) -> None:
        """Give day t's capacity to the waiting requests in queue-key order."""
        srv, server = self.srv[s_idx], self.net.servers[s_idx]
        srv.pending = False
        d = int(t)
        srv.day, srv.left = d, server.day_capacity(d)
        while srv.queue and srv.left > 0:
            li = srv.queue[0][-1]
            need = srv.need[li]
            if not _covers(srv.left, need):
                srv.need[li] = need - srv.left
                srv.queued_work -= srv.left
                srv.pass_work(d, srv.left)
                srv.left = 0.0
                break
            heapq.heappop(srv.queue)
            del srv.need[li]
            srv.queued_work -= need
            srv.left = max(0.0, srv.left - need)
            srv.pass_work(d, need)
            load = self.loads[li]
            self._waited(load, s_idx, t)
            self._push(t, _STEP, load.key, li)
        if not srv.queue:
            srv.queued_work = 0.0  # no drift from sums of floats
        else:
            srv.pending = True
            self._push(t + 1.0, _DAY, (s_idx,), s_idx)

    def _waited(self, load: _Load, s_idx: int, t: float) -> None:
        """Book the wait of a load released at t, and why it waited."""
        wait = t - load.request_time
        if wait <= 0:
            return
        load.hop_wait += wait
        if wait > load.hop_reason_wait:
            server = self.net.servers[s_idx]
            load.hop_reason_wait = wait
            dis = server.disruption_at(load.request_time, t)
            load.hop_reason = server.label + (f" (disrupted: {dis})" if dis else "")

    def _progressing(
        self, load: _Load, h: list[list[float]], v: int, here: float
    ) -> list[tuple[int, Arc, float]]:
        """Arcs from v the load may use that bring it closer: (arc index, arc, time to go)."""
        # Only progress: no wandering, no loops. Arc index order keeps the tie rule.
        return [
            (ai, arc, togo)
            for ai, arc, w, slot in self.usable_out[load.cls][v]
            if (togo := h[w][slot]) < here
        ]

    def _start_hop(self, load: _Load, t: float) -> None:
        net = self.net
        v = load.node
        h = net.time_to_go(load.dest, load.cls, load.amount)
        here = h[v][0 if load.k_in is None else load.k_in + 1]
        best, best_arc = INF, -1
        for ai, arc, togo in self._progressing(load, h, v, here):
            est = self._hop_estimate(load, arc, v, load.k_in, t)
            if arc.dst != load.dest:
                est += self._best_next(load, h, arc.dst, arc.cls, togo, t)
            else:
                est += togo
            if est < best:  # strict: among equal estimates the lower arc index wins
                best, best_arc = est, ai
        arc = net.arcs[best_arc]
        load.hop_arc = best_arc
        load.hop_start = t
        load.hop_depart = t
        load.hop_wait = 0.0
        load.hop_reason = ""
        load.hop_reason_wait = 0.0
        load.stages = self._hop_stages(load, arc)

    def _best_next(
        self, load: _Load, h: list[list[float]], w: int, k_in: int, here: float, t: float
    ) -> float:
        """min over progressing arcs b from w of e(b) + H: the second hop of the lookahead."""
        return min(
            (
                self._hop_estimate(load, b, w, k_in, t) + togo
                for _, b, togo in self._progressing(load, h, w, here)
            ),
            default=INF,
        )

    def _hop_servers(
        self, load: _Load, arc: Any, v: int, k_in: int | None
    ) -> list[tuple[int, float]]:
        """Servers of a hop from v over arc, with the work on each (stages 1, 2, 4, 5)."""
        net, a = self.net, load.amount
        out: list[tuple[int, float]] = []
        node_s = net.node_pax_server[v] if load.kind == PEOPLE else net.node_t_server[v]
        if node_s is not None:
            out.append((node_s, a))
        if load.kind == EQUIPMENT and net.gauge_change(k_in, arc.cls):
            x = net.node_transship_server[v]
            if x is not None:
                out.append((x, a))
        return out

    def _hop_stages(self, load: _Load, arc: Any) -> list[tuple[int, Any]]:
        net, v, a = self.net, load.node, load.amount
        stages: list[tuple[int, Any]] = [(1, s) for s in self._hop_servers(load, arc, v, load.k_in)]
        delay = net.node_delay[v]
        if load.kind == EQUIPMENT and net.gauge_change(load.k_in, arc.cls):
            delay += net.node_transship_delay[v]
        stages.append((0, delay))
        link_s = arc.pax_server if load.kind == PEOPLE else arc.t_server
        if link_s is not None:
            stages.append((1, (link_s, a)))
        if arc.pool_server is not None:
            stages.append((1, (arc.pool_server, pool_work(arc, a, load.kind))))
        stages.append((1, -1))
        stages.append((0, arc.hours / 24.0))
        return stages

    def _hop_estimate(self, load: _Load, arc: Any, v: int, k_in: int | None, t: float) -> float:
        """e(a): the wait at every server of the hop (stages 1, 2, 4, 5), plus its delays."""
        net, a, people = self.net, load.amount, load.kind == PEOPLE
        d = math.floor(t)
        est = 0.0  # waits first, then the delays: the same sum, in the same order, as the rules
        node_s = net.node_pax_server[v] if people else net.node_t_server[v]
        if node_s is not None:
            est += self._wait(node_s, a, d)
        if not people and net.gauge_change(k_in, arc.cls):
            x = net.node_transship_server[v]
            if x is not None:
                est += self._wait(x, a, d)
        link_s = arc.pax_server if people else arc.t_server
        if link_s is not None:
            est += self._wait(link_s, a, d)
        if arc.pool_server is not None:
            est += self._wait(arc.pool_server, pool_work(arc, a, load.kind), d)
        return est + net.hop_delay(v, k_in, arc, load.cls)

    def _wait(self, s_idx: int, work: float, d: int) -> float:
        """wait(S, W): work beyond what is left of day d at server S, in days of capacity."""
        srv, server = self.srv[s_idx], self.net.servers[s_idx]
        if srv.queue and srv.day == d:  # today's capacity is spent; not at a day start
            left = 0.0
        elif srv.day == d:
            left = srv.left
        else:
            left = server.day_capacity(d)
        return max(0.0, srv.queued_work + work - left) / server.rate

    def _end_hop(self, load: _Load, t: float) -> None:
        arc = self.net.arcs[load.hop_arc]
        net = self.net
        self._row(
            load,
            "move",
            net.node_ids[arc.src],
            net.node_ids[arc.dst],
            arc.link.id,
            str(arc.link.mode),
            load.hop_start,
            load.hop_depart,
            t,
            load.hop_wait,
            load.hop_reason,
        )
        load.node = arc.dst
        load.k_in = arc.cls
        load.hop_arc = -1

    # -- destination, sets, RSOM ----------------------------------------------------------------

    def _at_destination(self, load: _Load, t: float) -> None:
        plan = self.plans[load.unit]
        u = self.sc.units[load.unit]
        if load.phase == "to_depot":
            stock = self.sc.stocks[plan.stock] if plan.stock is not None else None
            draw = stock.draw_days if stock is not None else 0.0
            depot = self.net.node_ids[load.node]
            self._row(
                load,
                "draw",
                depot,
                depot,
                "",
                "",
                t,
                t + draw,
                t + draw,
                0.0,
                f"drawing set from {stock.id if stock else ''}",
            )
            # The people, then the drawn set, move on to the reception node.
            load.phase = "move"
            load.dest = plan.reception
            load.k_in = None
            load.stages = [(0, draw)]
            eq = self._new_load(
                load.unit,
                EQUIPMENT,
                u.equipment_t,
                u.outsize,
                load.key[:3],
                plan.reception,
                load.node,
            )
            # The set was at the depot from day 0: account for it until it is drawn.
            self._row(
                eq,
                "pre_positioned",
                depot,
                depot,
                "",
                "",
                0.0,
                t + draw,
                t + draw,
                0.0,
                f"pre-positioned set {stock.id if stock else ''}",
            )
            self._push(t + draw, _STEP, eq.key, eq.index)
            return
        # Arrived at the reception node: RSOM.
        self.arrival[load.unit] = max(self.arrival[load.unit], t)
        region = self.sc.regions[plan.region]
        s_idx = (
            self.net.rsom_pax_server[region.id]
            if load.kind == PEOPLE
            else self.net.rsom_t_server[region.id]
        )
        load.phase = "rsom"
        load.hop_start = t
        load.hop_wait = 0.0
        load.hop_reason = ""
        load.hop_reason_wait = 0.0
        if s_idx is not None and load.amount > 0:
            load.stages = [(1, (s_idx, load.amount))]

    def _rsom_done(self, load: _Load, t: float) -> None:
        plan = self.plans[load.unit]
        region = self.sc.regions[plan.region]
        node = self.net.node_ids[load.node]
        self._row(
            load, "rsom", node, node, "", "", load.hop_start, t, t, load.hop_wait, load.hop_reason
        )
        ui = load.unit
        self.load_done[ui] = max(self.load_done[ui], t)
        self.pending[ui] -= 1
        if self.pending[ui] == 0:
            self.closure[ui] = self.load_done[ui] + rsom_days(region, self.sc.units[ui])
