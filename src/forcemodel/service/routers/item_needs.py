"""What items need (tons of one, crew of a system): everyone reads, coordinators keep them.

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
from forcemodel.service.logistics_schemas import ItemNeedsIn, ItemNeedsOut, ItemNeedsPatch
from forcemodel.service.tables import ItemNeeds

router = APIRouter(tags=["item needs"])


@router.get("/item-needs", responses=LIST)
def list_item_needs(
    request: Request,
    response: Response,
    _user: Anyone,
    session: Reading,
    after: AfterCode = None,
    limit: Limit = DEFAULT_PAGE,
) -> list[ItemNeedsOut]:
    """What the items need, by item, a page at a time (``Link`` names the next page)."""
    rows = reads.page(session, ItemNeeds, ItemNeeds.item_id, after, limit)
    next_page(request, response, len(rows), limit, rows[-1].item_id if rows else None)
    return [ItemNeedsOut.model_validate(r) for r in rows]


@router.get("/item-needs/{item_id}", responses=ONE)
def get_item_needs(
    item_id: ItemKey, response: Response, _user: Anyone, session: Reading
) -> ItemNeedsOut:
    """What one item needs; its ETag is its version."""
    row = reads.get_row(session, ItemNeeds, item_id, "item needs")
    etag(response, row.version)
    return ItemNeedsOut.model_validate(row)


@router.post("/item-needs", status_code=201, responses=CREATE)
def create_item_needs(
    data: ItemNeedsIn, response: Response, user: Coordinator, session: Writing
) -> ItemNeedsOut:
    """State what an item needs (coordinators)."""
    out = ItemNeedsOut.model_validate(logistics.create_item_needs(session, user, data))
    return committed(session, response, out)


@router.patch("/item-needs/{item_id}", responses=CHANGE)
def update_item_needs(
    item_id: ItemKey,
    patch: ItemNeedsPatch,
    response: Response,
    user: Coordinator,
    session: Writing,
    if_match: IfMatch = None,
) -> ItemNeedsOut:
    """Change what an item needs (coordinators)."""
    version = expected_version(if_match, patch.version)
    row = logistics.update_item_needs(session, user, item_id, patch, version)
    return committed(session, response, ItemNeedsOut.model_validate(row))


@router.delete("/item-needs/{item_id}", status_code=204, responses=DELETE)
def delete_item_needs(
    item_id: ItemKey,
    user: Coordinator,
    session: Writing,
    if_match: IfMatch = None,
    version: VersionQuery = None,
) -> Response:
    """Remove what an item needs (coordinators)."""
    logistics.delete_item_needs(session, user, item_id, expected_version(if_match, version))
    session.commit()
    return Response(status_code=204)
