"""The service's layout: one router per resource, one authentication path for every route."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute

import forcemodel.service
from forcemodel.service import deps
from forcemodel.service.api import ROUTERS, create_app

#: Routes anyone may call, without a token.
PUBLIC = {"/health", "/", "/docs"}
SERVICE = Path(forcemodel.service.__file__).parent


def _calls(dependant: Any) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _api_routes(tmp_path: Path) -> list[APIRoute]:
    app = create_app(f"sqlite:///{tmp_path / 'layout.db'}")
    app.state.engine.dispose()
    return [
        route for module in ROUTERS for route in module.router.routes if isinstance(route, APIRoute)
    ]


def test_every_route_but_health_authenticates_through_deps(tmp_path: Path) -> None:
    routes = _api_routes(tmp_path)
    assert len(routes) > 25
    for route in routes:
        calls = set(_calls(route.dependant))
        if route.path in PUBLIC:
            assert deps.current_user not in calls
        else:
            assert deps.current_user in calls, f"{route.path} does not authenticate through deps"


def test_only_deps_looks_tokens_up() -> None:
    """``authenticate`` (a token to its user) is called in one module: deps."""
    callers = []
    for path in SERVICE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "authenticate":
                callers.append(path.relative_to(SERVICE).as_posix())
    assert callers == ["deps.py"]


def test_each_router_holds_one_resource(tmp_path: Path) -> None:
    for module in ROUTERS:
        tags = {tag for route in module.router.routes for tag in getattr(route, "tags", [])}
        assert len(tags) == 1, (module.__name__, tags)
