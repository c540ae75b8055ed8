"""Pledges: donors pledge, edit and withdraw their nation's; coordinators move their status.

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
    DonorUser,
    IfMatch,
    Limit,
    PledgeEditor,
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
from forcemodel.service.schemas import ImportResult, PledgeIn, PledgeOut, PledgePatch
from forcemodel.service.tables import PledgeStatus

router = APIRouter(tags=["pledges"])


@router.get("/pledges", responses=LIST)
def list_pledges(
    request: Request,
    response: Response,
    _user: Anyone,
    session: Reading,
    donor: Annotated[
        str | None, Query(pattern=NATION_PATTERN, description="Only this donor's pledges.")
    ] = None,
    status: Annotated[
        PledgeStatus | None, Query(description="Only the pledges this far along.")
    ] = None,
    after: AfterId = 0,
    limit: Limit = DEFAULT_PAGE,
) -> list[PledgeOut]:
    """Pledges, by id, a page at a time (``Link`` names the next page)."""
    rows = reads.pledges(session, donor, status, after=after, limit=limit)
    next_page(request, response, len(rows), limit, rows[-1].id if rows else None)
    return rows


@router.get("/pledges.csv", response_class=CSVResponse, responses=CSV_EXPORT)
def export_pledges(_user: Anyone, session: Reading) -> CSVResponse:
    """Every pledge as CSV (imports back unchanged)."""
    return csv_file(csvio.export_pledges(session), "pledges.csv")


@router.post("/pledges.csv", responses=IMPORT)
def import_pledges(
    request: Request, content: CSVBody, user: DonorUser, session: Writing
) -> ImportResult:
    """Create (no id) and update (id and version) the caller's pledges: all rows or none."""
    rate_limits(request).spend(user.name, "CSV imports")
    result = csvio.import_pledges(session, user, utf8(content))
    session.commit()
    return result


@router.get("/pledges/{pledge_id}", responses=ONE)
def get_pledge(pledge_id: RowKey, response: Response, _user: Anyone, session: Reading) -> PledgeOut:
    """One pledge; its ETag is its version."""
    out = reads.pledge(session, pledge_id)
    etag(response, out.version)
    return out


@router.post("/pledges", status_code=201, responses=CREATE)
def create_pledge(
    data: PledgeIn, response: Response, user: DonorUser, session: Writing
) -> PledgeOut:
    """Pledge items (donors, for their own nation)."""
    pledge = records.create_pledge(session, user, data)
    out = reads.pledge(session, pledge.id)
    return committed(session, response, out)


@router.patch("/pledges/{pledge_id}", responses=CHANGE)
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
    out = reads.pledge(session, pledge_id)
    return committed(session, response, out)


@router.delete("/pledges/{pledge_id}", status_code=204, responses=DELETE)
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
