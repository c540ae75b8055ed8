"""The board's own assistance plan: ``/ui/board/plan``, from the records the board keeps.

The matcher plans the board's pledges, requirements and allocations with its hubs, routes,
training courses and item needs (:mod:`forcemodel.service.planning`), as a job of the service's
bounded match queue (never in a request's thread), and the page shows the case pages' sections
(:mod:`forcemodel.web.cases`, ``templates/plan_sections.html``): when each system is usable,
the training pipeline, the hubs' throughput and the fleet mix, every table as CSV. A plan is
kept until the records change (every change is audited, so the newest audit entry marks them:
:func:`forcemodel.service.planning.records_mark`); viewers of unchanged records share one plan
and one job. Records that cannot be planned give the plan's located problems.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from forcemodel.assist.board_logistics import DIRECT
from forcemodel.service.jobs import Job, MatchQueue
from forcemodel.service.planning import PLAN_TIME_LIMIT, records_mark
from forcemodel.service.records import RecordError
from forcemodel.web import cases
from forcemodel.web.frame import EVERYONE, Refused, Viewer, allow, render, state
from forcemodel.web.tables import csv_text

router = APIRouter(prefix="/board/plan")

Anyone = Annotated[Viewer, Depends(allow(*EVERYONE))]
#: The tables the page offers as CSV (the case pages' tables).
TABLES = ("usable", "courses", "cohorts", "hubs", "fleet", "requirements", "deliveries")
NAME = "board"


@dataclass
class BoardPlans:
    """The plan of the records as they were at a mark, and the job making the next one."""

    mark: int = -1
    plan: cases.CasePlan | None = None
    jobs: dict[int, Job] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_MAKING = threading.Lock()


def _plans(request: Request) -> BoardPlans:
    st = state(request)
    with _MAKING:
        if not hasattr(st, "board_plans"):
            st.board_plans = BoardPlans()
        plans: BoardPlans = st.board_plans
        return plans


def _mark(request: Request) -> int:
    with state(request).read_sessions() as session:
        return records_mark(session)


async def _plan(request: Request, v: Viewer) -> cases.CasePlan:
    """The plan of the records as they are, made by a job of the match queue when they changed
    since the last one (RecordError when they cannot be planned)."""
    plans = _plans(request)
    mark = await asyncio.to_thread(_mark, request)
    matcher: MatchQueue = state(request).matcher
    with plans.lock:
        if plans.plan is not None and plans.mark == mark:
            return plans.plan
        job = plans.jobs.get(mark)
        if job is None:
            job = matcher.submit_plan(v.user, time_limit=PLAN_TIME_LIMIT)
            plans.jobs = {mark: job}  # an older mark's job is of no more use
    await matcher.wait(job)
    if job.error is not None:
        if job.error.status not in (409, 422):  # not the records' fault: the next view retries
            with plans.lock:
                plans.jobs.pop(mark, None)
        raise job.error
    assert job.plan is not None
    plan = cases.plan_of(NAME, job.plan)
    with plans.lock:
        if mark >= plans.mark:
            plans.mark, plans.plan = mark, plan
    return plan


@router.get("", response_class=HTMLResponse)
async def board_plan(request: Request, v: Anyone) -> Response:
    try:
        plan = await _plan(request, v)
    except RecordError as exc:
        context: dict[str, Any] = {"problems": exc.message.splitlines(), "status": exc.status}
        return render(request, "board_plan.html", context, v=v, status=exc.status)
    context = {**cases.page_context(plan, skip_hubs=(DIRECT,)), "table_names": TABLES}
    return render(request, "board_plan.html", {**context, "problems": []}, v=v)


@router.get("/{table}.csv")
async def board_plan_csv(
    request: Request,
    v: Anyone,
    table: Annotated[str, Path(pattern="^(" + "|".join(TABLES) + ")$")],
) -> Response:
    try:
        plan = await _plan(request, v)
    except RecordError as exc:
        raise Refused(f"The board's records cannot be planned: {exc.message}", exc.status) from None
    return Response(
        csv_text(plan.tables[table]),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="board-plan-{table}.csv"'},
    )
