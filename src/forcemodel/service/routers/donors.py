"""Donor nations: everyone reads them, coordinators register and rename them.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

from fastapi import APIRouter, Response

from forcemodel.service import records
from forcemodel.service.deps import (
    CHANGE,
    CREATE,
    ONE,
    Anyone,
    Coordinator,
    IfMatch,
    NationKey,
    Reading,
    Writing,
    etag,
    expected_version,
)
from forcemodel.service.schemas import DonorIn, DonorOut, DonorPatch, error_responses
from forcemodel.service.tables import Donor

router = APIRouter(tags=["donors"])


@router.get("/donors", responses=error_responses(401))
def list_donors(_user: Anyone, session: Reading) -> list[DonorOut]:
    """The donor nations."""
    return [DonorOut.model_validate(r) for r in records.all_rows(session, Donor, [Donor.code])]


@router.get("/donors/{code}", responses=ONE)
def get_donor(code: NationKey, response: Response, _user: Anyone, session: Reading) -> DonorOut:
    """One donor nation."""
    donor = records.get_row(session, Donor, code, "donor")
    etag(response, donor.version)
    return DonorOut.model_validate(donor)


@router.post("/donors", status_code=201, responses=CREATE)
def create_donor(
    data: DonorIn, response: Response, user: Coordinator, session: Writing
) -> DonorOut:
    """Register a donor nation (coordinators)."""
    out = DonorOut.model_validate(records.create_donor(session, user, data))
    session.commit()
    etag(response, out.version)
    return out


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
    session.commit()
    etag(response, out.version)
    return out
