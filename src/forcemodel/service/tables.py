"""The database tables, as SQLAlchemy 2 declarative models.

Every editable row carries an integer ``version`` (SQLAlchemy's version counter): an UPDATE or
DELETE names the version it read, so a change made in between is never overwritten silently.
Users hold a SHA-256 hash of their token, never the token itself. The audit log keeps, for every
change, who made it, when, and the row before and after.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from forcemodel.assist.lifecycle import STAGES, DeliveryStatus


class Role(StrEnum):
    """What a user may do."""

    donor = "donor"  # creates and edits its own nation's pledges
    partner = "partner"  # creates and edits its own nation's requirements
    coordinator = "coordinator"  # reads everything, allocates, keeps the catalogue
    observer = "observer"  # reads
    #: Added in revision 0003: reads the board like an observer; plans (uploads scenarios,
    #: starts and cancels runs) on the web dashboard, like a coordinator.
    analyst = "analyst"


#: Where a pledged item stands, in the order it moves: the lifecycle's one definition.
PledgeStatus = DeliveryStatus


class AuditAction(StrEnum):
    """What a change did."""

    create = "create"
    update = "update"
    delete = "delete"


def utcnow() -> dt.datetime:
    """The current time, in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


#: JSON documents; JSONB on PostgreSQL.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")

#: Short identifiers and codes.
CODE = 40
NAME = 200


class Base(DeclarativeBase):
    """Base of the service's tables; constraints get stable names, so migrations can name them."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Versioned:
    """Mixin: an integer version counter checked on every UPDATE and DELETE, and timestamps."""

    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class User(Base):
    """Someone who may call the service."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    nation: Mapped[str | None] = mapped_column(String(3))
    #: SHA-256 of the token, hex; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        CheckConstraint(f"role IN ({', '.join(repr(r.value) for r in Role)})", name="role"),
    )


class Donor(Versioned, Base):
    """A donor nation."""

    __tablename__ = "donors"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))


class Item(Versioned, Base):
    """An entry of the catalogue: a kind of ammunition, system, spare or capability."""

    __tablename__ = "items"

    id: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    category: Mapped[str] = mapped_column(String(CODE))
    #: e.g. "nato-155", "soviet-152": ammunition, spares and systems must share a standard.
    standard: Mapped[str] = mapped_column(String(CODE))


class Requirement(Versioned, Base):
    """What the partner needs: an item, how many, how urgently, by when, where."""

    __tablename__ = "requirements"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner: Mapped[str] = mapped_column(String(3), index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    #: 1 is the most urgent.
    priority: Mapped[int] = mapped_column(Integer)
    needed_by: Mapped[dt.date] = mapped_column(Date)
    location: Mapped[str] = mapped_column(String(NAME))
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("priority BETWEEN 1 AND 5", name="priority"),
    )


class Pledge(Versioned, Base):
    """What a donor offers: an item, how many, from when, where, and how far it has got."""

    __tablename__ = "pledges"

    id: Mapped[int] = mapped_column(primary_key=True)
    donor: Mapped[str] = mapped_column(ForeignKey("donors.code"), index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    available_from: Mapped[dt.date] = mapped_column(Date)
    location: Mapped[str] = mapped_column(String(NAME))
    #: Indexed (revision 0002): coordinators list pledges by how far they have got.
    status: Mapped[str] = mapped_column(String(20), default=PledgeStatus.pledged.value, index=True)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint(f"status IN ({', '.join(repr(s.value) for s in STAGES)})", name="status"),
    )


class Allocation(Versioned, Base):
    """A coordinator's decision: this much of a pledge goes to a requirement."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    requirement_id: Mapped[int] = mapped_column(ForeignKey("requirements.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity"),)


class AuditEntry(Base):
    """One change: who, when, which row, what it did, the row before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(NAME))
    actor_role: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(CODE))
    entity_id: Mapped[str] = mapped_column(String(CODE))
    action: Mapped[str] = mapped_column(String(20))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)

    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)


# --- logistics and training (revision 0004): what the board's assistance plan schedules ----


class Hub(Versioned, Base):
    """A logistics hub on the way to the partner, with the tons a day it can pass on."""

    __tablename__ = "hubs"

    id: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    #: Where it is (a place, a country): shown, not matched.
    location: Mapped[str] = mapped_column(String(NAME))
    t_per_day: Mapped[float] = mapped_column(Float)

    __table_args__ = (CheckConstraint("t_per_day > 0", name="t_per_day"),)


class Route(Versioned, Base):
    """From where pledges wait (a pledge's ``location``, matched exactly) through a hub to the
    partner: days to the hub, days onward, and optionally the tons a day the route takes."""

    __tablename__ = "routes"

    id: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    origin: Mapped[str] = mapped_column(String(NAME), index=True)
    hub_id: Mapped[str] = mapped_column(ForeignKey("hubs.id"), index=True)
    to_hub_days: Mapped[int] = mapped_column(Integer)
    onward_days: Mapped[int] = mapped_column(Integer)
    t_per_day: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        CheckConstraint("to_hub_days >= 0 AND onward_days >= 0", name="days"),
        CheckConstraint("t_per_day IS NULL OR t_per_day > 0", name="t_per_day"),
    )


class Course(Versioned, Base):
    """A training course: crews of a system (``item_id``; none for a course that is only a
    prerequisite of others), trainees per cohort, days, and the courses to pass first.

    ``prerequisites`` are course ids, checked when a plan is made (courses may be entered in
    any order), not by a foreign key.
    """

    __tablename__ = "courses"

    id: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    item_id: Mapped[str | None] = mapped_column(ForeignKey("items.id"), index=True)
    cohort_size: Mapped[int] = mapped_column(Integer)
    duration_days: Mapped[int] = mapped_column(Integer)
    first_start: Mapped[dt.date | None] = mapped_column(Date)
    every_days: Mapped[int | None] = mapped_column(Integer)
    max_cohorts: Mapped[int | None] = mapped_column(Integer)
    prerequisites: Mapped[list[str]] = mapped_column(JSONDoc, default=list)

    __table_args__ = (
        CheckConstraint("cohort_size > 0 AND duration_days > 0", name="sizes"),
        CheckConstraint("every_days IS NULL OR every_days > 0", name="every_days"),
        CheckConstraint("max_cohorts IS NULL OR max_cohorts >= 0", name="max_cohorts"),
    )


class ItemNeeds(Versioned, Base):
    """What one item of the catalogue needs on its way and in service: its weight (tons, for
    the hubs' throughput) and, for a system, the people trained on it that one needs (crew)."""

    __tablename__ = "item_needs"

    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), primary_key=True)
    tons: Mapped[float] = mapped_column(Float)
    crew: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("tons >= 0 AND crew >= 0", name="needs"),)
