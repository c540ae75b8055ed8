"""The routes of a table of reference data that everyone reads and coordinators keep.

Logistics hubs, routes, training courses and what each item needs share one shape: a paged
list, one row with its version as ETag, create, change under a version check, remove. One
factory writes the five routes for each, so the rules (roles, pages, versions, audit through
the table's own write functions in :mod:`forcemodel.service.logistics`) cannot drift apart.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes, and the
schemas here are the table's own, passed in.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from forcemodel.service import reads
from forcemodel.service.auth import Principal
from forcemodel.service.deps import (
    CHANGE,
    CREATE,
    DEFAULT_PAGE,
    DELETE,
    LIST,
    ONE,
    AfterCode,
    Anyone,
    Coordinator,
    IfMatch,
    Limit,
    Reading,
    Versioned,
    VersionQuery,
    Writing,
    committed,
    etag,
    expected_version,
    next_page,
)
from forcemodel.service.schemas import CODE_LENGTH, CODE_PATTERN


@dataclass(frozen=True)
class Reference:
    """One table of reference data and how its rows are written.

    ``path``: the URL path (``hubs``); ``word``: one row in words (``hub``, in messages and
    summaries); ``key``: the column that names a row; ``schemas``: the body read on create, the
    row returned, the body read on change; ``create``/``update``/``delete``: the audited writes.
    """

    path: str
    tag: str
    word: str
    table: type[Any]
    key: str
    schemas: tuple[type[BaseModel], type[BaseModel], type[BaseModel]]
    create: Callable[[Session, Principal, Any], Any]
    update: Callable[[Session, Principal, str, Any, int], Any]
    delete: Callable[[Session, Principal, str, int], None]
    listing: str  # the list's description: what the rows are and their order
    removing: str  # when a row may be removed


def reference_router(ref: Reference) -> APIRouter:
    """The five routes of ``ref``: everyone reads, coordinators write."""
    new, change = ref.schemas[0], ref.schemas[2]
    out: Any = ref.schemas[1]  # its rows carry their version (``Versioned``)
    column = getattr(ref.table, ref.key)
    router = APIRouter(tags=[ref.tag])
    # The path names its key as the other tables' paths do ({hub_id}, {item_id}).
    name = f"{ref.word.replace(' ', '_')}_id" if ref.key == "id" else ref.key
    one = f"/{ref.path}/{{{name}}}"
    key_type = Annotated[str, Path(alias=name, pattern=CODE_PATTERN, max_length=CODE_LENGTH)]

    @router.get(
        f"/{ref.path}",
        responses=LIST,
        response_model=list[out],
        name=f"list {ref.path}",
        description=f"{ref.listing}, a page at a time (``Link`` names the next page).",
    )
    def list_rows(
        request: Request,
        response: Response,
        _user: Anyone,
        session: Reading,
        after: AfterCode = None,
        limit: Limit = DEFAULT_PAGE,
    ) -> Any:
        rows = reads.page(session, ref.table, column, after, limit)
        next_page(request, response, len(rows), limit, getattr(rows[-1], ref.key) if rows else None)
        return [out.model_validate(r) for r in rows]

    @router.get(
        one,
        responses=ONE,
        response_model=out,
        name=f"get {ref.word}",
        description=f"One {ref.word}; its ETag is its version.",
    )
    def get_row(
        key: key_type,
        response: Response,
        _user: Anyone,
        session: Reading,
    ) -> Any:
        row = reads.get_row(session, ref.table, key, ref.word)
        etag(response, row.version)
        return out.model_validate(row)

    @router.post(
        f"/{ref.path}",
        status_code=201,
        responses=CREATE,
        response_model=out,
        name=f"create {ref.word}",
        description=f"Add a {ref.word} (coordinators).",
    )
    def create_row(
        data: new,  # type: ignore[valid-type]
        response: Response,
        user: Coordinator,
        session: Writing,
    ) -> Any:
        answer: Versioned = out.model_validate(ref.create(session, user, data))
        return committed(session, response, answer)

    @router.patch(
        one,
        responses=CHANGE,
        response_model=out,
        name=f"change {ref.word}",
        description=f"Change a {ref.word} (coordinators).",
    )
    def update_row(
        key: key_type,
        patch: change,  # type: ignore[valid-type]
        response: Response,
        user: Coordinator,
        session: Writing,
        if_match: IfMatch = None,
    ) -> Any:
        version = expected_version(if_match, patch.version)  # type: ignore[attr-defined]
        answer: Versioned = out.model_validate(ref.update(session, user, key, patch, version))
        return committed(session, response, answer)

    @router.delete(
        one,
        status_code=204,
        responses=DELETE,
        name=f"remove {ref.word}",
        description=" ".join(f"Remove a {ref.word} {ref.removing}".split()) + " (coordinators).",
    )
    def delete_row(
        key: key_type,
        user: Coordinator,
        session: Writing,
        if_match: IfMatch = None,
        version: VersionQuery = None,
    ) -> Response:
        ref.delete(session, user, key, expected_version(if_match, version))
        session.commit()
        return Response(status_code=204)

    return router
