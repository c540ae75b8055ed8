"""The planning dashboard's pages: scenarios, their maps, runs with live progress, results.

Analysts and coordinators upload scenarios and start runs; observers read finished runs;
donors and partners (national desks of the assistance board) do not see the planning side.
The routes that start runs (simulate, optimise, sweep) and serve a sweep's output are in
:mod:`.run_pages`; the jobs that simulate and optimise are here.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path as FilePath
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from forcemodel.common.errors import LocatedError, Problem
from forcemodel.report import data as report_data
from forcemodel.scenario.load import load_scenario
from forcemodel.service.tables import Role
from forcemodel.web import attacks, planning, remote, uploads, work
from forcemodel.web.charts import bottleneck_chart, capabilities_of, gantt_chart, power_chart
from forcemodel.web.frame import (
    PLAN_READERS,
    PLANNERS,
    Refused,
    Viewer,
    allow,
    check_csrf,
    render,
    state,
)
from forcemodel.web.jobs import Job, Progress
from forcemodel.web.mapview import scenario_map
from forcemodel.web.planning import SWEEP_FIGURES, SWEEP_TABLES
from forcemodel.web.tables import csv_text, table

router = APIRouter(prefix="/plan")

Reader = Annotated[Viewer, Depends(allow(*PLAN_READERS))]
Planner = Annotated[Viewer, Depends(allow(*PLANNERS))]
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]
Name = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,59}$")]
#: milsymbol (APP-6 symbols), vendored from npm by `make`; the map works without it.
MILSYMBOL = FilePath(__file__).parent / "static" / "vendor" / "milsymbol.js"
#: Seconds between two looks at a job's progress in the event stream.
POLL_S = 0.25
#: An event stream ends after this many seconds (the page reconnects).
STREAM_S = 1800.0
#: Tables a run's page offers as CSV.
TABLES = ("regions", "capabilities", "bottlenecks", "tiers", "power", "movements", "servers")
#: An optimised run's tables besides (its plan folder's CSV files).
PLAN_TABLES = ("plan", "objective", "unmet")
#: Kinds of run that have no single simulated result (no region pages, no comparison).
WITHOUT_RESULTS = {"sweep": "a sweep", "attack": "an attack", "match": "an assistance matching"}


def _visible(v: Viewer, job: Job) -> bool:
    """Planners see every job; observers only finished ones."""
    return v.role in PLANNERS or (v.role is Role.observer and job.state == "done")


def _job(request: Request, v: Viewer, job_id: str) -> Job:
    job: Job | None = state(request).pool.get(job_id)
    if job is None or not _visible(v, job):
        raise Refused("There is no such run, or your role may not see it.", 404)
    return job


def _run(request: Request, job: Job) -> planning.Run:
    if job.kind in WITHOUT_RESULTS:
        raise Refused(
            f"Run {job.id} is {WITHOUT_RESULTS[job.kind]}: its results are its tables and charts.",
            404,
        )
    if job.state != "done":
        raise Refused(f"Run {job.id} is {job.state}: it has no results.", 409)
    pool = state(request).pool
    try:
        run: planning.Run = state(request).runs.get(job.id, pool.results_dir(job.id), job.source)
        return run
    except (LocatedError, OSError, ValueError) as exc:
        raise Refused(f"The results of run {job.id} cannot be read: {exc}", 500) from None


# --- scenarios ----------------------------------------------------------------------------


@router.get("/scenarios", response_class=HTMLResponse)
def scenarios(request: Request, v: Reader) -> Response:
    return render(
        request,
        "scenarios.html",
        {
            "scenarios": uploads.scenarios(state(request).data_dir),
            "can_run": v.role in PLANNERS,
            "problems": [],
            "uploaded": "",
            "upload_error": "",
        },
        v=v,
    )


@router.post("/scenarios", response_class=HTMLResponse)
async def upload(
    request: Request,
    v: Planner,
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(v, csrf)
    content = await file.read(uploads.MAX_UPLOAD_BYTES + 1)
    data_dir = state(request).data_dir
    name, error = "", ""
    problems: list[Problem] = []
    try:
        name, problems = await asyncio.to_thread(
            uploads.upload_scenario, data_dir, file.filename or "scenario.yaml", content
        )
    except uploads.UploadError as exc:
        error = str(exc)
    if not problems and not error:
        base = request.scope.get("root_path", "")
        return RedirectResponse(f"{base}/plan/scenarios/{name}?uploaded=1", 303)
    return render(
        request,
        "scenarios.html",
        {
            "scenarios": uploads.scenarios(data_dir),
            "can_run": True,
            "problems": problems,
            "uploaded": file.filename or "",
            "upload_error": error,
        },
        v=v,
        status=422,
    )


@router.get("/scenarios/{name}", response_class=HTMLResponse)
def scenario(request: Request, v: Reader, name: Name) -> Response:
    entry = uploads.find_scenario(state(request).data_dir, name)
    if entry is None:
        raise Refused(f"There is no scenario {name!r}.", 404)
    try:
        loaded = load_scenario(entry.source)
    except LocatedError as exc:
        return render(
            request,
            "scenario.html",
            {
                "entry": entry,
                "problems": exc.problems,
                "map": None,
                "milsymbol": False,
                "counts": {},
                "can_run": False,
                "jobs": [],
            },
            v=v,
            status=422,
        )
    counts = {
        "nodes": len(loaded.nodes),
        "links": len(loaded.links),
        "units": len(loaded.units),
        "stocks": len(loaded.stocks),
        "regions": len(loaded.regions),
    }
    jobs = [
        j
        for j in state(request).pool.all()
        if j.scenario == name and j.kind != "match" and _visible(v, j)
    ]
    return render(
        request,
        "scenario.html",
        {
            "entry": entry,
            "problems": [],
            "map": scenario_map(loaded),
            "counts": counts,
            "meta": loaded.meta,
            "can_run": v.role in PLANNERS,
            "jobs": jobs[:10],
            "regions": loaded.regions,
            "milsymbol": MILSYMBOL.exists(),
            "uploaded": request.query_params.get("uploaded") == "1",
        },
        v=v,
    )


def _simulate(job: Job, say: Callable[[str], None], out: FilePath) -> None:
    _work(job, say, out, work.simulate_task, load_scenario(job.source))


def _work(job: Job, say: Callable[[str], None], out: FilePath, task: Any, *args: Any) -> None:
    """Run a job's task (:mod:`.work`) here, or on the Dask cluster when one is configured."""
    address = remote.scheduler()
    if address is None:
        task(say, out.parent, *args)
        return
    stopped = say.stopped if isinstance(say, Progress) else (lambda: False)
    remote.run_on_cluster(address, job.id, say, stopped, out.parent, task, *args)


#: Bounds of the optimiser's time budget chosen on the page, seconds.
OPTIMIZE_SECONDS = (5, 600)
#: The work limits of "stop by work" (None: the optimiser's defaults, as the CLI's
#: --deterministic); the tests set smaller ones.
OPTIMIZE_WORK: Any = None


def _optimizer(seconds: int | None) -> Callable[[Job, Callable[[str], None], FilePath], None]:
    """A job that optimises the scenario (the CLI's defaults: closure targets from the scenario
    as given), stops by ``seconds`` or, with None, by the deterministic work limits, saves the
    plan beside the results and simulates it (the results the run's pages show)."""

    def run(job: Job, say: Callable[[str], None], out: FilePath) -> None:
        scenario = load_scenario(job.source)
        limit = float(OPTIMIZE_SECONDS[1])
        _work(
            job, say, out, work.optimize_task, scenario, job.scenario, seconds, limit, OPTIMIZE_WORK
        )

    return run


# --- jobs ---------------------------------------------------------------------------------


@router.get("/jobs", response_class=HTMLResponse)
def jobs(request: Request, v: Reader) -> Response:
    visible = [j for j in state(request).pool.all() if _visible(v, j)]
    done = [j for j in visible if j.state == "done" and j.kind not in WITHOUT_RESULTS]
    return render(request, "jobs.html", {"jobs": visible, "done": done}, v=v)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job(request: Request, v: Reader, job_id: JobId) -> Response:
    found = _job(request, v, job_id)
    context: dict[str, Any] = {"job": found, "can_run": v.role in PLANNERS, "run": None}
    context["sweep"] = context["attack"] = None
    if found.state == "done" and found.kind == "attack":
        folder = state(request).pool.job_dir(found.id) / attacks.ATTACK_FOLDER
        try:
            scenario = load_scenario(found.source)
            context["attack"] = attacks.attack_page(folder, scenario)
        except (LocatedError, OSError, ValueError) as exc:
            raise Refused(f"The tables of run {found.id} cannot be read: {exc}", 500) from None
    elif found.state == "done" and found.kind == "sweep":
        folder = state(request).pool.job_dir(found.id)
        tables = planning.sweep_tables(folder)
        context["sweep"] = {
            "figures": [
                {"name": f, "caption": caption}
                for f, caption in SWEEP_FIGURES.items()
                if (folder / planning.SWEEP_FOLDER / f"{f}.png").is_file()
            ],
            "summary": table(tables["summary"], 40) if "summary" in tables else None,
            "tables": [t for t in SWEEP_TABLES if t in tables],
        }
    elif found.state == "done" and found.kind not in WITHOUT_RESULTS:
        r = _run(request, found)
        context.update(
            run=r,
            regions=r.regions.to_dict("records"),
            tables={k: table(t, 15) for k, t in r.tables.items()},
            table_names=TABLES,
            bottlenecks=bottleneck_chart(r),
            servers=table(r.servers),
            plan={k: table(t, 30) for k, t in r.plan.items()},
        )
    return render(request, "job.html", context, v=v)


@router.get("/jobs/{job_id}/events")
async def events(request: Request, v: Reader, job_id: JobId) -> Response:
    _job(request, v, job_id)
    return job_events(request, job_id)


def job_events(request: Request, job_id: str) -> Response:
    """A job's progress as server-sent events (``progress`` on each change, ``end`` once
    final); the caller has checked that the viewer may see the job."""
    pool = state(request).pool

    async def stream() -> AsyncIterator[str]:
        last: dict[str, Any] | None = None
        waited = 0.0
        yield "retry: 2000\n\n"
        while waited < STREAM_S:
            snap = pool.snapshot(job_id)
            if snap is None:
                return
            seen = {k: snap[k] for k in ("state", "fraction", "messages", "error")}
            if seen != last:
                last = seen
                yield f"event: progress\ndata: {json.dumps(seen)}\n\n"
            if snap["state"] in ("done", "failed", "cancelled", "interrupted"):
                yield f"event: end\ndata: {json.dumps(snap['state'])}\n\n"
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(POLL_S)
            waited += POLL_S

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
    )


@router.post("/jobs/{job_id}/cancel")
def cancel(
    request: Request,
    v: Planner,
    job_id: JobId,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(v, csrf)
    _job(request, v, job_id)
    state(request).pool.cancel(job_id)
    base = request.scope.get("root_path", "")
    return RedirectResponse(f"{base}/plan/jobs/{job_id}", 303)


@router.get("/jobs/{job_id}/regions/{region}", response_class=HTMLResponse)
def region(
    request: Request,
    v: Reader,
    job_id: JobId,
    region: Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,60}$")],
) -> Response:
    found = _job(request, v, job_id)
    r = _run(request, found)
    rows = r.regions[r.regions["region"] == region]
    if rows.empty:
        raise Refused(f"Run {job_id} has no region {region!r}.", 404)
    charts = [power_chart(r, region, c) for c in capabilities_of(r, region)]
    caps = r.assessment.capabilities
    return render(
        request,
        "region.html",
        {
            "job": found,
            "region": rows.iloc[0].to_dict(),
            "charts": charts,
            "gantt": gantt_chart(r, region),
            "capabilities": table(caps[caps["region"] == region]),
            "assessment": table(r.assessment.regions[r.assessment.regions["region"] == region]),
        },
        v=v,
    )


def _frame(r: planning.Run, name: str) -> pd.DataFrame:
    a = r.assessment
    if name in r.plan:
        return r.plan[name]
    if name == "movements":  # every unit's legs, not only the chart's
        return report_data.gantt_frame(r.results, None)[0]
    if name == "servers":  # every server's days at capacity, not only the busiest
        return report_data.server_frames(r.results, None)[1]
    frames = {
        "regions": a.regions,
        "capabilities": a.capabilities,
        "bottlenecks": a.bottlenecks,
        "tiers": a.tiers,
        "power": r.power,
    }
    return frames[name]


@router.get("/jobs/{job_id}/tables/{name}.csv")
def table_csv(
    request: Request,
    v: Reader,
    job_id: JobId,
    name: Annotated[str, Path(pattern="^(" + "|".join(TABLES + PLAN_TABLES) + ")$")],
) -> Response:
    found = _job(request, v, job_id)
    r = _run(request, found)
    if name in PLAN_TABLES and name not in r.plan:
        raise Refused(f"Run {job_id} is not an optimisation: it has no {name} table.", 404)
    return Response(
        csv_text(_frame(r, name)),
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{found.scenario}-{job_id}-{name}.csv"'
        },
    )


# --- comparison ---------------------------------------------------------------------------


@router.get("/compare", response_class=HTMLResponse)
def compare_page(
    request: Request,
    v: Reader,
    a: Annotated[str | None, Query(pattern=r"^[0-9a-f]{12}$")] = None,
    b: Annotated[str | None, Query(pattern=r"^[0-9a-f]{12}$")] = None,
) -> Response:
    from forcemodel.assessment.compare import compare

    done = [
        j
        for j in state(request).pool.all()
        if j.state == "done" and j.kind not in WITHOUT_RESULTS and _visible(v, j)
    ]
    context: dict[str, Any] = {"done": done, "a": a or "", "b": b or "", "tables": None}
    if a and b:
        ja, jb = _job(request, v, a), _job(request, v, b)
        ra, rb = _run(request, ja), _run(request, jb)
        result = compare(ra.results, rb.results, ("A", "B"))
        context.update(
            job_a=ja,
            job_b=jb,
            notes=result.notes,
            headline=result.headline,
            tables={k: table(t) for k, t in result.tables().items()},
        )
    return render(request, "compare.html", context, v=v)
