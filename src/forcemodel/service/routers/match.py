"""``POST /match``: the matcher over the records (coordinators); see :mod:`..matching`.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from forcemodel.service.deps import Coordinator, Sessions
from forcemodel.service.matching import DEFAULT_TIME_LIMIT, MatchOut, match_records
from forcemodel.service.schemas import ErrorOut, error_responses

router = APIRouter(tags=["matching"])

#: Every status the route answers is documented (the schemathesis tests hold it to that).
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **error_responses(401, 403, 409, 422),
    503: {"model": ErrorOut, "description": "The solver stopped without a plan: try again."},
}


@router.post("/match", responses=_RESPONSES)
def run_match(
    user: Coordinator,
    sessions: Sessions,
    apply: Annotated[
        bool, Query(description="Write the proposed allocations (all or none); default: dry run.")
    ] = False,
    time_limit: Annotated[
        float, Query(gt=0, le=600, description="Seconds the solver may run.")
    ] = DEFAULT_TIME_LIMIT,
) -> MatchOut:
    """Match pledges to requirements (coordinators): proposed allocations, unmet, fleet mix.

    Existing allocations are kept; ``apply=true`` writes the allocations the plan adds, each
    audited and moving its pledge to ``allocated``.
    """
    return match_records(sessions, user, apply=apply, time_limit=time_limit)
