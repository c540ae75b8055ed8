"""The web application's frame: mounting under ``/ui``, signing in, roles, security headers.

:func:`mount` adds the pages to the service's application (one process, one database, one
credential: the token of ``forcemodel users add``). The pages live in a sub-application so that
their errors are pages, not the API's JSON, and so that every response of theirs carries the
strict security headers below; the API's routes are untouched.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forcemodel.service.auth import Principal, hash_token
from forcemodel.service.db import session_factory
from forcemodel.service.tables import Role
from forcemodel.web.jobs import JobPool
from forcemodel.web.planning import RunCache, cell
from forcemodel.web.session import (
    COOKIE,
    LOGIN_COOKIE,
    SessionStore,
    principal_by_digest,
    same_token,
)

#: Where the pages are mounted in the service's application.
PREFIX = "/ui"
#: Environment variable naming the folder for jobs and uploaded scenarios.
WEB_DIR_ENV = "FORCEMODEL_WEB_DIR"
#: The folder's default, in the current folder (beside the default SQLite database).
DEFAULT_WEB_DIR = "forcemodel-web"
HERE = Path(__file__).parent

#: Every page: scripts and styles only from this server (no inline script or style attribute),
#: no frames, forms posting only here.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}

# Who may see what (the API's rules, and the planning dashboard's).
EVERYONE = tuple(Role)
PLEDGE_EDITORS = (Role.donor, Role.coordinator)
COORDINATORS = (Role.coordinator,)
# The service has no analyst role yet (its roles are a database constraint: adding one is a
# migration of the service's); an "analyst" role, once there, plans like a coordinator.
PLANNERS = tuple(r for r in Role if r.value in ("analyst", "coordinator"))
PLAN_READERS = (*PLANNERS, Role.observer)


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` (and no-store on pages) to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith(f"{PREFIX}/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    if key not in headers:
                        headers[key] = value
                if not static and "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class NotSignedIn(Exception):
    """The request has no live session."""


class Refused(Exception):
    """The signed-in user's role or nation may not see this page."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of a request, with the session's CSRF token."""

    user: Principal
    csrf: str

    @property
    def role(self) -> Role:
        return self.user.role


def state(request: Request) -> Any:
    """The web application's state (engine, sessions, jobs, templates)."""
    return request.app.state


def viewer(request: Request) -> Viewer:
    """The signed-in user, looked up again by the token's digest (revocation is immediate)."""
    st = state(request)
    web = st.sessions.get(request.cookies.get(COOKIE))
    if web is None:
        raise NotSignedIn
    with st.read_sessions() as session:
        user = principal_by_digest(session, web.token_digest)
    if user is None:
        st.sessions.close(request.cookies.get(COOKIE))
        raise NotSignedIn
    return Viewer(user, web.csrf)


def allow(*roles: Role) -> Callable[[Viewer], Awaitable[Viewer]]:
    """A dependency: the viewer, when their role is one of ``roles``; a 403 page otherwise."""
    names = ", ".join(r.value for r in roles)

    async def check(v: Annotated[Viewer, Depends(viewer)]) -> Viewer:
        if v.role not in roles:
            raise Refused(f"Your role ({v.role.value}) may not open this page; allowed: {names}.")
        return v

    return check


def check_csrf(v: Viewer, token: str | None) -> None:
    """Refuse a form that does not carry the session's CSRF token."""
    if not same_token(v.csrf, token):
        raise Refused("The form is stale or did not come from this site: reload and resend.", 400)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    v: Viewer | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A page from a template, with the viewer and the navigation."""
    ctx = {"viewer": v, "base": request.scope.get("root_path", ""), **(context or {})}
    response: HTMLResponse = state(request).templates.TemplateResponse(
        request, template, ctx, status_code=status
    )
    return response


def _safe_next(target: str | None, base: str) -> str:
    """Where to go after signing in: a path of this application only (no open redirect)."""
    if not target:
        return f"{base}/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(f"{base}/") or "\\" in target:
        return f"{base}/"
    return target


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = cell
    env.filters["q"] = lambda s: quote(str(s), safe="")
    return env


def web_app(engine: Any, data_dir: Path, workers: int = 2) -> FastAPI:
    """The pages, as an application to mount at :data:`PREFIX`."""
    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    web.state.engine = engine
    web.state.read_sessions = session_factory(engine, read_only=True)
    web.state.write_sessions = session_factory(engine, write=True)
    web.state.sessions = SessionStore()
    web.state.data_dir = data_dir
    web.state.pool = JobPool(data_dir / "jobs", workers=workers)
    web.state.runs = RunCache()
    web.state.templates = Jinja2Templates(env=_environment())
    web.add_middleware(SecurityHeaders)
    web.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @web.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
        base = request.scope.get("root_path", "")
        if request.method == "GET":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{base}/login?next={quote(target, safe='')}", 303)
        return render(request, "error.html", {"title": "Signed out",
                      "message": "Your session has ended: sign in again."}, status=401)

    @web.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        title = "Not allowed" if exc.status == 403 else "Refused"
        return render(request, "error.html", {"title": title, "message": exc.message},
                      status=exc.status)

    @web.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        message = str(exc.detail) if exc.status_code != 404 else "There is no such page."
        return render(request, "error.html", {"title": f"Error {exc.status_code}",
                      "message": message}, status=exc.status_code)

    from fastapi.exceptions import RequestValidationError

    @web.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        where = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}"
            for e in exc.errors()
        )
        return render(request, "error.html", {"title": "Invalid request",
                      "message": f"The address or form is not valid ({where})."}, status=422)

    # --- signing in -----------------------------------------------------------------------

    @web.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None) -> Response:
        import secrets

        token = secrets.token_urlsafe(32)
        response = render(request, "login.html", {"csrf": token, "next": next or "",
                                                  "error": ""})
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https",
                            path=request.scope.get("root_path", "") or "/")
        return response

    @web.post("/login", response_class=HTMLResponse)
    def login(
        request: Request,
        token: Annotated[str, Form(max_length=200)],
        csrf: Annotated[str, Form(max_length=200)] = "",
        next: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        base = request.scope.get("root_path", "")
        if not same_token(request.cookies.get(LOGIN_COOKIE), csrf):
            raise Refused("The sign-in form is stale: reload it and sign in again.", 400)
        digest = hash_token(token.strip())
        with state(request).read_sessions() as session:
            user = principal_by_digest(session, digest)
        if user is None:
            return render(request, "login.html",
                          {"csrf": csrf, "next": next, "error": "That token is not valid."},
                          status=401)
        sid, _web = state(request).sessions.open(digest)
        response = RedirectResponse(_safe_next(next, base), 303)
        response.set_cookie(COOKIE, sid, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path=base or "/")
        response.delete_cookie(LOGIN_COOKIE, path=base or "/")
        return response

    @web.post("/logout")
    def logout(
        request: Request,
        v: Annotated[Viewer, Depends(viewer)],
        csrf: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        check_csrf(v, csrf)
        state(request).sessions.close(request.cookies.get(COOKIE))
        base = request.scope.get("root_path", "")
        response = RedirectResponse(f"{base}/login", 303)
        response.delete_cookie(COOKIE, path=base or "/")
        return response

    @web.get("/", response_class=HTMLResponse)
    def home(request: Request, v: Annotated[Viewer, Depends(viewer)]) -> Response:
        return render(request, "home.html", {"planner": v.role in PLAN_READERS}, v=v)

    from forcemodel.web.board_pages import router as board_router
    from forcemodel.web.plan_pages import router as plan_router

    web.include_router(board_router)
    web.include_router(plan_router)
    return web


def mount(app: FastAPI, data_dir: str | Path | None = None) -> FastAPI:
    """Mount the pages at :data:`PREFIX` on the service's application (its engine and users).

    ``data_dir`` (else ``FORCEMODEL_WEB_DIR``, else ``./forcemodel-web``) keeps the jobs and the
    uploaded scenarios.
    """
    folder = Path(data_dir or os.environ.get(WEB_DIR_ENV) or Path.cwd() / DEFAULT_WEB_DIR)
    web = web_app(app.state.engine, folder)
    app.state.web = web
    app.mount(PREFIX, web)
    return web
