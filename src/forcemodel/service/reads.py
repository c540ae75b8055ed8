"""Reading the records: one record, or a page of a list, in one statement each.

Reads select the columns they answer with (the record's and its item's category and standard)
in one statement, and validate the rows straight into the answer's schema: no ORM objects to
build and track, one round trip for one record. Lists are keyset pages (``after`` a key, at
most ``limit`` rows, in key order): stable while rows are added or removed. Changes are in
:mod:`forcemodel.service.records`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import TypeAdapter
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from forcemodel.service.records import not_found
from forcemodel.service.schemas import AllocationOut, PledgeOut, RequirementOut
from forcemodel.service.tables import Allocation, Base, Item, Pledge, PledgeStatus, Requirement

R = TypeVar("R", bound=Base)

# Reads select the columns they answer with (the record's and its item's category and
# standard) in one statement, and validate the rows straight into the answer's schema: no ORM
# objects to build and track, one round trip for one record. Each statement is built once, with
# its values as bound parameters (see ``_statement``), and run on the session's connection:
# building a statement, and the ORM's handling of a statement it did not need, cost a read of
# one record several times what the database takes to answer it.

_PLEDGES = TypeAdapter(list[PledgeOut])
_REQUIREMENTS = TypeAdapter(list[RequirementOut])
_ALLOCATIONS = TypeAdapter(list[AllocationOut])


def _with_item(model: type[Pledge] | type[Requirement]) -> Select[Any]:
    table = model.__table__
    return (
        select(*table.c, Item.category, Item.standard)
        .join(Item, table.c.item_id == Item.id)
        .order_by(table.c.id)
    )


@functools.cache
def _statement(model: type[Base], filters: tuple[str, ...], limited: bool) -> Select[Any]:
    """The read of ``model``'s rows after the parameter ``after``, by id, with a bound
    parameter for each column in ``filters`` (equality), and ``LIMIT :limit`` if ``limited``.

    Cached: each combination is built (and compiled, in SQLAlchemy's cache) once per process.
    """
    if model is Pledge or model is Requirement:
        query = _with_item(model)
    else:
        query = select(*model.__table__.c).order_by(model.__table__.c.id)
    columns = model.__table__.c
    query = query.where(columns.id > bindparam("after"))
    for name in filters:
        query = query.where(columns[name] == bindparam(name))
    return query.limit(bindparam("limit")) if limited else query


def _rows(
    session: Session,
    model: type[Base],
    filters: Mapping[str, object],
    after: int,
    limit: int | None,
) -> list[dict[str, Any]]:
    """The rows of the read (see ``_statement``), as plain dicts.

    Plain dicts: pydantic validates a dict in its own compiled code, where a row's mapping view
    is read key by key through Python (several times slower per row). On the session's
    connection, after a flush: the statement reads what the session has changed so far, as
    ``session.execute`` would, without the ORM's handling of a statement that loads no object.
    """
    given = {name: value for name, value in filters.items() if value is not None}
    statement = _statement(model, tuple(given), limit is not None)
    params: dict[str, object] = {"after": after, **given}
    if limit is not None:
        params["limit"] = limit
    session.flush()
    result = session.connection().execute(statement, params)
    keys = tuple(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


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
    filters = {"donor": donor, "status": status.value if status else None, "id": pledge_id}
    return _PLEDGES.validate_python(_rows(session, Pledge, filters, after, limit))


def requirements(
    session: Session,
    partner: str | None = None,
    req_id: int | None = None,
    *,
    after: int = 0,
    limit: int | None = None,
) -> list[RequirementOut]:
    """Requirements by id: those after id ``after``, at most ``limit`` (a page), as filtered."""
    filters = {"partner": partner, "id": req_id}
    return _REQUIREMENTS.validate_python(_rows(session, Requirement, filters, after, limit))


def allocations(
    session: Session, alloc_id: int | None = None, *, after: int = 0, limit: int | None = None
) -> list[AllocationOut]:
    """Allocations by id: those after id ``after``, at most ``limit`` (a page)."""
    rows = _rows(session, Allocation, {"id": alloc_id}, after, limit)
    return _ALLOCATIONS.validate_python(rows)


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


def allocation(session: Session, alloc_id: int) -> AllocationOut:
    """One allocation, or 404."""
    found = allocations(session, alloc_id)
    if not found:
        raise not_found("allocation", alloc_id)
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
