"""The assistance plan of a case: training pipeline, when systems are usable, hubs, fleet mix.

The plan of the board's own records (with the hubs, routes, courses and item needs it keeps)
is :mod:`forcemodel.web.board_plan`; these pages show an assistance case file's: the bundled
ones, matched once per server on first view (:class:`forcemodel.web.cases.CaseCache`), and
those a coordinator uploads (:mod:`forcemodel.web.case_uploads`: checked as ``forcemodel
assist match`` loads them, kept only when they load, matched by a job of the server's pool
whose progress the case's page follows). Everyone signed in reads them.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from forcemodel.assist import bundled_cases
from forcemodel.common.errors import Problem
from forcemodel.web import case_uploads, cases
from forcemodel.web.frame import (
    COORDINATORS,
    EVERYONE,
    Refused,
    Viewer,
    allow,
    check_csrf,
    render,
    state,
)
from forcemodel.web.jobs import Job, JobRefused
from forcemodel.web.plan_pages import job_events
from forcemodel.web.tables import csv_text
from forcemodel.web.uploads import UploadError

router = APIRouter(prefix="/board/cases")

Anyone = Annotated[Viewer, Depends(allow(*EVERYONE))]
Coordinator = Annotated[Viewer, Depends(allow(*COORDINATORS))]
CaseName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,59}$")]
TABLES = ("usable", "courses", "cohorts", "hubs", "fleet", "requirements", "deliveries")


def _match_job(request: Request, name: str) -> Job | None:
    """The latest match job of an uploaded case."""
    return next(
        (j for j in state(request).pool.all() if j.kind == "match" and j.scenario == name), None
    )


async def _plan(request: Request, name: str) -> cases.CasePlan | Job:
    """The case's plan, or the match job that is still matching (or failed) an uploaded one."""
    cache: cases.CaseCache = state(request).cases
    source = None
    if name not in bundled_cases():
        source = case_uploads.uploaded_cases(state(request).data_dir).get(name)
        if source is None:
            raise Refused(f"There is no assistance case {name!r}.", 404)
        job = _match_job(request, name)
        if not cache.has(name) and job is not None and job.state in ("queued", "running", "failed"):
            return job  # its page says which (an interrupted one is matched again, below)
    # The matcher runs in a worker thread, never the event loop's (after a restart an uploaded
    # case is matched again on its first view, as a bundled one).
    plan: cases.CasePlan = await asyncio.to_thread(cache.get, name, source)
    return plan


def _list(request: Request, v: Viewer, **context: Any) -> Response:
    uploaded = case_uploads.uploaded_cases(state(request).data_dir)
    return render(
        request,
        "cases.html",
        {
            "cases": list(bundled_cases()),
            "uploaded": [{"name": n, "job": _match_job(request, n)} for n in uploaded],
            "can_upload": v.role in COORDINATORS,
            "problems": [],
            "filename": "",
            "upload_error": "",
            **context,
        },
        v=v,
        status=422 if context else 200,
    )


@router.get("", response_class=HTMLResponse)
def case_list(request: Request, v: Anyone) -> Response:
    return _list(request, v)


@router.post("", response_class=HTMLResponse)
async def upload(
    request: Request,
    v: Coordinator,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(v, csrf)
    content = await file.read(case_uploads.MAX_CASE_BYTES + 1)
    filename = file.filename or "case.yaml"
    st = state(request)
    problems: list[Problem] = []
    try:
        name, problems = await asyncio.to_thread(
            case_uploads.upload_case, st.data_dir, filename, content, set(bundled_cases())
        )
    except UploadError as exc:
        return _list(request, v, filename=filename, upload_error=str(exc))
    if problems:
        return _list(request, v, filename=filename, problems=problems)
    source = str(case_uploads.uploaded_cases(st.data_dir)[name])
    work = case_uploads.match_job(st.cases.put, cases.MATCH_TIME_LIMIT)
    try:
        st.pool.submit("match", name, source, v.user.name, v.role.value, work)
    except JobRefused as exc:  # kept: its page matches it on first view instead
        raise Refused(f"Case {name} is kept, but {exc}", 429) from None
    base = request.scope.get("root_path", "")
    return RedirectResponse(f"{base}/board/cases/{name}", 303)


@router.get("/{name}", response_class=HTMLResponse)
async def case_page(request: Request, v: Anyone, name: CaseName) -> Response:
    plan = await _plan(request, name)
    if isinstance(plan, Job):
        return render(request, "case_match.html", {"job": plan, "name": name}, v=v)
    return render(
        request,
        "case.html",
        {**cases.page_context(plan), "table_names": TABLES},
        v=v,
    )


@router.get("/{name}/events")
def case_events(request: Request, _v: Anyone, name: CaseName) -> Response:
    job = _match_job(request, name)
    if job is None:
        raise Refused(f"Case {name!r} is not being matched.", 404)
    return job_events(request, job.id)


@router.get("/{name}/{table}.csv")
async def case_csv(
    request: Request,
    _v: Anyone,
    name: CaseName,
    table: Annotated[str, Path(pattern="^(" + "|".join(TABLES) + ")$")],
) -> Response:
    plan = await _plan(request, name)
    if isinstance(plan, Job):
        raise Refused(f"Case {name} is {plan.state}: it has no plan yet.", 409)
    return Response(
        csv_text(plan.tables[table]),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}-{table}.csv"'},
    )
