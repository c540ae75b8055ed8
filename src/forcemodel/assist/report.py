"""Tables for the coordinator: delivery stages as of a day, and the fleet mix over time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forcemodel.assist.model import Category
from forcemodel.assist.result import MatchResult

#: Columns of :func:`status_table` after ``item``, in the order of the stages.
STAGES: tuple[str, ...] = ("pledged", "allocated", "shipped", "delivered", "operational")


def status_table(result: MatchResult, as_of: int | None = None) -> pd.DataFrame:
    """Quantities per item that reached each stage by day ``as_of`` (default: the horizon).

    Stages are cumulative: an item delivered has also been shipped and allocated. ``pledged``
    counts item pledges (funds are not items until the plan buys them: what funds buy counts
    from ``allocated`` on). Supplies sent as a system's first load count up to ``delivered``;
    they are not ``operational`` by themselves.
    """
    case = result.case
    day = case.meta.horizon_days if as_of is None else int(as_of)
    dl = result.deliveries
    ids = [it.id for it in case.items]
    pledged = pd.Series(0.0, index=ids)
    for p in case.pledges:
        if p.item is not None:
            pledged[p.item] += float(p.quantity or 0.0)

    def total(mask: pd.Series) -> pd.Series:
        return dl[mask].groupby("item")["quantity"].sum().reindex(ids, fill_value=0.0)

    everything = pd.Series(True, index=dl.index)
    op = dl["operational_day"].fillna(day + 1).astype(int) <= day
    table = pd.DataFrame(
        {
            "item": ids,
            "pledged": pledged.to_numpy(),
            "allocated": total(everything).to_numpy(),
            "shipped": total(dl["ship_day"] <= day).to_numpy(),
            "delivered": total(dl["delivery_day"] <= day).to_numpy(),
            "operational": total(op).to_numpy(),
        }
    )
    keep = table[list(STAGES)].sum(axis=1) > 0
    return table[keep].reset_index(drop=True)


def fleet_mix(result: MatchResult, every: int = 1) -> pd.DataFrame:
    """Systems of each standard on each day: the partner's own plus donated, operational.

    Columns: ``day``, ``date``, ``nato``, ``soviet``, ``other``, ``nato_share`` (share of
    NATO-standard systems among all, 0..1). ``every`` keeps one day in ``every`` (and the last).
    """
    case = result.case
    H = case.meta.horizon_days
    std = {it.id: str(it.standard) for it in case.items}
    systems = {it.id for it in case.items if it.category == Category.system}
    base = {"nato": 0.0, "soviet": 0.0, "other": 0.0}
    for f in case.fleet:
        if f.item in systems:
            base[std[f.item]] += float(f.quantity)
    prog = result.progress[result.progress["system"]]
    donated = prog.groupby(["standard", "day"])["operational"].sum()
    days = np.arange(H + 1)
    out = pd.DataFrame({"day": days, "date": [case.date(int(d)).isoformat() for d in days]})
    for s in ("nato", "soviet", "other"):
        add = donated[s].reindex(days, fill_value=0.0).to_numpy() if s in donated.index else 0.0
        out[s] = base[s] + add
    total = out[["nato", "soviet", "other"]].sum(axis=1)
    out["nato_share"] = np.where(total > 0, out["nato"] / total.where(total > 0, 1.0), np.nan)
    keep = (days % max(1, every) == 0) | (days == H)
    mix: pd.DataFrame = out[keep].reset_index(drop=True)
    return mix


def result_tables(result: MatchResult) -> dict[str, pd.DataFrame]:
    """Every table of a matching that ``forcemodel assist match --out`` saves, by file stem:
    the plan's own tables, the stages reached (:func:`status_table`) and the fleet mix."""
    return {
        "deliveries": result.deliveries,
        "requirements": result.requirements,
        "training": result.training,
        "hubs": result.hubs,
        "unmet": result.unmet,
        "status": status_table(result),
        "fleet_mix": fleet_mix(result),
    }
