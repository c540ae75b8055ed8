"""Starting runs from the planning dashboard (simulate, optimise, sweep); what a sweep drew.

Planners (analysts and coordinators) start runs from a scenario's page; each becomes a job of the
pool whose page (:mod:`forcemodel.web.plan_pages`) shows its progress and results. The jobs that
simulate and optimise are :mod:`.plan_pages`' (the tests set the optimiser's work limits there);
the sweep's job is here, with the routes that serve what a sweep drew.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

import os
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from forcemodel.web import planning, uploads
from forcemodel.web.frame import Refused, Viewer, check_csrf, state
from forcemodel.web.jobs import Job, JobRefused, Runner
from forcemodel.web.plan_pages import (
    OPTIMIZE_SECONDS,
    JobId,
    Name,
    Planner,
    Reader,
    _job,
    _optimizer,
    _simulate,
)
from forcemodel.web.planning import SWEEP_FIGURES, SWEEP_TABLES
from forcemodel.web.tables import csv_text

router = APIRouter(prefix="/plan")


#: Bounds of a sweep started from the page: draws per grid point.
SWEEP_DRAWS = (2, 500)
#: Worker processes of a sweep's local pool (the Dask cluster's when FORCEMODEL_DASK_SCHEDULER
#: names one: tcp://HOST:PORT).
SWEEP_WORKERS = 2


def _start(request: Request, v: Viewer, name: str, kind: str, work: Runner) -> Response:
    """Queue ``work`` of ``kind`` on scenario ``name`` for the caller, then go to its page."""
    entry = uploads.find_scenario(state(request).data_dir, name)
    if entry is None:
        raise Refused(f"There is no scenario {name!r}.", 404)
    try:
        job = state(request).pool.submit(
            kind, entry.name, entry.source, v.user.name, v.role.value, work
        )
    except JobRefused as exc:
        raise Refused(str(exc), 429) from None
    base = request.scope.get("root_path", "")
    return RedirectResponse(f"{base}/plan/jobs/{job.id}", 303)


def _uncertainty_of(scenario: str) -> str | None:
    """The bundled uncertainty of a bundled scenario of that name (else the scenario's own)."""
    from forcemodel import sweep as sweep_pkg

    data = FilePath(sweep_pkg.__file__).parent / "data"
    return scenario if (data / f"{scenario}.yaml").is_file() else None


def _sweeper(draws: int, seed: int) -> Callable[[Job, Callable[[str], None], FilePath], None]:
    """A job that sweeps the scenario's uncertainty (``draws`` runs, ``seed``) into the job's
    sweep folder, then draws the sweep's charts there (:func:`forcemodel.sweep.plots`)."""

    def run(job: Job, say: Callable[[str], None], out: FilePath) -> None:
        from forcemodel.sweep import sweep
        from forcemodel.sweep.plots import sweep_plots

        def progress(done: int, total: int, failed: int) -> None:
            say(f"runs: {done} of {total} done" + (f", {failed} failed" if failed else ""))

        folder = out.parent / planning.SWEEP_FOLDER
        say(f"sweeping: {draws} draws, seed {seed}")
        sweep(
            job.source,
            draws=draws,
            seed=seed,
            out=folder,
            uncertainty=_uncertainty_of(job.scenario) if job.source == job.scenario else None,
            workers=SWEEP_WORKERS,
            scheduler=os.environ.get("FORCEMODEL_DASK_SCHEDULER") or None,
            progress=progress,
        )
        say("drawing the fan charts")
        sweep_plots(folder)

    return run


@router.post("/scenarios/{name}/sweep")
def sweep_run(
    request: Request,
    v: Planner,
    name: Name,
    csrf: Annotated[str, Form(max_length=200)] = "",
    draws: Annotated[int, Form(ge=SWEEP_DRAWS[0], le=SWEEP_DRAWS[1])] = 20,
    seed: Annotated[int, Form(ge=0, le=2**31 - 1)] = 1,
) -> Response:
    check_csrf(v, csrf)
    return _start(request, v, name, "sweep", _sweeper(draws, seed))


@router.get("/jobs/{job_id}/sweep/{name}.png")
def sweep_figure(
    request: Request,
    v: Reader,
    job_id: JobId,
    name: Annotated[str, Path(pattern="^(" + "|".join(SWEEP_FIGURES) + ")$")],
) -> Response:
    found = _job(request, v, job_id)
    path = state(request).pool.job_dir(found.id) / planning.SWEEP_FOLDER / f"{name}.png"
    if found.kind != "sweep" or not path.is_file():
        raise Refused(f"Run {job_id} has no {name} chart.", 404)
    return Response(path.read_bytes(), media_type="image/png")


@router.get("/jobs/{job_id}/sweep/{name}.csv")
def sweep_table(
    request: Request,
    v: Reader,
    job_id: JobId,
    name: Annotated[str, Path(pattern="^(" + "|".join(SWEEP_TABLES) + ")$")],
) -> Response:
    found = _job(request, v, job_id)
    frame = planning.sweep_tables(state(request).pool.job_dir(found.id)).get(name)
    if found.kind != "sweep" or frame is None:
        raise Refused(f"Run {job_id} has no {name} table.", 404)
    return Response(
        csv_text(frame),
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{found.scenario}-{job_id}-{name}.csv"'
        },
    )


@router.post("/scenarios/{name}/optimize")
def optimize_run(
    request: Request,
    v: Planner,
    name: Name,
    csrf: Annotated[str, Form(max_length=200)] = "",
    stop: Annotated[str, Form(pattern="^(time|work)$")] = "work",
    seconds: Annotated[int, Form(ge=OPTIMIZE_SECONDS[0], le=OPTIMIZE_SECONDS[1])] = 50,
) -> Response:
    check_csrf(v, csrf)
    return _start(request, v, name, "optimize", _optimizer(seconds if stop == "time" else None))


@router.post("/scenarios/{name}/run")
def run(
    request: Request,
    v: Planner,
    name: Name,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    check_csrf(v, csrf)
    return _start(request, v, name, "simulate", _simulate)
