"""Changing the board's logistics and training records: hubs, routes, courses, item needs.

Coordinators keep them, as they keep the catalogue; everyone reads them. Every change follows
:mod:`forcemodel.service.records`: the row must exist (404), the caller must have read its
current version (409), references must name existing rows (422), a row still named by another
cannot be removed (409), and every change is audited in its own transaction. A course's
prerequisites are ids of courses checked when a plan is made (courses may be entered in any
order); the plan names an unknown one (:func:`forcemodel.assist.records.check_logistics`).
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from forcemodel.service.auth import Principal
from forcemodel.service.logistics_schemas import (
    CourseIn,
    CoursePatch,
    HubIn,
    HubPatch,
    ItemNeedsIn,
    ItemNeedsPatch,
    RouteIn,
    RoutePatch,
)
from forcemodel.service.records import (
    RecordError,
    _apply,
    _create,
    _delete,
    _get,
    _item,
    check_version,
    invalid,
)
from forcemodel.service.tables import Base, Course, Hub, ItemNeeds, Route

R = TypeVar("R", bound=Base)


def _new(session: Session, actor: Principal, model: type[R], key: str, entity: str, row: R) -> R:
    if session.get(model, key) is not None:
        raise RecordError(409, f"{entity} {key!r} exists already")
    return _create(session, actor, row, entity)


def _change(
    session: Session,
    actor: Principal,
    model: type[R],
    key: str,
    entity: str,
    changes: dict[str, Any],
    version: int,
) -> R:
    row = _get(session, model, key, entity, lock=True)
    check_version(row, entity, key, version)
    _apply(session, actor, row, entity, key, changes)
    return row


def _remove(session: Session, model: type[R], key: str, entity: str, version: int) -> R:
    row = _get(session, model, key, entity, lock=True)
    check_version(row, entity, key, version)
    return row


def _hub(session: Session, hub_id: str, *loc: str | int) -> None:
    if session.get(Hub, hub_id) is None:
        raise invalid(f"no hub {hub_id!r} (coordinators add hubs with POST /hubs)", *loc)


def _not_itself(course_id: str, prerequisites: list[str]) -> None:
    for k, pre in enumerate(prerequisites):
        if pre == course_id:
            raise invalid(f"course {course_id!r} cannot require itself", "prerequisites", k)


# --- hubs ----------------------------------------------------------------------------------


def create_hub(session: Session, actor: Principal, data: HubIn) -> Hub:
    return _new(session, actor, Hub, data.id, "hub", Hub(**data.model_dump()))


def update_hub(
    session: Session, actor: Principal, hub_id: str, patch: HubPatch, version: int
) -> Hub:
    return _change(session, actor, Hub, hub_id, "hub", patch.changes(), version)


def delete_hub(session: Session, actor: Principal, hub_id: str, version: int) -> None:
    hub = _remove(session, Hub, hub_id, "hub", version)
    routes = list(session.scalars(select(Route.id).where(Route.hub_id == hub_id).limit(5)))
    if routes:
        raise RecordError(
            409, f"hub {hub_id!r} is still on route(s) {', '.join(routes)}: change them first"
        )
    _delete(session, actor, hub, "hub")


# --- routes --------------------------------------------------------------------------------


def create_route(session: Session, actor: Principal, data: RouteIn) -> Route:
    _hub(session, data.hub_id, "hub_id")
    return _new(session, actor, Route, data.id, "route", Route(**data.model_dump()))


def update_route(
    session: Session, actor: Principal, route_id: str, patch: RoutePatch, version: int
) -> Route:
    changes = patch.changes()
    if "hub_id" in changes:
        _hub(session, changes["hub_id"], "hub_id")
    return _change(session, actor, Route, route_id, "route", changes, version)


def delete_route(session: Session, actor: Principal, route_id: str, version: int) -> None:
    _delete(session, actor, _remove(session, Route, route_id, "route", version), "route")


# --- courses -------------------------------------------------------------------------------


def create_course(session: Session, actor: Principal, data: CourseIn) -> Course:
    if data.item_id is not None:
        _item(session, data.item_id, "item_id")
    _not_itself(data.id, data.prerequisites)
    return _new(session, actor, Course, data.id, "course", Course(**data.model_dump()))


def update_course(
    session: Session, actor: Principal, course_id: str, patch: CoursePatch, version: int
) -> Course:
    changes = patch.changes()
    if "item_id" in changes:
        _item(session, changes["item_id"], "item_id")
    if "prerequisites" in changes:
        _not_itself(course_id, changes["prerequisites"])
    return _change(session, actor, Course, course_id, "course", changes, version)


def delete_course(session: Session, actor: Principal, course_id: str, version: int) -> None:
    course = _remove(session, Course, course_id, "course", version)
    # Few courses: read them rather than query into JSON (the same on every database).
    needing = [
        c.id
        for c in session.scalars(select(Course).order_by(Course.id))
        if course_id in (c.prerequisites or [])
    ]
    if needing:
        raise RecordError(
            409,
            f"course {course_id!r} is a prerequisite of {', '.join(needing)}: change them first",
        )
    _delete(session, actor, course, "course")


# --- item needs ----------------------------------------------------------------------------


def create_item_needs(session: Session, actor: Principal, data: ItemNeedsIn) -> ItemNeeds:
    _item(session, data.item_id, "item_id")
    row = ItemNeeds(**data.model_dump())
    return _new(session, actor, ItemNeeds, data.item_id, "item_needs", row)


def update_item_needs(
    session: Session, actor: Principal, item_id: str, patch: ItemNeedsPatch, version: int
) -> ItemNeeds:
    return _change(session, actor, ItemNeeds, item_id, "item_needs", patch.changes(), version)


def delete_item_needs(session: Session, actor: Principal, item_id: str, version: int) -> None:
    row = _remove(session, ItemNeeds, item_id, "item_needs", version)
    _delete(session, actor, row, "item_needs")
