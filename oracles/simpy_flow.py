"""The force-flow simulation written the straightforward way, with SimPy: oracle and baseline.

This is the event-by-event reference for :func:`forcemodel.simulate`. It follows
docs/simulation.md step by step: one SimPy process per load, timeouts for the delays, and per
server (arc tons/people, node handling, transship, lift pool, RSOM) a :class:`DailyCapacity`: a
resource that gives out a capacity per calendar day, with a SimPy process of its own that, while
requests wait, wakes at every day start, refills the day's capacity and hands it to the waiting
requests in queue-key order.

It computes everything itself from the scenario; from forcemodel it takes only the scenario
model and loader (and the tuple of capabilities), so it checks the engine's compiler, time-to-go
tables, planner and event core (``forcemodel.network``, ``forcemodel.flow``) all at once:

* ``oracles/network.py``: the arcs and their classes, which load classes may use each arc, the
  servers (in the order that settles simultaneous day starts) with their capacity per calendar
  day under disruption windows, hop delays, lift-pool work, and the time-to-go tables: a
  networkx Dijkstra per destination, load class and amount over the state graph (node, class
  arrived by);
* ``oracles/planner.py``: the day-0 plan in plain Python: each unit's region, pre-positioned set
  and urgency (the gap it fills), unit by unit;
* this file: the movement itself, with SimPy.

The arithmetic of the network and the plan is written in the same order as the engine's (it is
given in their docstrings), so that times and urgencies agree bit for bit: the oracle test
compares arrival and closure times to 1e-9, and a difference in the last bit could turn a tie.

A request for work ``W`` at time ``t`` passes at once, with no event at all, if nobody waits and
what is left of day ``floor(t)``'s capacity covers ``W``; otherwise it takes what is left (only
if nobody waits) and waits for the rest. At the start of day ``d`` the waiting requests share
``C(d)`` in order of their queue key ``(tier, -urgency, request time, unit index, load index)``;
each takes what it still needs or all that is left, and one whose need is met passes at ``d``.

SimPy handles events of the same time in the order they were scheduled; the rules order them
differently, so :class:`RuleEnvironment` keys its event heap by ``(time, order, ...)``, where
``order`` is ``(0, load key)`` for a load's events (load key ``(tier, -urgency, unit index,
load index)``) and ``(1, server index)`` for a server's day start; an event scheduled while
another is processed inherits that one's order (so a load's step runs on through its
zero-length stages and instant passes). At one instant, therefore: every load's step in
load-key order, then the servers' day starts in server order, and a load released by a day
start (its event has the load's order, phase 0) takes its step before the next day start.

``run_baseline(scenario)`` gives each unit's closure day; ``baseline_days(scenario)`` its
arrival and closure days.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import EmptySchedule
from simpy.events import NORMAL, Event

from forcemodel.scenario.model import Scenario
from oracles.network import (
    EQUIPMENT,
    INF,
    PEOPLE,
    Arc,
    Network,
    Server,
    reception_of,
    unit_class,
)
from oracles.planner import Plan, plan_units, rsom_days

Order = tuple[int, tuple[Any, ...]]
STEP, DAY_START = 0, 1  # phases of an instant: loads' steps first, then servers' day starts


class RuleEnvironment(simpy.Environment):
    """A SimPy environment that orders simultaneous events as docs/simulation.md says.

    The heap holds ``(time, order, priority, id, event)``. ``order`` is the event's own
    ``order`` attribute if it has one, else that of the event being processed when it was
    scheduled.
    """

    def __init__(self, stop: float = math.inf) -> None:
        super().__init__()
        self.order: Order = (STEP, ())
        self.stop = stop  # events after this time never happen: the run ends

    def schedule(self, event: Event, priority: Any = NORMAL, delay: Any = 0) -> None:
        order = getattr(event, "order", None) or self.order
        heappush(self._queue, (self._now + delay, order, priority, next(self._eid), event))

    def at(self, time: float, order: Order) -> Event:
        """An event that fires at exactly ``time`` (a timeout would fire at now + delay)."""
        event = Event(self)
        event._ok = True
        event._value = None
        heappush(self._queue, (time, order, NORMAL, next(self._eid), event))
        return event

    def start(self, order: Order, generator: Generator[Event, Any, None]) -> None:
        """Start a process whose events all have ``order``."""
        outer, self.order = self.order, order
        self.process(generator)
        self.order = outer

    def step(self) -> None:
        if self._queue and self._queue[0][0] > self.stop:
            raise EmptySchedule
        try:
            self._now, self.order, _, _, event = heappop(self._queue)
        except IndexError:
            raise EmptySchedule from None
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        for callback in callbacks:
            callback(event)
        if not event._ok and not hasattr(event, "_defused"):
            raise event._value


class Waiting(Event):
    """A request that must wait: succeeds (in the load's order) when its need is met."""

    def __init__(self, env: RuleEnvironment, order: Order, need: float) -> None:
        super().__init__(env)
        self.order = order
        self.need = need  # work it still needs


class DailyCapacity:
    """A server with a capacity per calendar day, and the SimPy process of its day starts.

    ``left`` is what is left of day ``day``'s capacity; a later day's capacity is taken up when
    first asked for (by a request or a day start), and the day-start process runs only while
    requests wait, so an idle server costs nothing.
    """

    def __init__(self, env: RuleEnvironment, server: Server) -> None:
        self.env = env
        self.server = server
        self.order: Order = (DAY_START, (server.index,))
        self.day = -1
        self.left = 0.0
        self.queue: list[tuple[tuple[Any, ...], Waiting]] = []  # heap by queue key
        self.queued_work = 0.0  # the work the waiting requests still need
        self.running = False  # the day-start process runs (while requests wait)

    def left_today(self, now: float) -> float:
        """What is left of day ``floor(now)``'s capacity (all of it if nothing was served)."""
        d = math.floor(now)
        return self.left if self.day == d else self.server.day_capacity(d)

    def request(self, work: float, queue_key: tuple[Any, ...], order: Order) -> Waiting | None:
        """Ask for ``work`` now: None if it passes at once, else the event of its passing."""
        d = math.floor(self.env.now)
        if self.day != d:
            self.day, self.left = d, self.server.day_capacity(d)
        if not self.queue:
            if work <= self.left:
                self.left -= work
                return None
            work -= self.left  # take what is left today, wait for the rest
            self.left = 0.0
        waiting = Waiting(self.env, order, work)
        heappush(self.queue, (queue_key, waiting))
        self.queued_work += work
        if not self.running:
            self.running = True
            self.env.start(self.order, self.day_starts())
        return waiting

    def day_starts(self) -> Generator[Event, Any, None]:
        """While requests wait: at each day start, give the day's capacity in queue-key order."""
        env = self.env
        while self.queue:
            # Today's capacity is spent (a request waits): the next day start is tomorrow's.
            yield env.at(math.floor(env.now) + 1.0, self.order)
            self.start_day(round(env.now))
        self.running = False

    def start_day(self, d: int) -> None:
        if self.day != d:
            self.day, self.left = d, self.server.day_capacity(d)
        while self.queue:
            waiting = self.queue[0][1]
            if waiting.need > self.left:
                waiting.need -= self.left
                self.queued_work -= self.left
                self.left = 0.0
                return
            heappop(self.queue)
            self.left -= waiting.need
            self.queued_work -= waiting.need
            waiting.succeed()  # the load's step, at once, before the next day start
        self.queued_work = 0.0

    def wait(self, now: float, work: float) -> float:
        """wait(S, W): the waiting work plus ``work`` beyond what is left today, in days."""
        return max(0.0, self.queued_work + work - self.left_today(now)) / self.server.rate


@dataclass
class Load:
    unit: int
    kind: int  # EQUIPMENT or PEOPLE
    amount: float
    cls: str  # routing class: people, equipment, outsize
    key: tuple[Any, ...]  # (tier, -urgency, unit index, load index)

    @property
    def order(self) -> Order:
        return (STEP, self.key)


class Baseline:
    """One run of the rules over a network and a day-0 plan."""

    def __init__(self, scenario: Scenario, net: Network, plans: list[Plan]) -> None:
        self.sc = scenario
        self.net = net
        self.plans = plans
        self.env = RuleEnvironment(stop=2.0 * scenario.meta.horizon_days)
        self.stations = {s.index: DailyCapacity(self.env, s) for s in net.servers}
        n = len(scenario.units)
        self.arrival = [0.0] * n
        self.closure = [INF] * n
        self.done = [0.0] * n  # latest end of RSOM of the unit's loads so far
        self.pending = [2] * n  # loads of the unit not yet through RSOM
        self.stuck: list[str | None] = [None] * n  # where a load of the unit found no way on

    def run(self) -> tuple[list[float], list[float]]:
        for ui, (u, plan) in enumerate(zip(self.sc.units, self.plans, strict=True)):
            key = (u.tier, -plan.urgency, ui)
            region = self.sc.regions[plan.region]
            px_cls = unit_class(u, PEOPLE, region)
            people = Load(ui, PEOPLE, float(u.personnel), px_cls, (*key, PEOPLE))
            eq_cls = unit_class(u, EQUIPMENT, region)
            equipment = Load(ui, EQUIPMENT, float(u.equipment_t), eq_cls, (*key, EQUIPMENT))
            if plan.stock is not None:
                self.env.start(people.order, self.people_with_set(people, equipment))
            else:
                self.env.start(people.order, self.own_load(people))
                self.env.start(equipment.order, self.own_load(equipment))
        self.env.run()
        return self.arrival, self.closure

    # -- the processes --------------------------------------------------------------------------

    def own_load(self, load: Load) -> Generator[Event, Any, None]:
        """A load with its own equipment: home -> reception from the ready time (equipment:
        after its load-out), then RSOM."""
        u = self.sc.units[load.unit]
        ready = u.notice_to_move_days
        if load.kind == EQUIPMENT and load.amount > 0:
            ready = ready + u.load_out_days
        if ready > 0:
            yield self.env.timeout(ready)
        yield from self.move(load, u.home, self.plans[load.unit].reception)
        yield from self.rsom(load)

    def people_with_set(self, people: Load, equipment: Load) -> Generator[Event, Any, None]:
        """People to the depot, draw the set, then people and set equipment to reception."""
        u, plan = self.sc.units[people.unit], self.plans[people.unit]
        assert plan.stock is not None and plan.depot is not None
        if u.notice_to_move_days > 0:
            yield self.env.timeout(u.notice_to_move_days)
        yield from self.move(people, u.home, plan.depot)
        draw = self.sc.stocks[plan.stock].draw_days
        self.env.start(equipment.order, self.drawn_equipment(equipment, draw))
        if draw > 0:
            yield self.env.timeout(draw)
        yield from self.move(people, plan.depot, plan.reception)
        yield from self.rsom(people)

    def drawn_equipment(self, load: Load, draw: float) -> Generator[Event, Any, None]:
        if draw > 0:
            yield self.env.timeout(draw)
        plan = self.plans[load.unit]
        assert plan.depot is not None
        yield from self.move(load, plan.depot, plan.reception)
        yield from self.rsom(load)

    def rsom(self, load: Load) -> Generator[Event, Any, None]:
        """At the reception node: RSOM server; the unit closes when both loads are through."""
        ui = load.unit
        self.arrival[ui] = max(self.arrival[ui], self.env.now)
        region = self.sc.regions[self.plans[ui].region]
        where = reception_of(region, self.sc.units[ui])[3]
        if where == "rsom":
            s = (self.net.rsom_pax if load.kind == PEOPLE else self.net.rsom_t)[region.id]
        else:  # a port's or an air base's reception
            s = self.net.reception[(region.id, where)][1 if load.kind == PEOPLE else 0]
        if s is not None and load.amount > 0:
            yield from self.serve(load, s, load.amount)
        self.done[ui] = max(self.done[ui], self.env.now)
        self.pending[ui] -= 1
        if self.pending[ui] == 0:
            self.closure[ui] = self.done[ui] + rsom_days(region, self.sc.units[ui])

    def move(self, load: Load, origin: str, dest: str) -> Generator[Event, Any, None]:
        """Hop by hop from ``origin`` to ``dest`` (a load of 0 is there at once)."""
        if load.amount <= 0:
            return
        net, env, a = self.net, self.env, load.amount
        h = net.time_to_go(dest, load.cls, a)
        v, k_in = origin, None
        visited: set[str] = set()  # nodes left on this move: never entered again
        while v != dest:
            arc = self.choose(load, h, v, k_in, dest, visited)
            if arc is None:  # no way on: stranded, the unit never closes
                self.stuck[load.unit] = v
                self.pending[load.unit] = -1
                yield self.env.event()  # never fires
                return
            visited.add(v)
            before, after = net.hop_servers(v, k_in, arc, load.kind, load.cls)
            own = net.own_power(load.cls)  # a ship sails: no server, no handling, no lift
            # 1-2: handling and transship
            for s in before:
                yield from self.serve(load, s, a)
            # 3: handling (and transship) delay
            delay = 0.0 if own else net.handling_days[v]
            if (
                not own
                and load.kind == EQUIPMENT
                and k_in is not None
                and net.class_change(k_in, arc.cls)
            ):
                delay += net.transfer_days(v, k_in, arc.cls)
            if delay > 0:
                yield env.timeout(delay)
            # at a border: not before the day the permit allows entry
            permit = net.permit_day(v, arc.dst)
            if permit > env.now:
                yield env.at(permit, load.order)
            # 4-5: the arc's server, the lift pool
            for s in after:
                yield from self.serve(load, s, a)
            if arc.pool_server is not None and not own:
                yield from self.serve(load, arc.pool_server, arc.pool_work(a, load.kind))
            # 6: travel
            travel = arc.hours / 24.0
            if travel > 0:
                yield env.timeout(travel)
            v, k_in = arc.dst, arc.cls

    # -- a server -------------------------------------------------------------------------------

    def serve(self, load: Load, s: Server, work: float) -> Generator[Event, Any, None]:
        """Ask server ``s`` for ``work``: pass at once, or wait until a day start meets it."""
        tier, neg_urgency = load.key[0], load.key[1]
        queue_key = (tier, neg_urgency, self.env.now, load.unit, load.kind)
        waiting = self.stations[s.index].request(work, queue_key, load.order)
        if waiting is not None:
            yield waiting

    # -- routing --------------------------------------------------------------------------------

    def hop_estimate(self, load: Load, v: str, k_in: str | None, arc: Arc) -> float:
        """e(a): the wait at each of the hop's servers, plus its delays."""
        now, a, est = self.env.now, load.amount, 0.0
        if self.net.own_power(load.cls):
            return self.net.hop_delay(v, k_in, arc, load.cls)
        before, after = self.net.hop_servers(v, k_in, arc, load.kind, load.cls)
        for s in before + after:
            est += self.stations[s.index].wait(now, a)
        if arc.pool_server is not None:
            est += self.stations[arc.pool_server.index].wait(now, arc.pool_work(a, load.kind))
        return est + self.net.hop_delay(v, k_in, arc, load.cls)

    def progressing(
        self,
        load: Load,
        h: dict[tuple[str, str | None], float],
        v: str,
        k_in: str | None,
        barred: set[str],
    ) -> list[tuple[Arc, float]]:
        """Arcs out of ``v`` usable by the load that make progress to a node not in
        ``barred``, in arc order, with H."""
        here = h.get((v, k_in), INF)
        out = []
        for arc in self.net.out_arcs[v]:
            togo = h.get((arc.dst, arc.cls), INF)
            usable = self.net.may_use(arc, load.cls)
            chained = self.net.chained(load.cls, k_in, arc.cls)
            if usable and not chained and togo < here and arc.dst not in barred:
                out.append((arc, togo))
        return out

    def choose(
        self,
        load: Load,
        h: dict[tuple[str, str | None], float],
        v: str,
        k_in: str | None,
        dest: str,
        visited: set[str],
    ) -> Arc | None:
        """The progressing arc to an unvisited node with the smallest two-hop estimate E(a),
        lower index on ties; if rounding leaves none, the unvisited arc with the smallest
        e(a) + H; None if there is none."""
        barred = visited | {v}
        best, best_arc = INF, None
        for arc, togo in self.progressing(load, h, v, k_in, barred):
            est = self.hop_estimate(load, v, k_in, arc)
            if arc.dst == dest:
                est += togo
            else:
                est += min(
                    (
                        self.hop_estimate(load, arc.dst, arc.cls, b) + togo_b
                        for b, togo_b in self.progressing(load, h, arc.dst, arc.cls, barred)
                    ),
                    default=INF,
                )
            if est < best:
                best, best_arc = est, arc
        if best_arc is not None:
            return best_arc
        for arc in self.net.out_arcs[v]:
            togo = h.get((arc.dst, arc.cls), INF)
            if not self.net.may_use(arc, load.cls) or togo == INF or arc.dst in barred:
                continue
            if self.net.chained(load.cls, k_in, arc.cls):
                continue
            est = self.hop_estimate(load, v, k_in, arc) + togo
            if est < best:
                best, best_arc = est, arc
        return best_arc


def baseline_days(scenario: Scenario) -> dict[str, tuple[float, float]]:
    """Unit id -> (arrival day, closure day), by the SimPy reference (closure infinite for a
    unit that has not closed when the run stops, or is stranded)."""
    net = Network(scenario)
    plans = plan_units(scenario, net)
    arrival, closure = Baseline(scenario, net, plans).run()
    return {u.id: (arrival[i], closure[i]) for i, u in enumerate(scenario.units)}


def run_baseline(scenario: Scenario) -> dict[str, float]:
    """Unit id -> closure day, by the SimPy reference (network, plan, run)."""
    return {uid: closure for uid, (_, closure) in baseline_days(scenario).items()}


if __name__ == "__main__":
    import sys

    import forcemodel

    days = baseline_days(forcemodel.load_scenario(sys.argv[1] if len(sys.argv) > 1 else "tiny"))
    for uid, (arrive, close) in days.items():
        print(f"{uid}\tarrival {arrive:.4f}\tclosure {close:.4f}")
    assert all(math.isfinite(c) for _, c in days.values())
