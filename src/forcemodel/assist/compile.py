"""Index a case for the matching models: sources, lines, slots, arcs, cohorts, training rows.

**Sources** are item pledges, and for each pledge of funds one source per priced item;
**lines** are a requirement served by one item; **slots** what each system of a line needs
besides crews (e.g. its first load of ammunition); **arcs** a source to a line or slot along
one route through one hub; training **cohorts** and training **rows** (a cohort's trainees for
one item). :func:`compile_case` builds them in that order, one small function a table. No file
is read and nothing is printed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

from forcemodel.assist.model import AssistanceCase, Category, Item, requirement_serves

#: Quantities below this count as zero when the solution is read.
TOL = 1e-6

#: Columns of :attr:`Compiled.sources`; ``members`` are the pledges a source holds (several
#: when identical pledges were merged), with their quantities and donors.
SOURCE_COLUMNS = [
    "pledge",
    "donor",
    "item",
    "quantity",
    "funds",
    "price",
    "available",
    "location",
    "members",
    "member_quantities",
    "member_donors",
]
LINE_COLUMNS = ["requirement", "item", "system", "crew", "standard", "quantity", "due", "priority"]
SLOT_COLUMNS = ["line", "family", "per_system"]
ARC_COLUMNS = [
    "source",
    "pledge",
    "item",
    "role",
    "line",
    "slot",
    "requirement",
    "route",
    "hub",
    "to_hub",
    "onward",
    "earliest",
    "tons",
    "integer",
    "bound",
]
COHORT_COLUMNS = ["course", "start", "end", "size"]
TRAINING_COLUMNS = ["cohort", "course", "start", "end", "item"]

Row = dict[str, Any]


@dataclass(frozen=True)
class Compiled:
    """The case as index tables for the model (see the module docstring)."""

    horizon: int
    sources: pd.DataFrame
    lines: pd.DataFrame
    slots: pd.DataFrame
    arcs: pd.DataFrame
    cohorts: pd.DataFrame
    training: pd.DataFrame


def compile_case(case: AssistanceCase, *, per_line: bool = True) -> Compiled:
    """Index the case: sources, lines, slots, arcs, cohorts and training rows.

    ``per_line=False`` (the pool model, :mod:`forcemodel.assist.pool`) makes one arc per
    source and route only (``role`` ``main``, no line, slot or requirement, bounded by what the
    source holds): lines draw from item pools there, so arcs to each line are not needed.
    """
    src = _sources(case)
    ln = _lines(case, {str(s["item"]) for s in src})
    sl = _slots(case, ln)
    ar = _arcs(case, src, ln, sl, per_line=per_line)
    co, tr = _cohorts(case)
    return Compiled(
        case.meta.horizon_days,
        _frame(src, SOURCE_COLUMNS),
        _frame(ln, LINE_COLUMNS),
        _frame(sl, SLOT_COLUMNS),
        _frame(ar, ARC_COLUMNS),
        _frame(co, COHORT_COLUMNS),
        _frame(tr, TRAINING_COLUMNS),
    )


def _sources(case: AssistanceCase) -> list[Row]:
    """One source per item pledge (identical ones merged) and per pledge of funds and priced
    item.

    Item pledges of the same item, location and availability day are interchangeable in the
    model (only their quantities count), so they become one source holding their sum; a pledge
    named by a recorded delivery keeps a source of its own. For systems (integer deliveries)
    the sum is of whole items per pledge, which is what each pledge can give.
    """
    items = {it.id: it for it in case.items}
    src: list[Row] = []
    recorded = {d.pledge for d in case.deliveries}
    grouped: dict[tuple[str, str, int], int] = {}
    for p in case.pledges:
        avail = max(0, case.day(p.available_from))
        if p.item is None:
            src.extend(_funded(p.id, p.donor, avail, case.items))
            continue
        qty = float(p.quantity or 0.0)
        if items[p.item].category == Category.system:
            qty = float(math.floor(qty + TOL))
        key = (p.item, str(p.location), avail)
        if p.id not in recorded and key in grouped:
            row = src[grouped[key]]
            row["quantity"] += qty
            row["members"] = (*row["members"], p.id)
            row["member_quantities"] = (*row["member_quantities"], qty)
            row["member_donors"] = (*row["member_donors"], p.donor)
            continue
        if p.id not in recorded:
            grouped[key] = len(src)
        src.append(_source(p.id, p.donor, p.item, qty, "", math.nan, avail, str(p.location)))
    return src


def _funded(pledge: str, donor: str, avail: int, items: tuple[Item, ...]) -> list[Row]:
    """The sources of a pledge of funds: one per priced item, ready at its factory."""
    return [
        _source(
            pledge,
            donor,
            it.id,
            math.inf,
            pledge,
            float(it.price_eur),
            avail + it.lead_days,
            it.made_at,
        )
        for it in items
        if it.price_eur is not None
    ]


def _source(
    pledge: str,
    donor: str,
    item: str,
    quantity: float,
    funds: str,
    price: float,
    available: int,
    location: str | None,
) -> Row:
    return {
        "pledge": pledge,
        "donor": donor,
        "item": item,
        "quantity": quantity,
        "funds": funds,
        "price": price,
        "available": available,
        "location": location,
        "members": (pledge,),
        "member_quantities": (quantity,),
        "member_donors": (donor,),
    }


def _lines(case: AssistanceCase, has_source: set[str]) -> list[Row]:
    """One line per requirement and item that serves it and that some source holds."""
    return [
        {
            "requirement": r.id,
            "item": it.id,
            "system": it.category == Category.system,
            "crew": it.crew,
            "standard": str(it.standard),
            "quantity": float(r.quantity),
            "due": case.day(r.needed_by),
            "priority": float(r.priority),
        }
        for r in case.requirements
        for it in case.items
        if requirement_serves(r, it) and it.id in has_source
    ]


def _slots(case: AssistanceCase, ln: list[Row]) -> list[Row]:
    """One slot per line and supply its item needs per system."""
    items = {it.id: it for it in case.items}
    return [
        {"line": li, "family": s.family, "per_system": float(s.per_system)}
        for li, line in enumerate(ln)
        for s in items[str(line["item"])].supplies
    ]


class _ArcMaker:
    """Arcs from a source along every route that leaves its location within the horizon."""

    def __init__(self, case: AssistanceCase, src: list[Row], ln: list[Row]) -> None:
        self.case, self.src, self.ln = case, src, ln
        self.items = {it.id: it for it in case.items}
        self.funds_of = {
            p.id: float(p.funds_eur or 0.0) for p in case.pledges if p.funds_eur is not None
        }
        self.routes_from: dict[str, list[int]] = {}
        for ri, rt in enumerate(case.routes):
            self.routes_from.setdefault(rt.origin, []).append(ri)
        self.rows: list[Row] = []

    def add(self, si: int, role: str, li: int, slot: int, cap: float) -> None:
        """Arcs of source ``si`` to line ``li`` (``-1``: none) or its slot ``slot``, at most
        ``cap`` each."""
        s = self.src[si]
        it = self.items[str(s["item"])]
        for ri in self.routes_from.get(str(s["location"]), []):
            rt = self.case.routes[ri]
            earliest = int(s["available"]) + rt.to_hub_days + rt.onward_days
            if earliest > self.case.meta.horizon_days:
                continue
            bound = min(float(s["quantity"]), cap)
            if s["funds"]:
                bound = min(bound, self.funds_of[str(s["funds"])] / float(s["price"]))
            integer = role == "main" and it.category == Category.system
            if integer:
                bound = math.floor(bound + TOL)
            self.rows.append(
                {
                    "source": si,
                    "pledge": s["pledge"],
                    "item": it.id,
                    "role": role,
                    "line": li,
                    "slot": slot,
                    "requirement": self.ln[li]["requirement"] if li >= 0 else "",
                    "route": rt.id,
                    "hub": rt.hub,
                    "to_hub": rt.to_hub_days,
                    "onward": rt.onward_days,
                    "earliest": earliest,
                    "tons": it.tons,
                    "integer": integer,
                    "bound": bound,
                }
            )


def _arcs(
    case: AssistanceCase, src: list[Row], ln: list[Row], sl: list[Row], *, per_line: bool
) -> list[Row]:
    """Arcs to every line of a source's item and every slot of its family (``per_line``), or
    one per source and route."""
    make = _ArcMaker(case, src, ln)
    if not per_line:
        for si in range(len(src)):
            make.add(si, "main", -1, -1, math.inf)
        return make.rows
    # Sources by item and by the family they can supply (indexes, not a scan per line).
    by_item: dict[str, list[int]] = {}
    by_family: dict[str, list[int]] = {}
    for si, source in enumerate(src):
        it = make.items[str(source["item"])]
        by_item.setdefault(it.id, []).append(si)
        if it.category != Category.system:
            by_family.setdefault(it.family, []).append(si)
    for li, line in enumerate(ln):
        for si in by_item.get(str(line["item"]), []):
            make.add(si, "main", li, -1, float(line["quantity"]))
    for k, slot in enumerate(sl):
        cap = float(ln[slot["line"]]["quantity"]) * float(slot["per_system"])
        for si in by_family.get(str(slot["family"]), []):
            make.add(si, "supply", int(slot["line"]), k, cap)
    return make.rows


def _cohorts(case: AssistanceCase) -> tuple[list[Row], list[Row]]:
    """Every cohort of every course that ends within the horizon, and one training row per
    cohort and item it qualifies crews for (one with no item for a course that qualifies
    none)."""
    co: list[Row] = []
    tr: list[Row] = []
    for c in case.courses:
        every = c.every_days or c.duration_days
        start = case.day(c.first_start)
        while start + c.duration_days <= case.meta.horizon_days:
            k = len(co)
            end = start + c.duration_days
            co.append({"course": c.id, "start": start, "end": end, "size": c.cohort_size})
            for q in c.qualifies or ("",):
                tr.append({"cohort": k, "course": c.id, "start": start, "end": end, "item": q})
            start += every
    return co, tr


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dictionaries."""
    return cast(list[dict[str, Any]], frame.to_dict("records"))


def _frame(rows: list[Row], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def arc_count(case: AssistanceCase, pooled: Compiled) -> int:
    """How many arcs the per-arc model (:func:`compile_case`) has, counted from the pool
    model's compile (``per_line=False``: one arc per source and route): each of those once per
    line of its item, and, for items other than systems, once per slot of its family."""
    if not len(pooled.arcs):
        return 0
    per_item = pooled.arcs.groupby("item").size()
    items = {it.id: it for it in case.items}
    per_family: dict[str, int] = {}
    for item, n in per_item.items():
        it = items[str(item)]
        if it.category != Category.system:
            per_family[it.family] = per_family.get(it.family, 0) + int(n)
    main = sum(int(per_item.get(i, 0)) for i in pooled.lines["item"])
    supply = sum(per_family.get(str(f), 0) for f in pooled.slots["family"])
    return main + supply


def pool_size(comp: Compiled) -> int:
    """About how many variables the daily pool model of a compiled case (``per_line=False``)
    has: flows, draws, operational systems and supply draws, one per day each."""
    flows = len(comp.arcs.groupby(["item", "route"])) if len(comp.arcs) else 0
    return (flows + 2 * len(comp.lines) + len(comp.slots)) * (comp.horizon + 1)
