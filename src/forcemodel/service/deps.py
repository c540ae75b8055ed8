"""What every router depends on: the database sessions, the caller, the role checks.

This is the service's one authentication path: every route that needs a caller names one of
the role types below (``Anyone``, ``Coordinator``, ...), each resolved by :func:`current_user`
(the bearer token, looked up in the database on every request) and a role check. The app factory
(:func:`forcemodel.service.api.create_app`) puts a :class:`Database` on ``app.state.db``; the
dependencies read it from the request, so routers are plain modules, not closures.

Also here: the path, header and query parameter types the routers share, ``If-Match``
parsing, the ETag and CSV answers, and the documented error answers of each kind of route.

No ``from __future__ import annotations``: FastAPI reads these annotations at run time.
"""

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Body, Depends, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from forcemodel.service.auth import (
    NATION_PATTERN,
    Principal,
    authenticate,
)
from forcemodel.service.db import session_factory
from forcemodel.service.guards import RateLimits
from forcemodel.service.records import RecordError
from forcemodel.service.schemas import CODE_LENGTH, CODE_PATTERN, MAX_INT, error_responses
from forcemodel.service.tables import Role

ALL_ROLES = tuple(Role)
#: Who plans: uploads scenarios, starts and cancels runs (the web dashboard). Analysts read the
#: board as observers do and write nothing on it; coordinators plan as well as coordinate.
PLANNERS = (Role.analyst, Role.coordinator)
CSV_MEDIA_TYPE = "text/csv"


@dataclass(frozen=True)
class Database:
    """The service's database: its engine, the sessions the routes use."""

    engine: Engine
    #: Sessions that only read (autocommit on PostgreSQL).
    read: sessionmaker[Session]
    #: Sessions whose transactions write (on SQLite: with the write lock from their start).
    write: sessionmaker[Session]
    #: Plain sessions, for work that reads, then writes later (the matcher).
    plain: sessionmaker[Session]

    @classmethod
    def on(cls, engine: Engine) -> "Database":
        """The sessions on ``engine``."""
        return cls(
            engine=engine,
            read=session_factory(engine, read_only=True),
            write=session_factory(engine, write=True),
            plain=session_factory(engine),
        )


def database(request: Request) -> Database:
    """The database of the application serving the request."""
    db: Database = request.app.state.db
    return db


# --- sessions ---


async def read_session(request: Request) -> AsyncIterator[Session]:
    """A session that only reads.

    Made and closed on the event loop, not in worker threads (a sync dependency costs a request
    two thread hops): making a session touches no database, and closing one after reads returns
    its connection to the pool without a round trip (PostgreSQL: autocommit, nothing to roll
    back; SQLite: a local read transaction).
    """
    with database(request).read() as session:
        yield session


def write_session(request: Request) -> Iterator[Session]:
    """A session that writes; the route commits.

    No statement here: the transaction (on SQLite, the write lock) begins at the route's first
    statement, in the thread that runs the route. Taken here, in the thread of the dependency,
    the lock could be held by a request waiting for a free thread while every thread waits for
    the lock (under load: "database is locked" after the busy timeout).
    """
    with database(request).write() as session:
        yield session


def plain_sessions(request: Request) -> Callable[[], Session]:
    """The factory of plain sessions (for the matcher, which reads, solves, then writes)."""
    return database(request).plain


Reading = Annotated[Session, Depends(read_session)]
Writing = Annotated[Session, Depends(write_session)]
Sessions = Annotated[Callable[[], Session], Depends(plain_sessions)]


# --- the caller ---

bearer = HTTPBearer(auto_error=False, description="A token made by `forcemodel users add`.")


def _lookup(db: Database, token: str) -> Principal | None:
    # A session of its own, closed at once: a route may hold its request long (POST /match
    # waits for its job on the event loop), and must not hold a connection meanwhile.
    with db.read() as session:
        return authenticate(session, token)


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller of the request, from its bearer token (401 without one or with an unknown one).

    Every request looks its token up (one indexed read): a removed user or a replaced token
    is refused from the next request on, in every server process. No cache of callers: one
    would keep a revoked token working until it expired, in each process that held it.
    """
    if credentials is None:
        raise RecordError(401, "no token: send the header 'Authorization: Bearer <token>'")
    limits = rate_limits(request)
    client = request.client.host if request.client else "unknown"
    limits.check_client(client)
    principal = await run_in_threadpool(_lookup, database(request), credentials.credentials)
    if principal is None:
        limits.failed(client)
        raise RecordError(401, "invalid token")
    return principal


def rate_limits(request: Request) -> RateLimits:
    """The rate limits of the application serving the request."""
    limits: RateLimits = request.app.state.limits
    return limits


def allow(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the caller, when its role is one of ``roles`` (else 403)."""
    names = ", ".join(r.value for r in roles)

    async def check(user: Annotated[Principal, Depends(current_user)]) -> Principal:
        if user.role not in roles:
            raise RecordError(403, f"role {user.role.value} may not do this; allowed: {names}")
        return user

    return check


Anyone = Annotated[Principal, Depends(allow(*ALL_ROLES))]
Coordinator = Annotated[Principal, Depends(allow(Role.coordinator))]
DonorUser = Annotated[Principal, Depends(allow(Role.donor))]
PledgeEditor = Annotated[Principal, Depends(allow(Role.donor, Role.coordinator))]
Partner = Annotated[Principal, Depends(allow(Role.partner))]


# --- parameters ---

_IF_MATCH_DOC = 'The version the change is based on, as an ETag: "3" (or put version in the body).'
#: An ETag naming a version: "3", 3 or W/"3" (a version is 1 to 2,147,483,647): nothing else,
#: not "0", not an unbalanced quote, not a list of tags.
IF_MATCH_PATTERN = r'^(W/)?("[1-9][0-9]{0,9}"|[1-9][0-9]{0,9})$'

# The OpenAPI description gives each parameter's pattern and range, so that clients (and the
# schemathesis tests) know what is valid; the service refuses the rest with 422.
IfMatch = Annotated[
    str | None, Header(description=_IF_MATCH_DOC, json_schema_extra={"pattern": IF_MATCH_PATTERN})
]
ItemKey = Annotated[str, Path(pattern=CODE_PATTERN, max_length=CODE_LENGTH)]
NationKey = Annotated[str, Path(pattern=NATION_PATTERN)]
RowKey = Annotated[int, Path(ge=1, le=MAX_INT)]
VersionQuery = Annotated[int | None, Query(ge=1, le=MAX_INT, description="Or send If-Match.")]
CSVBody = Annotated[
    bytes, Body(media_type=CSV_MEDIA_TYPE, description="CSV text, UTF-8, with a header line.")
]


def expected_version(if_match: str | None, version: int | None) -> int:
    """The version a change is based on, from If-Match or the body; 428 when neither names it."""
    header: int | None = None
    if if_match is not None:
        text = if_match.strip()
        # A regular expression, not str.isdigit(), which also takes digits that int() refuses.
        if not re.fullmatch(IF_MATCH_PATTERN, text):
            raise RecordError(
                422, f'If-Match: {if_match!r} is not a version such as "3"', ("header", "If-Match")
            )
        header = int(text.removeprefix("W/").strip('"'))
        if header > MAX_INT:
            raise RecordError(
                422,
                f"If-Match: version {header} is beyond the largest, {MAX_INT}",
                ("header", "If-Match"),
            )
    if header is not None and version is not None and header != version:
        raise RecordError(
            422,
            f"If-Match names version {header} but the body names {version}",
            ("header", "If-Match"),
        )
    found = header if header is not None else version
    if found is None:
        raise RecordError(
            428,
            "name the version your change is based on: an If-Match header (the ETag you read) "
            "or a version field; changes never overwrite blindly",
        )
    return found


#: The most rows one page of a list holds, and the rows a page holds unless asked otherwise.
MAX_PAGE = 1000
DEFAULT_PAGE = 100
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Rows per page (at most {MAX_PAGE}).")]
AfterId = Annotated[
    int, Query(ge=0, le=MAX_INT, description="The last id of the previous page (0: the first).")
]
AfterCode = Annotated[
    str | None,
    Query(
        pattern=CODE_PATTERN,
        max_length=CODE_LENGTH,
        description="The last id of the previous page (leave out for the first).",
    ),
]
AfterNation = Annotated[
    str | None,
    Query(pattern=NATION_PATTERN, description="The last code of the previous page."),
]


def next_page(
    request: Request,
    response: Response,
    rows: int,
    limit: int,
    last: object,
    param: str = "after",
) -> None:
    """Point a full page's answer to the next one (``Link: <...>; rel="next"``).

    Keyset pagination: the next page is the rows after the last key of this one, in key order,
    so a page never repeats or skips a row that stays, however the rows change in between. A
    page with fewer rows than ``limit`` is the last.
    """
    if rows == limit:
        url = request.url.include_query_params(**{param: last, "limit": limit})
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'


# --- answers ---


def etag(response: Response, version: int) -> None:
    """Give the answer the row's version as its ETag."""
    response.headers["ETag"] = f'"{version}"'


class Versioned(Protocol):
    """An answer that carries its row's version."""

    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=Versioned)


def committed(session: Session, response: Response, out: V) -> V:
    """Commit the request's change, then answer ``out`` with its version as the ETag (the
    answer is read before the commit, inside the same transaction)."""
    session.commit()
    etag(response, out.version)
    return out


class CSVResponse(PlainTextResponse):
    """CSV text (so the OpenAPI description names text/csv)."""

    media_type = CSV_MEDIA_TYPE


def csv_file(text: str, name: str) -> CSVResponse:
    """CSV text as a file to save."""
    return CSVResponse(text, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def utf8(content: bytes) -> str:
    """An uploaded file's text (422 when it is not UTF-8)."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RecordError(422, f"the file is not UTF-8 text ({exc.reason})", ("body",)) from None


# The error answers of each kind of route.
#: A CSV export's 401 is JSON: named by hand, as FastAPI would give it the route's text/csv.
CSV_EXPORT: dict[int | str, dict[str, Any]] = {
    status: {
        "description": error_responses(401)[status]["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }
    for status in (401, 429)
}
LIST = error_responses(401, 422)
ONE = error_responses(401, 404, 422)
CREATE = error_responses(400, 401, 403, 409, 413, 422, 503)
CHANGE = error_responses(400, 401, 403, 404, 409, 413, 422, 428, 503)
DELETE = error_responses(401, 403, 404, 409, 422, 428, 503)
IMPORT = error_responses(401, 403, 409, 413, 422, 503)
