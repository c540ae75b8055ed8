"""Logistics hubs on the way to the partner: everyone reads them, coordinators keep them.

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
from forcemodel.service.logistics_schemas import HubIn, HubOut, HubPatch
from forcemodel.service.tables import Hub

router = APIRouter(tags=["hubs"])


@router.get("/hubs", responses=LIST)
def list_hubs(
    request: Request,
    response: Response,
    _user: Anyone,
    session: Reading,
    after: AfterCode = None,
    limit: Limit = DEFAULT_PAGE,
) -> list[HubOut]:
    """The logistics hubs, by id, a page at a time (``Link`` names the next page)."""
    rows = reads.page(session, Hub, Hub.id, after, limit)
    next_page(request, response, len(rows), limit, rows[-1].id if rows else None)
    return [HubOut.model_validate(r) for r in rows]


@router.get("/hubs/{hub_id}", responses=ONE)
def get_hub(hub_id: ItemKey, response: Response, _user: Anyone, session: Reading) -> HubOut:
    """One hub; its ETag is its version."""
    row = reads.get_row(session, Hub, hub_id, "hub")
    etag(response, row.version)
    return HubOut.model_validate(row)


@router.post("/hubs", status_code=201, responses=CREATE)
def create_hub(data: HubIn, response: Response, user: Coordinator, session: Writing) -> HubOut:
    """Add a hub (coordinators)."""
    out = HubOut.model_validate(logistics.create_hub(session, user, data))
    return committed(session, response, out)


@router.patch("/hubs/{hub_id}", responses=CHANGE)
def update_hub(
    hub_id: ItemKey,
    patch: HubPatch,
    response: Response,
    user: Coordinator,
    session: Writing,
    if_match: IfMatch = None,
) -> HubOut:
    """Change a hub (coordinators)."""
    version = expected_version(if_match, patch.version)
    row = logistics.update_hub(session, user, hub_id, patch, version)
    return committed(session, response, HubOut.model_validate(row))


@router.delete("/hubs/{hub_id}", status_code=204, responses=DELETE)
def delete_hub(
    hub_id: ItemKey,
    user: Coordinator,
    session: Writing,
    if_match: IfMatch = None,
    version: VersionQuery = None,
) -> Response:
    """Remove a hub that no route goes through (coordinators)."""
    logistics.delete_hub(session, user, hub_id, expected_version(if_match, version))
    session.commit()
    return Response(status_code=204)
