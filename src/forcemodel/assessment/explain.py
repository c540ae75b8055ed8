"""explain: which units and which bottlenecks decide a region's closure day, and what moved it.

For one run, the capability that closes last decides the region's closure day; the units with
that capability whose integration ends on the closure day (closed in ``(D − 1, D]``: power
counts from the day a unit has closed) are the deciding units. For each, the load that arrived
last (people or equipment) is followed leg by leg: its notice to move, its travel, and every
wait with the server it waited for (a link, node, lift pool or the region's RSOM), in days.

Against another run: both runs' closures per capability, each unit of the region whose closure
moved (biggest first) with the waits that grew or shrank and the legs it took in one run only,
units found in only one run, and the scenario changes with their use (a changed element that
carried nothing in either run is said to be so). Pure computation; nothing here prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forcemodel.assessment.assess import capability_table
from forcemodel.assessment.changes import CHANGE_COLUMNS, scenario_changes
from forcemodel.results import Results

#: Moves smaller than this (days) are not reported as moved.
MOVED_DAYS = 0.5
#: How many moved units the statements name.
SHOWN = 5

UNIT_COLUMNS = [
    "unit", "nation", "type", "tier", "power", "ready_day", "arrival_day", "closure_day",
    "critical_load", "travel_days", "wait_days",
]  # fmt: skip
WAIT_COLUMNS = ["unit", "load", "server", "wait_days"]
MOVED_COLUMNS = ["unit", "closure_a", "closure_b", "diff", "why"]


class ExplainError(ValueError):
    """A region that is not in the results (the message names those that are)."""


@dataclass(frozen=True)
class Explanation:
    """Why a region closes when it does (and, against another run, what moved it).

    Attributes:
        region: the region explained.
        closure_day: its closure day (None: not within the horizon).
        deciding: the capability that closes last (None: met from day 0 in every capability).
        capabilities: capability, closure_day, shortfall_bde_days, decides.
        units: the deciding units: their power in the deciding capability, ready, arrival and
            closure days, the load that arrived last, its days of travel and of waiting.
        waits: unit, load, server, wait_days: every wait of the deciding units' last loads.
        bottlenecks: server, wait_days, units: those waits summed per server, longest first.
        moved: against another run: unit, closure_a, closure_b, diff (B − A), why.
        changes: against another run: the scenario changes (see
            :func:`~forcemodel.assessment.changes.scenario_changes`).
        statements: all of it in words, most important first.
    """

    region: str
    closure_day: int | None
    deciding: str | None
    capabilities: pd.DataFrame
    units: pd.DataFrame
    waits: pd.DataFrame
    bottlenecks: pd.DataFrame
    statements: tuple[str, ...]
    moved: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MOVED_COLUMNS))
    changes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CHANGE_COLUMNS))

    def _repr_html_(self) -> str:
        """A short view for Jupyter: the statements, deciding units and bottlenecks."""
        from forcemodel.scenario.display import html_view

        shown = {"units": self.units, "bottlenecks": self.bottlenecks, "moved": self.moved}
        return html_view(f"Why {self.region} closes when it does", self.statements, shown)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by name, in the order they are best read."""
        return {
            "capabilities": self.capabilities,
            "units": self.units,
            "bottlenecks": self.bottlenecks,
            "waits": self.waits,
            "moved": self.moved,
            "changes": self.changes,
        }


def explain(
    results: Results,
    region: str,
    against: Results | None = None,
    labels: tuple[str, str] = ("A", "B"),
) -> Explanation:
    """Explain ``region``'s closure day in ``results`` (run B when ``against`` is run A).

    With ``against``, ``results`` is read as run B (``labels[1]``) and ``against`` as run A
    (``labels[0]``): "what moved it" is B against A. Raises :class:`ExplainError` for a region
    that is not in the results.
    """
    regions = sorted(set(results.tables["region_power"]["region"]))
    if region not in regions:
        raise ExplainError(f"no region {region!r} in these results (regions: {', '.join(regions)})")
    one = _explain_one(results, region, labels[1] if against is not None else None)
    if against is None:
        return one
    if region not in set(against.tables["region_power"]["region"]):
        raise ExplainError(f"no region {region!r} in the results compared against")
    base = _explain_one(against, region, labels[0])
    return _against(one, base, results, against, labels)


def _explain_one(results: Results, region: str, label: str | None) -> Explanation:
    horizon = int(results.meta["horizon_days"])
    caps = capability_table(results)
    caps = caps[caps["region"] == region].drop(columns=["region"]).reset_index(drop=True)
    caps = caps[["capability", "closure_day", "shortfall_bde_days"]]
    key = [math.inf if pd.isna(d) else float(d) for d in caps["closure_day"]]
    deciding = None
    if key and max(key) > 0:
        deciding = str(caps["capability"].iloc[int(np.argmax(key))])
    caps = caps.assign(decides=caps["capability"] == deciding)
    closure = None if any(math.isinf(k) for k in key) else int(max(key, default=0))
    units = _deciding_units(results, region, deciding, closure, horizon)
    waits = _waits(
        results, list(units["unit"]), dict(zip(units["unit"], units["critical_load"], strict=True))
    )
    bottlenecks = (
        waits.groupby("server", sort=True)
        .agg(wait_days=("wait_days", "sum"), units=("unit", "nunique"))
        .reset_index()
        .sort_values(["wait_days", "server"], ascending=[False, True], kind="stable")
        .reset_index(drop=True)
    )
    run = f" in {label}" if label else ""
    words = _statements(region, run, closure, deciding, caps, units, waits, bottlenecks, horizon)
    return Explanation(region, closure, deciding, caps, units, waits, bottlenecks, words)


def _deciding_units(
    results: Results, region: str, capability: str | None, closure: int | None, horizon: int
) -> pd.DataFrame:
    """The units whose closure decides the region's (see the module's docstring)."""
    units = results.tables["units"]
    if capability is None:
        return pd.DataFrame(columns=UNIT_COLUMNS)
    mine = units[(units["region"] == region) & (units[f"power_{capability}"] > 0)]
    if closure is None:  # never closed: the units that close on or after the horizon
        chosen = mine[mine["closure_day"] > horizon - 1]
    else:
        chosen = mine[np.ceil(mine["closure_day"] - 1e-9) == closure]
        if chosen.empty:  # the requirement fell to what was there: the last unit before it
            before = mine[mine["closure_day"] <= closure]
            chosen = before.nlargest(1, "closure_day") if len(before) else before
    chosen = chosen.sort_values(["closure_day", "unit"], kind="stable")
    rows = []
    events = results.tables["unit_events"]
    for u in chosen.to_dict("records"):
        mine_ev = events[events["unit"] == u["unit"]]
        critical, travel, wait = _critical_load(mine_ev)
        rows.append(
            {
                "unit": u["unit"],
                "nation": u["nation"],
                "type": u["type"],
                "tier": int(u["tier"]),
                "power": float(u[f"power_{capability}"]),
                "ready_day": float(u["ready_day"]),
                "arrival_day": float(u["arrival_day"]),
                "closure_day": float(u["closure_day"]),
                "critical_load": critical,
                "travel_days": travel,
                "wait_days": wait,
            }
        )
    return pd.DataFrame(rows, columns=UNIT_COLUMNS)


def _critical_load(events: pd.DataFrame) -> tuple[str, float, float]:
    """The load that arrived last, its days of travel and of waiting (notice to move apart)."""
    moves = events[events["kind"] != "notice_to_move"]
    if moves.empty:
        return "", 0.0, 0.0
    last = moves.groupby("load")["arrive"].max()
    load = str(last.idxmax())
    mine = moves[moves["load"] == load]
    travel = float((mine["arrive"] - mine["depart"]).sum())
    return load, travel, float(mine["wait_days"].sum())


def _waits(results: Results, units: list[str], loads: dict[str, str]) -> pd.DataFrame:
    events = results.tables["unit_events"]
    mine = events[events["unit"].isin(units) & (events["wait_days"] > 1e-9)]
    mine = mine[mine["kind"] != "notice_to_move"]
    mine = mine[[loads.get(u) == load for u, load in zip(mine["unit"], mine["load"], strict=True)]]
    out = (
        mine.groupby(["unit", "load", "wait_reason"], sort=True)["wait_days"]
        .sum()
        .reset_index()
        .rename(columns={"wait_reason": "server"})
    )
    return (
        out[WAIT_COLUMNS]
        .sort_values(["wait_days", "unit"], ascending=[False, True], kind="stable")
        .reset_index(drop=True)
    )


def _statements(
    region: str,
    run: str,
    closure: int | None,
    deciding: str | None,
    caps: pd.DataFrame,
    units: pd.DataFrame,
    waits: pd.DataFrame,
    bottlenecks: pd.DataFrame,
    horizon: int,
) -> tuple[str, ...]:
    out: list[str] = []
    if deciding is None:
        return (f"{region}{run}: every requirement is met from day 0 by the forces in place; "
                "no unit decides its closure",)  # fmt: skip
    when = (
        f"closes on day {closure}"
        if closure is not None
        else (f"does not close within the {horizon}-day horizon")
    )
    out.append(f"{region}{run} {when}; {deciding} decides it (the last capability to close)")
    others = caps[~caps["decides"]]
    if len(others):
        out.append(
            "other capabilities close on: "
            + ", ".join(
                f"{c} day {_day(d)}"
                for c, d in zip(others["capability"], others["closure_day"], strict=True)
            )
        )
    if units.empty:
        out.append(f"no unit with {deciding} power closes then: the requirement is met by what "
                   "was already there")  # fmt: skip
    for u in units.to_dict("records"):
        mine = waits[waits["unit"] == u["unit"]]
        waited = ", ".join(
            f"{w:.1f} days at {s}" for s, w in zip(mine["server"], mine["wait_days"], strict=True)
        )
        out.append(
            f"deciding unit {u['unit']} ({u['nation']} {u['type']}, tier {u['tier']}, "
            f"{deciding} {u['power']:g}): ready day {u['ready_day']:.1f}, arrived "
            f"{u['arrival_day']:.1f}, closed {u['closure_day']:.1f}; its {u['critical_load']} "
            f"travelled {u['travel_days']:.1f} days and waited {u['wait_days']:.1f}"
            + (f" ({waited})" if waited else "")
        )
    if len(bottlenecks):
        out.append(
            "bottlenecks on the deciding units' way: "
            + ", ".join(
                f"{s} ({w:.1f} days)"
                for s, w in zip(bottlenecks["server"], bottlenecks["wait_days"], strict=True)
            )
        )
    return tuple(out)


def _against(
    b: Explanation, a: Explanation, rb: Results, ra: Results, labels: tuple[str, str]
) -> Explanation:
    la, lb = labels
    region = b.region
    ua, ub = ra.tables["units"], rb.tables["units"]
    ua, ub = ua[ua["region"] == region], ub[ub["region"] == region]
    merged = pd.merge(
        ua[["unit", "closure_day"]], ub[["unit", "closure_day"]],
        on="unit", how="outer", suffixes=("_a", "_b"), sort=True,
    )  # fmt: skip
    merged = merged.rename(columns={"closure_day_a": "closure_a", "closure_day_b": "closure_b"})
    merged["diff"] = merged["closure_b"] - merged["closure_a"]
    moved = merged[(merged["diff"].abs() >= MOVED_DAYS) | merged["diff"].isna()].copy()
    moved["why"] = [_why(u, region, ra, rb, labels) for u in moved["unit"]]
    # Units that changed sides first (they change the region's power most), then the biggest
    # moves of units in both runs.
    order = moved["diff"].abs().fillna(math.inf)
    moved = moved.assign(_o=order).sort_values(
        ["_o", "unit"], ascending=[False, True], kind="stable"
    )
    moved = moved.drop(columns="_o").reset_index(drop=True)[MOVED_COLUMNS]
    changes = scenario_changes(ra, rb)

    words: list[str] = []
    if a.closure_day == b.closure_day:
        when = f"day {a.closure_day}" if a.closure_day is not None else "not within the horizon"
        words.append(f"{region} closes on the same day in {la} and {lb} ({when})")
    else:
        words.append(f"{region} closes {_closure_words(a.closure_day, b.closure_day, la, lb)}")
    for cap in sorted(set(a.capabilities["capability"]) | set(b.capabilities["capability"])):
        da, db = _cap_day(a, cap), _cap_day(b, cap)
        if da != db:
            words.append(f"{region} {cap} closes {_closure_words(da, db, la, lb)}")
    sides = moved[moved["diff"].isna()]
    moves = moved[moved["diff"].notna()]
    for frame, what in ((sides, "came or went"), (moves, "moved")):
        for row in frame.head(SHOWN).to_dict("records"):
            words.append(_moved_words(row, la, lb))
        if len(frame) > SHOWN:
            words.append(f"... and {len(frame) - SHOWN} more units of {region} {what} (see moved)")
    if moved.empty:
        words.append(f"no unit of {region} closes {MOVED_DAYS:g} days or more earlier or later")
    for note in changes["note"]:
        if note:
            words.append(note)
    words.extend(f"{lb}: {s}" for s in b.statements)
    return Explanation(
        region, b.closure_day, b.deciding, b.capabilities, b.units, b.waits, b.bottlenecks,
        tuple(words), moved=moved, changes=changes,
    )  # fmt: skip


def _why(unit: str, region: str, ra: Results, rb: Results, labels: tuple[str, str]) -> str:
    """What changed on a unit's way: region, readiness, waits per server, legs in one run."""
    la, lb = labels
    ua, ub = ra.tables["units"], rb.tables["units"]
    for label, table in ((la, ua), (lb, ub)):
        rows = table[table["unit"] == unit]
        if rows.empty:
            return f"not in {label}'s scenario"
        went = str(rows["region"].iloc[0])
        if went != region:
            pre = "pre-assigned" if bool(rows["pre_assigned"].iloc[0]) else "sent by the planner"
            return f"in {label} it goes to {went} ({pre})"
    ea, eb = ra.tables["unit_events"], rb.tables["unit_events"]
    ea, eb = ea[ea["unit"] == unit], eb[eb["unit"] == unit]
    parts: list[str] = []
    rowa, rowb = ua[ua["unit"] == unit].iloc[0], ub[ub["unit"] == unit].iloc[0]
    if abs(float(rowb["ready_day"]) - float(rowa["ready_day"])) >= MOVED_DAYS:
        parts.append(f"ready day {rowa['ready_day']:.1f} -> {rowb['ready_day']:.1f}")
    wa = ea[ea["kind"] != "notice_to_move"].groupby("wait_reason")["wait_days"].sum()
    wb = eb[eb["kind"] != "notice_to_move"].groupby("wait_reason")["wait_days"].sum()
    delta = wb.sub(wa, fill_value=0.0)
    delta = delta[(delta.abs() >= 0.1) & (delta.index != "")]
    for server, d in delta.sort_values(key=lambda s: -s.abs()).head(3).items():
        parts.append(f"{'+' if d > 0 else '-'}{abs(d):.1f} days waiting at {server}")
    la_links = set(ea["link"]) - {""}
    lb_links = set(eb["link"]) - {""}
    if la_links != lb_links:
        only_b, only_a = sorted(lb_links - la_links), sorted(la_links - lb_links)
        route = "route changed"
        if only_b:
            route += f": in {lb} by {', '.join(only_b[:3])}{' ...' if len(only_b) > 3 else ''}"
        if only_a:
            route += f"; not by {', '.join(only_a[:3])}{' ...' if len(only_a) > 3 else ''}"
        parts.append(route)
    return "; ".join(parts) if parts else "waits elsewhere in the network"


def _moved_words(row: dict[Any, Any], la: str, lb: str) -> str:
    unit, a, b = row["unit"], row["closure_a"], row["closure_b"]
    if _missing(a):
        return f"unit {unit} closes in this region only in {lb} (day {float(b):.1f}): {row['why']}"
    if _missing(b):
        return f"unit {unit} closes in this region only in {la} (day {float(a):.1f}): {row['why']}"
    d = float(b) - float(a)
    side = "later" if d > 0 else "earlier"
    return (
        f"unit {unit} closes {abs(d):.1f} days {side} in {lb} ({float(a):.1f} -> "
        f"{float(b):.1f}): {row['why']}"
    )


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _cap_day(e: Explanation, cap: str) -> int | None:
    rows = e.capabilities[e.capabilities["capability"] == cap]["closure_day"]
    if rows.empty or pd.isna(rows.iloc[0]):
        return None
    return int(rows.iloc[0])


def _closure_words(da: int | None, db: int | None, la: str, lb: str) -> str:
    if da is None and db is None:
        return f"within the horizon in neither {la} nor {lb}"
    if db is None:
        return f"on day {da} in {la}, not within the horizon in {lb}"
    if da is None:
        return f"on day {db} in {lb}, not within the horizon in {la}"
    d = db - da
    n = abs(d)
    side = "later" if d > 0 else "earlier"
    return f"{n} day{'s' if n != 1 else ''} {side} in {lb} (day {da} -> {db})"


def _day(d: Any) -> str:
    return "-" if _missing(d) else str(int(d))
