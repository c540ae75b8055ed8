"""Matching (coordinators): ``POST /match`` answers the plan, ``/match/jobs`` queues and polls.

Every match runs as a job of :mod:`forcemodel.service.jobs`, off the request threads, one at a
time; ``POST /match`` waits for its job (on the event loop, holding no thread) and answers its
result, as it always has; ``POST /match/jobs`` answers 202 with the job at once, and
``GET /match/jobs/{job_id}`` how far it has got. What a match does: :mod:`..matching`.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict

from forcemodel.service.deps import Coordinator, rate_limits
from forcemodel.service.jobs import Job, JobStatus, MatchQueue
from forcemodel.service.matching import DEFAULT_TIME_LIMIT, MatchOut
from forcemodel.service.records import RecordError
from forcemodel.service.schemas import ErrorOut, error_responses

router = APIRouter(tags=["matching"])

_BUSY = {"model": ErrorOut, "description": "The matcher's queue is full: try again later."}
#: Every status the routes answer is documented (the schemathesis tests hold them to that).
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **error_responses(401, 403, 409, 422, 429),
    503: {
        "model": ErrorOut,
        "description": "The solver stopped without a plan, or the "
        "matcher's queue is full: try again.",
    },
}
_JOB_RESPONSES: dict[int | str, dict[str, Any]] = {
    **error_responses(401, 403, 422, 429),
    503: _BUSY,
}

Apply = Annotated[
    bool, Query(description="Write the proposed allocations (all or none); default: dry run.")
]
TimeLimit = Annotated[float, Query(gt=0, le=600, description="Seconds the solver may run.")]
JobKey = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The id POST answered.")]


class JobError(BaseModel):
    """Why a match job failed: the status and body ``POST /match`` would have answered."""

    model_config = ConfigDict(extra="forbid")

    status: int
    detail: str
    rule: str | None = None


class MatchJobOut(BaseModel):
    """A match job: queued, running, done (with its result) or failed (with why)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    status: JobStatus
    apply: bool
    submitted_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    waiting: int
    result: MatchOut | None
    error: JobError | None


def _queue(request: Request) -> MatchQueue:
    matcher: MatchQueue = request.app.state.matcher
    return matcher


def _out(job: Job, matcher: MatchQueue) -> MatchJobOut:
    error = None
    if job.error is not None:
        error = JobError(status=job.error.status, detail=job.error.message, rule=job.error.rule)
    return MatchJobOut(
        id=job.id,
        status=job.status,
        apply=job.apply,
        submitted_at=job.submitted_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        waiting=matcher.waiting() if job.status == "queued" else 0,
        result=job.result,
        error=error,
    )


@router.post("/match", responses=_RESPONSES)
async def run_match(
    request: Request,
    user: Coordinator,
    apply: Apply = False,
    time_limit: TimeLimit = DEFAULT_TIME_LIMIT,
) -> MatchOut:
    """Match pledges to requirements (coordinators): proposed allocations, unmet, fleet mix.

    Existing allocations are kept; ``apply=true`` writes the allocations the plan adds, each
    audited and moving its pledge to ``allocated``. Waits for the match (queued behind others).
    """
    rate_limits(request).spend(user.name, "matches")
    matcher = _queue(request)
    job = matcher.submit(user, apply=apply, time_limit=time_limit)
    await matcher.wait(job)
    if job.error is not None:
        raise job.error
    assert job.result is not None
    return job.result


@router.post("/match/jobs", status_code=202, responses=_JOB_RESPONSES)
def submit_match(
    request: Request,
    response: Response,
    user: Coordinator,
    apply: Apply = False,
    time_limit: TimeLimit = DEFAULT_TIME_LIMIT,
) -> MatchJobOut:
    """Queue a match (coordinators) and answer at once with its job; poll its Location."""
    rate_limits(request).spend(user.name, "matches")
    matcher = _queue(request)
    job = matcher.submit(user, apply=apply, time_limit=time_limit)
    response.headers["Location"] = f"/match/jobs/{job.id}"
    return _out(job, matcher)


@router.get("/match/jobs/{job_id}", responses=error_responses(401, 403, 404, 422, 429))
def get_match_job(job_id: JobKey, request: Request, _user: Coordinator) -> MatchJobOut:
    """A match job: how far it has got and, once done, its result (coordinators)."""
    matcher = _queue(request)
    job = matcher.get(job_id)
    if job is None or job.kind != "match":  # the board's plans are the board page's
        raise RecordError(
            404, f"no match job {job_id} (jobs are kept by the server that took them)"
        )
    return _out(job, matcher)
