"""The audit log: every change, oldest first (coordinators).

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from forcemodel.service.deps import DEFAULT_PAGE, Coordinator, Limit, Reading, next_page
from forcemodel.service.schemas import MAX_INT, AuditEntity, AuditOut, error_responses
from forcemodel.service.tables import AuditEntry

router = APIRouter(tags=["audit"])


@router.get("/audit", responses=error_responses(401, 403, 422))
def list_audit(
    request: Request,
    response: Response,
    _user: Coordinator,
    session: Reading,
    entity: Annotated[AuditEntity | None, Query(description="e.g. pledge")] = None,
    entity_id: Annotated[
        str | None, Query(pattern=r"^[A-Za-z0-9._-]{1,40}$", description="e.g. 3")
    ] = None,
    after_id: Annotated[int, Query(ge=0, le=MAX_INT, description="Entries after this id.")] = 0,
    limit: Limit = DEFAULT_PAGE,
) -> list[AuditOut]:
    """Audited changes, oldest first, a page at a time (coordinators; ``Link``: the next)."""
    query = select(AuditEntry).where(AuditEntry.id > after_id)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    rows = list(session.scalars(query.order_by(AuditEntry.id).limit(limit)))
    next_page(request, response, len(rows), limit, rows[-1].id if rows else None, "after_id")
    return [AuditOut.model_validate(r) for r in rows]
