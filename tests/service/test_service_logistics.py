"""The board's logistics and training records (revision 0004): hubs, routes, courses, item
needs; versions, audit, references and strict input, on SQLite and PostgreSQL. Who may do what
is in the role x endpoint matrix (test_service.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import insert, inspect
from test_service import Service, _v, start_service

from forcemodel.service.db import make_engine
from forcemodel.service.migrate import alembic_config
from forcemodel.service.tables import Donor, Item, utcnow


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    yield from start_service(database_url)


def _post(s: Service, path: str, body: dict[str, Any]) -> dict[str, Any]:
    return s.ok("coordinator", "POST", path, json=body)


def test_a_hub_is_created_changed_on_its_version_audited_and_removed(service: Service) -> None:
    s = service
    hub = _post(
        s, "/hubs", {"id": "rzeszow", "name": "Rzeszow", "location": "PL", "t_per_day": 900}
    )
    assert hub["version"] == 1 and hub["t_per_day"] == 900.0
    url = "/hubs/rzeszow"
    changed = s.call("coordinator", "PATCH", url, json={"t_per_day": 1200.5}, headers=_v(hub))
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    stale = s.call("coordinator", "PATCH", url, json={"t_per_day": 1.0}, headers=_v(hub))
    assert stale.status_code == 409 and "changed since you read it" in stale.json()["detail"]
    assert s.ok("observer", "GET", url)["t_per_day"] == 1200.5
    assert s.call("coordinator", "DELETE", url).status_code == 428
    assert s.call("coordinator", "DELETE", url, params={"version": 2}).status_code == 204
    assert s.call("observer", "GET", url).status_code == 404
    actions = [(e["action"], e["before"], e["after"]) for e in s.audit("hub", "rzeszow")]
    assert [a[0] for a in actions] == ["create", "update", "delete"]
    assert actions[1][1]["t_per_day"] == 900.0 and actions[1][2]["t_per_day"] == 1200.5
    assert actions[2][2] is None and actions[2][1]["version"] == 2


def test_references_are_checked_and_rows_in_use_kept(service: Service) -> None:
    s = service
    body = {"id": "r1", "origin": "Gdansk", "hub_id": "nowhere", "to_hub_days": 1, "onward_days": 2}
    missing = s.call("coordinator", "POST", "/routes", json=body)
    assert missing.status_code == 422 and "no hub 'nowhere'" in missing.text
    hub = _post(s, "/hubs", {"id": "h1", "name": "H", "location": "PL", "t_per_day": 100})
    route = _post(s, "/routes", {**body, "hub_id": "h1"})
    assert route["t_per_day"] is None
    in_use = s.call("coordinator", "DELETE", "/hubs/h1", headers=_v(hub))
    assert in_use.status_code == 409 and "r1" in in_use.json()["detail"]
    moved = s.call("coordinator", "PATCH", "/routes/r1", json={"hub_id": "h2"}, headers=_v(route))
    assert moved.status_code == 422 and moved.json()["detail"][0]["loc"] == ["body", "hub_id"]
    twice = s.call(
        "coordinator",
        "POST",
        "/hubs",
        json={"id": "h1", "name": "x", "location": "y", "t_per_day": 1},
    )
    assert twice.status_code == 409 and "exists already" in twice.text


def test_courses_name_their_system_and_prerequisites(service: Service) -> None:
    s = service
    system = s.item(standard="nato", category="system")["id"]
    unknown = s.call(
        "coordinator",
        "POST",
        "/courses",
        json={"id": "c1", "item_id": "no-such", "cohort_size": 4, "duration_days": 10},
    )
    assert unknown.status_code == 422 and "no item 'no-such'" in unknown.text
    itself = s.call(
        "coordinator",
        "POST",
        "/courses",
        json={"id": "c1", "cohort_size": 4, "duration_days": 10, "prerequisites": ["c1"]},
    )
    assert itself.status_code == 422 and "cannot require itself" in itself.text
    # Prerequisites may be entered before the course they name (the plan checks them).
    crew = _post(
        s,
        "/courses",
        {
            "id": "crew",
            "item_id": system,
            "cohort_size": 4,
            "duration_days": 20,
            "prerequisites": ["basic"],
            "first_start": "2026-03-01",
        },
    )
    assert crew["prerequisites"] == ["basic"] and crew["first_start"] == "2026-03-01"
    basic = _post(s, "/courses", {"id": "basic", "cohort_size": 30, "duration_days": 10})
    needed = s.call("coordinator", "DELETE", "/courses/basic", headers=_v(basic))
    assert needed.status_code == 409 and "prerequisite of crew" in needed.json()["detail"]
    changed = s.ok(
        "coordinator", "PATCH", "/courses/crew", json={"prerequisites": []}, headers=_v(crew)
    )
    assert changed["prerequisites"] == [] and changed["version"] == 2
    assert s.call("coordinator", "DELETE", "/courses/basic", headers=_v(basic)).status_code == 204
    audit = s.audit("course", "crew")
    assert (
        audit[1]["before"]["prerequisites"] == ["basic"]
        and audit[1]["after"]["prerequisites"] == []
    )


def test_item_needs_are_one_per_item(service: Service) -> None:
    s = service
    item = s.item(category="system")["id"]
    needs = _post(s, "/item-needs", {"item_id": item, "tons": 55.0, "crew": 5})
    assert (needs["tons"], needs["crew"]) == (55.0, 5)
    again = s.call("coordinator", "POST", "/item-needs", json={"item_id": item, "tons": 1})
    assert again.status_code == 409 and "exists already" in again.text
    nothing = s.call("coordinator", "POST", "/item-needs", json={"item_id": "zz", "tons": 1})
    assert nothing.status_code == 422
    assert s.audit("item_needs", item)[0]["after"]["crew"] == 5


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/hubs", {"id": "h", "name": "H", "location": "x", "t_per_day": True}),
        ("/hubs", {"id": "h", "name": "H", "location": "x", "t_per_day": "5"}),
        ("/hubs", {"id": "h", "name": "H", "location": "x", "t_per_day": 0}),
        ("/hubs", {"id": "H!", "name": "H", "location": "x", "t_per_day": 5}),
        ("/courses", {"id": "c", "cohort_size": 5.0, "duration_days": 3}),
        (
            "/courses",
            {"id": "c", "cohort_size": 5, "duration_days": 3, "first_start": "2026-03-01T00:00"},
        ),
        ("/courses", {"id": "c", "cohort_size": 5, "duration_days": 0}),
        ("/item-needs", {"item_id": "155-he", "tons": -1}),
        ("/item-needs", {"item_id": "155-he", "tons": 1, "crew": "3"}),
    ],
)
def test_loose_input_is_refused(service: Service, path: str, body: dict[str, Any]) -> None:
    response = service.call("coordinator", "POST", path, json=body)
    assert response.status_code == 422, response.text


def test_lists_are_keyset_pages(service: Service) -> None:
    s = service
    for n in range(5):
        _post(s, "/hubs", {"id": f"h{n}", "name": "H", "location": "x", "t_per_day": 1 + n})
    first = s.call("observer", "GET", "/hubs", params={"limit": 2})
    assert [h["id"] for h in first.json()] == ["h0", "h1"]
    assert "after=h1" in first.headers["Link"]
    assert [h["id"] for h in s.call("partner", "GET", "/hubs", params={"after": "h1"}).json()] == [
        "h2",
        "h3",
        "h4",
    ]


def test_migration_0004_keeps_the_records_and_goes_back(database_url: str) -> None:
    engine = make_engine(database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0003")
    now = utcnow()
    stamp = {"version": 1, "created_at": now, "updated_at": now}
    with engine.begin() as connection:
        connection.execute(insert(Donor).values(code="DE", name="Germany", **stamp))
        item = {"id": "x", "name": "x", "category": "system", "standard": "nato"}
        connection.execute(insert(Item).values(**item, **stamp))
    command.upgrade(config, "0004")
    with engine.begin() as connection:
        names = set(inspect(connection).get_table_names())
        assert {"hubs", "routes", "courses", "item_needs", "donors", "items"} <= names
        connection.exec_driver_sql(
            "INSERT INTO courses (id, item_id, cohort_size, duration_days, prerequisites, "
            "version, created_at, updated_at) VALUES ('c', 'x', 5, 10, '[\"b\"]', 1, "
            f"'{dt.date(2026, 1, 1).isoformat()}', '{dt.date(2026, 1, 1).isoformat()}')"
        )
        assert connection.exec_driver_sql("SELECT count(*) FROM items").scalar() == 1
    command.downgrade(config, "0003")
    with engine.connect() as connection:
        names = set(inspect(connection).get_table_names())
        assert not {"hubs", "routes", "courses", "item_needs"} & names
        assert connection.exec_driver_sql("SELECT name FROM donors").scalar() == "Germany"
    engine.dispose()
