"""The read path (``forcemodel.service.reads``): cached statements on the session's connection.

The reads build each statement once, bind its values as parameters and run it on the session's
connection, bypassing the ORM. These tests hold them to what the ORM gives for the same rows
(any filter, any page) and to what a write session has changed but not yet flushed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from forcemodel.service import reads
from forcemodel.service.db import make_engine, session_factory
from forcemodel.service.migrate import upgrade_to_head
from forcemodel.service.records import RecordError
from forcemodel.service.schemas import PledgeOut
from forcemodel.service.tables import (
    Allocation,
    Donor,
    Item,
    Pledge,
    PledgeStatus,
    Requirement,
    utcnow,
)

NATIONS = ("DE", "FR", "PL")
PLEDGES = 60


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A session on a SQLite database of 60 pledges, 20 requirements and 15 allocations."""
    path: Path = tmp_path_factory.mktemp("reads") / "reads.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    now = utcnow()
    stamp = {"version": 1, "created_at": now, "updated_at": now}
    statuses = list(PledgeStatus)
    with session_factory(engine)() as s:
        s.execute(insert(Donor), [{"code": n, "name": n, **stamp} for n in NATIONS])
        s.execute(
            insert(Item),
            [
                {"id": "155-he", "name": "155 mm HE", "category": "ammunition"}
                | {"standard": "nato-155", **stamp}
            ],
        )
        s.execute(
            insert(Pledge),
            [
                {"donor": NATIONS[k % 3], "item_id": "155-he", "quantity": 10 + k}
                | {"available_from": dt.date(2026, 3, 1 + k % 28), "location": "Rzeszów"}
                | {"status": statuses[k % len(statuses)].value, "note": f'"{k}"\n', **stamp}
                for k in range(PLEDGES)
            ],
        )
        s.execute(
            insert(Requirement),
            [
                {"partner": ("UA", "MD")[k % 2], "item_id": "155-he", "quantity": 500}
                | {"priority": 1 + k % 5, "needed_by": dt.date(2026, 6, 1), "location": "Kyiv"}
                | {"note": "", **stamp}
                for k in range(20)
            ],
        )
        s.execute(
            insert(Allocation),
            [
                {"pledge_id": 1 + 4 * k, "requirement_id": 1 + k, "quantity": 1, "note": ""} | stamp
                for k in range(15)
            ],
        )
        s.commit()
    with session_factory(engine, read_only=True)() as s:
        yield s
    engine.dispose()


def _expected_pledges(
    session: Session, donor: str | None, status: PledgeStatus | None, after: int, limit: int
) -> list[dict[str, object]]:
    """The page as the ORM reads it: pledge objects with their item's category and standard."""
    query = select(Pledge).where(Pledge.id > after).order_by(Pledge.id).limit(limit)
    if donor is not None:
        query = query.where(Pledge.donor == donor)
    if status is not None:
        query = query.where(Pledge.status == status.value)
    out = []
    for pledge in session.scalars(query):
        item = session.get_one(Item, pledge.item_id)
        row = {c.name: getattr(pledge, c.name) for c in Pledge.__table__.c}
        out.append(row | {"category": item.category, "standard": item.standard})
    return out


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    donor=st.sampled_from((None, *NATIONS, "NL")),
    status=st.sampled_from((None, *PledgeStatus)),
    after=st.integers(0, PLEDGES + 2),
    limit=st.integers(1, 25),
)
def test_pledge_pages_are_what_the_orm_reads(
    session: Session, donor: str | None, status: PledgeStatus | None, after: int, limit: int
) -> None:
    """Any filter, any page: the same rows, in the same order, with the same values."""
    got = reads.pledges(session, donor, status, after=after, limit=limit)
    expected = _expected_pledges(session, donor, status, after, limit)
    assert [p.model_dump() for p in got] == [
        PledgeOut.model_validate(row).model_dump() for row in expected
    ]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    partner=st.sampled_from((None, "UA", "MD")),
    after=st.integers(0, 22),
    limit=st.integers(1, 25),
)
def test_requirement_and_allocation_pages_are_what_the_orm_reads(
    session: Session, partner: str | None, after: int, limit: int
) -> None:
    """Requirements by partner and allocations, page by page, as the ORM reads them."""
    got = reads.requirements(session, partner, after=after, limit=limit)
    query = select(Requirement).where(Requirement.id > after).order_by(Requirement.id)
    if partner is not None:
        query = query.where(Requirement.partner == partner)
    assert [r.id for r in got] == [r.id for r in session.scalars(query.limit(limit))]
    allocations = reads.allocations(session, after=after, limit=limit)
    orm = session.scalars(
        select(Allocation).where(Allocation.id > after).order_by(Allocation.id).limit(limit)
    )
    assert allocations == [reads.allocation_out(a) for a in orm]


def test_one_record_and_its_absence(session: Session) -> None:
    """One record by id, with what the list gives for it; a missing id is a 404."""
    assert reads.pledge(session, 7) == reads.pledges(session, after=6, limit=1)[0]
    assert reads.requirement(session, 3).id == 3
    assert reads.allocation(session, 2).pledge_id == 5
    for read, key in ((reads.pledge, 999), (reads.requirement, 999), (reads.allocation, 999)):
        with pytest.raises(RecordError) as refused:
            read(session, key)
        assert refused.value.status == 404


def test_a_read_sees_what_its_session_has_changed_but_not_flushed(session: Session) -> None:
    """A route that changes a record and reads it back in one session sees its change."""
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    with session_factory(engine, write=True)() as writing:
        pledge = writing.get_one(Pledge, 3)
        pledge.quantity = 4242
        assert reads.pledge(writing, 3).quantity == 4242
        writing.rollback()
    assert reads.pledge(session, 3).quantity != 4242


def test_each_read_statement_is_built_once() -> None:
    """The same kind of read (model, filters, page or not) reuses one statement object."""
    first = reads._statement(Pledge, ("donor",), True)
    assert reads._statement(Pledge, ("donor",), True) is first
    assert reads._statement(Pledge, ("donor",), False) is not first
