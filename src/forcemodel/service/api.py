"""The HTTP API (FastAPI): records of pledges, requirements and allocations, by role.

``create_app()`` is the application factory: it brings the database schema to the newest
revision, puts the database (:class:`forcemodel.service.deps.Database`) on ``app.state.db``,
installs the error answers (:mod:`forcemodel.service.errors`) and includes one router per
resource (:mod:`forcemodel.service.routers`), FastAPI's "bigger applications" layout. Every
router takes its caller from :mod:`forcemodel.service.deps`, the one authentication path.
The OpenAPI description is served at ``/openapi.json`` (browsable at ``/docs``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import make_url

import forcemodel
from forcemodel.service import errors
from forcemodel.service.db import make_engine
from forcemodel.service.deps import IF_MATCH_PATTERN, Database
from forcemodel.service.guards import BodyLimit, RateLimits, SecurityHeaders
from forcemodel.service.jobs import InWorkerProcess, MatchQueue, plan_here, run_here
from forcemodel.service.migrate import upgrade_to_head
from forcemodel.service.routers import (
    allocations,
    audit,
    courses,
    docs,
    donors,
    hubs,
    item_needs,
    items,
    match,
    pledges,
    requirements,
    routes,
    service,
)
from forcemodel.service.settings import Settings

#: The routers, in the order the OpenAPI description lists their paths.
ROUTERS = (
    service,
    docs,
    items,
    donors,
    pledges,
    requirements,
    allocations,
    hubs,
    routes,
    courses,
    item_needs,
    audit,
    match,
)


def create_app(database_url: str | None = None, settings: Settings | None = None) -> FastAPI:
    """The application, on the database of the URL (else FORCEMODEL_DATABASE_URL, else SQLite).

    ``settings`` (:class:`forcemodel.service.settings.Settings`) replace those of the URL and
    the environment. Upgrades the database schema to the newest migration before returning.
    """
    settings = settings or Settings.load(database_url)
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)

    db = Database.on(engine)
    # A database of this process's memory cannot be opened by another: match here then.
    memory = make_url(settings.database_url).database in (None, "", ":memory:")
    if memory:
        matcher = MatchQueue(run_here(db.plain), settings.match_queue, plan_here(db.plain))
    else:
        worker = InWorkerProcess(settings.database_url)
        matcher = MatchQueue(worker, settings.match_queue, worker.plan)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        matcher.close()
        engine.dispose()

    app = FastAPI(
        title="forcemodel security assistance",
        summary="Pledges, requirements and allocations of security assistance, by role.",
        version=forcemodel.__version__,
        lifespan=lifespan,
        docs_url=None,  # routers.docs serves /docs from the package, not from a CDN
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.db = db
    app.state.matcher = matcher
    app.state.settings = settings
    app.state.limits = RateLimits.of(settings)
    errors.install(app)
    # The last added is the outermost: the security headers go on every answer, the 413 too.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    for module in ROUTERS:
        app.include_router(module.router)
    app.mount(docs.ASSETS_PATH, StaticFiles(directory=docs.ASSETS), name="swagger-ui")
    app.openapi = lambda: _described(app)  # type: ignore[method-assign]
    from forcemodel.web.app import mount  # the board and dashboard pages under /ui

    mount(app)
    return app


def _described(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI description, with If-Match offered as a version only (never null)."""
    if app.openapi_schema is None:
        schema = FastAPI.openapi(app)
        for operation in (op for path in schema["paths"].values() for op in path.values()):
            for param in operation.get("parameters", []):
                if param["in"] == "header" and param["name"].lower() == "if-match":
                    param["schema"] = {
                        "type": "string",
                        "pattern": IF_MATCH_PATTERN,
                        "title": "If-Match",
                        "description": param.get("description", ""),
                    }
        app.openapi_schema = schema
    return app.openapi_schema
