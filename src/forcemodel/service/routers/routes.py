"""Routes from where pledges wait, through a hub, to the partner: coordinators keep them.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

from fastapi import APIRouter, Request, Response

from forcemodel.service import logistics, reads
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
    ItemKey,
    Limit,
    Reading,
    VersionQuery,
    Writing,
    committed,
    etag,
    expected_version,
    next_page,
)
from forcemodel.service.logistics_schemas import RouteIn, RouteOut, RoutePatch
from forcemodel.service.tables import Route

router = APIRouter(tags=["routes"])


@router.get("/routes", responses=LIST)
def list_routes(
    request: Request,
    response: Response,
    _user: Anyone,
    session: Reading,
    after: AfterCode = None,
    limit: Limit = DEFAULT_PAGE,
) -> list[RouteOut]:
    """The routes, by id, a page at a time (``Link`` names the next page)."""
    rows = reads.page(session, Route, Route.id, after, limit)
    next_page(request, response, len(rows), limit, rows[-1].id if rows else None)
    return [RouteOut.model_validate(r) for r in rows]


@router.get("/routes/{route_id}", responses=ONE)
def get_route(route_id: ItemKey, response: Response, _user: Anyone, session: Reading) -> RouteOut:
    """One route; its ETag is its version."""
    row = reads.get_row(session, Route, route_id, "route")
    etag(response, row.version)
    return RouteOut.model_validate(row)


@router.post("/routes", status_code=201, responses=CREATE)
def create_route(
    data: RouteIn, response: Response, user: Coordinator, session: Writing
) -> RouteOut:
    """Add a route (coordinators)."""
    out = RouteOut.model_validate(logistics.create_route(session, user, data))
    return committed(session, response, out)


@router.patch("/routes/{route_id}", responses=CHANGE)
def update_route(
    route_id: ItemKey,
    patch: RoutePatch,
    response: Response,
    user: Coordinator,
    session: Writing,
    if_match: IfMatch = None,
) -> RouteOut:
    """Change a route (coordinators)."""
    version = expected_version(if_match, patch.version)
    row = logistics.update_route(session, user, route_id, patch, version)
    return committed(session, response, RouteOut.model_validate(row))


@router.delete("/routes/{route_id}", status_code=204, responses=DELETE)
def delete_route(
    route_id: ItemKey,
    user: Coordinator,
    session: Writing,
    if_match: IfMatch = None,
    version: VersionQuery = None,
) -> Response:
    """Remove a route (coordinators)."""
    logistics.delete_route(session, user, route_id, expected_version(if_match, version))
    session.commit()
    return Response(status_code=204)
