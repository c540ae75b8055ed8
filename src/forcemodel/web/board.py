"""What the assistance board lists: pages of pledges and requirements, filtered, with cover.

Reads only (writes go through :mod:`forcemodel.service.records`, as the API's do). Pages are
ordered by id and cut by ``LIMIT``/``OFFSET``; each row carries the quantity already allocated
(one grouped sub-query), so that a requirement's cover and a pledge's remainder show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from forcemodel.service.tables import Allocation, AuditEntry, Item, Pledge, Requirement

#: Rows per page of a list; a page never holds more than MAX_PAGE rows.
PAGE = 50
MAX_PAGE = 200


@dataclass(frozen=True)
class Page:
    """One page of a list, with what the pager needs."""

    rows: list[dict[str, Any]]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        """The offset of the next page, or None on the last."""
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def prev_offset(self) -> int | None:
        """The offset of the previous page, or None on the first."""
        return max(self.offset - self.limit, 0) if self.offset > 0 else None

    @property
    def first(self) -> int:
        """1-based number of the first row shown (0 when there is none)."""
        return self.offset + 1 if self.rows else 0

    @property
    def last(self) -> int:
        """1-based number of the last row shown."""
        return self.offset + len(self.rows)


def _page(session: Session, query: Select[Any], offset: int, limit: int) -> Page:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = [dict(r._mapping) for r in session.execute(query.offset(offset).limit(limit))]
    return Page(rows, int(total or 0), offset, limit)


def _allocated(column: Any) -> Any:
    return (
        select(column.label("key"), func.sum(Allocation.quantity).label("allocated"))
        .group_by(column)
        .subquery()
    )


def pledge_page(
    session: Session,
    *,
    donor: str | None = None,
    status: str | None = None,
    category: str | None = None,
    item_id: str | None = None,
    offset: int = 0,
    limit: int = PAGE,
) -> Page:
    """Pledges by id, filtered, with the quantity allocated from each."""
    alloc = _allocated(Allocation.pledge_id)
    query = (
        select(
            *Pledge.__table__.c,
            Item.category,
            Item.standard,
            func.coalesce(alloc.c.allocated, 0).label("allocated"),
        )
        .join(Item, Pledge.item_id == Item.id)
        .outerjoin(alloc, alloc.c.key == Pledge.id)
        .order_by(Pledge.id)
    )
    if donor:
        query = query.where(Pledge.donor == donor)
    if status:
        query = query.where(Pledge.status == status)
    if category:
        query = query.where(Item.category == category)
    if item_id:
        query = query.where(Pledge.item_id == item_id)
    return _page(session, query, offset, min(limit, MAX_PAGE))


def requirement_page(
    session: Session,
    *,
    partner: str | None = None,
    category: str | None = None,
    priority: int | None = None,
    offset: int = 0,
    limit: int = PAGE,
) -> Page:
    """Requirements by priority then id, filtered, with the quantity allocated to each."""
    alloc = _allocated(Allocation.requirement_id)
    query = (
        select(
            *Requirement.__table__.c,
            Item.category,
            Item.standard,
            func.coalesce(alloc.c.allocated, 0).label("allocated"),
        )
        .join(Item, Requirement.item_id == Item.id)
        .outerjoin(alloc, alloc.c.key == Requirement.id)
        .order_by(Requirement.priority, Requirement.id)
    )
    if partner:
        query = query.where(Requirement.partner == partner)
    if category:
        query = query.where(Item.category == category)
    if priority is not None:
        query = query.where(Requirement.priority == priority)
    page = _page(session, query, offset, min(limit, MAX_PAGE))
    for row in page.rows:
        row["cover"] = cover(int(row["allocated"]), int(row["quantity"]))
    return page


def cover(allocated: int, quantity: int) -> str:
    """A requirement's status in words: open, partly covered or covered."""
    if allocated <= 0:
        return "open"
    return "covered" if allocated >= quantity else "partly covered"


def choices(session: Session) -> dict[str, list[str]]:
    """Values offered by the filters: donors, partners, categories, items."""
    return {
        "donors": list(session.scalars(select(Pledge.donor).distinct().order_by(Pledge.donor))),
        "partners": list(
            session.scalars(select(Requirement.partner).distinct().order_by(Requirement.partner))
        ),
        "categories": list(
            session.scalars(select(Item.category).distinct().order_by(Item.category))
        ),
        "items": list(session.scalars(select(Item.id).order_by(Item.id))),
    }


def allocations_of(
    session: Session, *, pledge_id: int | None = None, requirement_id: int | None = None
) -> list[dict[str, Any]]:
    """The allocations from a pledge or to a requirement, by id."""
    query = select(*Allocation.__table__.c).order_by(Allocation.id)
    if pledge_id is not None:
        query = query.where(Allocation.pledge_id == pledge_id)
    if requirement_id is not None:
        query = query.where(Allocation.requirement_id == requirement_id)
    return [dict(r._mapping) for r in session.execute(query)]


@dataclass(frozen=True)
class Change:
    """One audited change, field by field."""

    id: int
    at: dt.datetime
    actor: str
    actor_role: str
    action: str
    fields: list[tuple[str, str, str]]


def history(session: Session, entity: str, entity_id: str) -> list[Change]:
    """The audited changes of one record, oldest first, with the fields each changed."""
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id)
    )
    out = []
    for r in rows:
        before, after = r.before or {}, r.after or {}
        keys = [k for k in dict.fromkeys([*before, *after]) if before.get(k) != after.get(k)]
        fields = [
            (k, "" if k not in before else str(before[k]), "" if k not in after else str(after[k]))
            for k in keys
            if k not in ("updated_at",)
        ]
        out.append(Change(r.id, r.at, r.actor, r.actor_role, r.action, fields))
    return out
