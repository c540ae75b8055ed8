"""The API's pydantic schemas: what clients send (``...In``, ``...Patch``) and get (``...Out``).

Unknown fields are refused (a typo is a 422, not a silently ignored field). A patch names only
the fields it changes; none of them may be null (and the OpenAPI description says so). Every
patch carries the ``version`` it was based on, in the body or in an ``If-Match`` header. Text
must be storable in every database: no NUL character (PostgreSQL refuses it) and no unpaired
surrogate (not UTF-8). Ids and versions fit the database's 32-bit integers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictInt,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from forcemodel.service.auth import NATION_PATTERN
from forcemodel.service.tables import PledgeStatus, Role

#: The largest id or version: the database's INTEGER columns hold 32 bits (PostgreSQL).
MAX_INT = 2_147_483_647
#: Catalogue ids and other codes.
CODE_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
CODE_LENGTH = 40


def storable(value: str) -> str:
    """Refuse text that a database cannot store: NUL, or a surrogate that is not UTF-8."""
    if "\x00" in value:
        raise ValueError("text may not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (an unpaired surrogate is not)") from None
    return value


Nation = Annotated[
    str,
    StringConstraints(pattern=NATION_PATTERN),
    Field(description="ISO 3166 country code, upper case, e.g. DE.", examples=["DE"]),
]
Code = Annotated[
    str,
    StringConstraints(pattern=CODE_PATTERN, max_length=CODE_LENGTH),
    Field(description="Lower-case letters, digits, '.', '_' or '-'; at most 40 characters."),
]
Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(storable),
]
Note = Annotated[str, StringConstraints(max_length=2000), AfterValidator(storable)]
# Strict: a quantity is a JSON integer, never true, "5" or 5.0 (each was taken as 5).
Quantity = Annotated[
    StrictInt, Field(gt=0, le=1_000_000_000, description="A whole number above 0.")
]
Priority = Annotated[StrictInt, Field(ge=1, le=5, description="1 (most urgent) to 5.")]
Version = Annotated[
    StrictInt, Field(ge=1, le=MAX_INT, description="The version the change is based on.")
]
RowId = Annotated[StrictInt, Field(ge=1, le=MAX_INT, description="A record's id.")]


def _iso_date(value: Any) -> Any:
    """A date as ``YYYY-MM-DD`` (or a date object): never a datetime, a timestamp or a number."""
    if isinstance(value, dt.datetime) or not isinstance(value, str | dt.date):
        raise ValueError("a date such as 2026-03-01 is needed (no time, no number)")
    if isinstance(value, str) and not _DATE.fullmatch(value):
        raise ValueError(f"{value[:40]!r} is not a date such as 2026-03-01 (no time)")
    return value


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: A calendar date, strictly ``YYYY-MM-DD`` (a datetime was taken as its date).
Date = Annotated[dt.date, BeforeValidator(_iso_date)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Patch(_In):
    """A partial change: only the fields given change, and none may be null."""

    version: Version | None = Field(
        default=None, description="The version read; or send it as an If-Match header."
    )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # The fields are optional but never null: say so in the OpenAPI description, which
        # would otherwise offer null (``X | None``) and a default of null.
        json_schema = handler.resolve_ref_schema(handler(schema))
        for prop in json_schema.get("properties", {}).values():
            prop.pop("default", None)
            kinds = [k for k in prop.pop("anyOf", []) if k.get("type") != "null"]
            if len(kinds) == 1:
                prop.update(kinds[0])
            elif kinds:
                prop["anyOf"] = kinds
        return json_schema

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
    available_from: Date
    location: Label = Field(examples=["Rzeszow hub"])
    note: Note = ""


class PledgePatch(_Patch):
    """A change to a pledge (coordinators may change only its status)."""

    item_id: Code | None = None
    quantity: Quantity | None = None
    available_from: Date | None = None
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
    needed_by: Date
    location: Label
    note: Note = ""


class RequirementPatch(_Patch):
    """A change to a requirement."""

    item_id: Code | None = None
    quantity: Quantity | None = None
    priority: Priority | None = None
    needed_by: Date | None = None
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

    pledge_id: RowId
    requirement_id: RowId
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


class Problem(BaseModel):
    """One problem of an invalid request: where, and what."""

    loc: list[str | int] = Field(description='Where, e.g. ["body", "quantity"].')
    msg: str
    type: str


class Unprocessable(BaseModel):
    """422: the request is invalid; every problem located, and summed up in one line."""

    detail: list[Problem]
    message: str


class ErrorOut(BaseModel):
    """Why a request was refused."""

    detail: str
    rule: str | None = Field(
        default=None,
        description="The lifecycle rule the change would break (forcemodel.assist.lifecycle), "
        "when that is why it was refused.",
    )


_ERRORS: dict[int, tuple[type[BaseModel], str]] = {
    400: (ErrorOut, "The body could not be read (not UTF-8, not JSON)."),
    401: (ErrorOut, "No token, or an unknown one."),
    403: (ErrorOut, "The caller's role or nation may not do this."),
    404: (ErrorOut, "No such record."),
    409: (ErrorOut, "A stale version, a record that exists already, or one still in use."),
    422: (Unprocessable, "Invalid input: every problem located."),
    413: (ErrorOut, "The request body is larger than the service takes."),
    428: (ErrorOut, "The change names no version (If-Match or version)."),
    429: (ErrorOut, "Too many requests with an unknown token, or too many matches or imports."),
    503: (ErrorOut, "The database is busy with another change (SQLite): try again."),
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers a route documents (FastAPI's ``responses=``), by status.

    Every status a route can answer must be documented: the schemathesis tests refuse an
    answer whose status or body the OpenAPI description does not give. A route that
    authenticates (401) may also answer 429 (a client beyond the limit of unknown tokens).
    """
    codes = sorted({*statuses, *((429,) if 401 in statuses else ())})
    return {s: {"model": _ERRORS[s][0], "description": _ERRORS[s][1]} for s in codes}


#: What the audit log records changes of.
AuditEntity = Literal[
    "item",
    "donor",
    "pledge",
    "requirement",
    "allocation",
    "user",
    "hub",
    "route",
    "course",
    "item_needs",
]


class ImportResult(BaseModel):
    """What a CSV import did (all rows or none)."""

    created: int
    updated: int
    unchanged: int
