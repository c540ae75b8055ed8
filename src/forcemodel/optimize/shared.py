"""Shared capacities on the way (links, nodes, transshipment, lift pools) in the model: which
servers could bind, and their rows (docs/optimization.md, "Shared capacities on the way")."""

from __future__ import annotations

from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from forcemodel.mip.terms import Terms
from forcemodel.network.compile import CompiledNetwork


@dataclass
class Shared:
    """Shared servers kept in the model, and every passage of an option's load through one."""

    servers: pd.DataFrame  # server (network index), label, kind, target, rate; one row each
    passages: pd.DataFrame  # option, row (index into servers), enter, exit, work (in days)
    capacity: np.ndarray  # (server row, day): C(d) in days of the undisrupted rate


def no_shared() -> Shared:
    return Shared(
        pd.DataFrame(columns=["server", "label", "kind", "target", "rate"]),
        pd.DataFrame(columns=["option", "row", "enter", "exit", "work"]),
        np.zeros((0, 0)),
    )


def shared_servers(
    net: CompiledNetwork,
    options: pd.DataFrame,
    n_days: int,
    max_servers: int,
    only: np.ndarray | None = None,
) -> Shared:
    """The servers on the options' routes that could bind, and the passages through them.

    A server could bind if, on some run of days ``d1..d2``, the loads that may reach it then
    (every unit counted with its largest load among its options that reach it on a day of the
    run) need more than its capacity over those days; otherwise no load ever waits there and
    its row would never be tight.
    """
    route = options["route"].tolist() if "route" in options else []
    n = sum(len(r) for r in route)
    if (n == 0 and only is None) or (only is not None and len(only) == 0):
        return no_shared()
    opt = np.repeat(np.arange(len(route)), [len(r) for r in route])
    flat = np.array([p for r in route for p in r], dtype=float).reshape(n, 5)
    srv = flat[:, 1].astype(np.int64)
    enter, leave, work = flat[:, 2], flat[:, 3], flat[:, 4]
    unit = options["unit"].to_numpy(int)[opt]
    rel = np.floor(enter).astype(np.int64)
    inside = (rel < n_days) & (work > 0)
    ids = np.unique(srv[inside]) if only is None else np.unique(np.asarray(only, dtype=np.int64))
    cap = np.array([[net.servers[s].day_capacity(d) for d in range(n_days)] for s in ids])
    row_of = np.full(max(len(net.servers), 1), -1, dtype=np.int64)
    row_of[ids] = np.arange(ids.size)
    # Largest work per (server, unit, load, day), summed per (server, day): an upper bound on
    # what can reach a server on any run of days.
    inside &= row_of[srv] >= 0
    df = pd.DataFrame(
        {
            "row": row_of[srv[inside]],
            "unit": unit[inside],
            "load": flat[inside, 0],
            "day": rel[inside],
            "work": work[inside],
        }
    )
    most = df.groupby(["row", "unit", "load", "day"])["work"].max().groupby(["row", "day"]).sum()
    load = np.zeros((ids.size, n_days))
    rr, dd = (most.index.get_level_values(i).to_numpy() for i in (0, 1))
    load[rr, dd] = most.to_numpy()
    cum_load = np.concatenate([np.zeros((ids.size, 1)), np.cumsum(load, 1)], 1)
    cum_cap = np.concatenate([np.zeros((ids.size, 1)), np.cumsum(cap, 1)], 1)
    # excess[s, d1, d2] = load(d1..d2) - capacity(d1..d2); binds only if positive somewhere.
    excess = np.zeros(ids.size)
    upper = np.triu_indices(n_days)
    for i in range(ids.size):
        diff = cum_load[i] - cum_cap[i]
        excess[i] = (diff[None, 1:] - diff[:-1, None])[upper].max() / net.servers[ids[i]].rate
    pool = np.array([net.servers[s].kind == "pool" for s in ids], dtype=bool)
    others = np.flatnonzero(~pool & (excess > 1e-9))
    top = others[np.argsort(-excess[others], kind="stable")][:max_servers]
    binds = (pool & (excess > 1e-9)) | np.isin(np.arange(ids.size), top)
    if only is not None:
        binds = np.isin(ids, only)
    keep = ids[binds]
    rate = np.array([net.servers[s].rate for s in keep])
    servers = pd.DataFrame(
        {
            "server": keep,
            "label": [net.servers[s].label for s in keep],
            "kind": [net.servers[s].kind for s in keep],
            "target": [net.servers[s].target for s in keep],
            "rate": rate,
        }
    )
    row_of[:] = -1
    row_of[keep] = np.arange(keep.size)
    on = inside & (row_of[srv] >= 0)
    row = row_of[srv[on]]
    passages = pd.DataFrame(
        {
            "option": opt[on],
            "row": row,
            "enter": enter[on],
            "exit": leave[on],
            "work": work[on] / rate[row],
        }
    )
    return Shared(servers, passages, cap[binds] / rate[:, None] if keep.size else cap[:0])


def add_shared_rows(
    m: linopy.Model,
    sh: Shared,
    dx_lab: np.ndarray,
    v_lab: np.ndarray,
    count_day: np.ndarray,
    valid: np.ndarray,
    first: np.ndarray,
    closure: np.ndarray,
    n_days: int,
    horizon: int,
) -> None:
    """Per shared server and day: arrivals, throughput under the day's capacity, work due.

    A passage of option ``o``'s load reaches the server on day ``floor(enter)``; for ``o`` to
    count on day ``t0(o) + j`` it must be through by the end of day
    ``max(floor(exit + t0(o) - tau_o), floor(enter) + ceil(work) - 1) + j``: the uncongested
    schedule delayed by the days the option waits, and never less than the days its own work
    takes (so an unshared server never delays an option in the model).
    """
    n_srv = len(sh.servers)
    srv_ix = pd.Index(sh.servers["label"].to_numpy(), name="server")
    day = pd.Index(np.arange(n_days), name="day")
    arrived = m.add_variables(lower=0.0, coords=[srv_ix, day], name="shared_arrived")
    through = m.add_variables(lower=0.0, coords=[srv_ix, day], name="shared_through")
    done = m.add_variables(lower=0.0, coords=[srv_ix, day], name="shared_done")
    a_lab, y_lab, w_lab = (x.labels.to_numpy().ravel() for x in (arrived, through, done))
    ss, ee = np.meshgrid(np.arange(n_srv), np.arange(n_days), indexing="ij")
    flat = (ss * n_days + ee).ravel()
    prev_ok = (ee > 0).ravel()
    po = sh.passages["option"].to_numpy(int)
    prow = sh.passages["row"].to_numpy(int)
    enter = sh.passages["enter"].to_numpy(float)
    leave = sh.passages["exit"].to_numpy(float)
    work = sh.passages["work"].to_numpy(float)
    rel = np.floor(enter).astype(np.int64)

    t = Terms([srv_ix, day])
    t.add(flat, a_lab, 1.0)
    t.add(flat[prev_ok], a_lab[flat[prev_ok] - 1], -1.0)
    t.add(prow * n_days + rel, v_lab[po], -work)
    t.constrain(m, "==", 0.0, "shared_arrivals")

    t = Terms([srv_ix, day])
    t.add(flat, y_lab, 1.0)
    t.add(flat, a_lab, -1.0)
    t.constrain(m, "<=", 0.0, "shared_released")

    t = Terms([srv_ix, day])
    t.add(flat, y_lab, 1.0)
    t.add(flat[prev_ok], y_lab[flat[prev_ok] - 1], -1.0)
    cap = xr.DataArray(sh.capacity, coords=[srv_ix, day])
    t.constrain(m, "<=", cap, "shared_capacity")

    t = Terms([srv_ix, day])
    t.add(flat, w_lab, 1.0)
    t.add(flat[prev_ok], w_lab[flat[prev_ok] - 1], -1.0)
    base = np.maximum(
        np.floor(leave + first[po] - closure[po] + 1e-9),
        rel + np.ceil(work - 1e-9) - 1,
    ).astype(np.int64)
    steps = count_day.shape[1]
    due = base[:, None] + np.arange(steps)[None, :]  # (passage, step)
    ok = valid[po] & (due <= horizon)
    pp, jj = np.nonzero(ok)
    t.add(prow[pp] * n_days + np.clip(due[pp, jj], 0, horizon), dx_lab[po[pp], jj], -work[pp])
    t.constrain(m, "==", 0.0, "shared_counted")

    t = Terms([srv_ix, day])
    t.add(flat, w_lab, 1.0)
    t.add(flat, y_lab, -1.0)
    t.constrain(m, "<=", 0.0, "shared_done_before")
