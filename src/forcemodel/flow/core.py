"""The compiled event core of the force-flow engine: the rules of docs/simulation.md on arrays.

Everything here is plain loops over NumPy arrays, compiled by Numba (``cache=True``, so a
machine compiles it once). The state lives in a few 2-D arrays indexed by load, server, node
and arc, with named columns (the constants below); few arrays per call keep calls cheap.
``forcemodel.flow.engine`` builds them from the compiled network and the day-0 plan and turns
the rows that come back into tables. The arithmetic is the rules' own, operation by operation,
so the SimPy reference (oracles/simpy_flow.py) gives bit-for-bit the same times.

Conventions: load ``2 * unit + kind`` (kind 0 equipment, 1 people); -1 means "none" for a
server, a table, or the class a load arrived by.

Long because the compiled event core is one unit: the kernels share the column constants and
the array layout above, and splitting them across modules would only scatter that contract.
"""

# The kernels index arrays typed Any (Numba types them), so their results are Any too.
# mypy: disable-error-code="no-any-return"

from __future__ import annotations

import heapq
import math
from typing import Any

import numpy as np

from forcemodel.common.jit import inline as _inline
from forcemodel.common.jit import jit

INF = math.inf
EQUIPMENT, PEOPLE = 0, 1
STEP, DAY = 0, 1  # phases of an instant: loads' steps first, then servers' day starts
DELAY, SERVE, DEPART, UNTIL = 0, 1, 2, 3  # stage kinds of a hop (UNTIL: not before a day)
MOVE, TO_DEPOT, RSOM = 0, 1, 2  # load phases
ROW_NOTICE, ROW_MOVE, ROW_DRAW, ROW_PRE, ROW_RSOM = 0, 1, 2, 3, 4  # unit_events kinds
MAX_STAGES = 9

# Load columns: integers (LI) and floats (LF).
LI_TIER, LI_CLS, LI_DEST, LI_NODE, LI_KIN, LI_ARC, LI_RSRV, LI_PHASE, LI_TABLE, LI_LEGS = range(10)
LI_STAGES, LI_NEXT = 10, 11  # stages laid out for the hop, the next one to run
LI_TRAIL = 12  # last entry of the load's trail (the nodes it left on this move), -1: none
N_LI = 13
LF_NEGURG, LF_AMOUNT, LF_START, LF_REQ, LF_NEED, LF_WAIT, LF_RWAIT, LF_RREQ, LF_RREL = range(9)
LF_DEPART = 9
N_LF = 10
# Node columns: handling servers (tons, people), transship server; delays.
NI_T, NI_P, NI_X, NI_COUNTRY = 0, 1, 2, 3
NI_MODE = 4  # NI_MODE + k: the node's loading/unloading server for arc class k's mode, -1: none
NF_DELAY, NF_XDELAY, NF_PERMIT = 0, 1, 2  # NF_PERMIT: day from which loads may enter (0: any)
# Arc columns.
AI_SRC, AI_DST, AI_CLS, AI_T, AI_P, AI_POOL = range(6)
AF_HOURS, AF_POOL_T, AF_POOL_PAX, AF_ROUND_TRIP_H = range(4)
# Load-class columns (cf): under its own power (no server, no handling), no road link after a
# road link (a tracked load's march), and the arc class of roads (-1: none), the same in each row.
CF_OWN, CF_CHAIN, CF_ROAD = 0, 1, 2
# Server columns.
SF_RATE, SF_LEFT, SF_QUEUED = 0, 1, 2
SI_DAY, SI_PENDING, SI_WAITING = 0, 1, 2
# Unit columns.
UI_HOME, UI_STOCK, UI_RECEPTION, UI_RSOM_T, UI_RSOM_P, UI_TABLE2 = range(6)
UI_STUCK = 6  # written by the core: node where a load of the unit found no way on, else -1
UF_NTM, UF_DRAW, UF_RSOM_DAYS = 0, 1, 2
UF_ARRIVAL, UF_DONE, UF_CLOSURE = 3, 4, 5  # written by the core
UF_LOAD_OUT = 6  # days the own equipment loads out at home after the notice to move
N_UI, N_UF = 7, 7
# Row columns.
RI_LOAD, RI_LEG, RI_KIND, RI_WHERE, RI_REASON = range(5)
RF_START, RF_DEPART, RF_ARRIVE, RF_WAIT, RF_REQUEST, RF_RELEASE = range(6)


@_inline
def _factor_integral(t: float, lo: int, hi: int, brk: Any) -> float:
    """F(t) over the breakpoints ``brk[lo:hi]`` (Server.factor_integral)."""
    i = lo + np.searchsorted(brk[lo:hi, 0], t, side="right") - 1
    return t if i < lo else brk[i, 1] + brk[i, 2] * (t - brk[i, 0])


@jit
def _day_capacity(s: int, d: int, sf: Any, bptr: Any, brk: Any) -> float:
    """C(d) of server s, disruptions included (Server.day_capacity).

    ``brk[i]`` holds (break, cumulative factor, factor) of the server's breakpoints
    ``bptr[s] .. bptr[s + 1]``.
    """
    lo, hi = bptr[s], bptr[s + 1]
    if lo == hi:
        return sf[s, SF_RATE]
    after = _factor_integral(d + 1.0, lo, hi, brk)
    return sf[s, SF_RATE] * (after - _factor_integral(float(d), lo, hi, brk))


@_inline
def _covers(left: float, work: float) -> bool:
    """Whether capacity ``left`` covers ``work`` (tolerant of rounding in sums of loads)."""
    return work <= left + 1e-9 * max(1.0, work)


@_inline
def _class_change(k_in: int, k: int) -> bool:
    """Whether leaving by class k after arriving by k_in changes mode or gauge (a transfer)."""
    return k_in >= 0 and k_in != k


@_inline
def _transfer_days(v: int, k_in: int, k: int, ni: Any, nf: Any, cx: Any) -> float:
    """Stage 3's transfer time: the node's transship hours, else unloading plus loading
    (``cx[v, k]``: hours to load onto or unload from class k's mode at node v)."""
    if ni[v, NI_X] >= 0:
        return nf[v, NF_XDELAY]
    return (cx[v, k_in] + cx[v, k]) / 24.0


@_inline
def _chained(cls: int, k_in: int, k: int, cf: Any) -> bool:
    """Whether leaving by class k after k_in is a second road link in a row, closed to the
    load class (a tracked load's road march is one road link)."""
    return cf[cls, CF_CHAIN] != 0 and k == cf[cls, CF_ROAD] and k_in == k


@_inline
def _visited(li: int, w: int, li_: Any, tr_node: Any, tr_prev: Any) -> bool:
    """Whether the load has left node w before on this move (its trail)."""
    k = li_[li, LI_TRAIL]
    while k >= 0:
        if tr_node[k] == w:
            return True
        k = tr_prev[k]
    return False


@_inline
def _pool_work(ai: int, amount: float, kind: int, af: Any) -> float:
    """Asset-days the arc's pool spends on ``amount`` (stage 5; compile.pool_work)."""
    if amount <= 0:
        return 0.0
    per_trip = af[ai, AF_POOL_T] if kind == EQUIPMENT else af[ai, AF_POOL_PAX]
    trips = amount / per_trip
    return trips * af[ai, AF_ROUND_TRIP_H] / 24.0


@_inline
def _wait(s: int, work: float, d: int, sf: Any, si: Any, bptr: Any, brk: Any) -> float:
    """wait(S, W): waiting work plus W beyond what is left of day d, in days of capacity."""
    if si[s, SI_WAITING] > 0 and si[s, SI_DAY] == d:
        have = 0.0  # today's capacity is spent; not at a day start
    elif si[s, SI_DAY] == d:
        have = sf[s, SF_LEFT]
    elif bptr[s] == bptr[s + 1]:
        have = sf[s, SF_RATE]  # never disrupted
    else:
        have = _day_capacity(s, d, sf, bptr, brk)
    return max(0.0, sf[s, SF_QUEUED] + work - have) / sf[s, SF_RATE]


@_inline
def _hop_estimate(
    kind: int, amount: float, ai: int, v: int, k_in: int, t: float, ni: Any,
    nf: Any, ai_: Any, af: Any, cx: Any, sf: Any, si: Any, bptr: Any, brk: Any, own: bool,
) -> float:  # fmt: skip
    """e(a): the wait at every server of the hop (stages 1, 2, 4, 5), plus its delays; under
    its own power only the travel."""
    if own:
        return 0.0 + af[ai, AF_HOURS] / 24.0
    people = kind == PEOPLE
    d = math.floor(t)
    est = 0.0  # waits first, then the delays: the same sum, in the same order, as the rules
    node_s = ni[v, NI_P] if people else ni[v, NI_T]
    if node_s >= 0:
        est += _wait(node_s, amount, d, sf, si, bptr, brk)
    change = not people and _class_change(k_in, ai_[ai, AI_CLS])
    if change and ni[v, NI_X] >= 0:
        est += _wait(ni[v, NI_X], amount, d, sf, si, bptr, brk)
    elif change:  # unloading from the mode arrived by, loading onto the arc's
        off, on = ni[v, NI_MODE + k_in], ni[v, NI_MODE + ai_[ai, AI_CLS]]
        if off >= 0:
            est += _wait(off, amount, d, sf, si, bptr, brk)
        if on >= 0:
            est += _wait(on, amount, d, sf, si, bptr, brk)
    link_s = ai_[ai, AI_P] if people else ai_[ai, AI_T]
    if link_s >= 0:
        est += _wait(link_s, amount, d, sf, si, bptr, brk)
    pool = ai_[ai, AI_POOL]
    if pool >= 0:
        est += _wait(pool, _pool_work(ai, amount, kind, af), d, sf, si, bptr, brk)
    delay = nf[v, NF_DELAY] + af[ai, AF_HOURS] / 24.0
    if change:
        delay += _transfer_days(v, k_in, ai_[ai, AI_CLS], ni, nf, cx)
    return est + delay


@jit
def _choose_arc(
    li: int, t: float, li_: Any, lf: Any, h: Any, ni: Any, nf: Any, ai_: Any, af: Any,
    usable: Any, out_ptr: Any, out_arc: Any, cx: Any, sf: Any, si: Any, bptr: Any,
    brk: Any, tr_node: Any, tr_prev: Any, cf: Any,
) -> int:  # fmt: skip
    """The progressing arc to a node not yet visited with the smallest two-hop estimate E(a);
    lower index on ties. If rounding leaves none, the unvisited arc with the smallest
    e(a) + H; -1 if there is none (the load is stranded)."""
    kind, cls, amount = li % 2, li_[li, LI_CLS], lf[li, LF_AMOUNT]
    v, dest, k_in = li_[li, LI_NODE], li_[li, LI_DEST], li_[li, LI_KIN]
    here = h[v, 0 if k_in < 0 else k_in + 1]
    own = cf[cls, CF_OWN] != 0
    best, best_arc = INF, -1
    for j in range(out_ptr[v], out_ptr[v + 1]):
        a = out_arc[j]
        if not usable[a, cls] or _chained(cls, k_in, ai_[a, AI_CLS], cf):
            continue
        w, k = ai_[a, AI_DST], ai_[a, AI_CLS]
        togo = h[w, k + 1]
        if not togo < here:  # only progress: no wandering
            continue
        if w == v or _visited(li, w, li_, tr_node, tr_prev):  # never a node twice
            continue
        est = _hop_estimate(kind, amount, a, v, k_in, t, ni, nf, ai_, af, cx, sf, si,
                            bptr, brk, own)  # fmt: skip
        if w == dest:
            est += togo
        else:  # the second hop: min over progressing arcs b from w to unvisited nodes
            nxt = INF
            for j2 in range(out_ptr[w], out_ptr[w + 1]):
                b = out_arc[j2]
                if not usable[b, cls] or _chained(cls, k, ai_[b, AI_CLS], cf):
                    continue
                x = ai_[b, AI_DST]
                togo_b = h[x, ai_[b, AI_CLS] + 1]
                if togo_b < togo and x != v:
                    e = _hop_estimate(kind, amount, b, w, k, t, ni, nf, ai_, af, cx,
                                      sf, si, bptr, brk, own) + togo_b  # fmt: skip
                    # (the trail is walked only for an improvement: the same minimum)
                    if e < nxt and not _visited(li, x, li_, tr_node, tr_prev):
                        nxt = e
            est += nxt
        if est < best:  # strict: among equal estimates the lower arc index wins
            best, best_arc = est, a
    if best_arc >= 0:
        return best_arc
    for j in range(out_ptr[v], out_ptr[v + 1]):  # rounding ate the progress: any way on
        a = out_arc[j]
        if not usable[a, cls] or _chained(cls, k_in, ai_[a, AI_CLS], cf):
            continue
        w, k = ai_[a, AI_DST], ai_[a, AI_CLS]
        togo = h[w, k + 1]
        if togo == INF or w == v or _visited(li, w, li_, tr_node, tr_prev):
            continue
        est = _hop_estimate(kind, amount, a, v, k_in, t, ni, nf, ai_, af, cx, sf, si,
                            bptr, brk, own) + togo  # fmt: skip
        if est < best:
            best, best_arc = est, a
    return best_arc


@jit
def _lay_out_hop(li: int, a: int, t: float, li_: Any, lf: Any, st_i: Any, st_v: Any,
                 ni: Any, nf: Any, ai_: Any, af: Any, cx: Any, own: bool) -> None:  # fmt: skip
    """Stages of the hop over arc a: handling, transship, their delay, the arc's server, the
    pool, departure, travel; under its own power (``own``) only the permit and the travel."""
    kind, amount, v, k_in = li % 2, lf[li, LF_AMOUNT], li_[li, LI_NODE], li_[li, LI_KIN]
    li_[li, LI_ARC] = a
    li_[li, LI_RSRV] = -1
    lf[li, LF_START] = t
    lf[li, LF_DEPART] = t
    lf[li, LF_WAIT] = 0.0
    lf[li, LF_RWAIT] = 0.0
    people = kind == PEOPLE
    n = 0
    node_s = -1 if own else (ni[v, NI_P] if people else ni[v, NI_T])
    if node_s >= 0:
        st_i[li, n, 0], st_i[li, n, 1], st_v[li, n] = SERVE, node_s, amount
        n += 1
    change = not people and not own and _class_change(k_in, ai_[a, AI_CLS])
    if change and ni[v, NI_X] >= 0:
        st_i[li, n, 0], st_i[li, n, 1], st_v[li, n] = SERVE, ni[v, NI_X], amount
        n += 1
    elif change:  # unloading from the mode arrived by, then loading onto the arc's
        for s in (ni[v, NI_MODE + k_in], ni[v, NI_MODE + ai_[a, AI_CLS]]):
            if s >= 0:
                st_i[li, n, 0], st_i[li, n, 1], st_v[li, n] = SERVE, s, amount
                n += 1
    delay = 0.0 if own else nf[v, NF_DELAY]
    if change:
        delay += _transfer_days(v, k_in, ai_[a, AI_CLS], ni, nf, cx)
    st_i[li, n, 0], st_v[li, n] = DELAY, delay
    n += 1
    w = ai_[a, AI_DST]
    if ni[w, NI_COUNTRY] != ni[v, NI_COUNTRY] and nf[w, NF_PERMIT] > 0:
        st_i[li, n, 0], st_v[li, n] = UNTIL, nf[w, NF_PERMIT]  # at the border: the permit
        n += 1
    link_s = -1 if own else (ai_[a, AI_P] if people else ai_[a, AI_T])
    if link_s >= 0:
        st_i[li, n, 0], st_i[li, n, 1], st_v[li, n] = SERVE, link_s, amount
        n += 1
    if ai_[a, AI_POOL] >= 0 and not own:
        st_i[li, n, 0], st_i[li, n, 1] = SERVE, ai_[a, AI_POOL]
        st_v[li, n] = _pool_work(a, amount, kind, af)
        n += 1
    st_i[li, n, 0] = DEPART
    n += 1
    st_i[li, n, 0], st_v[li, n] = DELAY, af[a, AF_HOURS] / 24.0
    n += 1
    li_[li, LI_STAGES] = n
    li_[li, LI_NEXT] = 0


@jit
def _one_stage(li: int, kind: int, server: int, value: float, li_: Any, lf: Any,
               st_i: Any, st_v: Any) -> None:  # fmt: skip
    st_i[li, 0, 0], st_i[li, 0, 1], st_v[li, 0] = kind, server, value
    li_[li, LI_STAGES] = 1
    li_[li, LI_NEXT] = 0


@jit
def _row(ri: Any, rf: Any, n: int, li: int, kind: int, where: int, start: float,
         depart: float, arrive: float, wait: float, reason: int, request: float,
         release: float, li_: Any) -> None:  # fmt: skip
    """Write unit_events row n (its strings are filled in afterwards from the indices)."""
    ri[n, RI_LOAD] = li
    ri[n, RI_LEG] = li_[li, LI_LEGS]
    li_[li, LI_LEGS] += 1
    ri[n, RI_KIND] = kind
    ri[n, RI_WHERE] = where
    ri[n, RI_REASON] = reason
    rf[n, RF_START] = start
    rf[n, RF_DEPART] = depart
    rf[n, RF_ARRIVE] = arrive
    rf[n, RF_WAIT] = wait
    rf[n, RF_REQUEST] = request
    rf[n, RF_RELEASE] = release


@jit
def run_core(
    li_: Any, lf: Any, ui_: Any, uf: Any, ni: Any, nf: Any, ai_: Any, af: Any, usable: Any,
    out_ptr: Any, out_arc: Any, cx: Any, sf: Any, si: Any, bptr: Any, brk: Any,
    served: Any, tables: Any, stop: float, cf: Any,
) -> Any:  # fmt: skip
    """Run every load to the end of its RSOM or to the day ``stop``; fill ``uf`` and ``served``;
    return the rows.

    Long because this is the compiled kernel's single event loop: each event's handling reads
    and writes the loop's local state (queue heads, clocks, the rows being built); split into
    helpers, that state would be passed in and handed back on every event of the hot loop.

    Nothing after ``stop`` happens: loads still on their way then are left where they are
    (their unit never closes). A load with no way on is stranded: ``ui_[u, UI_STUCK]`` is
    the node. Writes each unit's arrival at the reception, latest end of RSOM and closure
    into ``uf``;
    ``served[s, d]``: work server s passed on day d (< horizon). Returns the integer and float
    arrays of unit_events rows (columns RI_*, RF_*), in the order the rules produce them, and
    the number of events processed.
    """
    n_units, n_loads = ui_.shape[0], li_.shape[0]
    horizon = served.shape[1]
    st_i = np.zeros((n_loads, MAX_STAGES, 2), np.int64)
    st_v = np.zeros((n_loads, MAX_STAGES), np.float64)
    # Per server, its waiting requests keyed (tier, -urgency, request time, load): the load
    # index 2 * unit + kind orders as (unit, kind) does.
    queues = []
    for _ in range(sf.shape[0]):
        q = [(0, 0.0, 0.0, 0)]
        q.pop()
        queues.append(q)
    ri = np.empty((max(16, 8 * n_loads), 5), np.int64)
    rf = np.empty((ri.shape[0], 6), np.float64)
    # The trail: one entry per node a load left (its node, the load's previous entry).
    tr_node = np.empty(ri.shape[0], np.int64)
    tr_prev = np.empty(ri.shape[0], np.int64)
    n_trail = 0
    n_rows = 0
    loads_left = np.full(n_units, 2, np.int64)
    # Events (time, phase, tier or server, -urgency, load or server): at one instant loads'
    # steps in load-key order, then day starts in server order.
    heap = [(0.0, 0, 0, 0.0, 0)]
    heap.pop()

    for u in range(n_units):
        for kind in range(2):  # equipment, then people
            if kind == EQUIPMENT and ui_[u, UI_STOCK] >= 0:
                continue  # the equipment stays home; the set's is created when drawn
            li = 2 * u + kind
            ready = uf[u, UF_NTM]
            if kind == EQUIPMENT and lf[li, LF_AMOUNT] > 0:  # own equipment: loads out first
                ready = ready + uf[u, UF_LOAD_OUT]
            if ready > 0:
                _row(ri, rf, n_rows, li, ROW_NOTICE, ui_[u, UI_HOME], 0.0, ready, ready, ready,
                     -1, 0.0, 0.0, li_)  # fmt: skip
                n_rows += 1
            heapq.heappush(heap, (ready, STEP, li_[li, LI_TIER], lf[li, LF_NEGURG], li))

    n_events = 0  # the work done: events taken from the heap (bounded, see the engine)
    while len(heap) > 0:
        t, phase, _, _, what = heapq.heappop(heap)
        if t > stop:  # the run ends: later events never happen
            break
        n_events += 1
        if phase == DAY:
            # Give day t's capacity to the waiting requests in queue-key order.
            s = what
            si[s, SI_PENDING] = 0
            d = int(t)
            si[s, SI_DAY] = d
            sf[s, SF_LEFT] = _day_capacity(s, d, sf, bptr, brk)
            queue = queues[s]
            while len(queue) > 0 and sf[s, SF_LEFT] > 0:
                li = queue[0][3]
                need = lf[li, LF_NEED]
                if not _covers(sf[s, SF_LEFT], need):
                    lf[li, LF_NEED] = need - sf[s, SF_LEFT]
                    sf[s, SF_QUEUED] -= sf[s, SF_LEFT]
                    if d < horizon:
                        served[s, d] += sf[s, SF_LEFT]
                    sf[s, SF_LEFT] = 0.0
                    break
                heapq.heappop(queue)
                si[s, SI_WAITING] -= 1
                sf[s, SF_QUEUED] -= need
                sf[s, SF_LEFT] = max(0.0, sf[s, SF_LEFT] - need)
                if d < horizon:
                    served[s, d] += need
                wait = t - lf[li, LF_REQ]  # book the wait, and the server of the longest
                if wait > 0:
                    lf[li, LF_WAIT] += wait
                    if wait > lf[li, LF_RWAIT]:
                        lf[li, LF_RWAIT] = wait
                        li_[li, LI_RSRV] = s
                        lf[li, LF_RREQ] = lf[li, LF_REQ]
                        lf[li, LF_RREL] = t
                heapq.heappush(heap, (t, STEP, li_[li, LI_TIER], lf[li, LF_NEGURG], li))
            if len(queue) == 0:
                sf[s, SF_QUEUED] = 0.0  # no drift from sums of floats
            else:
                si[s, SI_PENDING] = 1
                heapq.heappush(heap, (t + 1.0, DAY, s, 0.0, s))
            continue

        li = what
        u = li // 2
        # The load's state machine: advance through its stages until it must wait.
        while True:
            if n_rows + 3 > ri.shape[0]:  # room for the rows one pass can write
                ri2 = np.empty((2 * ri.shape[0], 5), np.int64)
                rf2 = np.empty((2 * ri.shape[0], 6), np.float64)
                ri2[:n_rows] = ri[:n_rows]
                rf2[:n_rows] = rf[:n_rows]
                ri, rf = ri2, rf2
            if n_trail + 1 > tr_node.shape[0]:
                tn2 = np.empty(2 * tr_node.shape[0], np.int64)
                tp2 = np.empty(2 * tr_node.shape[0], np.int64)
                tn2[:n_trail] = tr_node[:n_trail]
                tp2[:n_trail] = tr_prev[:n_trail]
                tr_node, tr_prev = tn2, tp2
            p = li_[li, LI_NEXT]
            if p < li_[li, LI_STAGES]:
                li_[li, LI_NEXT] = p + 1
                k, value = st_i[li, p, 0], st_v[li, p]
                if k == DELAY:
                    if value > 0:
                        heapq.heappush(
                            heap, (t + value, STEP, li_[li, LI_TIER], lf[li, LF_NEGURG], li)
                        )
                        break
                    continue
                if k == UNTIL:  # not before day `value` (a border's permit)
                    if value > t:
                        heapq.heappush(heap, (value, STEP, li_[li, LI_TIER], lf[li, LF_NEGURG], li))
                        break
                    continue
                if k == DEPART:  # the hop's server stages are over, travel begins
                    lf[li, LF_DEPART] = t
                    continue
                # Ask server s for the work: pass at once, or queue for a day start.
                s, work = st_i[li, p, 1], value
                lf[li, LF_REQ] = t
                if si[s, SI_WAITING] == 0:
                    d = math.floor(t)
                    if d != si[s, SI_DAY]:
                        si[s, SI_DAY] = d
                        sf[s, SF_LEFT] = _day_capacity(s, d, sf, bptr, brk)
                    if _covers(sf[s, SF_LEFT], work):
                        sf[s, SF_LEFT] = max(0.0, sf[s, SF_LEFT] - work)
                        if d < horizon:
                            served[s, d] += work
                        continue
                    if sf[s, SF_LEFT] > 0:  # take what is left today, wait for the rest
                        if d < horizon:
                            served[s, d] += sf[s, SF_LEFT]
                        work -= sf[s, SF_LEFT]
                        sf[s, SF_LEFT] = 0.0
                heapq.heappush(queues[s], (li_[li, LI_TIER], lf[li, LF_NEGURG], t, li))
                si[s, SI_WAITING] += 1
                lf[li, LF_NEED] = work
                sf[s, SF_QUEUED] += work
                if si[s, SI_PENDING] == 0:
                    si[s, SI_PENDING] = 1
                    heapq.heappush(heap, (float(si[s, SI_DAY] + 1), DAY, s, 0.0, s))
                break
            a = li_[li, LI_ARC]
            if a >= 0:  # the end of a hop
                _row(ri, rf, n_rows, li, ROW_MOVE, a, lf[li, LF_START], lf[li, LF_DEPART], t,
                     lf[li, LF_WAIT], li_[li, LI_RSRV], lf[li, LF_RREQ], lf[li, LF_RREL],
                     li_)  # fmt: skip
                n_rows += 1
                li_[li, LI_NODE] = ai_[a, AI_DST]
                li_[li, LI_KIN] = ai_[a, AI_CLS]
                li_[li, LI_ARC] = -1
            if li_[li, LI_PHASE] == RSOM:
                _row(ri, rf, n_rows, li, ROW_RSOM, li_[li, LI_NODE], lf[li, LF_START], t, t,
                     lf[li, LF_WAIT], li_[li, LI_RSRV], lf[li, LF_RREQ], lf[li, LF_RREL],
                     li_)  # fmt: skip
                n_rows += 1
                uf[u, UF_DONE] = max(uf[u, UF_DONE], t)
                loads_left[u] -= 1
                if loads_left[u] == 0:
                    uf[u, UF_CLOSURE] = uf[u, UF_DONE] + uf[u, UF_RSOM_DAYS]
                break
            if li_[li, LI_NODE] == li_[li, LI_DEST]:
                if li_[li, LI_PHASE] == TO_DEPOT:
                    draw, depot = uf[u, UF_DRAW], li_[li, LI_NODE]
                    _row(ri, rf, n_rows, li, ROW_DRAW, depot, t, t + draw, t + draw, 0.0, -1,
                         0.0, 0.0, li_)  # fmt: skip
                    n_rows += 1
                    # The people, then the drawn set, move on to the reception node.
                    li_[li, LI_PHASE] = MOVE
                    li_[li, LI_DEST] = ui_[u, UI_RECEPTION]
                    li_[li, LI_KIN] = -1
                    li_[li, LI_TRAIL] = -1  # a new move
                    li_[li, LI_TABLE] = ui_[u, UI_TABLE2]
                    _one_stage(li, DELAY, -1, draw, li_, lf, st_i, st_v)
                    eq = 2 * u + EQUIPMENT
                    li_[eq, LI_NODE] = depot
                    # The set was at the depot from day 0: account for it until it is drawn.
                    _row(ri, rf, n_rows, eq, ROW_PRE, depot, 0.0, t + draw, t + draw, 0.0, -1,
                         0.0, 0.0, li_)  # fmt: skip
                    n_rows += 1
                    heapq.heappush(heap, (t + draw, STEP, li_[eq, LI_TIER], lf[eq, LF_NEGURG], eq))
                    continue
                # Arrived at the reception node: RSOM.
                uf[u, UF_ARRIVAL] = max(uf[u, UF_ARRIVAL], t)
                s = ui_[u, UI_RSOM_P] if li % 2 == PEOPLE else ui_[u, UI_RSOM_T]
                li_[li, LI_PHASE] = RSOM
                lf[li, LF_START] = t
                lf[li, LF_WAIT] = 0.0
                lf[li, LF_RWAIT] = 0.0
                li_[li, LI_RSRV] = -1
                if s >= 0 and lf[li, LF_AMOUNT] > 0:
                    _one_stage(li, SERVE, s, lf[li, LF_AMOUNT], li_, lf, st_i, st_v)
                continue
            if lf[li, LF_AMOUNT] <= 0:
                li_[li, LI_NODE] = li_[li, LI_DEST]
                continue
            a = _choose_arc(li, t, li_, lf, tables[li_[li, LI_TABLE]], ni, nf, ai_, af, usable,
                            out_ptr, out_arc, cx, sf, si, bptr, brk, tr_node,
                            tr_prev, cf)  # fmt: skip
            if a < 0:  # no way on: stranded here, its unit never closes
                ui_[u, UI_STUCK] = li_[li, LI_NODE]
                break
            tr_node[n_trail] = li_[li, LI_NODE]
            tr_prev[n_trail] = li_[li, LI_TRAIL]
            li_[li, LI_TRAIL] = n_trail
            n_trail += 1
            _lay_out_hop(li, a, t, li_, lf, st_i, st_v, ni, nf, ai_, af, cx,
                         cf[li_[li, LI_CLS], CF_OWN] != 0)  # fmt: skip
    return ri[:n_rows], rf[:n_rows], n_events
