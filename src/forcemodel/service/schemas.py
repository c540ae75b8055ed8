"""The API's pydantic schemas: what clients send (``...In``, ``...Patch``) and get (``...Out``).

Unknown fields are refused (a typo is a 422, not a silently ignored field). A patch names only
the fields it changes; none of them may be null. Every patch carries the ``version`` it was
based on, in the body or in an ``If-Match`` header.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from forcemodel.service.auth import NATION_PATTERN
from forcemodel.service.tables import PledgeStatus, Role

Nation = Annotated[
    str,
    StringConstraints(pattern=NATION_PATTERN),
    Field(description="ISO 3166 country code, upper case, e.g. DE.", examples=["DE"]),
]
Code = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=40),
    Field(description="Lower-case letters, digits, '.', '_' or '-'; at most 40 characters."),
]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Note = Annotated[str, StringConstraints(max_length=2000)]
Quantity = Annotated[int, Field(gt=0, le=1_000_000_000, description="A whole number above 0.")]
Priority = Annotated[int, Field(ge=1, le=5, description="1 (most urgent) to 5.")]
Version = Annotated[int, Field(ge=1, description="The version the change is based on.")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Patch(_In):
    """A partial change: only the fields given change, and none may be null."""

    version: Version | None = Field(
        default=None, description="The version read; or send it as an If-Match header."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = [k for k, v in data.items() if v is None and k in cls.model_fields]
            if nulls:
                raise ValueError(f"may not be null: {', '.join(sorted(nulls))} (leave them out)")
        return data

    def changes(self) -> dict[str, Any]:
        """The fields given, other than the version."""
        return {k: getattr(self, k) for k in self.model_fields_set if k != "version"}


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class _Row(_Out):
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class Me(_Out):
    """The caller."""

    name: str
    role: Role
    nation: str | None


class ItemIn(_In):
    """A new catalogue entry."""

    id: Code = Field(examples=["155mm-he"])
    name: Label = Field(examples=["155 mm high-explosive shell"])
    category: Code = Field(examples=["ammunition"])
    standard: Code = Field(description="e.g. nato-155, soviet-152.", examples=["nato-155"])


class ItemPatch(_Patch):
    """A change to a catalogue entry."""

    name: Label | None = None
    category: Code | None = None
    standard: Code | None = None


class ItemOut(_Row):
    """A catalogue entry."""

    id: str
    name: str
    category: str
    standard: str


class DonorIn(_In):
    """A new donor nation."""

    code: Nation
    name: Label = Field(examples=["Germany"])


class DonorPatch(_Patch):
    """A change to a donor nation."""

    name: Label | None = None


class DonorOut(_Row):
    """A donor nation."""

    code: str
    name: str


class PledgeIn(_In):
    """A new pledge; it starts as ``pledged``."""

    donor: Nation | None = Field(default=None, description="Defaults to the caller's nation.")
    item_id: Code
    quantity: Quantity
    available_from: dt.date
    location: Label = Field(examples=["Rzeszow hub"])
    note: Note = ""


class PledgePatch(_Patch):
    """A change to a pledge (coordinators may change only its status)."""

    item_id: Code | None = None
    quantity: Quantity | None = None
    available_from: dt.date | None = None
    location: Label | None = None
    status: PledgeStatus | None = None
    note: Note | None = None


class PledgeOut(_Row):
    """A pledge, with its item's category and standard."""

    id: int
    donor: str
    item_id: str
    category: str
    standard: str
    quantity: int
    available_from: dt.date
    location: str
    status: PledgeStatus
    note: str


class RequirementIn(_In):
    """A new requirement of the partner."""

    partner: Nation | None = Field(default=None, description="Defaults to the caller's nation.")
    item_id: Code
    quantity: Quantity
    priority: Priority
    needed_by: dt.date
    location: Label
    note: Note = ""


class RequirementPatch(_Patch):
    """A change to a requirement."""

    item_id: Code | None = None
    quantity: Quantity | None = None
    priority: Priority | None = None
    needed_by: dt.date | None = None
    location: Label | None = None
    note: Note | None = None


class RequirementOut(_Row):
    """A requirement, with its item's category and standard."""

    id: int
    partner: str
    item_id: str
    category: str
    standard: str
    quantity: int
    priority: int
    needed_by: dt.date
    location: str
    note: str


class AllocationIn(_In):
    """A new allocation of (part of) a pledge to a requirement."""

    pledge_id: int
    requirement_id: int
    quantity: Quantity
    note: Note = ""


class AllocationPatch(_Patch):
    """A change to an allocation."""

    quantity: Quantity | None = None
    note: Note | None = None


class AllocationOut(_Row):
    """An allocation."""

    id: int
    pledge_id: int
    requirement_id: int
    quantity: int
    note: str


class AuditOut(_Out):
    """One audited change."""

    id: int
    at: dt.datetime
    actor: str
    actor_role: str
    entity: str
    entity_id: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class ImportResult(BaseModel):
    """What a CSV import did (all rows or none)."""

    created: int
    updated: int
    unchanged: int
