"""Reading and changing the records, with the checks that keep them consistent and owned.

Every change here: checks the caller's right to it (403), that the row exists (404), that the
caller saw its current version (409), that the lifecycle allows it (:mod:`forcemodel.assist.
lifecycle`: 409 when the records' state forbids it, 422 when the change is invalid, either naming
the rule) and that the result is valid (422); then changes the row and adds an audit entry in
the same transaction. Callers commit. On SQLite the transaction holds the
write lock from its start (``db.session_factory(engine, write=True)``); elsewhere the rows a
check depends on are locked (``SELECT ... FOR UPDATE``), so two concurrent changes cannot both
pass a check that only one of them may.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forcemodel.assist import lifecycle
from forcemodel.assist.lifecycle import Kind, LifecycleError
from forcemodel.service import audit
from forcemodel.service.auth import Principal
from forcemodel.service.schemas import (
    AllocationIn,
    AllocationPatch,
    DonorIn,
    DonorPatch,
    ItemIn,
    ItemPatch,
    PledgeIn,
    PledgePatch,
    RequirementIn,
    RequirementPatch,
)
from forcemodel.service.tables import (
    Allocation,
    AuditAction,
    Base,
    Donor,
    Item,
    Pledge,
    PledgeStatus,
    Requirement,
    Role,
)

R = TypeVar("R", bound=Base)


@dataclass
class RecordError(Exception):
    """A change or read refused; ``status`` is the HTTP status that says why."""

    status: int
    message: str
    #: For 422: where the problem is, e.g. ("body", "quantity").
    loc: tuple[str | int, ...] = field(default=())
    #: The lifecycle rule the change would break, when that is why it is refused.
    rule: str | None = None
    #: Headers of the answer (e.g. Retry-After of a 429).
    headers: dict[str, str] | None = None

    def __str__(self) -> str:
        return self.message


def not_found(entity: str, key: object) -> RecordError:
    return RecordError(404, f"no {entity} {key}")


def forbidden(message: str) -> RecordError:
    return RecordError(403, message)


def invalid(message: str, *loc: str | int) -> RecordError:
    return RecordError(422, message, ("body", *loc))


@contextmanager
def lifecycle_rules() -> Iterator[None]:
    """Turn a refusal of the lifecycle into a RecordError: 409 or 422, naming the rule."""
    try:
        yield
    except LifecycleError as exc:
        loc: tuple[str | int, ...] = ("body", exc.field) if exc.field else ("body",)
        raise RecordError(409 if exc.conflict else 422, str(exc), loc, exc.rule.value) from None


def _get(session: Session, model: type[R], key: object, entity: str, *, lock: bool = False) -> R:
    row = session.get(model, key, with_for_update=lock)
    if row is None:
        raise not_found(entity, key)
    return row


def check_version(row: Any, entity: str, key: object, expected: int) -> None:
    """Refuse (409) a change based on a version that is no longer current."""
    if row.version != expected:
        raise RecordError(
            409,
            f"{entity} {key} is at version {row.version}, not {expected}: it changed since you "
            "read it; read it again and make your change on the current version",
        )


def _item(session: Session, item_id: str, *loc: str | int) -> Item:
    item = session.get(Item, item_id)
    if item is None:
        raise invalid(
            f"no item {item_id!r} in the catalogue (coordinators add items with POST /items)",
            *loc,
        )
    return item


def _apply(
    session: Session,
    actor: Principal,
    row: Base,
    entity: str,
    key: object,
    changes: dict[str, Any],
) -> bool:
    """Set the changed fields and audit the change; False when nothing changed."""
    changes = {k: v for k, v in changes.items() if getattr(row, k) != v}
    if not changes:
        return False
    before = audit.snapshot(row)
    for name, value in changes.items():
        setattr(row, name, value)
    session.flush()
    _audit(session, actor, AuditAction.update, entity, key, before, audit.snapshot(row))
    return True


def _audit(
    session: Session,
    actor: Principal,
    action: AuditAction,
    entity: str,
    key: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        actor=actor.name,
        actor_role=actor.role.value,
        action=action,
        entity=entity,
        entity_id=key,
        before=before,
        after=after,
    )


def _create(session: Session, actor: Principal, row: R, entity: str) -> R:
    session.add(row)
    session.flush()
    _audit(session, actor, AuditAction.create, entity, _key(row), None, audit.snapshot(row))
    return row


def _key(row: Base) -> object:
    for name in ("code", "id", "item_id"):  # donors, most rows, an item's needs
        key = getattr(row, name, None)
        if key is not None:
            return key
    return None


def _delete(session: Session, actor: Principal, row: Base, entity: str) -> None:
    before = audit.snapshot(row)
    key = _key(row)
    session.delete(row)
    session.flush()
    _audit(session, actor, AuditAction.delete, entity, key, before, None)


def _allocated(session: Session, column: Any, key: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(Allocation.quantity), 0)).where(column == key)
    )
    return int(total or 0)


def _count(session: Session, column: Any, key: int) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Allocation).where(column == key)) or 0
    )


# --- items and donors (coordinators) -------------------------------------------------------


def create_item(session: Session, actor: Principal, data: ItemIn) -> Item:
    if session.get(Item, data.id) is not None:
        raise RecordError(409, f"item {data.id!r} exists already")
    return _create(session, actor, Item(**data.model_dump()), "item")


def update_item(
    session: Session, actor: Principal, item_id: str, patch: ItemPatch, version: int
) -> Item:
    item = _get(session, Item, item_id, "item", lock=True)
    check_version(item, "item", item_id, version)
    changes = patch.changes()
    if {"category", "standard"} & set(changes):
        current = {"category": item.category, "standard": item.standard}
        with lifecycle_rules():
            lifecycle.check_item_edit(item_id, changes, current, _item_in_use(session, item_id))
    _apply(session, actor, item, "item", item_id, changes)
    return item


def _item_in_use(session: Session, item_id: str) -> int:
    """How many allocations give or receive the item."""
    pledged = select(Pledge.id).where(Pledge.item_id == item_id)
    needed = select(Requirement.id).where(Requirement.item_id == item_id)
    query = (
        select(func.count())
        .select_from(Allocation)
        .where(Allocation.pledge_id.in_(pledged) | Allocation.requirement_id.in_(needed))
    )
    return int(session.scalar(query) or 0)


def create_donor(session: Session, actor: Principal, data: DonorIn) -> Donor:
    if session.get(Donor, data.code) is not None:
        raise RecordError(409, f"donor {data.code} exists already")
    return _create(session, actor, Donor(**data.model_dump()), "donor")


def update_donor(
    session: Session, actor: Principal, code: str, patch: DonorPatch, version: int
) -> Donor:
    donor = _get(session, Donor, code, "donor", lock=True)
    check_version(donor, "donor", code, version)
    _apply(session, actor, donor, "donor", code, patch.changes())
    return donor


# --- pledges (donors: their own nation's; coordinators: the status) ------------------------


def _own_nation(actor: Principal, nation: str, what: str) -> None:
    if actor.nation != nation:
        raise forbidden(
            f"{actor.name} acts for {actor.nation or 'no nation'} "
            f"and may not change {what} of {nation}"
        )


def create_pledge(session: Session, actor: Principal, data: PledgeIn) -> Pledge:
    donor = data.donor or actor.nation
    if donor is None:
        raise invalid("donor: give the donor nation", "donor")
    _own_nation(actor, donor, "the pledges")
    if session.get(Donor, donor) is None:
        raise invalid(f"donor {donor} is not registered (coordinators add donors)", "donor")
    _item(session, data.item_id, "item_id")
    pledge = Pledge(
        donor=donor,
        item_id=data.item_id,
        quantity=data.quantity,
        available_from=data.available_from,
        location=data.location,
        status=PledgeStatus.pledged.value,
        note=data.note,
    )
    return _create(session, actor, pledge, "pledge")


def update_pledge(
    session: Session, actor: Principal, pledge_id: int, patch: PledgePatch, version: int
) -> Pledge:
    pledge = _get(session, Pledge, pledge_id, "pledge", lock=True)
    changes = patch.changes()
    if actor.role is Role.coordinator:
        other = sorted(set(changes) - {"status"})
        if other:
            raise forbidden(
                f"coordinators may change only the status of a pledge, not {', '.join(other)}"
            )
    else:
        _own_nation(actor, pledge.donor, "the pledges")
    check_version(pledge, "pledge", pledge_id, version)
    if "item_id" in changes:
        _item(session, changes["item_id"], "item_id")
    if "status" in changes:
        changes["status"] = PledgeStatus(changes["status"]).value
    current = {k: getattr(pledge, k) for k in changes}
    with lifecycle_rules():
        if "status" in changes:
            lifecycle.check_status_change(
                f"pledge {pledge_id}",
                pledge.status,
                changes["status"],
                _count(session, Allocation.pledge_id, pledge_id),
            )
        lifecycle.check_pledge_edit(
            f"pledge {pledge_id}",
            pledge.status,
            changes,
            current,
            _allocated(session, Allocation.pledge_id, pledge_id),
        )
    _apply(session, actor, pledge, "pledge", pledge_id, changes)
    return pledge


def delete_pledge(session: Session, actor: Principal, pledge_id: int, version: int) -> None:
    pledge = _get(session, Pledge, pledge_id, "pledge", lock=True)
    _own_nation(actor, pledge.donor, "the pledges")
    _withdraw(session, actor, pledge, "pledge", pledge_id, version, Allocation.pledge_id)


def _withdraw(
    session: Session, actor: Principal, row: Base, entity: str, key: int, version: int, column: Any
) -> None:
    """Delete a pledge or requirement of the current ``version`` that no allocation names
    (``column``: the allocations' reference to it)."""
    check_version(row, entity, key, version)
    with lifecycle_rules():
        lifecycle.check_withdraw(f"{entity} {key}", _count(session, column, key))
    _delete(session, actor, row, entity)


# --- requirements (the partner: its own nation's) -----------------------------------------


def create_requirement(session: Session, actor: Principal, data: RequirementIn) -> Requirement:
    partner = data.partner or actor.nation
    if partner is None:
        raise invalid("partner: give the partner nation", "partner")
    _own_nation(actor, partner, "the requirements")
    _item(session, data.item_id, "item_id")
    requirement = Requirement(
        partner=partner,
        item_id=data.item_id,
        quantity=data.quantity,
        priority=data.priority,
        needed_by=data.needed_by,
        location=data.location,
        note=data.note,
    )
    return _create(session, actor, requirement, "requirement")


def update_requirement(
    session: Session, actor: Principal, req_id: int, patch: RequirementPatch, version: int
) -> Requirement:
    req = _get(session, Requirement, req_id, "requirement", lock=True)
    _own_nation(actor, req.partner, "the requirements")
    check_version(req, "requirement", req_id, version)
    changes = patch.changes()
    if "item_id" in changes:
        _item(session, changes["item_id"], "item_id")
    with lifecycle_rules():
        lifecycle.check_requirement_edit(
            changes, req.item_id, _allocated(session, Allocation.requirement_id, req_id)
        )
    _apply(session, actor, req, "requirement", req_id, changes)
    return req


def delete_requirement(session: Session, actor: Principal, req_id: int, version: int) -> None:
    req = _get(session, Requirement, req_id, "requirement", lock=True)
    _own_nation(actor, req.partner, "the requirements")
    _withdraw(session, actor, req, "requirement", req_id, version, Allocation.requirement_id)


# --- allocations (coordinators) ------------------------------------------------------------


def _check_allocation(
    session: Session,
    pledge: Pledge,
    req: Requirement,
    quantity: int,
    already: int = 0,
) -> None:
    """Refuse an allocation the lifecycle forbids (``already``: what it gave before a change)."""
    offered, needed = _item(session, pledge.item_id), _item(session, req.item_id)
    with lifecycle_rules():
        lifecycle.check_allocation(
            pledge.id,
            req.id,
            pledge.status,
            Kind(offered.category, offered.standard),
            Kind(needed.category, needed.standard),
            quantity,
            pledge.quantity - _allocated(session, Allocation.pledge_id, pledge.id) + already,
            req.quantity - _allocated(session, Allocation.requirement_id, req.id) + already,
        )


def _follow_allocations(session: Session, actor: Principal, pledge: Pledge) -> None:
    """Move the pledge to the status its allocations give it (pledged or allocated)."""
    count = _count(session, Allocation.pledge_id, pledge.id)
    status = lifecycle.status_after_allocations(pledge.status, count)
    if status.value != pledge.status:
        _apply(session, actor, pledge, "pledge", pledge.id, {"status": status.value})


def create_allocation(session: Session, actor: Principal, data: AllocationIn) -> Allocation:
    pledge = session.get(Pledge, data.pledge_id, with_for_update=True)
    if pledge is None:
        raise invalid(f"no pledge {data.pledge_id}", "pledge_id")
    req = session.get(Requirement, data.requirement_id, with_for_update=True)
    if req is None:
        raise invalid(f"no requirement {data.requirement_id}", "requirement_id")
    _check_allocation(session, pledge, req, data.quantity)
    allocation = _create(session, actor, Allocation(**data.model_dump()), "allocation")
    _follow_allocations(session, actor, pledge)
    return allocation


def update_allocation(
    session: Session, actor: Principal, alloc_id: int, patch: AllocationPatch, version: int
) -> Allocation:
    allocation = _get(session, Allocation, alloc_id, "allocation", lock=True)
    check_version(allocation, "allocation", alloc_id, version)
    changes = patch.changes()
    if "quantity" in changes:
        pledge = _get(session, Pledge, allocation.pledge_id, "pledge", lock=True)
        req = _get(session, Requirement, allocation.requirement_id, "requirement", lock=True)
        if changes["quantity"] != allocation.quantity:
            _check_allocation(session, pledge, req, changes["quantity"], allocation.quantity)
    _apply(session, actor, allocation, "allocation", alloc_id, changes)
    return allocation


def delete_allocation(session: Session, actor: Principal, alloc_id: int, version: int) -> None:
    allocation = _get(session, Allocation, alloc_id, "allocation", lock=True)
    check_version(allocation, "allocation", alloc_id, version)
    pledge = _get(session, Pledge, allocation.pledge_id, "pledge", lock=True)
    with lifecycle_rules():
        lifecycle.check_allocation_open(pledge.id, pledge.status)
    _delete(session, actor, allocation, "allocation")
    _follow_allocations(session, actor, pledge)
