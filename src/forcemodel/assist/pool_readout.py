"""The plan of a solved pool model as per-arc delivery rows (docs/assistance.md, "The pool
model"): shipments matched to pledges, arrivals to draws, transfers to the slots' draws, each
first in, first out (:mod:`forcemodel.assist.pool`, "Exactness")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from forcemodel.assist.compile import TOL, Compiled, records
from forcemodel.assist.pool import PoolModel
from forcemodel.assist.readout import finish_result, label_values, lookup
from forcemodel.assist.result import MatchResult
from forcemodel.mip.solve import SolveOutcome

#: An arrival piece: (flow, grid point, source, quantity).
Arrival = tuple[int, int, int, float]
#: A transfer piece into a family's supply pool: an arrival and its transfer grid point.
Transfer = tuple[int, int, int, float, int]


def _fifo(supply: np.ndarray, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First in, first out: pieces (supply index, demand index, quantity) that give the
    demands, in order, the supplies in order (as far as the smaller total goes)."""
    if supply.size == 0 or demand.size == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0)
    cs, cd = np.cumsum(supply), np.cumsum(demand)
    total = min(float(cs[-1]), float(cd[-1]))
    cuts = np.unique(np.concatenate([[0.0], cs, cd]))
    cuts = np.minimum(cuts[cuts <= total + TOL], total)
    lo, hi = cuts[:-1], cuts[1:]
    keep = hi - lo > TOL
    lo, hi = lo[keep], hi[keep]
    mid = (lo + hi) / 2
    si = np.searchsorted(cs, mid, side="right")
    di = np.searchsorted(cd, mid, side="right")
    return si, di, hi - lo


def _increments(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per grid point, what a cumulative variable adds (negatives are solver noise: 0)."""
    v = np.where(labels >= 0, values, 0.0)
    inc = np.diff(np.concatenate([np.zeros((v.shape[0], 1)), v], axis=1), axis=1)
    inc[inc < TOL] = 0.0
    return inc


def _rounded(values: np.ndarray, labels: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """The values of ``labels``, rounded in the rows flagged ``whole`` (integer variables come
    back within the solver's tolerance)."""
    got = lookup(values, labels)
    return np.where(whole[:, None], np.round(got), got)


def read_pool(
    pm: PoolModel, outcome: SolveOutcome, values: np.ndarray | None = None
) -> MatchResult:
    """The plan of a solved pool model as per-arc rows (FIFO matching; module docstring).

    ``values``: a value for every variable label (a plan found outside HiGHS); by default the
    solution HiGHS left in the model.
    """
    comp, grid = pm.comp, pm.grid
    value_of = label_values(pm.model) if values is None else values
    system = comp.lines["system"].to_numpy(bool)
    F = _rounded(value_of, pm.F, pm.flows["integer"].to_numpy(bool))
    Y = _rounded(value_of, pm.Y, system)
    B = lookup(value_of, pm.B)
    Z, W = lookup(value_of, pm.Z), lookup(value_of, pm.W)
    opv = _rounded(value_of, pm.O, system)
    arrivals = _shipments(pm, _increments(F, pm.F), B)
    make = _Rows(comp, pm.flows, grid)
    rows, transfers = _draws(pm, arrivals, _increments(Y, pm.Y), _increments(W, pm.W), make)
    rows += _supply_draws(pm, transfers, _increments(Z, pm.Z), make)
    # Pieces of the same (source, route, line, role, day) are one row.
    if rows:
        frame = pd.DataFrame(rows)
        keys = [c for c in frame.columns if c != "quantity"]
        summed = frame.groupby(keys, sort=True, as_index=False)["quantity"].sum()
        rows = records(pd.DataFrame(summed))
    # Operational systems per day: a grid point's value stands until the next point.
    at = np.searchsorted(grid, np.arange(comp.horizon + 1), side="right") - 1
    op = opv[:, at]
    T = lookup(value_of, pm.trainees)
    U = lookup(value_of, pm.runs)
    return finish_result(pm.case, comp, rows, op, T, U, outcome)


def _shipments(pm: PoolModel, dF: np.ndarray, B: np.ndarray) -> list[Arrival]:
    """1. Shipments of each (item, location) to its sources, earliest available first."""
    fl, sources, grid = pm.flows, pm.comp.sources, pm.grid
    L = fl["L"].to_numpy(int)
    held = np.where((sources["funds"] != "").to_numpy(), B, sources["quantity"].to_numpy(float))
    src_key = list(zip(sources["item"], sources["location"], strict=True))
    order = np.lexsort((np.arange(len(sources)), sources["available"].to_numpy(int)))
    by_group: dict[tuple[str, str], list[int]] = {}
    for s in order:
        by_group.setdefault((str(src_key[s][0]), str(src_key[s][1])), []).append(int(s))
    flows_of: dict[tuple[str, str], list[int]] = {}
    for f, (i, loc) in enumerate(zip(fl["item"], fl["location"], strict=True)):
        flows_of.setdefault((str(i), str(loc)), []).append(f)
    arrivals: list[Arrival] = []
    for k, members in flows_of.items():
        fs, ps = np.nonzero(dF[members] > 0)
        f_abs = np.asarray(members, dtype=np.int64)[fs]
        ship = grid[ps] - L[f_abs]
        o = np.lexsort((f_abs, ship))
        f_abs, ps = f_abs[o], ps[o]
        srcs = np.asarray(by_group.get(k, []), dtype=np.int64)
        si, di, q = _fifo(held[srcs], dF[f_abs, ps])
        arrivals.extend(
            zip(f_abs[di].tolist(), ps[di].tolist(), srcs[si].tolist(), q.tolist(), strict=True)
        )
    return arrivals


def _draws(
    pm: PoolModel,
    arrivals: list[Arrival],
    dY: np.ndarray,
    dW: np.ndarray,
    make: _Rows,
) -> tuple[list[dict[str, Any]], dict[str, list[Transfer]]]:
    """2. Arrivals of each item to its lines' draws (delivery rows) and its transfers to the
    supply pool (by family), by day."""
    grid = pm.grid
    by_item: dict[str, list[Arrival]] = {}
    f_item = pm.flows["item"].to_numpy()
    for piece in arrivals:
        by_item.setdefault(str(f_item[piece[0]]), []).append(piece)
    line_of_item: dict[str, list[int]] = {}
    for li, i in enumerate(pm.comp.lines["item"]):
        line_of_item.setdefault(str(i), []).append(li)
    w_pos = {i: k for k, i in enumerate(pm.pool_items)}
    rows: list[dict[str, Any]] = []
    transfers: dict[str, list[Transfer]] = {}
    items = {it.id: it for it in pm.case.items}
    for i, pieces in by_item.items():
        pieces.sort(key=lambda pc: (int(grid[pc[1]]), pc[0]))
        # Draws: (grid point, kind 0 line / 1 transfer, line, quantity), by day.
        draws: list[tuple[int, int, int, float]] = []
        for li in line_of_item.get(i, []):
            for p in np.flatnonzero(dY[li] > 0):
                draws.append((int(p), 0, li, float(dY[li, p])))
        if i in w_pos:
            for p in np.flatnonzero(dW[w_pos[i]] > 0):
                draws.append((int(p), 1, -1, float(dW[w_pos[i], p])))
        draws.sort()
        si, di, q = _fifo(
            np.array([pc[3] for pc in pieces]), np.array([d[3] for d in draws], dtype=float)
        )
        for a, b, qq in zip(si.tolist(), di.tolist(), q.tolist(), strict=True):
            f, p, s, _ = pieces[a]
            day, kind, li, _ = draws[b]
            if kind == 0:
                rows.append(make.row(f, p, s, "main", li, qq))
            else:
                transfers.setdefault(items[i].family, []).append((f, p, s, qq, day))
    return rows, transfers


def _supply_draws(
    pm: PoolModel, transfers: dict[str, list[Transfer]], dZ: np.ndarray, make: _Rows
) -> list[dict[str, Any]]:
    """3. Transfers into each family's supply pool to the slots' draws, by day."""
    grid, slots = pm.grid, pm.comp.slots
    slot_line = slots["line"].to_numpy(int)
    rows: list[dict[str, Any]] = []
    for fam, pieces_t in transfers.items():
        pieces_t.sort(key=lambda pc: (pc[4], int(grid[pc[1]]), pc[0]))
        draws_s: list[tuple[int, int, float]] = []
        for ks in np.flatnonzero((slots["family"] == fam).to_numpy()).tolist():
            for pz in np.flatnonzero(dZ[ks] > 0).tolist():
                draws_s.append((pz, ks, float(dZ[ks, pz])))
        draws_s.sort()
        si, di, q = _fifo(
            np.array([pc[3] for pc in pieces_t]), np.array([d[2] for d in draws_s], dtype=float)
        )
        for a, b, qq in zip(si.tolist(), di.tolist(), q.tolist(), strict=True):
            f, p, s = pieces_t[a][0], pieces_t[a][1], pieces_t[a][2]
            li = int(slot_line[draws_s[b][1]])
            rows.append(make.row(f, p, s, "supply", li, qq))
    return rows


class _Rows:
    """Delivery rows of the plan, with the columns they read taken out of the frames once (a
    pandas look-up per row cost about a second at the target size)."""

    def __init__(self, comp: Compiled, fl: pd.DataFrame, grid: np.ndarray) -> None:
        self.pledge = comp.sources["pledge"].tolist()
        self.donor = comp.sources["donor"].tolist()
        self.requirement = comp.lines["requirement"].tolist()
        self.item = fl["item"].tolist()
        self.route = fl["route"].tolist()
        self.hub = fl["hub"].tolist()
        self.L = fl["L"].to_numpy(int).tolist()
        self.onward = fl["onward"].to_numpy(int).tolist()
        self.days = [int(d) for d in grid]

    def row(self, f: int, p: int, s: int, role: str, line: int, qty: float) -> dict[str, Any]:
        """Quantity ``qty`` from source ``s`` along flow ``f``, arriving on grid point ``p``,
        to line ``line`` (``role`` main) or its first loads (supply)."""
        d = self.days[p]
        return {
            "source": s,
            "pledge": self.pledge[s],
            "donor": self.donor[s],
            "item": self.item[f],
            "requirement": self.requirement[line],
            "role": role,
            "line": line,
            "route": self.route[f],
            "hub": self.hub[f],
            "quantity": qty,
            "ship_day": d - self.L[f],
            "hub_day": d - self.onward[f],
            "delivery_day": d,
        }
