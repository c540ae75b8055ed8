"""What every page shares: security headers, the signed-in viewer, roles, rendering.

No ``from __future__ import annotations``: FastAPI reads the annotations of the dependencies.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forcemodel.service.auth import Principal
from forcemodel.service.deps import PLANNERS as PLANNERS
from forcemodel.service.tables import Role
from forcemodel.web.session import (
    COOKIE,
    principal_by_digest,
    same_token,
)
from forcemodel.web.tables import cell

#: Where the pages are mounted in the service's application.
PREFIX = "/ui"
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
# Planners (analysts and coordinators: the service's rule, forcemodel.service.deps) upload
# scenarios and run them; observers read finished runs.
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


def environment() -> jinja2.Environment:
    """The templates' environment: autoescaped, strict about undefined names."""
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
