"""Signing in and out with the service's token; the start page.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from forcemodel.service.auth import hash_token
from forcemodel.service.records import RecordError
from forcemodel.web.frame import PLAN_READERS, Refused, Viewer, check_csrf, render, state, viewer
from forcemodel.web.session import COOKIE, LOGIN_COOKIE, principal_by_digest, same_token

router = APIRouter()


def _safe_next(target: str | None, base: str) -> str:
    """Where to go after signing in: a path of this application only (no open redirect)."""
    if not target:
        return f"{base}/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(f"{base}/") or "\\" in target:
        return f"{base}/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", {"csrf": token, "next": next or "", "error": ""})
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=request.scope.get("root_path", "") or "/",
    )
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    token: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    base = request.scope.get("root_path", "")
    if not same_token(request.cookies.get(LOGIN_COOKIE), csrf):
        raise Refused("The sign-in form is stale: reload it and sign in again.", 400)
    # The service's limit on unknown tokens per client address applies here too.
    limits = state(request).limits
    client = request.client.host if request.client else "unknown"
    try:
        limits.check_client(client)
    except RecordError as exc:
        raise Refused(exc.message, exc.status) from None
    digest = hash_token(token.strip())
    with state(request).read_sessions() as session:
        user = principal_by_digest(session, digest)
    if user is None:
        limits.failed(client)
        return render(
            request,
            "login.html",
            {"csrf": csrf, "next": next, "error": "That token is not valid."},
            status=401,
        )
    sid, _web = state(request).sessions.open(digest)
    response = RedirectResponse(_safe_next(next, base), 303)
    response.set_cookie(
        COOKIE,
        sid,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=base or "/",
    )
    response.delete_cookie(LOGIN_COOKIE, path=base or "/")
    return response


@router.post("/logout")
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


@router.get("/", response_class=HTMLResponse)
def home(request: Request, v: Annotated[Viewer, Depends(viewer)]) -> Response:
    return render(request, "home.html", {"planner": v.role in PLAN_READERS}, v=v)
