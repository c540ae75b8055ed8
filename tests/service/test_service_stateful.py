"""Random sequences of API calls by random roles, against the lifecycle as the model.

A hypothesis state machine (``RuleBasedStateMachine``) makes pledges and requirements, allocates,
moves statuses, resizes and removes allocations, changes items' standards, withdraws pledges and
runs the matcher with ``apply``, each call by a role drawn at random (the one allowed, or one that
is not). The model is :mod:`forcemodel.assist.lifecycle`'s state machine written out once more,
plainly, here: for every call it predicts the answer's status (2xx, 403, 409 or 422), and after
every call the records read back through the API must hold no state the lifecycle forbids:

- a pledge is ``pledged`` exactly when it has no allocation (``allocated`` and later: some);
- no pledge gives, and no requirement receives, more than its quantity;
- every allocation joins a pledge and a requirement of the same category and standard;
- the records equal the model's (statuses, quantities, items).

On SQLite and PostgreSQL (support.postgres).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, update
from test_service import Service, _v, start_service

from forcemodel.service.db import session_factory
from forcemodel.service.tables import Allocation, Item, Pledge, Requirement

STAGES = ("pledged", "allocated", "shipped", "delivered", "operational")
GONE = {"shipped", "delivered", "operational"}
KINDS = (("ammunition", "nato-155"), ("ammunition", "soviet-152"))
ITEMS = ("155-he", "152-he", "spare-a", "spare-b")
START_KINDS = dict(zip(ITEMS, (KINDS[0], KINDS[1], KINDS[0], KINDS[0]), strict=True))


@dataclass
class Model:
    """What the records should be: by id, the fields the lifecycle looks at."""

    kind: dict[str, tuple[str, str]] = field(default_factory=dict)
    pledges: dict[int, dict[str, Any]] = field(default_factory=dict)
    reqs: dict[int, dict[str, Any]] = field(default_factory=dict)
    allocs: dict[int, dict[str, Any]] = field(default_factory=dict)

    def given(self, pledge: int) -> int:
        return sum(a["quantity"] for a in self.allocs.values() if a["pledge_id"] == pledge)

    def received(self, req: int) -> int:
        return sum(a["quantity"] for a in self.allocs.values() if a["requirement_id"] == req)

    def count(self, pledge: int) -> int:
        return sum(1 for a in self.allocs.values() if a["pledge_id"] == pledge)

    def in_use(self, item: str) -> bool:
        return any(
            self.pledges[a["pledge_id"]]["item_id"] == item
            or self.reqs[a["requirement_id"]]["item_id"] == item
            for a in self.allocs.values()
        )


def _all(s: Service, path: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = s.ok("coordinator", "GET", path, params={"limit": 1000})  # type: ignore[assignment]
    return rows


class Records(RuleBasedStateMachine):
    """The state machine over one service, its records emptied at the start of each run."""

    service: Service

    def __init__(self) -> None:
        super().__init__()
        self.m = Model()
        self.matched = False
        self._start_afresh()
        self._read_back()

    def _start_afresh(self) -> None:
        """No pledge, requirement or allocation; the items as made (hypothesis replays runs)."""
        engine = self.service.client.app.state.engine  # type: ignore[attr-defined]
        with session_factory(engine)() as session:
            for table in (Allocation, Pledge, Requirement):
                session.execute(delete(table))
            for item, (category, standard) in START_KINDS.items():
                session.execute(
                    update(Item).where(Item.id == item).values(category=category, standard=standard)
                )
            session.commit()

    # --- reading the records into the model ------------------------------------------------

    def _read_back(self) -> None:
        s = self.service
        self.m.kind = {i["id"]: (i["category"], i["standard"]) for i in _all(s, "/items")}
        self.m.pledges = {p["id"]: p for p in _all(s, "/pledges")}
        self.m.reqs = {r["id"]: r for r in _all(s, "/requirements")}
        self.m.allocs = {a["id"]: a for a in _all(s, "/allocations")}

    def _pick(self, data: st.DataObject, every: Any, preferred: Any) -> Any:
        """One of ``every``; mostly one of ``preferred`` (calls that get somewhere), if any."""
        pool = sorted(preferred) if preferred and data.draw(st.integers(0, 3)) else sorted(every)
        return data.draw(st.sampled_from(pool))

    def _expect(self, response: Any, status: int) -> None:
        assert response.status_code == status, (status, response.status_code, response.text)

    # --- rules ---------------------------------------------------------------------------------

    @initialize()
    def some_records(self) -> None:
        """A pledge and a requirement of each kind, so that a run gets somewhere at once."""
        for item in ("155-he", "152-he"):
            self.pledge(item, 20)
            self.require(item, 15)

    @rule(item=st.sampled_from(ITEMS), quantity=st.integers(1, 30))
    def pledge(self, item: str, quantity: int) -> None:
        body = {"item_id": item, "quantity": quantity, "available_from": "2026-03-01"}
        out = self.service.ok("donor", "POST", "/pledges", json={**body, "location": "X"})
        assert out["status"] == "pledged"
        self.m.pledges[out["id"]] = out

    @rule(item=st.sampled_from(ITEMS), quantity=st.integers(1, 30))
    def require(self, item: str, quantity: int) -> None:
        body = {"item_id": item, "quantity": quantity, "priority": 2, "needed_by": "2026-04-01"}
        out = self.service.ok("partner", "POST", "/requirements", json={**body, "location": "K"})
        self.m.reqs[out["id"]] = out

    @precondition(lambda self: self.m.pledges and self.m.reqs)
    @rule(
        data=st.data(),
        quantity=st.integers(1, 12),
        user=st.sampled_from(["coordinator", "coordinator", "coordinator", "donor", "observer"]),
    )
    def allocate(self, data: st.DataObject, quantity: int, user: str) -> None:
        pid = data.draw(st.sampled_from(sorted(self.m.pledges)))
        kind = self.m.kind[self.m.pledges[pid]["item_id"]]
        same = [r for r, req in self.m.reqs.items() if self.m.kind[req["item_id"]] == kind]
        rid = self._pick(data, self.m.reqs, same)
        pledge, req = self.m.pledges[pid], self.m.reqs[rid]
        if user != "coordinator":
            expected = 403
        elif pledge["status"] in GONE:
            expected = 409
        elif (
            self.m.kind[pledge["item_id"]] != self.m.kind[req["item_id"]]
            or quantity > pledge["quantity"] - self.m.given(pid)
            or quantity > req["quantity"] - self.m.received(rid)
        ):
            expected = 422
        else:
            expected = 201
        body = {"pledge_id": pid, "requirement_id": rid, "quantity": quantity}
        self._expect(self.service.call(user, "POST", "/allocations", json=body), expected)
        self._read_back()

    @precondition(lambda self: self.m.pledges)
    @rule(
        data=st.data(),
        status=st.sampled_from(STAGES),
        user=st.sampled_from(["donor", "coordinator", "partner"]),
    )
    def set_status(
        self, data: st.DataObject, status: str, user: str, pid: int | None = None
    ) -> None:
        if pid is None:
            moved = [p for p, pledge in self.m.pledges.items() if pledge["status"] != "pledged"]
            pid = self._pick(data, self.m.pledges, moved)
        pledge = self.m.pledges[pid]
        current = pledge["status"]
        if user == "partner":
            expected = 403
        elif status == current:
            expected = 200
        elif (
            status in ("pledged", "allocated")
            or current == "pledged"
            or not self.m.count(pid)
            or STAGES.index(status) < STAGES.index(current)
        ):
            expected = 409
        else:
            expected = 200
        url = f"/pledges/{pid}"
        response = self.service.call(
            user, "PATCH", url, json={"status": status}, headers=_v(pledge)
        )
        self._expect(response, expected)
        self._read_back()

    @precondition(lambda self: any(p["status"] != "pledged" for p in self.m.pledges.values()))
    @rule(
        data=st.data(),
        step=st.sampled_from([1, 1, 2, -1]),
        user=st.sampled_from(["donor", "coordinator"]),
    )
    def advance(self, data: st.DataObject, step: int, user: str) -> None:
        """Move an allocated (or later) pledge a stage on (or back): where the rules bite."""
        moved = sorted(p for p, pledge in self.m.pledges.items() if pledge["status"] != "pledged")
        pid = data.draw(st.sampled_from(moved))
        stage = STAGES.index(self.m.pledges[pid]["status"]) + step
        self.set_status(data, STAGES[max(0, min(stage, len(STAGES) - 1))], user, pid)

    @precondition(lambda self: self.m.allocs)
    @rule(data=st.data(), user=st.sampled_from(["coordinator", "coordinator", "partner"]))
    def remove_allocation(self, data: st.DataObject, user: str) -> None:
        aid = data.draw(st.sampled_from(sorted(self.m.allocs)))
        alloc = self.m.allocs[aid]
        status = self.m.pledges[alloc["pledge_id"]]["status"]
        expected = 403 if user != "coordinator" else 409 if status in GONE else 204
        url = f"/allocations/{aid}"
        self._expect(self.service.call(user, "DELETE", url, headers=_v(alloc)), expected)
        self._read_back()

    @precondition(lambda self: self.m.allocs)
    @rule(data=st.data(), quantity=st.integers(1, 25))
    def resize_allocation(self, data: st.DataObject, quantity: int) -> None:
        aid = data.draw(st.sampled_from(sorted(self.m.allocs)))
        alloc = self.m.allocs[aid]
        pid, rid = alloc["pledge_id"], alloc["requirement_id"]
        pledge, req = self.m.pledges[pid], self.m.reqs[rid]
        if quantity == alloc["quantity"]:
            expected = 200
        elif pledge["status"] in GONE:
            expected = 409
        elif (
            quantity > pledge["quantity"] - self.m.given(pid) + alloc["quantity"]
            or quantity > req["quantity"] - self.m.received(rid) + alloc["quantity"]
        ):
            expected = 422
        else:
            expected = 200
        url = f"/allocations/{aid}"
        response = self.service.call(
            "coordinator", "PATCH", url, json={"quantity": quantity}, headers=_v(alloc)
        )
        self._expect(response, expected)
        self._read_back()

    @rule(item=st.sampled_from(ITEMS), kind=st.sampled_from(KINDS))
    def change_kind(self, item: str, kind: tuple[str, str]) -> None:
        current = self.service.ok("observer", "GET", f"/items/{item}")
        changes = kind != self.m.kind[item]
        expected = 409 if changes and self.m.in_use(item) else 200
        body = {"category": kind[0], "standard": kind[1]}
        response = self.service.call(
            "coordinator", "PATCH", f"/items/{item}", json=body, headers=_v(current)
        )
        self._expect(response, expected)
        self._read_back()

    @precondition(lambda self: self.m.pledges)
    @rule(data=st.data(), quantity=st.integers(1, 40))
    def resize_pledge(self, data: st.DataObject, quantity: int) -> None:
        pid = data.draw(st.sampled_from(sorted(self.m.pledges)))
        pledge = self.m.pledges[pid]
        if quantity == pledge["quantity"]:
            expected = 200
        elif pledge["status"] in GONE:
            expected = 409
        elif quantity < self.m.given(pid):
            expected = 422
        else:
            expected = 200
        url = f"/pledges/{pid}"
        response = self.service.call(
            "donor", "PATCH", url, json={"quantity": quantity}, headers=_v(pledge)
        )
        self._expect(response, expected)
        self._read_back()

    @precondition(lambda self: self.m.pledges)
    @rule(data=st.data())
    def withdraw(self, data: st.DataObject) -> None:
        pid = data.draw(st.sampled_from(sorted(self.m.pledges)))
        expected = 409 if self.m.count(pid) else 204
        url = f"/pledges/{pid}"
        response = self.service.call("donor", "DELETE", url, headers=_v(self.m.pledges[pid]))
        self._expect(response, expected)
        self._read_back()

    @precondition(lambda self: not self.matched and len(self.m.pledges) > 1)
    @rule()
    def match_and_apply(self) -> None:
        # Once a run: a solve costs more than all the other calls of a run together.
        self.matched = True
        self.service.ok("coordinator", "POST", "/match", params={"apply": "true", "time_limit": 30})
        self._read_back()

    # --- what may never be -----------------------------------------------------------------------

    @invariant()
    def no_forbidden_state(self) -> None:
        m = self.m
        for pid, pledge in m.pledges.items():
            assert (pledge["status"] == "pledged") == (m.count(pid) == 0), pledge
            assert m.given(pid) <= pledge["quantity"], pledge
        for rid, req in m.reqs.items():
            assert m.received(rid) <= req["quantity"], req
        for alloc in m.allocs.values():
            pledge, req = m.pledges[alloc["pledge_id"]], m.reqs[alloc["requirement_id"]]
            assert m.kind[pledge["item_id"]] == m.kind[req["item_id"]], alloc


@pytest.fixture
def service(database_url: str) -> Iterator[Service]:
    with contextlib.contextmanager(start_service)(database_url) as s:
        for item in ITEMS[2:]:
            body = {"id": item, "name": item, "category": "ammunition", "standard": "nato-155"}
            s.ok("coordinator", "POST", "/items", json=body)
        yield s


@pytest.mark.slow
def test_random_calls_by_random_roles_keep_the_lifecycle(service: Service) -> None:
    Records.service = service
    run_state_machine_as_test(
        Records,
        settings=settings(
            max_examples=15,
            stateful_step_count=40,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
