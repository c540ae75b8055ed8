"""The assistance plan of a case: training pipeline, when systems are usable, hubs, fleet mix.

The board's records hold no hubs, routes, courses or crews (forcemodel.assist.records), so the
plan that schedules them is shown for an assistance case file: the bundled ones, matched once
per server on first view (:class:`forcemodel.web.cases.CaseCache`). Everyone signed in reads
them (public figures; the cases are the package's examples).

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from forcemodel.assist import bundled_cases
from forcemodel.web import cases, tables
from forcemodel.web.frame import EVERYONE, Refused, Viewer, allow, render, state
from forcemodel.web.tables import csv_text

router = APIRouter(prefix="/board/cases")

Anyone = Annotated[Viewer, Depends(allow(*EVERYONE))]
CaseName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,59}$")]
TABLES = ("usable", "courses", "cohorts", "hubs", "fleet", "requirements", "deliveries")


async def _plan(request: Request, name: str) -> cases.CasePlan:
    if name not in bundled_cases():
        raise Refused(f"There is no assistance case {name!r}.", 404)
    cache: cases.CaseCache = state(request).cases
    # The matcher runs in a worker thread, never the event loop's.
    return await asyncio.to_thread(cache.get, name)


@router.get("", response_class=HTMLResponse)
def case_list(request: Request, v: Anyone) -> Response:
    return render(request, "cases.html", {"cases": list(bundled_cases())}, v=v)


@router.get("/{name}", response_class=HTMLResponse)
async def case_page(request: Request, v: Anyone, name: CaseName) -> Response:
    plan = await _plan(request, name)
    t = plan.tables
    return render(
        request,
        "case.html",
        {
            "plan": plan,
            "meta": plan.result.case.meta,
            "usable": tables.table(t["usable"]),
            "courses": tables.table(t["courses"]),
            "cohorts": tables.table(
                t["cohorts"][["course", "item", "trainees", "start_date", "end_date"]]
            ),
            "cohort_chart": cases.cohort_chart(plan),
            "hub_charts": cases.hub_charts(plan),
            "hubs": tables.table(t["hubs"][t["hubs"]["tons"] > 0]),
            "fleet_chart": cases.fleet_chart(plan),
            "fleet": tables.table(t["fleet"]),
            "table_names": TABLES,
        },
        v=v,
    )


@router.get("/{name}/{table}.csv")
async def case_csv(
    request: Request,
    _v: Anyone,
    name: CaseName,
    table: Annotated[str, Path(pattern="^(" + "|".join(TABLES) + ")$")],
) -> Response:
    plan = await _plan(request, name)
    return Response(
        csv_text(plan.tables[table]),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}-{table}.csv"'},
    )
