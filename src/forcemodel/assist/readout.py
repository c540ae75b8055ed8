"""Read a solved matching model into the result tables (:class:`MatchResult`).

:func:`read_arcs` reads the per-arc model; both it and the pool model's reader
(:mod:`forcemodel.assist.pool_readout`) end in :func:`finish_result`, which builds every table
from delivery rows, operational systems, trainees and cohorts, one small function a table.
"""

from __future__ import annotations

from typing import Any

import linopy
import numpy as np
import pandas as pd

from forcemodel.assist.arcs import BuiltModel
from forcemodel.assist.compile import TOL, Compiled, records
from forcemodel.assist.model import AssistanceCase
from forcemodel.assist.result import MatchResult
from forcemodel.mip.solve import SolveOutcome

#: Columns of a delivery row once merged sources are shared out to their pledges.
DELIVERY_COLUMNS = [
    "pledge",
    "donor",
    "item",
    "requirement",
    "role",
    "line",
    "route",
    "hub",
    "quantity",
    "ship_day",
    "hub_day",
    "delivery_day",
]
REQUIREMENT_COLUMNS = [
    "requirement",
    "wants",
    "quantity",
    "priority",
    "needed_by",
    "due_day",
    "delivered_by_due",
    "operational_by_due",
    "shortfall",
    "operational_day",
]


def label_values(m: linopy.Model) -> np.ndarray:
    """Solution value of every variable label of the model (NaN where none)."""
    out = np.full(m.shape[1], np.nan)
    for name in m.variables:
        var = m.variables[name]
        lab = var.labels.to_numpy().ravel()
        val = var.solution.to_numpy().ravel()
        ok = lab >= 0
        out[lab[ok]] = val[ok]
    return out


def lookup(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The values of ``labels`` (0 where a label is -1 or has no value)."""
    out = np.zeros(labels.shape)
    ok = labels >= 0
    out[ok] = values[labels[ok]]
    return np.nan_to_num(out)


def read_arcs(case: AssistanceCase, built: BuiltModel, outcome: SolveOutcome) -> MatchResult:
    """The plan of a solved per-arc model: one delivery row per arc and day it delivers on."""
    comp = built.compiled
    value_of = label_values(built.model)
    X = lookup(value_of, built.x)
    op = lookup(value_of, built.op)
    T = lookup(value_of, built.trainees)
    U = lookup(value_of, built.runs)
    arcs, lines = comp.arcs, comp.lines
    # Integer variables come back within the solver's tolerance: round them.
    X = np.where(arcs["integer"].to_numpy(bool)[:, None], np.round(X), X)
    op = np.where(lines["system"].to_numpy(bool)[:, None], np.round(op), op)
    flow = np.diff(X, axis=1)  # (arc, day 0..H)
    flow[np.abs(flow) < TOL] = 0.0
    rows: list[dict[str, Any]] = []
    for a, d in zip(*np.nonzero(flow > TOL), strict=True):
        arc = arcs.iloc[int(a)]
        rows.append(
            {
                "source": int(arc["source"]),
                "pledge": arc["pledge"],
                "donor": comp.sources.at[int(arc["source"]), "donor"],
                "item": arc["item"],
                "requirement": arc["requirement"],
                "role": arc["role"],
                "line": int(arc["line"]),
                "route": arc["route"],
                "hub": arc["hub"],
                "quantity": float(flow[a, d]),
                "ship_day": int(d) - int(arc["onward"]) - int(arc["to_hub"]),
                "hub_day": int(d) - int(arc["onward"]),
                "delivery_day": int(d),
            }
        )
    return finish_result(case, comp, rows, op, T, U, outcome)


def finish_result(
    case: AssistanceCase,
    comp: Compiled,
    rows: list[dict[str, Any]],
    op: np.ndarray,
    T: np.ndarray,
    U: np.ndarray,
    outcome: SolveOutcome,
) -> MatchResult:
    """The result tables from delivery rows (one per source, route, line or slot and delivery
    day: what the plan sends), operational systems per line and day (``op``), trainees per
    training row (``T``) and cohorts run (``U``)."""
    delivered = _delivered(comp, rows)
    load = _hub_loads(case, comp.horizon, rows)
    return MatchResult(
        case=case,
        compiled=comp,
        termination=outcome.termination,
        objective=float(outcome.objective or 0.0),
        mip_gap=outcome.mip_gap,
        runtime_s=outcome.runtime_s,
        log=outcome.log,
        deliveries=_deliveries(case, comp, _split_merged(rows, comp.sources), op),
        progress=_progress(comp, delivered, op),
        requirements=_requirements(case, comp, delivered, op),
        training=_training(case, comp, T, U),
        hubs=_hubs(case, comp.horizon, load),
    )


def _delivered(comp: Compiled, rows: list[dict[str, Any]]) -> np.ndarray:
    """Delivered per line and day: the cumulative sum of the rows of the line's own item."""
    delivered = np.zeros((len(comp.lines), comp.horizon + 1))
    for row in rows:
        if row["role"] == "main":
            delivered[int(row["line"]), int(row["delivery_day"])] += float(row["quantity"])
    return np.cumsum(delivered, axis=1)


def _progress(comp: Compiled, delivered: np.ndarray, op: np.ndarray) -> pd.DataFrame:
    """Per line and day: delivered and operational quantities."""
    lines, H = comp.lines, comp.horizon
    return pd.DataFrame(
        {
            "requirement": np.repeat(lines["requirement"].to_numpy(), H + 1),
            "item": np.repeat(lines["item"].to_numpy(), H + 1),
            "standard": np.repeat(lines["standard"].to_numpy(), H + 1),
            "system": np.repeat(lines["system"].to_numpy(bool), H + 1),
            "day": np.tile(np.arange(H + 1), len(lines)),
            "delivered": delivered.ravel(),
            "operational": np.minimum(op, delivered).ravel(),
        }
    )


def _hub_loads(case: AssistanceCase, H: int, rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Hub loads from what the rows send through each hub on their hub day."""
    tons_of = {it.id: it.tons for it in case.items}
    load: dict[str, np.ndarray] = {h.id: np.zeros(H + 1) for h in case.hubs}
    for row in rows:
        hd = int(row["hub_day"])
        if str(row["hub"]) in load and 0 <= hd <= H:
            load[str(row["hub"])][hd] += tons_of[str(row["item"])] * float(row["quantity"])
    return load


def _deliveries(
    case: AssistanceCase, comp: Compiled, rows: list[dict[str, Any]], op: np.ndarray
) -> pd.DataFrame:
    """The delivery table: rows by line, day and pledge; a system row split by the day its
    systems become operational, first delivered first; dates beside days."""
    dl = pd.DataFrame(rows, columns=DELIVERY_COLUMNS).sort_values(
        ["line", "delivery_day", "pledge"], kind="stable"
    )
    is_system = comp.lines["system"].to_numpy(bool)
    split: list[dict[str, Any]] = []
    done: dict[int, float] = {}
    for row in records(dl):
        li = int(row["line"])
        if row["role"] != "main":
            split.append({**row, "operational_day": None})
            continue
        if not bool(is_system[li]):
            split.append({**row, "operational_day": int(row["delivery_day"])})
            continue
        before = done.get(li, 0.0)
        done[li] = before + float(row["quantity"])
        batches: dict[int | None, float] = {}
        for k in range(round(before) + 1, round(done[li]) + 1):
            ok = np.flatnonzero(op[li] >= k - 1e-6)
            when = max(int(ok[0]), int(row["delivery_day"])) if ok.size else None
            batches[when] = batches.get(when, 0.0) + 1.0
        for when, n in batches.items():
            split.append({**row, "quantity": n, "operational_day": when})
    dl = pd.DataFrame(split, columns=[*DELIVERY_COLUMNS, "operational_day"])
    dl["operational_day"] = dl["operational_day"].astype("Int64")
    for col in ("ship_day", "hub_day", "delivery_day"):
        dl[col.replace("_day", "_date")] = [case.date(int(v)).isoformat() for v in dl[col]]
    dl["operational_date"] = [
        None if pd.isna(v) else case.date(int(v)).isoformat() for v in dl["operational_day"]
    ]
    return dl.drop(columns=["line"]).reset_index(drop=True)


def _requirements(
    case: AssistanceCase, comp: Compiled, delivered: np.ndarray, op: np.ndarray
) -> pd.DataFrame:
    """Per requirement: delivered and operational by its needed-by date, the shortfall then,
    and the first day it is fully operational."""
    lines, H = comp.lines, comp.horizon
    req_rows: list[dict[str, Any]] = []
    for r in case.requirements:
        mine = (lines["requirement"] == r.id).to_numpy()
        due = case.day(r.needed_by)
        d_tot = delivered[mine].sum(axis=0) if mine.any() else np.zeros(H + 1)
        o_tot = np.minimum(op[mine], delivered[mine]).sum(axis=0) if mine.any() else d_tot * 0
        full = np.flatnonzero(o_tot >= r.quantity - 1e-6)
        req_rows.append(
            {
                "requirement": r.id,
                "wants": r.item or f"{r.capability}" + (f" ({r.standard})" if r.standard else ""),
                "quantity": float(r.quantity),
                "priority": float(r.priority),
                "needed_by": r.needed_by.isoformat(),
                "due_day": due,
                "delivered_by_due": float(d_tot[due]),
                "operational_by_due": float(o_tot[due]),
                "shortfall": max(0.0, float(r.quantity - o_tot[due])),
                "operational_day": int(full[0]) if full.size else None,
            }
        )
    requirements = pd.DataFrame(req_rows, columns=REQUIREMENT_COLUMNS)
    requirements["operational_day"] = requirements["operational_day"].astype("Int64")
    return requirements


def _training(case: AssistanceCase, comp: Compiled, T: np.ndarray, U: np.ndarray) -> pd.DataFrame:
    """The cohorts that run and their trainees per item, with dates."""
    tr = comp.training.copy()
    tr["trainees"] = T
    tr["runs"] = np.round(U[tr["cohort"].to_numpy(int)]) if len(tr) else []
    tr = tr[(tr["runs"] > 0.5) & (tr["trainees"] > TOL)].drop(columns=["cohort", "runs"])
    tr["start_date"] = [case.date(int(v)).isoformat() for v in tr["start"]]
    tr["end_date"] = [case.date(int(v)).isoformat() for v in tr["end"]]
    return tr.reset_index(drop=True)


def _hubs(case: AssistanceCase, H: int, load: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per hub and day: tons through and capacity."""
    hub_rows = [
        {"hub": h.id, "day": int(d), "tons": float(load[h.id][d]), "capacity": h.t_per_day}
        for h in case.hubs
        for d in np.arange(H + 1)
    ]
    return pd.DataFrame(hub_rows, columns=["hub", "day", "tons", "capacity"])


def _split_merged(rows: list[dict[str, Any]], sources: pd.DataFrame) -> list[dict[str, Any]]:
    """Delivery rows of merged sources shared out to their pledges, in pledge order.

    The pledges of a merged source are identical but for their quantities, so any share that
    gives no pledge more than it holds is a plan of the unmerged case with the same value; whole
    numbers stay whole (systems: whole deliveries from pledges of whole items).
    """
    left: dict[int, list[float]] = {}
    out: list[dict[str, Any]] = []
    held = sources["members"].to_numpy()
    amounts = sources["member_quantities"].to_numpy()
    givers = sources["member_donors"].to_numpy()
    for row in rows:
        si = int(row.pop("source"))
        members: tuple[str, ...] = held[si]
        if len(members) == 1:
            out.append(row)
            continue
        room = left.setdefault(si, list(amounts[si]))
        donors: tuple[str, ...] = givers[si]
        qty = float(row["quantity"])
        for k, pledge in enumerate(members):
            last = k == len(members) - 1
            take = qty if last else min(qty, room[k])
            if take > TOL:
                out.append({**row, "pledge": pledge, "donor": donors[k], "quantity": take})
                room[k] -= take
                qty -= take
            if qty <= TOL:
                break
    return out
