"""Reading the records: one record, or a page of a list, in one statement each.

Reads select the columns they answer with (the record's and its item's category and standard)
in one statement, and validate the rows straight into the answer's schema: no ORM objects to
build and track, one round trip for one record. Lists are keyset pages (``after`` a key, at
most ``limit`` rows, in key order): stable while rows are added or removed. Changes are in
:mod:`forcemodel.service.records`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import TypeAdapter
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from forcemodel.service.records import not_found
from forcemodel.service.schemas import AllocationOut, PledgeOut, RequirementOut
from forcemodel.service.tables import Allocation, Base, Item, Pledge, PledgeStatus, Requirement

R = TypeVar("R", bound=Base)


# Reads select the columns they answer with (the record's and its item's category and
# standard) in one statement, and validate the rows straight into the answer's schema: no ORM
# objects to build and track, one round trip for one record.

_PLEDGES = TypeAdapter(list[PledgeOut])
_REQUIREMENTS = TypeAdapter(list[RequirementOut])


def _with_item(model: type[Pledge] | type[Requirement]) -> Select[Any]:
    table = model.__table__
    return (
        select(*table.c, Item.category, Item.standard)
        .join(Item, table.c.item_id == Item.id)
        .order_by(table.c.id)
    )


def allocation_out(allocation: Allocation) -> AllocationOut:
    return AllocationOut.model_validate(allocation)


def pledges(
    session: Session,
    donor: str | None = None,
    status: PledgeStatus | None = None,
    pledge_id: int | None = None,
    *,
    after: int = 0,
    limit: int | None = None,
) -> list[PledgeOut]:
    """Pledges by id: those after id ``after``, at most ``limit`` (a page), as filtered."""
    query = _with_item(Pledge).where(Pledge.id > after)
    if donor is not None:
        query = query.where(Pledge.donor == donor)
    if status is not None:
        query = query.where(Pledge.status == status.value)
    if pledge_id is not None:
        query = query.where(Pledge.id == pledge_id)
    return _PLEDGES.validate_python([row._mapping for row in session.execute(query.limit(limit))])


def requirements(
    session: Session,
    partner: str | None = None,
    req_id: int | None = None,
    *,
    after: int = 0,
    limit: int | None = None,
) -> list[RequirementOut]:
    """Requirements by id: those after id ``after``, at most ``limit`` (a page), as filtered."""
    query = _with_item(Requirement).where(Requirement.id > after)
    if partner is not None:
        query = query.where(Requirement.partner == partner)
    if req_id is not None:
        query = query.where(Requirement.id == req_id)
    return _REQUIREMENTS.validate_python(
        [row._mapping for row in session.execute(query.limit(limit))]
    )


def pledge(session: Session, pledge_id: int) -> PledgeOut:
    found = pledges(session, pledge_id=pledge_id)
    if not found:
        raise not_found("pledge", pledge_id)
    return found[0]


def requirement(session: Session, req_id: int) -> RequirementOut:
    found = requirements(session, req_id=req_id)
    if not found:
        raise not_found("requirement", req_id)
    return found[0]


def get_row(session: Session, model: type[R], key: object, entity: str) -> R:
    """The row, or 404."""
    row = session.get(model, key)
    if row is None:
        raise not_found(entity, key)
    return row


def page(session: Session, model: type[R], key: Any, after: object, limit: int) -> list[R]:
    """A page of the table in the order of its key ``key``: the rows after ``after``, at most
    ``limit`` of them (keyset pagination: stable while rows are added or removed)."""
    query = select(model).order_by(key).limit(limit)
    if after is not None:
        query = query.where(key > after)
    return list(session.scalars(query))
