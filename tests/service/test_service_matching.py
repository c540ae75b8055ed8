"""The matcher from the service: ``POST /match`` (dry run and apply), coordinators only.

Reuses the service helpers of tests/service/test_service.py, on each database backend it runs on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from test_service import Service, start_service

from forcemodel.assist import match_case
from forcemodel.assist.records import (
    AllocationRecord,
    ItemRecord,
    PledgeRecord,
    RequirementRecord,
    case_from_records,
    proposed_allocations,
)


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    """A service of one's own, on SQLite and on PostgreSQL (support.postgres)."""
    yield from start_service(database_url)


def _pledge(s: Service, item: str, quantity: int, available: str) -> dict[str, Any]:
    body = {"item_id": item, "quantity": quantity, "available_from": available, "location": "X"}
    return s.ok("donor", "POST", "/pledges", json=body)


def _requirement(s: Service, item: str, quantity: int, priority: int, by: str) -> dict[str, Any]:
    body = {"item_id": item, "quantity": quantity, "priority": priority, "needed_by": by}
    return s.ok("partner", "POST", "/requirements", json={**body, "location": "Kyiv"})


def _setup(s: Service) -> dict[str, int]:
    """Two requirements for 155 mm rounds, one for 152 mm; pledges of both, one late."""
    ids = {
        "p155": _pledge(s, "155-he", 100, "2026-03-01")["id"],
        "p155_late": _pledge(s, "155-he", 50, "2026-05-01")["id"],
        "p152": _pledge(s, "152-he", 30, "2026-03-01")["id"],
        "urgent": _requirement(s, "155-he", 80, 1, "2026-03-15")["id"],
        "later": _requirement(s, "155-he", 60, 3, "2026-04-01")["id"],
        "soviet": _requirement(s, "152-he", 40, 2, "2026-03-20")["id"],
    }
    return ids


def _planned(body: dict[str, Any]) -> dict[tuple[int, int], int]:
    return {(a["pledge_id"], a["requirement_id"]): a["quantity"] for a in body["allocations"]}


def test_dry_run_proposes_and_writes_nothing(service: Service) -> None:
    ids = _setup(service)
    audit_before = service.ok("coordinator", "GET", "/audit", params={"limit": 1000})
    body = service.ok("coordinator", "POST", "/match")
    assert body["applied"] is False
    assert body["termination"] == "optimal"
    plan = _planned(body)
    # The urgent requirement takes 80 of the 100 rounds available on 1 March; the other 20 go
    # to the later one, which also gets the 50 late rounds (after its date: better than none).
    assert plan[(ids["p155"], ids["urgent"])] == 80
    assert plan[(ids["p155"], ids["later"])] == 20
    assert plan[(ids["p155_late"], ids["later"])] == 40
    assert plan[(ids["p152"], ids["soviet"])] == 30
    # 155 mm rounds never go to the 152 mm requirement (category and standard must agree).
    assert (ids["p155"], ids["soviet"]) not in plan
    assert service.ok("coordinator", "GET", "/allocations") == []  # type: ignore[comparison-overlap]
    assert service.ok("coordinator", "GET", "/audit", params={"limit": 1000}) == audit_before
    reasons = {(u["requirement_id"], u["reason"]) for u in body["unmet"]}
    assert (ids["soviet"], "no_pledge") in reasons  # 30 of 40 pledged
    assert (ids["later"], "allocated_elsewhere") in reasons  # to the urgent one
    assert body["fleet_mix"]  # no systems here: zeros, but the rows are there


def test_apply_writes_audited_allocations_and_keeps_existing(service: Service) -> None:
    ids = _setup(service)
    # A coordinator's own allocation first: the plan keeps it and adds to it.
    body = {"pledge_id": ids["p155"], "requirement_id": ids["later"], "quantity": 10}
    existing = service.ok("coordinator", "POST", "/allocations", json=body)
    out = service.ok("coordinator", "POST", "/match", params={"apply": "true"})
    assert out["applied"] is True
    plan = _planned(out)
    assert plan[(ids["p155"], ids["later"])] == 10  # 20 planned, 10 there already
    assert plan[(ids["p155"], ids["urgent"])] == 80
    allocations = service.ok("coordinator", "GET", "/allocations")
    stored: dict[tuple[int, int], int] = {}
    for a in allocations:  # type: ignore[union-attr]
        key = (a["pledge_id"], a["requirement_id"])
        stored[key] = stored.get(key, 0) + a["quantity"]
    assert stored[(ids["p155"], ids["later"])] == 20
    assert stored[(ids["p155"], ids["urgent"])] == 80
    assert existing["id"] in {a["id"] for a in allocations}  # type: ignore[union-attr]
    made = [a for a in out["allocations"] if a["allocation_id"] is not None]
    assert len(made) == len(out["allocations"])
    entry = service.audit("allocation", made[0]["allocation_id"])
    assert [(e["action"], e["actor"]) for e in entry] == [("create", "coordinator")]
    assert entry[0]["after"]["note"].startswith("proposed by the matcher")
    pledge = service.ok("observer", "GET", f"/pledges/{ids['p155_late']}")
    assert pledge["status"] == "allocated"
    # Applying again adds nothing: the plan is already there.
    again = service.ok("coordinator", "POST", "/match", params={"apply": "true"})
    assert again["allocations"] == []


@pytest.mark.parametrize("user", ["donor", "other_donor", "partner", "observer"])
def test_only_coordinators_match(service: Service, user: str) -> None:
    for params in ({}, {"apply": "true"}):
        response = service.call(user, "POST", "/match", params=params)
        assert response.status_code == 403, response.text
    assert service.call(None, "POST", "/match").status_code == 401


def test_an_empty_database_gives_an_empty_plan(service: Service) -> None:
    body = service.ok("coordinator", "POST", "/match")
    assert body["allocations"] == [] and body["unmet"] == []


def test_bad_time_limit_is_a_located_422(service: Service) -> None:
    response = service.call("coordinator", "POST", "/match", params={"time_limit": "0"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "time_limit"]


def test_case_from_records_maps_priority_compatibility_and_allocations() -> None:
    items = [
        ItemRecord("155-a", "ammunition", "nato-155"),
        ItemRecord("155-b", "ammunition", "nato-155"),
        ItemRecord("152", "ammunition", "soviet-152"),
        ItemRecord("gun", "system", "nato-155"),
    ]
    day = dt.date(2026, 1, 1)
    pledges = [
        PledgeRecord(1, "DE", "155-b", 10, day),
        PledgeRecord(2, "PL", "152", 10, day),
        PledgeRecord(3, "US", "gun", 2, day + dt.timedelta(days=3)),
    ]
    reqs = [
        RequirementRecord(7, "UA", "155-a", 8, 1, day + dt.timedelta(days=10)),
        RequirementRecord(8, "UA", "gun", 3, 5, day + dt.timedelta(days=10)),
    ]
    allocations = [AllocationRecord(1, 7, 3), AllocationRecord(1, 7, 2)]
    case = case_from_records(items, pledges, reqs, allocations)
    assert case.meta.start == day and case.meta.horizon_days == 10
    assert [r.priority for r in case.requirements] == [5.0, 1.0]
    assert [(d.pledge, d.requirement, d.quantity) for d in case.deliveries] == [("p1", "r7", 5.0)]
    result = match_case(case)
    plan = proposed_allocations(result, allocations)
    rows = {(r.pledge_id, r.requirement_id): r.quantity for r in plan.itertuples()}
    # 155-b serves a requirement of 155-a (same category and standard): 8 in all, 5 there.
    assert rows == {(1, 7): 3, (3, 8): 2}
    assert "152" not in set(result.deliveries["item"])
