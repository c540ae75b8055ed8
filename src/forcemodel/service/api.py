"""The HTTP API (FastAPI): records of pledges, requirements and allocations, by role.

``create_app()`` makes the application; it brings the database schema to the newest revision
first. The OpenAPI description is served at ``/openapi.json`` (browsable at ``/docs``).
Errors: 401 no or invalid token, 403 a role or nation that may not, 404 no such record, 409 a
stale version or a conflict, 422 invalid input (each problem located: ``loc`` and ``msg``),
428 a change that names no version.

No ``from __future__ import annotations`` here: FastAPI reads the annotations of the routes,
which name dependencies defined inside ``create_app``.
"""

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException
from starlette.routing import Match

import forcemodel
from forcemodel.service import csvio, records
from forcemodel.service.auth import (
    NATION_PATTERN,
    Principal,
    PrincipalCache,
    authenticate,
    hash_token,
)
from forcemodel.service.db import make_engine, session_factory
from forcemodel.service.migrate import upgrade_to_head
from forcemodel.service.records import RecordError
from forcemodel.service.schemas import (
    CODE_LENGTH,
    CODE_PATTERN,
    MAX_INT,
    AllocationIn,
    AllocationOut,
    AllocationPatch,
    AuditEntity,
    AuditOut,
    DonorIn,
    DonorOut,
    DonorPatch,
    ImportResult,
    ItemIn,
    ItemOut,
    ItemPatch,
    Me,
    PledgeIn,
    PledgeOut,
    PledgePatch,
    RequirementIn,
    RequirementOut,
    RequirementPatch,
    error_responses,
)
from forcemodel.service.settings import Settings
from forcemodel.service.tables import Allocation, AuditEntry, Donor, Item, PledgeStatus, Role

ALL_ROLES = tuple(Role)
CSV_MEDIA_TYPE = "text/csv"
_IF_MATCH_DOC = 'The version the change is based on, as an ETag: "3" (or put version in the body).'
#: An ETag naming a version: "3", 3 or W/"3" (at most 10 digits: versions are 32-bit).
IF_MATCH_PATTERN = r'^(W/)?"?[0-9]{1,10}"?$'

# The OpenAPI description gives each parameter's pattern and range, so that clients (and the
# schemathesis tests) know what is valid; the service refuses the rest with 422.
IfMatch = Annotated[
    str | None, Header(description=_IF_MATCH_DOC, json_schema_extra={"pattern": IF_MATCH_PATTERN})
]
ItemKey = Annotated[str, Path(pattern=CODE_PATTERN, max_length=CODE_LENGTH)]
NationKey = Annotated[str, Path(pattern=NATION_PATTERN)]
RowKey = Annotated[int, Path(ge=1, le=MAX_INT)]
VersionQuery = Annotated[int | None, Query(ge=1, le=MAX_INT, description="Or send If-Match.")]


class CSVResponse(PlainTextResponse):
    """CSV text (so the OpenAPI description names text/csv)."""

    media_type = CSV_MEDIA_TYPE


# The error answers of each kind of route.
#: A CSV export's 401 is JSON: named by hand, as FastAPI would give it the route's text/csv.
CSV_EXPORT: dict[int | str, dict[str, Any]] = {
    401: {
        "description": error_responses(401)[401]["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }
}
LIST = error_responses(401, 422)
ONE = error_responses(401, 404, 422)
CREATE = error_responses(400, 401, 403, 409, 422)
CHANGE = error_responses(400, 401, 403, 404, 409, 422, 428)
DELETE = error_responses(401, 403, 404, 409, 422, 428)
IMPORT = error_responses(401, 403, 409, 422)


def _problem(loc: tuple[Any, ...], msg: str, type_: str = "value_error") -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg, "type": type_}


def _unprocessable(problems: list[dict[str, Any]], message: str | None = None) -> JSONResponse:
    """422 with each problem located (``loc``, ``msg``, ``type``) and a one-line summary."""
    if message is None:
        message = "; ".join(
            f"{'.'.join(str(part) for part in p['loc'])}: {p['msg']}" for p in problems
        )
    return JSONResponse(status_code=422, content={"detail": problems, "message": message})


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


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


def create_app(database_url: str | None = None) -> FastAPI:
    """The application, on the database of the URL (else FORCEMODEL_DATABASE_URL, else SQLite).

    Upgrades the database schema to the newest migration before returning.
    """
    settings = Settings.load(database_url)
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)
    read_sessions = session_factory(engine, read_only=True)
    write_sessions = session_factory(engine, write=True)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="forcemodel security assistance",
        summary="Pledges, requirements and allocations of security assistance, by role.",
        version=forcemodel.__version__,
        lifespan=lifespan,
    )
    app.state.engine = engine

    # --- errors ----------------------------------------------------------------------------

    @app.exception_handler(RecordError)
    async def _record_error(_request: Request, exc: RecordError) -> JSONResponse:
        if exc.status == 422:
            return _unprocessable([_problem(exc.loc or ("body",), exc.message)])
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(
            status_code=exc.status, content={"detail": exc.message}, headers=headers
        )

    @app.exception_handler(csvio.CSVImportError)
    async def _csv_error(_request: Request, exc: csvio.CSVImportError) -> JSONResponse:
        if exc.status == 422:
            return _unprocessable([_problem(p.loc, p.message) for p in exc.problems], str(exc))
        return JSONResponse(status_code=exc.status, content={"detail": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _unprocessable(
            [
                _problem(tuple(e["loc"]), str(e["msg"]).removeprefix("Value error, "), e["type"])
                for e in exc.errors()
            ]
        )

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette's Allow names the methods of the first route on the path only; name
            # those of every route on it (GET and POST /pledges are two routes).
            methods = {
                method
                for route in app.router.routes
                if route.matches(request.scope)[0] is Match.PARTIAL
                for method in getattr(route, "methods", None) or ()
            }
            headers["Allow"] = ", ".join(sorted(methods))
        return JSONResponse(
            status_code=exc.status_code, content={"detail": exc.detail}, headers=headers or None
        )

    @app.exception_handler(StaleDataError)
    async def _stale(_request: Request, _exc: StaleDataError) -> JSONResponse:
        return JSONResponse(
            status_code=409,
            content={"detail": "the record changed while your change was made; read it again"},
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, _exc: IntegrityError) -> JSONResponse:
        return JSONResponse(
            status_code=409,
            content={"detail": "the change conflicts with the stored records; read them again"},
        )

    # --- sessions and callers -------------------------------------------------------------

    def read_session() -> Iterator[Session]:
        with read_sessions() as session:
            yield session

    def write_session() -> Iterator[Session]:
        # No statement here: the transaction (on SQLite, the write lock) begins at the route's
        # first statement, in the thread that runs the route. Taken here, in the thread of the
        # dependency, the lock could be held by a request waiting for a free thread while every
        # thread waits for the lock (under load: "database is locked" after the busy timeout).
        with write_sessions() as session:
            yield session

    bearer = HTTPBearer(auto_error=False, description="A token made by `forcemodel users add`.")
    callers = PrincipalCache()

    def lookup(token: str) -> Principal | None:
        with read_sessions() as session:
            return authenticate(session, token)

    # async, and the database only for a token not seen lately: a sync dependency would cost
    # every request a hop to a worker thread, and the lookup a connection and its round trips.
    async def current_user(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None:
            raise RecordError(401, "no token: send the header 'Authorization: Bearer <token>'")
        digest = hash_token(credentials.credentials)
        principal = callers.get(digest)
        if principal is None:
            principal = await run_in_threadpool(lookup, credentials.credentials)
            if principal is None:
                raise RecordError(401, "invalid token")
            callers.put(digest, principal)
        return principal

    def allow(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
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
    Reading = Annotated[Session, Depends(read_session)]
    Writing = Annotated[Session, Depends(write_session)]
    CSVBody = Annotated[
        bytes, Body(media_type=CSV_MEDIA_TYPE, description="CSV text, UTF-8, with a header line.")
    ]

    def _text(content: bytes) -> str:
        try:
            return content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RecordError(
                422, f"the file is not UTF-8 text ({exc.reason})", ("body",)
            ) from None

    def _csv(text: str, name: str) -> CSVResponse:
        return CSVResponse(
            text,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # --- service --------------------------------------------------------------------------

    @app.get("/health", tags=["service"])
    def health() -> dict[str, str]:
        """Whether the service is up (no token needed)."""
        return {"status": "ok"}

    @app.get("/me", tags=["service"], responses=error_responses(401))
    def me(user: Anyone) -> Me:
        """The caller: name, role, nation."""
        return Me(name=user.name, role=user.role, nation=user.nation)

    # --- items ----------------------------------------------------------------------------

    @app.get("/items", tags=["items"], responses=error_responses(401))
    def list_items(_user: Anyone, session: Reading) -> list[ItemOut]:
        """The item catalogue."""
        rows = records.all_rows(session, Item, [Item.id])
        return [ItemOut.model_validate(r) for r in rows]

    @app.get("/items/{item_id}", tags=["items"], responses=ONE)
    def get_item(item_id: ItemKey, response: Response, _user: Anyone, session: Reading) -> ItemOut:
        """One catalogue entry."""
        item = records.get_row(session, Item, item_id, "item")
        _etag(response, item.version)
        return ItemOut.model_validate(item)

    @app.post("/items", status_code=201, tags=["items"], responses=CREATE)
    def create_item(
        data: ItemIn, response: Response, user: Coordinator, session: Writing
    ) -> ItemOut:
        """Add an entry to the catalogue (coordinators)."""
        out = ItemOut.model_validate(records.create_item(session, user, data))
        session.commit()
        _etag(response, out.version)
        return out

    @app.patch("/items/{item_id}", tags=["items"], responses=CHANGE)
    def update_item(
        item_id: ItemKey,
        patch: ItemPatch,
        response: Response,
        user: Coordinator,
        session: Writing,
        if_match: IfMatch = None,
    ) -> ItemOut:
        """Change a catalogue entry (coordinators)."""
        version = expected_version(if_match, patch.version)
        out = ItemOut.model_validate(records.update_item(session, user, item_id, patch, version))
        session.commit()
        _etag(response, out.version)
        return out

    # --- donors ---------------------------------------------------------------------------

    @app.get("/donors", tags=["donors"], responses=error_responses(401))
    def list_donors(_user: Anyone, session: Reading) -> list[DonorOut]:
        """The donor nations."""
        return [DonorOut.model_validate(r) for r in records.all_rows(session, Donor, [Donor.code])]

    @app.get("/donors/{code}", tags=["donors"], responses=ONE)
    def get_donor(code: NationKey, response: Response, _user: Anyone, session: Reading) -> DonorOut:
        """One donor nation."""
        donor = records.get_row(session, Donor, code, "donor")
        _etag(response, donor.version)
        return DonorOut.model_validate(donor)

    @app.post("/donors", status_code=201, tags=["donors"], responses=CREATE)
    def create_donor(
        data: DonorIn, response: Response, user: Coordinator, session: Writing
    ) -> DonorOut:
        """Register a donor nation (coordinators)."""
        out = DonorOut.model_validate(records.create_donor(session, user, data))
        session.commit()
        _etag(response, out.version)
        return out

    @app.patch("/donors/{code}", tags=["donors"], responses=CHANGE)
    def update_donor(
        code: NationKey,
        patch: DonorPatch,
        response: Response,
        user: Coordinator,
        session: Writing,
        if_match: IfMatch = None,
    ) -> DonorOut:
        """Rename a donor nation (coordinators)."""
        version = expected_version(if_match, patch.version)
        out = DonorOut.model_validate(records.update_donor(session, user, code, patch, version))
        session.commit()
        _etag(response, out.version)
        return out

    # --- pledges --------------------------------------------------------------------------

    @app.get("/pledges", tags=["pledges"], responses=LIST)
    def list_pledges(
        _user: Anyone,
        session: Reading,
        donor: Annotated[
            str | None, Query(pattern=NATION_PATTERN, description="Only this donor's pledges.")
        ] = None,
        status: Annotated[
            PledgeStatus | None, Query(description="Only the pledges this far along.")
        ] = None,
    ) -> list[PledgeOut]:
        """Pledges, by id."""
        return records.pledges(session, donor, status)

    @app.get("/pledges.csv", tags=["pledges"], response_class=CSVResponse, responses=CSV_EXPORT)
    def export_pledges(_user: Anyone, session: Reading) -> CSVResponse:
        """Every pledge as CSV (imports back unchanged)."""
        return _csv(csvio.export_pledges(session), "pledges.csv")

    @app.post("/pledges.csv", tags=["pledges"], responses=IMPORT)
    def import_pledges(content: CSVBody, user: DonorUser, session: Writing) -> ImportResult:
        """Create (no id) and update (id and version) the caller's pledges: all rows or none."""
        result = csvio.import_pledges(session, user, _text(content))
        session.commit()
        return result

    @app.get("/pledges/{pledge_id}", tags=["pledges"], responses=ONE)
    def get_pledge(
        pledge_id: RowKey, response: Response, _user: Anyone, session: Reading
    ) -> PledgeOut:
        """One pledge; its ETag is its version."""
        out = records.pledge(session, pledge_id)
        _etag(response, out.version)
        return out

    @app.post("/pledges", status_code=201, tags=["pledges"], responses=CREATE)
    def create_pledge(
        data: PledgeIn, response: Response, user: DonorUser, session: Writing
    ) -> PledgeOut:
        """Pledge items (donors, for their own nation)."""
        pledge = records.create_pledge(session, user, data)
        out = records.pledge(session, pledge.id)
        session.commit()
        _etag(response, out.version)
        return out

    @app.patch("/pledges/{pledge_id}", tags=["pledges"], responses=CHANGE)
    def update_pledge(
        pledge_id: RowKey,
        patch: PledgePatch,
        response: Response,
        user: PledgeEditor,
        session: Writing,
        if_match: IfMatch = None,
    ) -> PledgeOut:
        """Change a pledge (its donor; coordinators: the status only)."""
        version = expected_version(if_match, patch.version)
        records.update_pledge(session, user, pledge_id, patch, version)
        out = records.pledge(session, pledge_id)
        session.commit()
        _etag(response, out.version)
        return out

    @app.delete("/pledges/{pledge_id}", status_code=204, tags=["pledges"], responses=DELETE)
    def delete_pledge(
        pledge_id: RowKey,
        user: DonorUser,
        session: Writing,
        if_match: IfMatch = None,
        version: VersionQuery = None,
    ) -> Response:
        """Withdraw a pledge that has no allocations (its donor)."""
        records.delete_pledge(session, user, pledge_id, expected_version(if_match, version))
        session.commit()
        return Response(status_code=204)

    # --- requirements ---------------------------------------------------------------------

    @app.get("/requirements", tags=["requirements"], responses=LIST)
    def list_requirements(
        _user: Anyone,
        session: Reading,
        partner: Annotated[
            str | None, Query(pattern=NATION_PATTERN, description="Only this partner's.")
        ] = None,
    ) -> list[RequirementOut]:
        """Requirements, by id."""
        return records.requirements(session, partner)

    @app.get(
        "/requirements.csv",
        tags=["requirements"],
        response_class=CSVResponse,
        responses=CSV_EXPORT,
    )
    def export_requirements(_user: Anyone, session: Reading) -> CSVResponse:
        """Every requirement as CSV (imports back unchanged)."""
        return _csv(csvio.export_requirements(session), "requirements.csv")

    @app.post("/requirements.csv", tags=["requirements"], responses=IMPORT)
    def import_requirements(content: CSVBody, user: Partner, session: Writing) -> ImportResult:
        """Create (no id) and update (id and version) requirements: all rows or none."""
        result = csvio.import_requirements(session, user, _text(content))
        session.commit()
        return result

    @app.get("/requirements/{req_id}", tags=["requirements"], responses=ONE)
    def get_requirement(
        req_id: RowKey, response: Response, _user: Anyone, session: Reading
    ) -> RequirementOut:
        """One requirement; its ETag is its version."""
        out = records.requirement(session, req_id)
        _etag(response, out.version)
        return out

    @app.post("/requirements", status_code=201, tags=["requirements"], responses=CREATE)
    def create_requirement(
        data: RequirementIn, response: Response, user: Partner, session: Writing
    ) -> RequirementOut:
        """State a requirement (the partner)."""
        req = records.create_requirement(session, user, data)
        out = records.requirement(session, req.id)
        session.commit()
        _etag(response, out.version)
        return out

    @app.patch("/requirements/{req_id}", tags=["requirements"], responses=CHANGE)
    def update_requirement(
        req_id: RowKey,
        patch: RequirementPatch,
        response: Response,
        user: Partner,
        session: Writing,
        if_match: IfMatch = None,
    ) -> RequirementOut:
        """Change a requirement (the partner)."""
        version = expected_version(if_match, patch.version)
        records.update_requirement(session, user, req_id, patch, version)
        out = records.requirement(session, req_id)
        session.commit()
        _etag(response, out.version)
        return out

    @app.delete("/requirements/{req_id}", status_code=204, tags=["requirements"], responses=DELETE)
    def delete_requirement(
        req_id: RowKey,
        user: Partner,
        session: Writing,
        if_match: IfMatch = None,
        version: VersionQuery = None,
    ) -> Response:
        """Withdraw a requirement that has no allocations (the partner)."""
        records.delete_requirement(session, user, req_id, expected_version(if_match, version))
        session.commit()
        return Response(status_code=204)

    # --- allocations ----------------------------------------------------------------------

    @app.get("/allocations", tags=["allocations"], responses=error_responses(401))
    def list_allocations(_user: Anyone, session: Reading) -> list[AllocationOut]:
        """Allocations, by id."""
        rows = records.all_rows(session, Allocation, [Allocation.id])
        return [records.allocation_out(r) for r in rows]

    @app.get("/allocations/{alloc_id}", tags=["allocations"], responses=ONE)
    def get_allocation(
        alloc_id: RowKey, response: Response, _user: Anyone, session: Reading
    ) -> AllocationOut:
        """One allocation; its ETag is its version."""
        allocation = records.get_row(session, Allocation, alloc_id, "allocation")
        _etag(response, allocation.version)
        return records.allocation_out(allocation)

    @app.post("/allocations", status_code=201, tags=["allocations"], responses=CREATE)
    def create_allocation(
        data: AllocationIn, response: Response, user: Coordinator, session: Writing
    ) -> AllocationOut:
        """Allocate (part of) a pledge to a requirement of the same category and standard."""
        out = records.allocation_out(records.create_allocation(session, user, data))
        session.commit()
        _etag(response, out.version)
        return out

    @app.patch("/allocations/{alloc_id}", tags=["allocations"], responses=CHANGE)
    def update_allocation(
        alloc_id: RowKey,
        patch: AllocationPatch,
        response: Response,
        user: Coordinator,
        session: Writing,
        if_match: IfMatch = None,
    ) -> AllocationOut:
        """Change an allocation's quantity or note (coordinators)."""
        version = expected_version(if_match, patch.version)
        allocation = records.update_allocation(session, user, alloc_id, patch, version)
        out = records.allocation_out(allocation)
        session.commit()
        _etag(response, out.version)
        return out

    @app.delete("/allocations/{alloc_id}", status_code=204, tags=["allocations"], responses=DELETE)
    def delete_allocation(
        alloc_id: RowKey,
        user: Coordinator,
        session: Writing,
        if_match: IfMatch = None,
        version: VersionQuery = None,
    ) -> Response:
        """Remove an allocation (coordinators); a pledge left with none is pledged again."""
        records.delete_allocation(session, user, alloc_id, expected_version(if_match, version))
        session.commit()
        return Response(status_code=204)

    # --- audit ----------------------------------------------------------------------------

    @app.get("/audit", tags=["audit"], responses=error_responses(401, 403, 422))
    def list_audit(
        _user: Coordinator,
        session: Reading,
        entity: Annotated[AuditEntity | None, Query(description="e.g. pledge")] = None,
        entity_id: Annotated[
            str | None, Query(pattern=r"^[A-Za-z0-9._-]{1,40}$", description="e.g. 3")
        ] = None,
        after_id: Annotated[int, Query(ge=0, le=MAX_INT, description="Entries after this id.")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[AuditOut]:
        """Audited changes, oldest first (coordinators)."""
        query = select(AuditEntry).where(AuditEntry.id > after_id)
        if entity is not None:
            query = query.where(AuditEntry.entity == entity)
        if entity_id is not None:
            query = query.where(AuditEntry.entity_id == entity_id)
        rows = session.scalars(query.order_by(AuditEntry.id).limit(limit))
        return [AuditOut.model_validate(r) for r in rows]

    from forcemodel.service.matching import router as matching_router  # POST /match

    app.include_router(matching_router)
    from forcemodel.web.app import mount  # the board and dashboard pages under /ui

    mount(app)
    return app
