"""Requirements: the partner states, edits and withdraws its own; everyone reads them.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from forcemodel.service import csvio, reads, records
from forcemodel.service.auth import NATION_PATTERN
from forcemodel.service.deps import (
    CHANGE,
    CREATE,
    CSV_EXPORT,
    DEFAULT_PAGE,
    DELETE,
    IMPORT,
    LIST,
    ONE,
    AfterId,
    Anyone,
    CSVBody,
    CSVResponse,
    IfMatch,
    Limit,
    Partner,
    Reading,
    RowKey,
    VersionQuery,
    Writing,
    committed,
    csv_file,
    etag,
    expected_version,
    next_page,
    rate_limits,
    utf8,
)
from forcemodel.service.schemas import (
    ImportResult,
    RequirementIn,
    RequirementOut,
    RequirementPatch,
)

router = APIRouter(tags=["requirements"])


@router.get("/requirements", responses=LIST)
def list_requirements(
    request: Request,
    response: Response,
    _user: Anyone,
    session: Reading,
    partner: Annotated[
        str | None, Query(pattern=NATION_PATTERN, description="Only this partner's.")
    ] = None,
    after: AfterId = 0,
    limit: Limit = DEFAULT_PAGE,
) -> list[RequirementOut]:
    """Requirements, by id, a page at a time (``Link`` names the next page)."""
    rows = reads.requirements(session, partner, after=after, limit=limit)
    next_page(request, response, len(rows), limit, rows[-1].id if rows else None)
    return rows


@router.get("/requirements.csv", response_class=CSVResponse, responses=CSV_EXPORT)
def export_requirements(_user: Anyone, session: Reading) -> CSVResponse:
    """Every requirement as CSV (imports back unchanged)."""
    return csv_file(csvio.export_requirements(session), "requirements.csv")


@router.post("/requirements.csv", responses=IMPORT)
def import_requirements(
    request: Request, content: CSVBody, user: Partner, session: Writing
) -> ImportResult:
    """Create (no id) and update (id and version) requirements: all rows or none."""
    rate_limits(request).spend(user.name, "CSV imports")
    result = csvio.import_requirements(session, user, utf8(content))
    session.commit()
    return result


@router.get("/requirements/{req_id}", responses=ONE)
def get_requirement(
    req_id: RowKey, response: Response, _user: Anyone, session: Reading
) -> RequirementOut:
    """One requirement; its ETag is its version."""
    out = reads.requirement(session, req_id)
    etag(response, out.version)
    return out


@router.post("/requirements", status_code=201, responses=CREATE)
def create_requirement(
    data: RequirementIn, response: Response, user: Partner, session: Writing
) -> RequirementOut:
    """State a requirement (the partner)."""
    req = records.create_requirement(session, user, data)
    out = reads.requirement(session, req.id)
    return committed(session, response, out)


@router.patch("/requirements/{req_id}", responses=CHANGE)
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
    out = reads.requirement(session, req_id)
    return committed(session, response, out)


@router.delete("/requirements/{req_id}", status_code=204, responses=DELETE)
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
