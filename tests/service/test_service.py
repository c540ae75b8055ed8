"""The assistance service: who may do what, stale edits refused, every change audited.

Every test runs twice: on SQLite in a temporary folder and on a PostgreSQL database of its own
(``support.postgres``: the test setup installs and starts the server). The authorisation matrix runs
every role against every endpoint on one shared database per backend: each case makes the fresh
records it needs, so cases do not interfere. Load, SIGKILL and fuzzing: test_service_http.py.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import StarletteDeprecationWarning
from typer.testing import CliRunner

from forcemodel.cli import app as cli_app
from forcemodel.service.api import create_app
from forcemodel.service.auth import add_user, hash_token
from forcemodel.service.db import make_engine, session_factory
from forcemodel.service.migrate import alembic_config
from forcemodel.service.settings import Settings
from forcemodel.service.tables import (
    Allocation,
    AuditEntry,
    Base,
    Donor,
    Item,
    Pledge,
    Requirement,
    Role,
    User,
    utcnow,
)
from support.postgres import BACKENDS, database_kind, new_database

with warnings.catch_warnings():
    # Starlette asks for the httpx2 package for its test client; httpx still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

#: name -> (role, nation) of the users every test database has.
USERS: dict[str, tuple[Role, str | None]] = {
    "donor": (Role.donor, "DE"),  # owns the pledges made for the tests
    "other_donor": (Role.donor, "FR"),
    "partner": (Role.partner, "UA"),  # owns the requirements made for the tests
    "other_partner": (Role.partner, "MD"),
    "coordinator": (Role.coordinator, None),
    "observer": (Role.observer, None),
    "analyst": (Role.analyst, None),  # reads the board like an observer (plans on the web)
}
ROLES = tuple(USERS)
_fresh = itertools.count(1)


@dataclass
class Service:
    """A service on a database, with a token for each user of USERS."""

    client: TestClient
    tokens: dict[str, str]
    url: str

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def call(self, user: str | None, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**(self.auth(user) if user else {}), **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def ok(self, user: str, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        response = self.call(user, method, url, **kwargs)
        assert response.status_code in (200, 201, 202), response.text
        data: dict[str, Any] = response.json()
        return data

    # Fresh records, made by their owners.
    def item(self, standard: str = "nato-155", category: str = "ammunition") -> dict[str, Any]:
        body = {"id": f"item-{next(_fresh)}", "name": "shell", "category": category}
        return self.ok("coordinator", "POST", "/items", json={**body, "standard": standard})

    def pledge(self, item: str = "155-he", quantity: int = 100) -> dict[str, Any]:
        body = {"item_id": item, "quantity": quantity, "available_from": "2026-03-01"}
        return self.ok("donor", "POST", "/pledges", json={**body, "location": "Rzeszow"})

    def requirement(self, item: str = "155-he", quantity: int = 100) -> dict[str, Any]:
        body = {"item_id": item, "quantity": quantity, "priority": 1, "needed_by": "2026-04-01"}
        return self.ok("partner", "POST", "/requirements", json={**body, "location": "Kyiv"})

    def allocation(self, quantity: int = 10) -> dict[str, Any]:
        body = {
            "pledge_id": self.pledge()["id"],
            "requirement_id": self.requirement()["id"],
            "quantity": quantity,
        }
        return self.ok("coordinator", "POST", "/allocations", json=body)

    def audit(self, entity: str, entity_id: object) -> list[dict[str, Any]]:
        params = {"entity": entity, "entity_id": str(entity_id)}
        response = self.call("coordinator", "GET", "/audit", params=params)
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()
        return entries


#: Limits far above what a test sends: the tests of the limits set their own.
UNLIMITED = {"auth_failure_limit": "1000000/minute", "expensive_limit": "1000000/minute"}


def start_service(url: str, **settings: Any) -> Iterator[Service]:
    app = create_app(url, Settings.load(url, **{**UNLIMITED, **settings}))
    sessions = session_factory(app.state.engine)
    tokens = {}
    with sessions() as session:
        for name, (role, nation) in USERS.items():
            tokens[name] = add_user(session, name, role, nation)[1]
    with TestClient(app) as client:
        service = Service(client, tokens, url)
        for item, standard in (("155-he", "nato-155"), ("152-he", "soviet-152")):
            body = {"id": item, "name": item, "category": "ammunition", "standard": standard}
            service.ok("coordinator", "POST", "/items", json=body)
        yield service


@pytest.fixture(scope="module", params=BACKENDS)
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """One service for the whole matrix, on each backend."""
    for url in new_database(request.param, request, tmp_path_factory.mktemp("service")):
        yield from start_service(url)


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    """A service of one's own, on a database of its own."""
    yield from start_service(database_url)


# --- the authorisation matrix ------------------------------------------------------------------

Request = tuple[str, str, dict[str, Any]]


@dataclass(frozen=True)
class Endpoint:
    """A request to make with each role, and the roles allowed to make it."""

    name: str
    make: Callable[[Service], Request]
    allowed: frozenset[str] = field(default_factory=lambda: frozenset(ROLES))


def _v(row: dict[str, Any]) -> dict[str, str]:
    return {"If-Match": f'"{row["version"]}"'}


def _pledge_csv() -> str:
    return "donor,item_id,quantity,available_from,location\nDE,155-he,5,2026-05-01,Gdansk\n"


def _requirement_csv() -> str:
    return "partner,item_id,quantity,priority,needed_by,location\nUA,155-he,5,2,2026-06-01,Lviv\n"


def _patch(path: str, row: dict[str, Any], body: dict[str, Any]) -> Request:
    return ("PATCH", path, {"json": body, "headers": _v(row)})


def _delete(path: str, row: dict[str, Any]) -> Request:
    return ("DELETE", path, {"headers": _v(row)})


def _csv(path: str, text: str) -> Request:
    return ("POST", path, {"content": text, "headers": {"Content-Type": "text/csv"}})


def _new_item(s: Service) -> Request:
    body = {"id": f"item-{next(_fresh)}", "name": "x", "category": "spares", "standard": "nato"}
    return ("POST", "/items", {"json": body})


def _new_donor(s: Service) -> Request:
    code = "".join(chr(ord("A") + int(d)) for d in f"{next(_fresh):03d}")
    return ("POST", "/donors", {"json": {"code": code, "name": "Somewhere"}})


def _rename_donor(s: Service) -> Request:
    donor = s.ok("observer", "GET", "/donors/FR")
    return _patch("/donors/FR", donor, {"name": f"France {next(_fresh)}"})


def _edit_item(s: Service) -> Request:
    item = s.item()
    return _patch(f"/items/{item['id']}", item, {"name": "renamed"})


def _new_pledge(s: Service) -> Request:
    body = {"donor": "DE", "item_id": "155-he", "quantity": 3, "available_from": "2026-03-01"}
    return ("POST", "/pledges", {"json": {**body, "location": "Rzeszow"}})


def _new_requirement(s: Service) -> Request:
    body = {"partner": "UA", "item_id": "155-he", "quantity": 3, "priority": 2}
    return ("POST", "/requirements", {"json": {**body, "needed_by": "2026-04-01", "location": "X"}})


def _edit_pledge(s: Service) -> Request:
    p = s.pledge()
    return _patch(f"/pledges/{p['id']}", p, {"quantity": 7})


def _ship_pledge(s: Service) -> Request:
    p = s.ok("observer", "GET", f"/pledges/{s.allocation()['pledge_id']}")
    return _patch(f"/pledges/{p['id']}", p, {"status": "shipped"})


def _delete_pledge(s: Service) -> Request:
    p = s.pledge()
    return _delete(f"/pledges/{p['id']}", p)


def _edit_requirement(s: Service) -> Request:
    r = s.requirement()
    return _patch(f"/requirements/{r['id']}", r, {"priority": 3})


def _delete_requirement(s: Service) -> Request:
    r = s.requirement()
    return _delete(f"/requirements/{r['id']}", r)


def _new_allocation(s: Service) -> Request:
    body = {"pledge_id": s.pledge()["id"], "requirement_id": s.requirement()["id"], "quantity": 5}
    return ("POST", "/allocations", {"json": body})


def _edit_allocation(s: Service) -> Request:
    a = s.allocation()
    return _patch(f"/allocations/{a['id']}", a, {"quantity": 6})


def _delete_allocation(s: Service) -> Request:
    a = s.allocation()
    return _delete(f"/allocations/{a['id']}", a)


COORDINATOR = frozenset({"coordinator"})


# Logistics and training: coordinators keep them, everyone reads them (as the catalogue).


def _fresh_code(prefix: str) -> str:
    return f"{prefix}-{next(_fresh)}"


def _hub(s: Service) -> dict[str, Any]:
    body = {"id": _fresh_code("hub"), "name": "Hub", "location": "Rzeszow, PL", "t_per_day": 500.0}
    return s.ok("coordinator", "POST", "/hubs", json=body)


def _route(s: Service) -> dict[str, Any]:
    body = {"id": _fresh_code("route"), "origin": "Gdansk", "hub_id": _hub(s)["id"]}
    return s.ok("coordinator", "POST", "/routes", json={**body, "to_hub_days": 2, "onward_days": 1})


def _course(s: Service) -> dict[str, Any]:
    body = {"id": _fresh_code("course"), "cohort_size": 20, "duration_days": 30}
    return s.ok("coordinator", "POST", "/courses", json=body)


def _needs(s: Service) -> dict[str, Any]:
    body = {"item_id": s.item()["id"], "tons": 0.05, "crew": 0}
    return s.ok("coordinator", "POST", "/item-needs", json=body)


def _new_hub(s: Service) -> Request:
    body = {"id": _fresh_code("hub"), "name": "H", "location": "Here", "t_per_day": 10}
    return ("POST", "/hubs", {"json": body})


def _new_route(s: Service) -> Request:
    body = {"id": _fresh_code("route"), "origin": "Gdansk", "hub_id": _hub(s)["id"]}
    return ("POST", "/routes", {"json": {**body, "to_hub_days": 0, "onward_days": 3}})


def _new_course(s: Service) -> Request:
    body = {"id": _fresh_code("course"), "cohort_size": 5, "duration_days": 10}
    return ("POST", "/courses", {"json": {**body, "prerequisites": ["basic"]}})


def _new_needs(s: Service) -> Request:
    return ("POST", "/item-needs", {"json": {"item_id": s.item()["id"], "tons": 1.5}})


def _logistics_endpoints(
    path: str, make: Callable[[Service], dict[str, Any]], key: str, new: Callable[..., Request]
) -> list[Endpoint]:
    def one(s: Service) -> Request:
        return ("GET", f"/{path}/{make(s)[key]}", {})

    def edit(s: Service) -> Request:
        row = make(s)
        field = "crew" if path == "item-needs" else "t_per_day" if path == "hubs" else None
        body = (
            {field: 2} if field else {"onward_days": 4} if path == "routes" else {"every_days": 9}
        )
        return _patch(f"/{path}/{row[key]}", row, body)

    def remove(s: Service) -> Request:
        row = make(s)
        return _delete(f"/{path}/{row[key]}", row)

    return [
        Endpoint(f"GET /{path}", lambda s: ("GET", f"/{path}", {})),
        Endpoint(f"GET /{path}/{{id}}", one),
        Endpoint(f"POST /{path}", new, COORDINATOR),
        Endpoint(f"PATCH /{path}/{{id}}", edit, COORDINATOR),
        Endpoint(f"DELETE /{path}/{{id}}", remove, COORDINATOR),
    ]


ENDPOINTS = [
    Endpoint("GET /me", lambda s: ("GET", "/me", {})),
    Endpoint("GET /items", lambda s: ("GET", "/items", {})),
    Endpoint("GET /items/{id}", lambda s: ("GET", "/items/155-he", {})),
    Endpoint("POST /items", _new_item, COORDINATOR),
    Endpoint("PATCH /items/{id}", _edit_item, COORDINATOR),
    Endpoint("GET /donors", lambda s: ("GET", "/donors", {})),
    Endpoint("GET /donors/{code}", lambda s: ("GET", "/donors/DE", {})),
    Endpoint("POST /donors", _new_donor, COORDINATOR),
    Endpoint("PATCH /donors/{code}", _rename_donor, COORDINATOR),
    Endpoint("GET /pledges", lambda s: ("GET", "/pledges", {})),
    Endpoint("GET /pledges/{id}", lambda s: ("GET", f"/pledges/{s.pledge()['id']}", {})),
    Endpoint("GET /pledges.csv", lambda s: ("GET", "/pledges.csv", {})),
    Endpoint("POST /pledges (for DE)", _new_pledge, frozenset({"donor"})),
    Endpoint("PATCH /pledges/{id} quantity", _edit_pledge, frozenset({"donor"})),
    Endpoint("PATCH /pledges/{id} status", _ship_pledge, frozenset({"donor", "coordinator"})),
    Endpoint("DELETE /pledges/{id}", _delete_pledge, frozenset({"donor"})),
    Endpoint(
        "POST /pledges.csv (for DE)",
        lambda s: _csv("/pledges.csv", _pledge_csv()),
        frozenset({"donor"}),
    ),
    Endpoint("GET /requirements", lambda s: ("GET", "/requirements", {})),
    Endpoint(
        "GET /requirements/{id}", lambda s: ("GET", f"/requirements/{s.requirement()['id']}", {})
    ),
    Endpoint("GET /requirements.csv", lambda s: ("GET", "/requirements.csv", {})),
    Endpoint("POST /requirements (for UA)", _new_requirement, frozenset({"partner"})),
    Endpoint("PATCH /requirements/{id}", _edit_requirement, frozenset({"partner"})),
    Endpoint("DELETE /requirements/{id}", _delete_requirement, frozenset({"partner"})),
    Endpoint(
        "POST /requirements.csv (for UA)",
        lambda s: _csv("/requirements.csv", _requirement_csv()),
        frozenset({"partner"}),
    ),
    Endpoint("GET /allocations", lambda s: ("GET", "/allocations", {})),
    Endpoint(
        "GET /allocations/{id}", lambda s: ("GET", f"/allocations/{s.allocation()['id']}", {})
    ),
    Endpoint("POST /allocations", _new_allocation, COORDINATOR),
    Endpoint("PATCH /allocations/{id}", _edit_allocation, COORDINATOR),
    Endpoint("DELETE /allocations/{id}", _delete_allocation, COORDINATOR),
    Endpoint("GET /audit", lambda s: ("GET", "/audit", {}), COORDINATOR),
    Endpoint("POST /match", lambda s: ("POST", "/match", {}), COORDINATOR),
    Endpoint("POST /match/jobs", lambda s: ("POST", "/match/jobs", {}), COORDINATOR),
    Endpoint(
        "GET /match/jobs/{job_id}",
        lambda s: ("GET", f"/match/jobs/{s.ok('coordinator', 'POST', '/match/jobs')['id']}", {}),
        COORDINATOR,
    ),
    *_logistics_endpoints("hubs", _hub, "id", _new_hub),
    *_logistics_endpoints("routes", _route, "id", _new_route),
    *_logistics_endpoints("courses", _course, "id", _new_course),
    *_logistics_endpoints("item-needs", _needs, "item_id", _new_needs),
]


def test_the_matrix_covers_every_route(shared: Service) -> None:
    spec = shared.client.get("/openapi.json").json()
    routes = {f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops}
    covered = {" ".join(e.name.split()[:2]) for e in ENDPOINTS}
    documented = {
        r.replace("{item_id}", "{id}")
        .replace("{pledge_id}", "{id}")
        .replace("{req_id}", "{id}")
        .replace("{alloc_id}", "{id}")
        .replace("{hub_id}", "{id}")
        .replace("{route_id}", "{id}")
        .replace("{course_id}", "{id}")
        for r in routes
    }
    assert documented - covered == {"GET /health"}


# A match over the matrix's whole database takes seconds: that row runs in the slow tier.
MATRIX = [
    pytest.param(e, marks=pytest.mark.slow) if e.name == "POST /match" else e for e in ENDPOINTS
]


@pytest.mark.parametrize("endpoint", MATRIX, ids=lambda e: e.name)
@pytest.mark.parametrize("user", ROLES)
def test_authorisation(shared: Service, endpoint: Endpoint, user: str) -> None:
    method, url, kwargs = endpoint.make(shared)
    response = shared.call(user, method, url, **kwargs)
    if user in endpoint.allowed:
        assert response.status_code in (200, 201, 202, 204), response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["detail"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
@pytest.mark.parametrize("token", [None, "fm_not-a-token"], ids=["no token", "invalid token"])
def test_authentication_is_required(shared: Service, endpoint: Endpoint, token: str | None) -> None:
    method, url, kwargs = endpoint.make(shared)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = shared.client.request(
        method, url, headers={**kwargs.pop("headers", {}), **headers}, **kwargs
    )
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_health_and_openapi_need_no_token(shared: Service) -> None:
    assert shared.client.get("/health").json() == {"status": "ok"}
    assert shared.client.get("/openapi.json").json()["info"]["title"]


def test_a_donor_edits_only_its_own_pledges(shared: Service) -> None:
    pledge = shared.pledge()
    response = shared.call(
        "other_donor",
        "PATCH",
        f"/pledges/{pledge['id']}",
        json={"quantity": 1, "version": pledge["version"]},
    )
    assert response.status_code == 403
    assert "FR" in response.json()["detail"] and "DE" in response.json()["detail"]
    # A donor's pledge defaults to its own nation.
    body = {"item_id": "155-he", "quantity": 1, "available_from": "2026-03-01", "location": "x"}
    assert shared.ok("other_donor", "POST", "/pledges", json=body)["donor"] == "FR"


# --- optimistic concurrency --------------------------------------------------------------------


def test_a_stale_edit_is_refused_and_the_newer_value_kept(service: Service) -> None:
    pledge = service.pledge(quantity=100)
    url = f"/pledges/{pledge['id']}"
    first = service.call("donor", "PATCH", url, json={"quantity": 120}, headers=_v(pledge))
    assert first.status_code == 200
    assert first.json()["version"] == pledge["version"] + 1
    assert first.headers["ETag"] == f'"{pledge["version"] + 1}"'
    # A second client still holds the old version.
    stale = service.call("donor", "PATCH", url, json={"quantity": 80, "version": pledge["version"]})
    assert stale.status_code == 409
    assert "changed since you read it" in stale.json()["detail"]
    assert service.ok("observer", "GET", url)["quantity"] == 120
    stale_delete = service.call("donor", "DELETE", url, headers=_v(pledge))
    assert stale_delete.status_code == 409
    assert service.call("observer", "GET", url).status_code == 200


def test_a_change_must_name_its_version(service: Service) -> None:
    pledge = service.pledge()
    url = f"/pledges/{pledge['id']}"
    response = service.call("donor", "PATCH", url, json={"quantity": 5})
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    assert service.call("donor", "DELETE", url).status_code == 428
    # The version may travel in the query of a DELETE.
    deleted = service.call("donor", "DELETE", url, params={"version": pledge["version"]})
    assert deleted.status_code == 204
    assert service.call("observer", "GET", url).status_code == 404


def test_allocating_moves_the_pledge_and_bumps_its_version(service: Service) -> None:
    pledge, req = service.pledge(quantity=50), service.requirement(quantity=30)
    body = {"pledge_id": pledge["id"], "requirement_id": req["id"], "quantity": 30}
    allocation = service.ok("coordinator", "POST", "/allocations", json=body)
    after = service.ok("observer", "GET", f"/pledges/{pledge['id']}")
    assert after["status"] == "allocated" and after["version"] == pledge["version"] + 1
    # The donor's edit based on the version before the allocation is stale.
    stale = service.call(
        "donor",
        "PATCH",
        f"/pledges/{pledge['id']}",
        json={"location": "elsewhere"},
        headers=_v(pledge),
    )
    assert stale.status_code == 409
    # Removing the last allocation makes it pledged again.
    url = f"/allocations/{allocation['id']}"
    assert service.call("coordinator", "DELETE", url, headers=_v(allocation)).status_code == 204
    assert service.ok("observer", "GET", f"/pledges/{pledge['id']}")["status"] == "pledged"


# --- audit -------------------------------------------------------------------------------------


def test_every_change_is_audited_with_before_and_after(service: Service) -> None:
    pledge = service.pledge(quantity=100)
    url = f"/pledges/{pledge['id']}"
    edited = service.ok("donor", "PATCH", url, json={"quantity": 90}, headers=_v(pledge))
    assert service.call("donor", "DELETE", url, headers=_v(edited)).status_code == 204
    created, updated, deleted = service.audit("pledge", pledge["id"])
    assert [e["action"] for e in (created, updated, deleted)] == ["create", "update", "delete"]
    assert all(e["actor"] == "donor" and e["actor_role"] == "donor" for e in (created, updated))
    assert created["before"] is None and created["after"]["quantity"] == 100
    assert updated["before"]["quantity"] == 100 and updated["after"]["quantity"] == 90
    assert updated["before"]["version"] == 1 and updated["after"]["version"] == 2
    assert deleted["before"]["quantity"] == 90 and deleted["after"] is None
    assert created["at"] <= updated["at"] <= deleted["at"]


def test_refused_changes_leave_no_audit_entry(service: Service) -> None:
    pledge = service.pledge()
    url = f"/pledges/{pledge['id']}"
    service.call("donor", "PATCH", url, json={"quantity": 5, "version": 99})
    service.call("other_donor", "PATCH", url, json={"quantity": 5, "version": 1})
    service.call("donor", "PATCH", url, json={"quantity": -5, "version": 1})
    assert [e["action"] for e in service.audit("pledge", pledge["id"])] == ["create"]


def test_audited_rows_of_each_kind(service: Service) -> None:
    allocation = service.allocation(quantity=4)
    req = service.ok("observer", "GET", f"/requirements/{allocation['requirement_id']}")
    service.ok(
        "partner", "PATCH", f"/requirements/{req['id']}", json={"priority": 2}, headers=_v(req)
    )
    entries = service.call("coordinator", "GET", "/audit", params={"limit": 1000}).json()
    kinds = {(e["entity"], e["action"]) for e in entries}
    assert {
        ("user", "create"),
        ("donor", "create"),
        ("item", "create"),
        ("pledge", "create"),
        ("requirement", "create"),
        ("allocation", "create"),
        ("pledge", "update"),
        ("requirement", "update"),
    } <= kinds
    users = [e for e in entries if e["entity"] == "user"]
    assert all("token_hash" not in e["after"] for e in users)


# --- 422: clear messages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "where", "words"),
    [
        ({"quantity": 0}, ["body", "quantity"], "greater than 0"),
        ({"quantity": "many"}, ["body", "quantity"], "valid integer"),
        ({"available_from": "31/12/2026"}, ["body", "available_from"], "date"),
        ({"item_id": "no-such-item"}, ["body", "item_id"], "no item 'no-such-item'"),
        ({"item_id": "Bad Id"}, ["body", "item_id"], "pattern"),
        ({"colour": "red"}, ["body", "colour"], "Extra inputs are not permitted"),
        ({"location": ""}, ["body", "location"], "at least 1 character"),
        ({"donor": "germany"}, ["body", "donor"], "pattern"),
    ],
)
def test_invalid_pledges_get_located_messages(
    shared: Service, body: dict[str, Any], where: list[str], words: str
) -> None:
    good = {"item_id": "155-he", "quantity": 1, "available_from": "2026-03-01", "location": "x"}
    response = shared.call("donor", "POST", "/pledges", json={**good, **body})
    assert response.status_code == 422, response.text
    problems = response.json()["detail"]
    assert any(p["loc"] == where and words in p["msg"] for p in problems), problems
    assert words in response.json()["message"]


def test_more_422_messages(shared: Service) -> None:
    pledge = shared.pledge(quantity=10)
    url = f"/pledges/{pledge['id']}"
    null = shared.call("donor", "PATCH", url, json={"quantity": None, "version": 1})
    assert null.status_code == 422 and "may not be null: quantity" in null.json()["message"]
    header = shared.call("donor", "PATCH", url, json={}, headers={"If-Match": "latest"})
    assert header.status_code == 422 and "If-Match" in header.json()["message"]
    soviet = shared.requirement(item="152-he")
    body = {"pledge_id": pledge["id"], "requirement_id": soviet["id"], "quantity": 1}
    mismatch = shared.call("coordinator", "POST", "/allocations", json=body)
    assert mismatch.status_code == 422
    assert "nato-155" in mismatch.json()["message"] and "soviet-152" in mismatch.json()["message"]
    req = shared.requirement(quantity=100)
    body = {"pledge_id": pledge["id"], "requirement_id": req["id"], "quantity": 11}
    too_many = shared.call("coordinator", "POST", "/allocations", json=body)
    assert too_many.status_code == 422 and "exceeds the 10 left" in too_many.json()["message"]
    assert shared.call("observer", "GET", "/pledges/999999").status_code == 404
    assert shared.call("observer", "GET", "/pledges/abc").status_code == 422


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_round_trip(service: Service) -> None:
    for quantity in (10, 20):
        service.pledge(quantity=quantity)
    service.requirement(quantity=5)
    for kind, user in (("pledges", "donor"), ("requirements", "partner")):
        exported = service.call("observer", "GET", f"/{kind}.csv")
        assert exported.headers["content-type"].startswith("text/csv")
        headers = {"Content-Type": "text/csv"}
        again = service.ok(user, "POST", f"/{kind}.csv", content=exported.text, headers=headers)
        assert again == {
            "created": 0,
            "updated": 0,
            "unchanged": len(exported.text.splitlines()) - 1,
        }
        # Edit one cell, add a row without id: one update, one creation.
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        rows[0]["quantity"] = "33"
        rows.append({**rows[0], "id": "", "version": "", "quantity": "4"})
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        result = service.ok(user, "POST", f"/{kind}.csv", content=buf.getvalue(), headers=headers)
        assert result == {"created": 1, "updated": 1, "unchanged": len(rows) - 2}
        changed = service.ok("observer", "GET", f"/{kind}/{rows[0]['id']}")
        assert changed["quantity"] == 33 and changed["version"] == int(rows[0]["version"]) + 1
        # The same file again: its edited row is now stale, and nothing is written.
        before = service.call("observer", "GET", f"/{kind}.csv").text
        stale = service.call(user, "POST", f"/{kind}.csv", content=buf.getvalue(), headers=headers)
        assert stale.status_code == 409 and "line 2" in stale.json()["detail"]
        assert service.call("observer", "GET", f"/{kind}.csv").text == before


def test_csv_import_is_all_or_nothing_with_located_errors(service: Service) -> None:
    text = (
        "item_id,quantity,available_from,location\n"
        "155-he,5,2026-05-01,Gdansk\n"
        "155-he,lots,2026-05-01,Gdansk\n"
        "155-he,5,2026-05-01,\n"
        "nato-shell,5,2026-05-01,Gdansk\n"
    )
    response = service.call(
        "donor", "POST", "/pledges.csv", content=text, headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 422
    message = response.json()["message"]
    assert "line 3: quantity" in message and "line 4: location" in message
    assert "line 5" in message and "nato-shell" in message and "line 2" not in message
    assert service.call("observer", "GET", "/pledges").json() == []
    wrong = "colour\nred\n"
    bad_header = service.call(
        "donor", "POST", "/pledges.csv", content=wrong, headers={"Content-Type": "text/csv"}
    )
    assert bad_header.status_code == 422 and "unknown column(s) 'colour'" in bad_header.text
    other = "donor,item_id,quantity,available_from,location\nFR,155-he,5,2026-05-01,Gdansk\n"
    refused = service.call(
        "donor", "POST", "/pledges.csv", content=other, headers={"Content-Type": "text/csv"}
    )
    assert refused.status_code == 403 and "line 2" in refused.json()["detail"]


# --- migrations --------------------------------------------------------------------------------


def _schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        assert set(inspect(connection).get_table_names()) >= set(Base.metadata.tables)


def test_migrations_upgrade_an_empty_database_to_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "head")
    _schema_matches_the_models(engine)
    if database_kind(database_url) == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    command.downgrade(alembic_config(engine), "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == {"alembic_version"}
    engine.dispose()


def _fill_at_0001(engine: Engine) -> int:
    """Rows in every table, written as a database at revision 0001 holds them; the id of the
    shipped pledge. Ids are left to the database (PostgreSQL's sequences must count them)."""
    now = utcnow()
    stamp = {"version": 1, "created_at": now, "updated_at": now}

    def add(connection: Any, model: type[Base], **row: Any) -> Any:
        return connection.execute(insert(model.__table__).values(**row)).inserted_primary_key[0]

    with engine.begin() as connection:
        add(connection, User, name="kyiv", role="partner", nation="UA", token_hash="ab" * 32)
        add(connection, Donor, code="DE", name="Germany", **stamp)
        item = {"name": "shell", "category": "ammunition", "standard": "nato-155"}
        add(connection, Item, id="155-he", **item, **stamp)
        pledges = {
            status: add(
                connection,
                Pledge,
                donor="DE",
                item_id="155-he",
                quantity=10 * n,
                available_from=dt.date(2026, 3, n),
                location="Rzeszow",
                status=status,
                note="",
                **stamp,
            )
            for n, status in enumerate(("pledged", "allocated", "shipped"), 1)
        }
        req = add(
            connection,
            Requirement,
            partner="UA",
            item_id="155-he",
            quantity=100,
            priority=1,
            needed_by=dt.date(2026, 4, 1),
            location="Kyiv",
            note="",
            **stamp,
        )
        add(
            connection,
            Allocation,
            pledge_id=pledges["allocated"],
            requirement_id=req,
            quantity=5,
            note="",
            **stamp,
        )
        add(
            connection,
            AuditEntry,
            at=now,
            actor="x",
            actor_role="coordinator",
            entity="pledge",
            entity_id=str(pledges["allocated"]),
            action="update",
            before={"status": "pledged"},
            after={"status": "allocated"},
        )
    return int(pledges["shipped"])


def _read_back(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    models = (User, Donor, Item, Pledge, Requirement, Allocation, AuditEntry)
    with engine.connect() as connection:
        return {
            m.__tablename__: [
                dict(row._mapping)
                for row in connection.execute(
                    select(m.__table__).order_by(*m.__table__.primary_key.columns)
                )
            ]
            for m in models
        }


def test_migrations_upgrade_a_database_at_0001_with_its_data(database_url: str) -> None:
    engine = make_engine(database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0001")
    shipped_id = _fill_at_0001(engine)
    before = _read_back(engine)
    assert all(before.values())
    command.upgrade(config, "head")
    _schema_matches_the_models(engine)
    assert _read_back(engine) == before
    with engine.connect() as connection:
        indexes = {i["name"]: i["column_names"] for i in inspect(connection).get_indexes("pledges")}
        assert indexes["ix_pledges_status"] == ["status"]
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        assert revision == "0004"
    engine.dispose()
    # The service starts on it and uses the new index's query.
    app = create_app(database_url)
    with session_factory(app.state.engine)() as session:
        token = add_user(session, "coordinator", Role.coordinator, None)[1]
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}"}
        shipped = client.get("/pledges", params={"status": "shipped"}, headers=headers)
        assert [p["id"] for p in shipped.json()] == [shipped_id]
        assert client.get("/pledges", params={"status": "lost"}, headers=headers).status_code == 422
    # And back down: the index goes, the data stays.
    engine = make_engine(database_url)
    command.downgrade(alembic_config(engine), "0001")
    with engine.connect() as connection:
        names = {i["name"] for i in inspect(connection).get_indexes("pledges")}
        assert "ix_pledges_status" not in names and "ix_pledges_donor" in names
    after = _read_back(engine)
    # The service added a user (and its audit entry) after the rows written at 0001.
    assert {k: v[: len(before[k])] for k, v in after.items()} == before
    engine.dispose()


def test_migration_0003_admits_analysts_and_refuses_to_drop_them(database_url: str) -> None:
    engine = make_engine(database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0002")
    row = {"nation": None, "created_at": utcnow()}

    def add(name: str, role: str) -> None:
        with engine.begin() as connection:
            connection.execute(
                insert(User.__table__).values(name=name, role=role, token_hash=name * 16, **row)
            )

    add("obsv", "observer")
    with pytest.raises(IntegrityError):  # 0002 knows no analysts
        add("anna", "analyst")
    # To 0003 itself, so that the refused downgrade below starts there on both databases (the
    # schema at head is checked by the other migration tests).
    command.upgrade(config, "0003")
    add("anna", "analyst")
    with pytest.raises(IntegrityError):  # still a closed list
        add("boss", "overlord")
    # Down: refused while an analyst exists (the old constraint cannot hold the row) ...
    with pytest.raises(RuntimeError, match="anna are analysts"):
        command.downgrade(config, "0002")
    with engine.connect() as connection:
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        roles = connection.exec_driver_sql("SELECT name, role FROM users ORDER BY id").all()
    assert revision == "0003" and [tuple(r) for r in roles] == [
        ("obsv", "observer"),
        ("anna", "analyst"),
    ]
    # ... and done once none is left, keeping the other users.
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM users WHERE role = 'analyst'")
    command.downgrade(config, "0002")
    with pytest.raises(IntegrityError):
        add("anna", "analyst")
    with engine.connect() as connection:
        names = connection.exec_driver_sql("SELECT name FROM users").scalars().all()
    assert names == ["obsv"]
    engine.dispose()


# --- the CLI -----------------------------------------------------------------------------------


def test_users_add_prints_the_token_once_and_stores_its_hash(database_url: str) -> None:
    url = database_url
    runner = CliRunner()
    result = runner.invoke(
        cli_app,
        ["users", "add", "anna", "--role", "donor", "--nation", "pl", "--database-url", url],
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("fm_") and len(token) > 40
    engine = make_engine(url)
    with session_factory(engine)() as session:
        user = session.scalars(select(User)).one()
        assert (user.name, user.role, user.nation) == ("anna", "donor", "PL")
        assert user.token_hash == hash_token(token) and token not in user.token_hash
    engine.dispose()
    missing = runner.invoke(
        cli_app, ["users", "add", "bo", "--role", "partner", "--database-url", url]
    )
    assert missing.exit_code == 2 and "--nation" in missing.stderr
    listed = runner.invoke(cli_app, ["users", "list", "--database-url", url])
    assert "anna" in listed.stdout and token not in listed.stdout


# --- over real HTTP ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.slow
def test_serve_over_real_http(database_url: str, tmp_path: Path) -> None:
    # A PostgreSQL URL without a driver works too: psycopg is the one installed.
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    cli = [sys.executable, "-m", "forcemodel"]
    add = [*cli, "users", "add", "kyiv", "--role", "partner", "--nation", "UA"]
    added = subprocess.run(
        [*add, "--database-url", url], capture_output=True, text=True, check=True
    )
    token = added.stdout.strip()
    port = _free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        # --database-url wins over the environment.
        server = subprocess.Popen(
            [*cli, "serve", "--port", str(port), "--database-url", url],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "FORCEMODEL_DATABASE_URL": "sqlite:////nonexistent/ignored.db"},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded CI machine starts slowly
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
            assert client.get("/me").json() == {"name": "kyiv", "role": "partner", "nation": "UA"}
            assert client.get("/items").json() == []
            body = {
                "item_id": "x",
                "quantity": 1,
                "priority": 1,
                "needed_by": "2026-01-01",
                "location": "Kyiv",
            }
            refused = client.post("/requirements", json=body)
            assert refused.status_code == 422 and "no item 'x'" in refused.json()["message"]
            assert httpx.get(f"{base}/me").status_code == 401
            assert "/pledges" in httpx.get(f"{base}/openapi.json").json()["paths"]
    finally:
        server.terminate()
        server.wait(timeout=10)
