"""The attacker from the dashboard: start an attack run on a scenario, download its tables.

A planner starts *Attack* on a scenario's page: the regions attacked (all when none is
chosen), attacks of 1..k assets, optional attack budgets and protection budgets, and the work
limit of each answer's check. The job runs :func:`forcemodel.sweep.attack.run_attack` in the
server's pool (its simulations on the sweep's local pool of processes, or on the Dask cluster
at ``FORCEMODEL_DASK_SCHEDULER``) and keeps its tables in the job's ``attack/`` folder
(:mod:`.attacks`); the run's page (:mod:`.plan_pages`) shows them.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from forcemodel.common.errors import LocatedError
from forcemodel.scenario.load import load_scenario
from forcemodel.web import attacks, uploads
from forcemodel.web.frame import Refused, check_csrf, state
from forcemodel.web.jobs import Job
from forcemodel.web.plan_pages import JobId, Name, Planner, Reader, _job
from forcemodel.web.run_pages import SWEEP_WORKERS, _start, _uncertainty_of
from forcemodel.web.tables import csv_text

router = APIRouter(prefix="/plan")

#: Attacks of 1..k assets chosen on the page (the engine allows 5; 3 keeps a page's run short).
ATTACK_K = (1, 3)
#: Bounds of the work limit chosen on the page: new simulations each answer's check may spend.
CHECK_LIMITS = (0, 2000)
#: Budgets a form field may list.
MAX_BUDGETS = 12


def _budgets(text: str, field: str, positive: bool) -> list[float]:
    """Numbers separated by commas or spaces; a located refusal for anything else."""
    values: list[float] = []
    for part in text.replace(",", " ").split():
        try:
            value = float(part)
        except ValueError:
            raise Refused(f"{field}: {part!r} is not a number (millions).", 422) from None
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            bound = "positive" if positive else "not negative"
            raise Refused(f"{field}: {part} is not allowed (a budget is {bound}).", 422)
        values.append(value)
    if len(values) > MAX_BUDGETS:
        raise Refused(f"{field}: at most {MAX_BUDGETS} budgets, got {len(values)}.", 422)
    return sorted(set(values))


def _attacker(
    regions: Sequence[str],
    k: int,
    budgets: Sequence[float],
    attack_budgets: Sequence[float],
    check: int,
) -> Callable[[Job, Callable[[str], None], FilePath], None]:
    """A job that runs the attacker's (and, with budgets, the defender's) search on the
    scenario and keeps its tables in the job's attack folder."""

    def run(job: Job, say: Callable[[str], None], out: FilePath) -> None:
        from forcemodel.sweep.attack import run_attack

        uncertainty = _uncertainty_of(job.scenario) if job.source == job.scenario else None
        where = os.environ.get("FORCEMODEL_DASK_SCHEDULER") or None
        say(
            f"attacking {', '.join(regions) or 'every region'}: 1 to {k} assets"
            + (
                f", attack budgets {', '.join(f'{b:g}' for b in attack_budgets)}"
                if attack_budgets
                else ""
            )
            + (f", protection budgets {', '.join(f'{b:g}' for b in budgets)} M" if budgets else "")
            + f"; checks of up to {check} simulations each"
        )
        report = run_attack(
            job.source,
            regions=regions,
            k=k,
            budgets=budgets,
            attack_budgets=attack_budgets,
            check_limit=check,
            uncertainty=uncertainty,
            workers=SWEEP_WORKERS,
            scheduler=where,
            progress=lambda n: say(f"simulations: {n} done"),
        )
        say(f"saving the tables ({report.simulations} simulations)")
        attacks.save_attack(
            report, out.parent / attacks.ATTACK_FOLDER, _scenario_name(job), uncertainty
        )

    return run


def _scenario_name(job: Job) -> str:
    """The scenario's own name (meta.name), as ``forcemodel report --attack`` checks it."""
    return str(load_scenario(job.source).meta.name)


@router.post("/scenarios/{name}/attack")
def attack_run(
    request: Request,
    v: Planner,
    name: Name,
    csrf: Annotated[str, Form(max_length=200)] = "",
    region: Annotated[list[str] | None, Form()] = None,
    k: Annotated[int, Form(ge=ATTACK_K[0], le=ATTACK_K[1])] = 1,
    budgets: Annotated[str, Form(max_length=400)] = "",
    attack_budgets: Annotated[str, Form(max_length=400)] = "",
    check: Annotated[int, Form(ge=CHECK_LIMITS[0], le=CHECK_LIMITS[1])] = 200,
) -> Response:
    check_csrf(v, csrf)
    protect = _budgets(budgets, "Protection budgets", positive=False)
    against = _budgets(attack_budgets, "Attack budgets", positive=True)
    entry = uploads.find_scenario(state(request).data_dir, name)
    if entry is None:
        raise Refused(f"There is no scenario {name!r}.", 404)
    try:
        known = [r.id for r in load_scenario(entry.source).regions]
    except LocatedError as exc:
        raise Refused(f"Scenario {name} does not load: {exc}", 422) from None
    chosen = list(dict.fromkeys(region or []))
    unknown = [r for r in chosen if r not in known]
    if unknown:
        raise Refused(f"No such region: {', '.join(unknown)} (regions: {', '.join(known)}).", 422)
    return _start(request, v, name, "attack", _attacker(chosen, k, protect, against, check))


@router.get("/jobs/{job_id}/attack/{table}.csv")
def attack_table(
    request: Request,
    v: Reader,
    job_id: JobId,
    table: Annotated[str, Path(pattern="^(" + "|".join(attacks.ATTACK_TABLES) + ")$")],
) -> Response:
    found = _job(request, v, job_id)
    folder = state(request).pool.job_dir(found.id) / attacks.ATTACK_FOLDER
    frame = attacks.read_attack(folder).get(table) if found.kind == "attack" else None
    if frame is None:
        raise Refused(f"Run {job_id} has no {table} table.", 404)
    return Response(
        csv_text(frame),
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{found.scenario}-{job_id}-{table}.csv"'
        },
    )
