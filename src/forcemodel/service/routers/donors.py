"""Donor nations: everyone reads them, coordinators register and rename them.

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
    AfterNation,
    Anyone,
    Coordinator,
    IfMatch,
    Limit,
    NationKey,
    Reading,
    Writing,
    committed,
    etag,
    expected_version,
    next_page,
)
from forcemodel.service.schemas import DonorIn, DonorOut, DonorPatch
from forcemodel.service.tables import Donor

router = APIRouter(tags=["donors"])


@router.get("/donors", responses=LIST)
def list_donors(
    request: Request,
    response: Response,
    _user: Anyone,
    session: Reading,
    after: AfterNation = None,
    limit: Limit = DEFAULT_PAGE,
) -> list[DonorOut]:
    """The donor nations, by code, a page at a time (``Link`` names the next page)."""
    rows = reads.page(session, Donor, Donor.code, after, limit)
    next_page(request, response, len(rows), limit, rows[-1].code if rows else None)
    return [DonorOut.model_validate(r) for r in rows]


@router.get("/donors/{code}", responses=ONE)
def get_donor(code: NationKey, response: Response, _user: Anyone, session: Reading) -> DonorOut:
    """One donor nation."""
    donor = reads.get_row(session, Donor, code, "donor")
    etag(response, donor.version)
    return DonorOut.model_validate(donor)


@router.post("/donors", status_code=201, responses=CREATE)
def create_donor(
    data: DonorIn, response: Response, user: Coordinator, session: Writing
) -> DonorOut:
    """Register a donor nation (coordinators)."""
    out = DonorOut.model_validate(records.create_donor(session, user, data))
    return committed(session, response, out)


@router.patch("/donors/{code}", responses=CHANGE)
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
    return committed(session, response, out)
