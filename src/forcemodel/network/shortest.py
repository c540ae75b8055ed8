"""Dijkstra over a compiled graph in CSR form, for the time-to-go tables.

The distances are exact minima over paths of the left-to-right float sums from the
destination, so any correct Dijkstra (scipy's, networkx's) gives the same floats bit for bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from forcemodel.common.jit import inline, jit

DONE = -2  # heap position of a state whose distance is final; -1: not in the heap


@inline
def _sift_up(i: int, key: float, state: int, hk: Any, hv: Any, pos: Any) -> None:
    """Put ``state`` with ``key`` at heap slot ``i`` or above, keeping the heap ordered."""
    while i > 0:
        parent = (i - 1) >> 1
        if hk[parent] <= key:
            break
        hk[i], hv[i] = hk[parent], hv[parent]
        pos[hv[i]] = i
        i = parent
    hk[i], hv[i] = key, state
    pos[state] = i


@inline
def _sift_down(size: int, key: float, state: int, hk: Any, hv: Any, pos: Any) -> None:
    """Put ``state`` with ``key`` at the root slot or below, in a heap of ``size`` entries."""
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and hk[child + 1] < hk[child]:
            child += 1
        if hk[child] >= key:
            break
        hk[i], hv[i] = hk[child], hv[child]
        pos[hv[i]] = i
        i = child
    hk[i], hv[i] = key, state
    pos[state] = i


@jit
def distances_to(
    ptr: Any, src: Any, edge: Any, weights: Any, starts: Any, n_states: int
) -> Any:  # fmt: skip
    """Days from every state to the nearest of ``starts``.

    For state y, ``src[ptr[y]:ptr[y + 1]]`` are the states x with an edge x -> y and
    ``edge`` the index of that edge's weight in ``weights``. Unreachable: infinity.
    A binary heap over arrays with decrease-key (each state at most once in it): about twice
    as fast as a heap of (distance, state) tuples.
    """
    dist = np.full(n_states, np.inf)
    hk = np.empty(n_states)  # heap keys (distances) ...
    hv = np.empty(n_states, np.int64)  # ... and their states
    pos = np.full(n_states, -1, np.int64)  # each state's heap slot, -1 or DONE
    size = 0
    for s in starts:
        if pos[s] == -1:
            dist[s] = 0.0
            size += 1
            _sift_up(size - 1, 0.0, s, hk, hv, pos)
    while size > 0:
        d, y = hk[0], hv[0]
        pos[y] = DONE
        size -= 1
        if size > 0:
            _sift_down(size, hk[size], hv[size], hk, hv, pos)  # the last entry, from the root
        for k in range(ptr[y], ptr[y + 1]):
            x = src[k]
            if pos[x] == DONE:
                continue
            nd = d + weights[edge[k]]
            if nd < dist[x]:
                dist[x] = nd
                if pos[x] == -1:
                    size += 1
                    _sift_up(size - 1, nd, x, hk, hv, pos)
                else:
                    _sift_up(pos[x], nd, x, hk, hv, pos)
    return dist


@jit
def pair_weights(
    amount: float, delay: Any, slow_node: Any, slow_x: Any, slow_x2: Any, slow_link: Any,
    has_pool: Any,
    pool_cap: Any, pool_rt: Any, pool_rate: Any, pair_order: Any, pair_start: Any,
) -> Any:  # fmt: skip
    """Days per (state, state) pair for a load of ``amount``: the fastest of its parallel edges.

    An edge costs its delays plus, at each server, the days beyond the first that ``amount``
    needs at the daily capacity (``slow_*``: days per unit of work, 0 when unlimited); a pool
    counts round trips of its assets as a fluid. Each operation is done in the same order as
    the element-wise NumPy expression it replaces, so the weights are bit for bit the same.
    """
    n_pairs = pair_start.shape[0]
    out = np.empty(n_pairs)
    n_edges = pair_order.shape[0]
    for p in range(n_pairs):
        end = pair_start[p + 1] if p + 1 < n_pairs else n_edges
        best = np.inf
        for j in range(pair_start[p], end):
            e = pair_order[j]
            w = delay[e] + max(0.0, amount * slow_node[e] - 1.0)
            w += max(0.0, amount * slow_x[e] - 1.0)
            w += max(0.0, amount * slow_x2[e] - 1.0)  # 0 where no second transfer server
            w += max(0.0, amount * slow_link[e] - 1.0)
            if has_pool[e]:
                trips = amount / pool_cap[e]  # fluid: loads share aircraft and ships
                w += max(0.0, trips * pool_rt[e] / pool_rate[e] - 1.0)
            best = min(best, w)
        out[p] = best
    return out
