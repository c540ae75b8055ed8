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

from fastapi import FastAPI

import forcemodel
from forcemodel.service import errors
from forcemodel.service.db import make_engine
from forcemodel.service.deps import Database
from forcemodel.service.migrate import upgrade_to_head
from forcemodel.service.routers import (
    allocations,
    audit,
    donors,
    items,
    match,
    pledges,
    requirements,
    service,
)
from forcemodel.service.settings import Settings

#: The routers, in the order the OpenAPI description lists their paths.
ROUTERS = (service, items, donors, pledges, requirements, allocations, audit, match)


def create_app(database_url: str | None = None) -> FastAPI:
    """The application, on the database of the URL (else FORCEMODEL_DATABASE_URL, else SQLite).

    Upgrades the database schema to the newest migration before returning.
    """
    settings = Settings.load(database_url)
    engine = make_engine(settings.database_url)
    upgrade_to_head(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="forcemodel security assistance",
        summary="Pledges, requirements and allocations of security assistance, by role.",
        version=forcemodel.__version__,
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.db = Database.on(engine)
    errors.install(app)
    for module in ROUTERS:
        app.include_router(module.router)
    return app
