"""The web application: the pages mounted under ``/ui`` in the service's application.

:func:`mount` adds the pages to the service's application (one process, one database, one
credential: the token of ``forcemodel users add``). The pages live in a sub-application so that
their errors are pages, not the API's JSON, and so that every response of theirs carries the
strict security headers of :mod:`forcemodel.web.frame`; the API's routes are untouched.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from forcemodel.service.deps import Database
from forcemodel.service.jobs import MatchQueue
from forcemodel.web import (
    attack_pages,
    board_pages,
    board_plan,
    case_pages,
    import_pages,
    plan_pages,
    run_pages,
    signin,
)
from forcemodel.web.cases import CaseCache
from forcemodel.web.frame import (
    HERE,
    PREFIX,
    NotSignedIn,
    Refused,
    SecurityHeaders,
    environment,
    render,
)
from forcemodel.web.jobs import JobPool
from forcemodel.web.planning import RunCache
from forcemodel.web.session import SessionStore

#: Environment variable naming the folder for jobs and uploaded scenarios.
WEB_DIR_ENV = "FORCEMODEL_WEB_DIR"
#: The folder's default, in the current folder (beside the default SQLite database).
DEFAULT_WEB_DIR = "forcemodel-web"


def web_app(db: Database, matcher: MatchQueue, data_dir: Path, workers: int = 2) -> FastAPI:
    """The pages, as an application to mount at :data:`PREFIX`, on the service's database
    and match queue."""
    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    web.state.engine = db.engine
    web.state.read_sessions = db.read
    web.state.write_sessions = db.write
    web.state.matcher = matcher
    web.state.sessions = SessionStore()
    web.state.data_dir = data_dir
    web.state.pool = JobPool(data_dir / "jobs", workers=workers)
    web.state.runs = RunCache()
    web.state.cases = CaseCache()
    web.state.templates = Jinja2Templates(env=environment())
    web.add_middleware(SecurityHeaders)
    web.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @web.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
        base = request.scope.get("root_path", "")
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{base}/login?next={quote(target, safe='')}", 303)
        return render(
            request,
            "error.html",
            {"title": "Signed out", "message": "Your session has ended: sign in again."},
            status=401,
        )

    @web.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        title = "Not allowed" if exc.status == 403 else "Refused"
        return render(
            request, "error.html", {"title": title, "message": exc.message}, status=exc.status
        )

    @web.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        message = str(exc.detail) if exc.status_code != 404 else "There is no such page."
        return render(
            request,
            "error.html",
            {"title": f"Error {exc.status_code}", "message": message},
            status=exc.status_code,
        )

    @web.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}"
            for e in exc.errors()
        )
        return render(
            request,
            "error.html",
            {"title": "Invalid request", "message": f"The address or form is not valid ({where})."},
            status=422,
        )

    web.include_router(signin.router)
    web.include_router(case_pages.router)
    web.include_router(board_plan.router)
    web.include_router(import_pages.router)
    web.include_router(board_pages.router)
    web.include_router(plan_pages.router)
    web.include_router(run_pages.router)
    web.include_router(attack_pages.router)
    return web


def mount(app: FastAPI, data_dir: str | Path | None = None) -> FastAPI:
    """Mount the pages at :data:`PREFIX` on the service's application (its engine and users).

    ``data_dir`` (else ``FORCEMODEL_WEB_DIR``, else ``./forcemodel-web``) keeps the jobs and the
    uploaded scenarios.
    """
    folder = Path(data_dir or os.environ.get(WEB_DIR_ENV) or Path.cwd() / DEFAULT_WEB_DIR)
    web = web_app(app.state.db, app.state.matcher, folder)
    web.state.limits = app.state.limits  # the service's rate limits (failed sign-ins)
    app.state.web = web
    app.mount(PREFIX, web)
    return web
