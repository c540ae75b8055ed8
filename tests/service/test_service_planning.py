"""The board's assistance plan from the records (forcemodel.service.planning): the logistics and
training records in the plan, every unplannable record located, POST /match untouched; on
SQLite and PostgreSQL. The page that shows it: tests/web/test_web_board_plan.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_service import Service, start_service

from forcemodel.assist.board_logistics import (
    CourseRecord,
    Logistics,
    PlanError,
    RouteRecord,
    chain_days,
    check,
)
from forcemodel.assist.pipeline import hub_throughput, usable_systems
from forcemodel.service.db import session_factory
from forcemodel.service.planning import plan_records, records_mark
from forcemodel.service.records import RecordError


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    yield from start_service(database_url)


def _post(s: Service, path: str, body: dict[str, Any], user: str = "coordinator") -> Any:
    return s.ok(user, "POST", path, json=body)


def _board(s: Service) -> None:
    """Two guns of 40 t, crews of 3, through a hub of 50 t a day (a gun a day); a crew course."""
    _post(s, "/items", {"id": "gun", "name": "gun", "category": "system", "standard": "nato"})
    _post(s, "/item-needs", {"item_id": "gun", "tons": 40.0, "crew": 3})
    _post(s, "/hubs", {"id": "hub-a", "name": "A", "location": "PL", "t_per_day": 50.0})
    route = {"id": "r-a", "origin": "Gdansk", "hub_id": "hub-a", "to_hub_days": 1}
    _post(s, "/routes", {**route, "onward_days": 2})
    _post(
        s, "/courses", {"id": "gun-crew", "item_id": "gun", "cohort_size": 6, "duration_days": 14}
    )
    pledge = {"item_id": "gun", "quantity": 2, "available_from": "2026-03-01", "location": "Gdansk"}
    _post(s, "/pledges", pledge, "donor")
    need = {"item_id": "gun", "quantity": 2, "priority": 1, "needed_by": "2026-03-20"}
    _post(s, "/requirements", {**need, "location": "Kyiv"}, "partner")


def _sessions(s: Service) -> Any:
    return session_factory(s.client.app.state.engine)  # type: ignore[attr-defined]


def test_the_plan_schedules_the_hub_and_the_crews(service: Service) -> None:
    _board(service)
    result = plan_records(_sessions(service), time_limit=30)
    guns = usable_systems(result).set_index("item").loc["gun"]
    assert guns["delivered"] == 2 and guns["trainees"] == 6 and guns["held_by"] == "crews"
    hubs = hub_throughput(result)
    through = hubs[hubs["hub"] == "hub-a"]
    # 80 t through a hub of 50 t a day: never more than its capacity on a day, all of it passed.
    assert through["tons"].sum() == pytest.approx(80.0)
    assert (through["tons"] <= through["capacity"] + 1e-6).all()
    assert len(through[through["tons"] > 0]) == 2  # one gun a day
    # The plan looks past the needed-by date by the route (3 days) and the course (14 days).
    assert result.case.meta.horizon_days == 19 + 3 + 14


def test_a_change_moves_the_records_mark(service: Service) -> None:
    with _sessions(service)() as session:
        before = records_mark(session)
    _post(service, "/hubs", {"id": "h", "name": "H", "location": "x", "t_per_day": 1.0})
    with _sessions(service)() as session:
        assert records_mark(session) > before


@pytest.mark.parametrize(
    ("make", "located"),
    [
        (
            [
                (
                    "/courses",
                    {"id": "a", "cohort_size": 1, "duration_days": 1, "prerequisites": ["b"]},
                ),
                (
                    "/courses",
                    {"id": "b", "cohort_size": 1, "duration_days": 1, "prerequisites": ["a"]},
                ),
            ],
            "/courses/a: prerequisites: the prerequisites go round in a circle: a -> b -> a",
        ),
        (
            [("/courses", {"id": "c", "item_id": "155-he", "cohort_size": 1, "duration_days": 1})],
            "/courses/c: item_id: '155-he' is not a system (category ammunition): no crews",
        ),
        (
            [("/item-needs", {"item_id": "155-he", "tons": 0.05, "crew": 2})],
            "/item-needs/155-he: crew: only a system has a crew",
        ),
        (
            [("/hubs", {"id": "direct", "name": "D", "location": "x", "t_per_day": 5.0})],
            "/hubs/direct: id: 'direct' is the plan's own route",
        ),
    ],
)
def test_records_that_cannot_be_planned_are_located(
    service: Service, make: list[tuple[str, dict[str, Any]]], located: str
) -> None:
    for path, body in make:
        _post(service, path, body)
    with pytest.raises(RecordError) as refused:
        plan_records(_sessions(service), time_limit=10)
    assert refused.value.status == 422 and located in refused.value.message


def test_match_ignores_the_logistics(service: Service) -> None:
    _board(service)
    with_them = service.ok("coordinator", "POST", "/match")
    assert with_them["allocations"] and with_them["allocations"][0]["quantity"] == 2
    # Pledged on 1 March, needed on 20 March: without route or crews the match sees no delay.
    assert with_them["allocations"][0]["delivery_date"] == "2026-03-01"


def test_the_checks_and_the_look_ahead_as_plain_data() -> None:
    courses = [
        CourseRecord("basic", None, 30, 10),
        CourseRecord("crew", "gun", 5, 20, prerequisites=("basic",)),
        CourseRecord("lead", "gun", 2, 7, prerequisites=("crew", "basic")),
    ]
    routes = [RouteRecord("r", "Gdansk", "h", 2, 3), RouteRecord("s", "Paris", "h", 9, 1)]
    # The longest chain: basic, crew, lead (37 days); the slowest route: 10 days.
    assert chain_days(Logistics(courses=courses, routes=routes)) == 47
    with pytest.raises(PlanError) as refused:
        check(Logistics(courses=courses, routes=routes), {"gun": "system"})
    assert [str(p) for p in refused.value.problems] == [
        "/routes/r: hub_id: no hub 'h'",
        "/routes/s: hub_id: no hub 'h'",
    ]
