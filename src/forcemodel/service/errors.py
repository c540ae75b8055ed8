"""How the service answers a refusal: every error a JSON body, every 422 located.

401 no or invalid token (with ``WWW-Authenticate: Bearer``), 403 a role or nation that may not,
404 no such record, 405 a method the path does not have (``Allow`` names those it has), 409 a
stale version or a conflict, 422 invalid input (each problem located: ``loc`` and ``msg``, and
one line summing them up in ``message``), 428 a change that names no version.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match

from forcemodel.service.csvio import CSVImportError
from forcemodel.service.records import RecordError


def problem(loc: tuple[Any, ...], msg: str, type_: str = "value_error") -> dict[str, Any]:
    """One located problem of a 422 answer."""
    return {"loc": list(loc), "msg": msg, "type": type_}


def unprocessable(problems: list[dict[str, Any]], message: str | None = None) -> JSONResponse:
    """422 with each problem located (``loc``, ``msg``, ``type``) and a one-line summary."""
    if message is None:
        message = "; ".join(
            f"{'.'.join(str(part) for part in p['loc'])}: {p['msg']}" for p in problems
        )
    return JSONResponse(status_code=422, content={"detail": problems, "message": message})


async def _record_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RecordError)
    if exc.status == 422:
        kind = f"lifecycle.{exc.rule}" if exc.rule else "value_error"
        return unprocessable([problem(exc.loc or ("body",), exc.message, kind)])
    headers = {
        **(exc.headers or {}),
        **({"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}),
    }
    content = {"detail": exc.message, **({"rule": exc.rule} if exc.rule else {})}
    return JSONResponse(status_code=exc.status, content=content, headers=headers or None)


async def _csv_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CSVImportError)
    if exc.status == 422:
        return unprocessable([problem(p.loc, p.message) for p in exc.problems], str(exc))
    return JSONResponse(status_code=exc.status, content={"detail": str(exc)})


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return unprocessable(
        [
            problem(tuple(e["loc"]), str(e["msg"]).removeprefix("Value error, "), e["type"])
            for e in exc.errors()
        ]
    )


def _leaves(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """The routes, with those of each included router in its place (none has a prefix)."""
    for route in routes:
        inner = getattr(getattr(route, "original_router", None), "routes", None)
        if inner is None:
            yield route
        else:
            yield from _leaves(inner)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette's Allow names the methods of the first route on the path only; name
        # those of every route on it (GET and POST /pledges are two routes).
        methods = {
            method
            for route in _leaves(request.app.router.routes)
            if route.matches(request.scope)[0] is Match.PARTIAL
            for method in getattr(route, "methods", None) or ()
        }
        headers["Allow"] = ", ".join(sorted(methods))
    detail = exc.detail
    if exc.status_code == 413:
        limit = request.app.state.settings.max_body_bytes
        detail = (
            f"the request body is larger than the service takes ({limit} bytes); refused unread"
        )
    return JSONResponse(
        status_code=exc.status_code, content={"detail": detail}, headers=headers or None
    )


async def _stale(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=409,
        content={"detail": "the record changed while your change was made; read it again"},
    )


async def _integrity(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=409,
        content={"detail": "the change conflicts with the stored records; read them again"},
    )


async def _busy(_request: Request, exc: Exception) -> JSONResponse:
    # SQLite: another transaction held the write lock for the whole busy timeout (a large
    # import). The request changed nothing; it may be sent again.
    if "database is locked" not in str(exc):
        raise exc
    return JSONResponse(
        status_code=503,
        content={"detail": "the database is busy with another change; try again"},
        headers={"Retry-After": "1"},
    )


def install(app: FastAPI) -> None:
    """Answer the service's errors as described in the module docstring."""
    app.add_exception_handler(RecordError, _record_error)
    app.add_exception_handler(CSVImportError, _csv_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(StaleDataError, _stale)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(OperationalError, _busy)
