"""What changed between two runs, and whether it could matter: the scenario diff, each changed
network element's use in both runs, and a headline over every capability, shortfall and window.

A change to an element that no load used in either run (a transshipment capacity at a node no
route crosses, a disruption of an idle link) cannot have moved any result; the comparison says
so in words instead of letting "no effect" pass for "no effect of a change that mattered".
Pure computation over two :class:`~forcemodel.results.Results` and the scenarios they carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from forcemodel.results import Results
from forcemodel.scenario.diff import Change, diff_scenarios

#: Tables whose items carry loads: a change to one of them matters only if something used it.
CARRIERS = {"nodes": "node", "links": "link", "lift_pools": "lift pool"}
#: Differences smaller than these are noise, not news, in the headline.
_DAYS_EPS = 0.5
_BDE_DAYS_EPS = 0.05

CHANGE_COLUMNS = [
    "path", "change", "a", "b", "element", "legs_a", "legs_b", "load_a", "load_b", "note",
]  # fmt: skip


@dataclass(frozen=True)
class Use:
    """How much a network element carried in one run.

    ``legs``: unit legs that started or ended at it (a node), crossed it (a link) or flew or
    sailed on it (a lift pool); ``load``: the load its servers counted (tons, people or
    aircraft by the server), only those of ``server`` when the change concerns one of them
    (a node's transshipment). ``carried``: whether the change's server(s) saw any use.
    """

    legs: int
    load: float
    server_only: bool = False

    @property
    def carried(self) -> bool:
        return self.load > 0 if self.server_only else self.legs > 0 or self.load > 0


def element_use(results: Results, table: str, element: str, server: str | None = None) -> Use:
    """How much ``element`` (a node, link or lift pool) carried in ``results``.

    ``server``: a word of the server's name (``"transship"``) when only that server of the
    element is in question, as for a change of a node's transshipment capacity: a train that
    passes a former break of gauge without changing gauge does not use its transshipment.
    """
    events = results.tables["unit_events"]
    loads = {"nodes": "node_load", "links": "link_load", "lift_pools": "pool_load"}[table]
    frame = results.tables[loads]
    mine = frame[frame["target"] == element] if len(frame) else frame
    if server is not None and len(mine):
        mine = mine[mine["server"].str.contains(server, regex=False)]
    load = float(mine["load"].sum()) if len(mine) else 0.0
    if not len(events):
        return Use(0, load, server is not None)
    moves = events[events["kind"] != "notice_to_move"]
    if table == "links":
        legs = int((moves["link"] == element).sum())
    elif table == "nodes":
        legs = int(((moves["from"] == element) | (moves["to"] == element)).sum())
    else:  # a lift pool is used by the legs whose link names it
        scenario = results.scenario
        pooled = {link.id for link in scenario.links if link.pool == element} if scenario else set()
        legs = int(moves["link"].isin(pooled).sum())
    return Use(legs, load, server is not None)


def scenario_changes(a: Results, b: Results) -> pd.DataFrame:
    """Every field that differs from A's scenario to B's, with each changed element's use.

    A disruption is judged by its target; a changed node, link or lift pool by itself. The
    ``note`` says in words when the element carried nothing in either run.
    """
    if a.scenario is None or b.scenario is None:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    rows = [_change_row(c, a, b) for c in diff_scenarios(a.scenario, b.scenario)]
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def _change_row(change: Change, a: Results, b: Results) -> dict[str, Any]:
    table, element = _carrier(change)
    row: dict[str, Any] = {
        "path": change.path,
        "change": change.kind,
        "a": _text(change.a),
        "b": _text(change.b),
        "element": element or "",
        "legs_a": None,
        "legs_b": None,
        "load_a": None,
        "load_b": None,
        "note": "",
    }
    if table is None or element is None:
        return row
    if table == "disrupted":  # a disruption's target is a link or a node of either scenario
        links = {link.id for s in (a.scenario, b.scenario) if s for link in s.links}
        table = "links" if element in links else "nodes"
    server = "transship" if table == "nodes" and ".transship" in change.path else None
    ua, ub = element_use(a, table, element, server), element_use(b, table, element, server)
    row.update(legs_a=ua.legs, legs_b=ub.legs, load_a=ua.load, load_b=ub.load)
    if not ua.carried and not ub.carried:
        what = f"the transshipment at {element}" if server else f"{CARRIERS[table]} {element}"
        row["note"] = (
            f"{what} carried nothing in either run: no load used it, so this change could "
            "not move any result"
        )
    return row


def _carrier(change: Change) -> tuple[str | None, str | None]:
    """The node, link or lift pool a change is about (for a disruption: its target)."""
    parts = change.path.split(".")
    if change.table in CARRIERS and len(parts) >= 2:
        return change.table, parts[1]
    if change.table == "disruptions":
        item = change.b if isinstance(change.b, dict) else change.a
        target = item.get("target") if isinstance(item, dict) else None
        return ("disrupted", str(target)) if target else (None, None)
    return None, None


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items() if v is not None and k != "source")
    return str(value)


def headline(
    regions: pd.DataFrame, capabilities: pd.DataFrame, labels: tuple[str, str]
) -> tuple[str, ...]:
    """Every change of a closure day (per capability), shortfall or window, biggest first.

    ``regions`` and ``capabilities`` are the side-by-side tables of
    :func:`~forcemodel.assessment.compare`; a line reads e.g. ``lithuania land: closes 25 days
    later in B (day 51 -> 76)``.
    """
    la, lb = labels
    lines: list[tuple[float, str]] = []
    for row in capabilities.to_dict("records"):
        what = f"{row['region']} {row['capability']}"
        text = _closure_change(row[f"closure_day_{la}"], row[f"closure_day_{lb}"], labels)
        if text is not None:
            lines.append((_size(row["closure_day_diff"], 1000.0), f"{what}: {text}"))
    for row in regions.to_dict("records"):
        r = row["region"]
        d = row["shortfall_bde_days_diff"]
        if not pd.isna(d) and abs(d) > _BDE_DAYS_EPS:
            more = "more" if d > 0 else "less"
            lines.append(
                (
                    abs(d) / 10,
                    f"{r} shortfall: {abs(d):,.1f} brigade-days {more} in {lb} "
                    f"({row[f'shortfall_bde_days_{la}']:,.1f} -> "
                    f"{row[f'shortfall_bde_days_{lb}']:,.1f})",
                )
            )
        wa, wb = _window(row, la), _window(row, lb)
        if wa != wb:
            dv = row["vulnerable_days_diff"]
            size = abs(dv) if not pd.isna(dv) else 1.0
            lines.append((size, f"{r} window of vulnerability: {wa} in {la}, {wb} in {lb}"))
    if not lines:
        return (
            "no closure day (of any capability), shortfall or window of vulnerability "
            f"differs between {la} and {lb} in any region",
        )
    lines.sort(key=lambda x: -x[0])
    return tuple(text for _, text in lines)


def _closure_change(da: Any, db: Any, labels: tuple[str, str]) -> str | None:
    la, lb = labels
    if pd.isna(da) and pd.isna(db):
        return None
    if pd.isna(db):
        return f"closes on day {int(da)} in {la}, not within the horizon in {lb}"
    if pd.isna(da):
        return f"closes on day {int(db)} in {lb}, not within the horizon in {la}"
    d = int(db) - int(da)
    if abs(d) < _DAYS_EPS:
        return None
    n = abs(d)
    return (
        f"closes {n} day{'s' if n != 1 else ''} {'later' if d > 0 else 'earlier'} in {lb} "
        f"(day {int(da)} -> {int(db)})"
    )


def _size(diff: Any, missing: float) -> float:
    return missing if pd.isna(diff) else abs(float(diff))


def _window(row: dict[Any, Any], label: str) -> str:
    f, u = row[f"vulnerable_from_{label}"], row[f"vulnerable_until_{label}"]
    return "none" if pd.isna(f) else f"days {int(f)}-{int(u)}"
