"""The compiled shortest-path kernels against plain references, on random graphs (hypothesis)."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from forcemodel.network.shortest import distances_to, pair_weights

# Weights from a few values (ties, zeros) or anywhere: the floats must match to the last bit.
weight = st.one_of(
    st.sampled_from([0.0, 0.5, 1.0, 1.0 / 3.0, 2.0]),
    st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False),
)


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int, float]], list[int]]:
    n = draw(st.integers(1, 12))
    edges = draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), weight), max_size=40)
    )
    starts = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True))
    return n, edges, starts


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_distances_equal_networkx_bit_for_bit(graph: tuple) -> None:
    n, edges, starts = graph
    # Incoming-edge CSR, as the compiled network lays it out.
    order = sorted(range(len(edges)), key=lambda e: edges[e][1])
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount([edges[e][1] for e in order], minlength=n), out=ptr[1:])
    src = np.array([edges[e][0] for e in order], dtype=np.int64)
    got = distances_to(
        ptr,
        src,
        np.array(order, dtype=np.int64),
        np.array([w for _, _, w in edges], dtype=float),
        np.array(starts, dtype=np.int64),
        n,
    )
    # networkx over the reversed graph, the fastest of parallel edges kept.
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for x, y, w in edges:
        if not g.has_edge(y, x) or w < g[y][x]["w"]:
            g.add_edge(y, x, w=w)
    want = nx.multi_source_dijkstra_path_length(g, set(starts), weight="w")
    assert got.tolist() == [want.get(v, np.inf) for v in range(n)]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 30),
    st.floats(0.0, 1e5, allow_nan=False),
    st.integers(0, 2**32 - 1),
)
def test_pair_weights_equal_the_numpy_expression(n_edges: int, amount: float, seed: int) -> None:
    rng = np.random.default_rng(seed)

    def slowness() -> np.ndarray:
        # Days per unit of work: 0 where a server is unlimited.
        return np.where(rng.random(n_edges) < 0.3, 0.0, 1.0 / rng.uniform(1, 5000, n_edges))

    delay = rng.uniform(0, 3, n_edges)
    slow_node, slow_x, slow_x2, slow_link = slowness(), slowness(), slowness(), slowness()
    has_pool = rng.random(n_edges) < 0.4
    cap = np.where(has_pool, rng.uniform(1, 300, n_edges), 1.0)
    rt = np.where(has_pool, rng.uniform(0.1, 4, n_edges), 0.0)
    rate = np.where(has_pool, rng.uniform(1, 50, n_edges), 1.0)
    pair = np.sort(rng.integers(0, max(1, n_edges // 2), n_edges))  # edges grouped by pair
    order = np.argsort(pair, kind="stable")
    start = np.flatnonzero(np.r_[True, pair[order][1:] != pair[order][:-1]])
    # The element-wise expression the kernel replaced, in the same order of operations.
    w = delay + np.maximum(0.0, amount * slow_node - 1.0)
    w += np.maximum(0.0, amount * slow_x - 1.0)
    w += np.maximum(0.0, amount * slow_x2 - 1.0)
    w += np.maximum(0.0, amount * slow_link - 1.0)
    w += np.where(has_pool, np.maximum(0.0, amount / cap * rt / rate - 1.0), 0.0)
    want = np.minimum.reduceat(w[order], start)
    got = pair_weights(
        amount,
        delay,
        slow_node,
        slow_x,
        slow_x2,
        slow_link,
        has_pool,
        cap,
        rt,
        rate,
        order,
        start,
    )
    assert got.tobytes() == want.tobytes()
