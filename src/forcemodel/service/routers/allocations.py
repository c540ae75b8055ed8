"""Allocations: coordinators allocate (part of) a pledge to a requirement; everyone reads them.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

from fastapi import APIRouter, Request, Response

from forcemodel.service import reads, records
from forcemodel.service.deps import (
    CHANGE,
    CREATE,
    DEFAULT_PAGE,
    DELETE,
    LIST,
    ONE,
    AfterId,
    Anyone,
    Coordinator,
    IfMatch,
    Limit,
    Reading,
    RowKey,
    VersionQuery,
    Writing,
    committed,
    etag,
    expected_version,
    next_page,
)
from forcemodel.service.schemas import AllocationIn, AllocationOut, AllocationPatch

router = APIRouter(tags=["allocations"])


@router.get("/allocations", responses=LIST)
def list_allocations(
    request: Request,
    response: Response,
    _user: Anyone,
    session: Reading,
    after: AfterId = 0,
    limit: Limit = DEFAULT_PAGE,
) -> list[AllocationOut]:
    """Allocations, by id, a page at a time (``Link`` names the next page)."""
    rows = reads.allocations(session, after=after, limit=limit)
    next_page(request, response, len(rows), limit, rows[-1].id if rows else None)
    return rows


@router.get("/allocations/{alloc_id}", responses=ONE)
def get_allocation(
    alloc_id: RowKey, response: Response, _user: Anyone, session: Reading
) -> AllocationOut:
    """One allocation; its ETag is its version."""
    out = reads.allocation(session, alloc_id)
    etag(response, out.version)
    return out


@router.post("/allocations", status_code=201, responses=CREATE)
def create_allocation(
    data: AllocationIn, response: Response, user: Coordinator, session: Writing
) -> AllocationOut:
    """Allocate (part of) a pledge to a requirement of the same category and standard."""
    out = reads.allocation_out(records.create_allocation(session, user, data))
    return committed(session, response, out)


@router.patch("/allocations/{alloc_id}", responses=CHANGE)
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
    out = reads.allocation_out(allocation)
    return committed(session, response, out)


@router.delete("/allocations/{alloc_id}", status_code=204, responses=DELETE)
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
