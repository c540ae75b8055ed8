"""``/health`` (no token) and ``/me`` (the caller).

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

from fastapi import APIRouter

from forcemodel.service.deps import Anyone
from forcemodel.service.schemas import Me, error_responses

router = APIRouter(tags=["service"])


# Both routes are coroutines: they touch no database, so they run on the event loop instead of
# waiting for (and paying for) a worker thread.


@router.get("/health")
async def health() -> dict[str, str]:
    """Whether the service is up (no token needed)."""
    return {"status": "ok"}


@router.get("/me", responses=error_responses(401))
async def me(user: Anyone) -> Me:
    """The caller: name, role, nation."""
    return Me(name=user.name, role=user.role, nation=user.nation)
