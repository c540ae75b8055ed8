"""A case from the service's records, and the matcher's plan as allocations of those records.

The service's database holds items (``category``, ``standard``), pledges (item, quantity,
available-from date, location), requirements (item, quantity, priority 1 most urgent to 5,
needed-by date) and allocations; since revision 0004 also hubs, routes, training courses and
what items need (tons, crews): :mod:`forcemodel.assist.board_logistics`. Without those (the
matcher's ``POST /match``) every pledge reaches the partner on its available-from date and what
is delivered counts as operational; with them (the board's assistance plan) a pledge whose
location a recorded route leaves goes through its hub, a system is usable once crews are
trained, and the plan looks past the last date by the slowest route and the longest chain of
courses. It holds no ammunition loads (a system needs none here). Compatibility is the
service's rule: a pledge can serve a requirement whose item has the same category and
standard. Existing allocations are recorded deliveries (status ``allocated``): the plan keeps
them and adds to them.

Plain data in, plain data out: no database access here (the service reads the rows).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import pandas as pd

from forcemodel.assist.board_logistics import (
    Logistics,
    case_courses,
    case_hubs,
    case_routes,
    chain_days,
    check,
    location_key,
)
from forcemodel.assist.lifecycle import DeliveryStatus
from forcemodel.assist.match import MatchResult
from forcemodel.assist.model import (
    AssistanceCase,
    Delivery,
    Donor,
    Item,
    Meta,
    Pledge,
    Requirement,
)

#: Longest span of dates a case may cover (the case format's limit on the horizon).
MAX_DAYS = 1100
#: Columns of :func:`proposed_allocations`.
ALLOCATION_COLUMNS = [
    "pledge_id",
    "requirement_id",
    "quantity",
    "existing",
    "planned",
    "delivery_date",
]


@dataclass(frozen=True)
class ItemRecord:
    """A catalogue entry of the service."""

    id: str
    category: str
    standard: str


@dataclass(frozen=True)
class PledgeRecord:
    """A pledge of the service."""

    id: int
    donor: str
    item_id: str
    quantity: int
    available_from: dt.date
    #: Where it waits: its route when a recorded route leaves from here (exact text).
    location: str = ""


@dataclass(frozen=True)
class RequirementRecord:
    """A requirement of the service (priority 1 is the most urgent)."""

    id: int
    partner: str
    item_id: str
    quantity: int
    priority: int
    needed_by: dt.date


@dataclass(frozen=True)
class AllocationRecord:
    """An allocation of the service: this much of a pledge to a requirement."""

    pledge_id: int
    requirement_id: int
    quantity: int


def _ident(text: str) -> str:
    """``text`` as an identifier of the case format (letters, digits, '_', '-', '.')."""
    out = re.sub(r"[^A-Za-z0-9_.\-]", "_", text)
    return out if out[:1].isalnum() else f"x{out}"


def capability_keys(kinds: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The case's capability of each (category, standard) pair: a different one for each pair.

    A pair's key is ``category.standard``; joined as they are, ``a.b`` + ``c`` and ``a`` +
    ``b.c`` would share one (and the matcher would let one serve the other), so a pair whose
    key is taken gets the first free ``-2``, ``-3``, ... after it. Pairs are keyed in sorted
    order, so the same records give the same keys.
    """
    keys: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    for pair in sorted(set(kinds)):
        base = _ident(f"{pair[0]}.{pair[1]}")
        key, n = base, 1
        while key in taken:
            n += 1
            key = f"{base}-{n}"
        keys[pair] = key
        taken.add(key)
    return keys


def pledge_key(pledge_id: int) -> str:
    """The case's id of the service's pledge ``pledge_id``."""
    return f"p{pledge_id}"


def requirement_key(requirement_id: int) -> str:
    """The case's id of the service's requirement ``requirement_id``."""
    return f"r{requirement_id}"


def _standard(text: str) -> str:
    low = text.lower()
    return "nato" if low.startswith("nato") else "soviet" if low.startswith("soviet") else "other"


def case_from_records(
    items: Sequence[ItemRecord],
    pledges: Sequence[PledgeRecord],
    requirements: Sequence[RequirementRecord],
    allocations: Iterable[AllocationRecord] = (),
    *,
    name: str = "database",
    logistics: Logistics | None = None,
) -> AssistanceCase:
    """The matching case of the service's records (see the module docstring).

    Day 0 is the earliest available-from, needed-by or course first-start date; the horizon
    the latest, plus (with ``logistics``) the slowest route and the longest chain of courses,
    up to :data:`MAX_DAYS`.

    Raises:
        ValueError: the dates span more than :data:`MAX_DAYS` days.
        forcemodel.assist.board_logistics.PlanError: ``logistics`` that cannot be planned
            (a ValueError too), every problem located.
    """
    logistics = logistics or Logistics()
    check(logistics, {it.id: it.category for it in items})
    dates = [p.available_from for p in pledges] + [r.needed_by for r in requirements]
    dates += [c.first_start for c in logistics.courses if c.first_start is not None]
    start = min(dates, default=dt.date(2000, 1, 1))
    span = (max(dates, default=start) - start).days
    if span > MAX_DAYS:
        raise ValueError(
            f"the pledges and requirements span {span} days ({start.isoformat()} to "
            f"{max(dates).isoformat()}); the matcher plans at most {MAX_DAYS} days"
        )
    horizon = min(span + chain_days(logistics), MAX_DAYS)
    needs = {n.item_id: n for n in logistics.needs}
    origins = {r.origin for r in logistics.routes}
    known = {it.id: it for it in items}
    keys = capability_keys((it.category, it.standard) for it in items)

    def capability(item_id: str) -> str:
        it = known[item_id]
        return keys[(it.category, it.standard)]

    categories = {"system", "ammunition", "spares", "other"}
    case_items = tuple(
        Item(
            id=_ident(it.id),
            name=it.id,
            category=it.category if it.category in categories else "other",
            capability=capability(it.id),
            family=_ident(it.id),
            standard=_standard(it.standard),
            tons=needs[it.id].tons if it.id in needs else 0.0,
            crew=needs[it.id].crew if it.id in needs else 0,
        )
        for it in items
    )
    donors = tuple(Donor(id=_ident(d)) for d in sorted({p.donor for p in pledges}))
    case_pledges = tuple(
        Pledge(
            id=pledge_key(p.id),
            donor=_ident(p.donor),
            item=_ident(p.item_id),
            quantity=float(p.quantity),
            available_from=p.available_from,
            location=location_key(p.location, origins),
        )
        for p in pledges
    )
    case_reqs = tuple(
        Requirement(
            id=requirement_key(r.id),
            capability=capability(r.item_id),
            quantity=float(r.quantity),
            # The service's 1 (most urgent) .. 5 becomes a weight 5 .. 1.
            priority=float(6 - r.priority),
            needed_by=r.needed_by,
        )
        for r in requirements
    )
    # Several allocations of one pledge to one requirement are one recorded quantity.
    held: dict[tuple[int, int], int] = {}
    for a in allocations:
        held[(a.pledge_id, a.requirement_id)] = held.get((a.pledge_id, a.requirement_id), 0) + (
            a.quantity
        )
    deliveries = tuple(
        Delivery(
            pledge=pledge_key(p),
            requirement=requirement_key(r),
            quantity=float(q),
            status=DeliveryStatus.allocated.value,
            source="an allocation in the database",
        )
        for (p, r), q in sorted(held.items())
    )
    return AssistanceCase(
        meta=Meta(name=_ident(name), start=start, horizon_days=max(1, horizon), partner="partner"),
        donors=donors,
        items=case_items,
        requirements=case_reqs,
        pledges=case_pledges,
        hubs=case_hubs(logistics),
        routes=case_routes(logistics),
        courses=case_courses(logistics),
        deliveries=deliveries,
    )


def proposed_allocations(
    result: MatchResult,
    allocations: Iterable[AllocationRecord] = (),
) -> pd.DataFrame:
    """What the plan allocates beyond the existing allocations, per pledge and requirement.

    Columns: ``pledge_id``, ``requirement_id`` (the service's ids), ``quantity`` (to add: whole
    items, the plan rounded down), ``existing`` (already allocated), ``planned`` (the plan's
    total) and ``delivery_date`` (the first day the plan delivers it). Rows with nothing to
    add are left out.
    """
    dl = result.deliveries
    dl = dl[dl["role"] == "main"]
    existing: dict[tuple[int, int], int] = {}
    for a in allocations:
        existing[(a.pledge_id, a.requirement_id)] = (
            existing.get((a.pledge_id, a.requirement_id), 0) + a.quantity
        )
    rows: list[dict[str, object]] = []
    if not dl.empty:
        grouped = dl.groupby(["pledge", "requirement"], sort=False).agg(
            planned=("quantity", "sum"), delivery_date=("delivery_date", "min")
        )
        for key, row in grouped.iterrows():
            pledge, req = cast(tuple[str, str], key)
            pid, rid = int(str(pledge)[1:]), int(str(req)[1:])
            # Records hold whole items; the tolerance keeps 99.9999999 from becoming 99.
            planned = math.floor(float(row["planned"]) + 1e-6)
            have = existing.get((pid, rid), 0)
            if planned - have > 0:
                rows.append(
                    {
                        "pledge_id": pid,
                        "requirement_id": rid,
                        "quantity": planned - have,
                        "existing": have,
                        "planned": planned,
                        "delivery_date": str(row["delivery_date"]),
                    }
                )
    out = pd.DataFrame(rows, columns=ALLOCATION_COLUMNS)
    return out.sort_values(["pledge_id", "requirement_id"], kind="stable").reset_index(drop=True)
