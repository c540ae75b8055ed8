"""The item catalogue: everyone reads it, coordinators add and change entries.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

from fastapi import APIRouter, Request, Response

from forcemodel.service import reads, records
from forcemodel.service.deps import (
    CHANGE,
    CREATE,
    DEFAULT_PAGE,
    LIST,
    ONE,
    AfterCode,
    Anyone,
    Coordinator,
    IfMatch,
    ItemKey,
    Limit,
    Reading,
    Writing,
    committed,
    etag,
    expected_version,
    next_page,
)
from forcemodel.service.schemas import ItemIn, ItemOut, ItemPatch
from forcemodel.service.tables import Item

router = APIRouter(tags=["items"])


@router.get("/items", responses=LIST)
def list_items(
    request: Request,
    response: Response,
    _user: Anyone,
    session: Reading,
    after: AfterCode = None,
    limit: Limit = DEFAULT_PAGE,
) -> list[ItemOut]:
    """The item catalogue, by id, a page at a time (``Link`` names the next page)."""
    rows = reads.page(session, Item, Item.id, after, limit)
    next_page(request, response, len(rows), limit, rows[-1].id if rows else None)
    return [ItemOut.model_validate(r) for r in rows]


@router.get("/items/{item_id}", responses=ONE)
def get_item(item_id: ItemKey, response: Response, _user: Anyone, session: Reading) -> ItemOut:
    """One catalogue entry."""
    item = reads.get_row(session, Item, item_id, "item")
    etag(response, item.version)
    return ItemOut.model_validate(item)


@router.post("/items", status_code=201, responses=CREATE)
def create_item(data: ItemIn, response: Response, user: Coordinator, session: Writing) -> ItemOut:
    """Add an entry to the catalogue (coordinators)."""
    out = ItemOut.model_validate(records.create_item(session, user, data))
    return committed(session, response, out)


@router.patch("/items/{item_id}", responses=CHANGE)
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
    return committed(session, response, out)
