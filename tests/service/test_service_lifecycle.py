"""The lifecycle of the records (forcemodel.assist.lifecycle) as the service enforces it.

Each case the adversarial test of issue 19 found: a status set by hand that the allocations
decide, a status moved back, an allocated item's standard changed, capability ids that
collided, an allocation broken behind the service's back; on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update
from test_service import Service, _v, start_service

from forcemodel.assist.lifecycle import (
    STAGES,
    DeliveryStatus,
    LifecycleError,
    Rule,
    check_status_change,
    status_after_allocations,
)
from forcemodel.assist.records import ItemRecord, capability_keys, case_from_records
from forcemodel.service.db import session_factory
from forcemodel.service.tables import Item


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    yield from start_service(database_url)


def _allocated(s: Service, quantity: int = 10) -> tuple[dict[str, Any], dict[str, Any]]:
    """A fresh allocation and its pledge as it is now."""
    allocation = s.allocation(quantity)
    return allocation, s.ok("observer", "GET", f"/pledges/{allocation['pledge_id']}")


def _set_status(s: Service, user: str, pledge: dict[str, Any], status: str) -> Any:
    url = f"/pledges/{pledge['id']}"
    return s.call(user, "PATCH", url, json={"status": status}, headers=_v(pledge))


def test_allocated_and_pledged_are_never_set_by_hand(service: Service) -> None:
    fresh = service.pledge()
    for user in ("donor", "coordinator"):
        refused = _set_status(service, user, fresh, "allocated")
        assert refused.status_code == 409, refused.text
        assert refused.json()["rule"] == Rule.status_follows_allocations
        assert "rule status-follows-allocations" in refused.json()["detail"]
    _, pledge = _allocated(service)
    back = _set_status(service, "donor", pledge, "pledged")
    assert back.status_code == 409 and back.json()["rule"] == Rule.status_follows_allocations
    assert service.ok("observer", "GET", f"/pledges/{pledge['id']}")["status"] == "allocated"


def test_a_pledge_ships_only_once_allocated_and_never_moves_back(service: Service) -> None:
    fresh = service.pledge()
    refused = _set_status(service, "donor", fresh, "shipped")
    assert refused.status_code == 409 and refused.json()["rule"] == Rule.allocated_before_shipped
    _, pledge = _allocated(service)
    for status in ("shipped", "operational"):
        pledge = service.ok(
            "donor",
            "PATCH",
            f"/pledges/{pledge['id']}",
            json={"status": status},
            headers=_v(pledge),
        )
    for status in ("pledged", "allocated", "shipped", "delivered"):
        back = _set_status(service, "coordinator", pledge, status)
        assert back.status_code == 409, (status, back.text)
    assert service.ok("observer", "GET", f"/pledges/{pledge['id']}")["status"] == "operational"


def test_a_shipped_pledge_is_history(service: Service) -> None:
    allocation, pledge = _allocated(service)
    pledge = service.ok(
        "donor", "PATCH", f"/pledges/{pledge['id']}", json={"status": "shipped"}, headers=_v(pledge)
    )
    for change in ({"quantity": 500}, {"item_id": "152-he"}, {"available_from": "2026-09-01"}):
        refused = service.call(
            "donor", "PATCH", f"/pledges/{pledge['id']}", json=change, headers=_v(pledge)
        )
        assert refused.status_code == 409 and refused.json()["rule"] == Rule.shipped_is_history
    note = service.call(
        "donor",
        "PATCH",
        f"/pledges/{pledge['id']}",
        json={"note": "on a train"},
        headers=_v(pledge),
    )
    assert note.status_code == 200, note.text
    url = f"/allocations/{allocation['id']}"
    resized = service.call(
        "coordinator", "PATCH", url, json={"quantity": 3}, headers=_v(allocation)
    )
    removed = service.call("coordinator", "DELETE", url, headers=_v(allocation))
    more = service.call(
        "coordinator",
        "POST",
        "/allocations",
        json={
            "pledge_id": pledge["id"],
            "requirement_id": service.requirement()["id"],
            "quantity": 1,
        },
    )
    for refused in (resized, removed, more):
        assert refused.status_code == 409 and refused.json()["rule"] == Rule.shipped_is_history
    # The matcher does not add to it either: 90 of its 100 are unallocated, yet none is proposed.
    plan = service.ok("coordinator", "POST", "/match")
    assert all(a["pledge_id"] != pledge["id"] for a in plan["allocations"])


def test_an_allocated_item_keeps_its_category_and_standard(service: Service) -> None:
    item = service.item()
    pledge = service.pledge(item["id"])
    req = service.requirement(item["id"])
    body = {"pledge_id": pledge["id"], "requirement_id": req["id"], "quantity": 5}
    service.ok("coordinator", "POST", "/allocations", json=body)
    url = f"/items/{item['id']}"
    refused = service.call(
        "coordinator", "PATCH", url, json={"standard": "soviet-152"}, headers=_v(item)
    )
    assert refused.status_code == 409 and refused.json()["rule"] == Rule.item_in_use
    renamed = service.call("coordinator", "PATCH", url, json={"name": "renamed"}, headers=_v(item))
    assert renamed.status_code == 200
    unused = service.item()
    changed = service.call(
        "coordinator", "PATCH", f"/items/{unused['id']}", json={"standard": "x"}, headers=_v(unused)
    )
    assert changed.status_code == 200


def test_csv_import_obeys_the_same_rules(service: Service) -> None:
    fresh = service.pledge()
    text = f"id,version,status\n{fresh['id']},{fresh['version']},allocated\n"
    response = service.call(
        "donor", "POST", "/pledges.csv", content=text, headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 409 and "status-follows-allocations" in response.text


def test_a_broken_allocation_is_named_by_match(service: Service) -> None:
    offered, needed = service.item(), service.item()
    pledge = service.pledge(offered["id"])
    req = service.requirement(needed["id"])
    body = {"pledge_id": pledge["id"], "requirement_id": req["id"], "quantity": 5}
    allocation = service.ok("coordinator", "POST", "/allocations", json=body)
    # Behind the service's back: a database edited by hand, or written before the rules.
    engine = service.client.app.state.engine  # type: ignore[attr-defined]
    with session_factory(engine)() as session:
        session.execute(update(Item).where(Item.id == needed["id"]).values(standard="other"))
        session.commit()
    response = service.call("coordinator", "POST", "/match")
    assert response.status_code == 409, response.text
    detail = response.json()["detail"]
    assert f"allocation {allocation['id']}" in detail and "rule compatible" in detail
    assert response.json()["rule"] == Rule.compatible
    assert "no route" not in detail


def test_capability_ids_of_different_kinds_never_collide() -> None:
    keys = capability_keys([("a.b", "c"), ("a", "b.c"), ("a", "b.c-2"), ("x", "y")])
    assert len(set(keys.values())) == 4
    items = [ItemRecord("one", "a.b", "c"), ItemRecord("two", "a", "b.c")]
    case = case_from_records(items, [], [])
    assert len({it.capability for it in case.items}) == 2


def test_collided_kinds_are_not_matched_through_the_service(service: Service) -> None:
    for ident, category, standard in (("i1", "a.b", "c"), ("i2", "a", "b.c")):
        body = {"id": ident, "name": ident, "category": category, "standard": standard}
        service.ok("coordinator", "POST", "/items", json=body)
    service.pledge("i1")
    service.requirement("i2")
    dry = service.ok("coordinator", "POST", "/match")
    assert dry["allocations"] == []
    applied = service.ok("coordinator", "POST", "/match", params={"apply": "true"})
    assert applied["allocations"] == []


def test_the_state_machine_in_the_domain() -> None:
    assert [s.value for s in STAGES] == [
        "pledged",
        "allocated",
        "shipped",
        "delivered",
        "operational",
    ]
    assert status_after_allocations("pledged", 1) is DeliveryStatus.allocated
    assert status_after_allocations("allocated", 0) is DeliveryStatus.pledged
    assert status_after_allocations("shipped", 0) is DeliveryStatus.shipped
    check_status_change("p", "allocated", "delivered", 1)  # a stage may be skipped
    with pytest.raises(LifecycleError) as caught:
        check_status_change("p", "operational", "pledged", 1)
    assert caught.value.rule is Rule.status_follows_allocations and caught.value.conflict
