"""The logistics and training records the board's plan needs: hubs on the way to the partner,
routes from where pledges wait through a hub, training courses (crews per system, cohorts,
prerequisites) and what each item needs (tons of one, crew of a system). Everyone reads them,
coordinators keep them (:mod:`forcemodel.service.routers.reference`)."""

from fastapi import APIRouter

from forcemodel.service import logistics
from forcemodel.service.logistics_schemas import (
    CourseIn,
    CourseOut,
    CoursePatch,
    HubIn,
    HubOut,
    HubPatch,
    ItemNeedsIn,
    ItemNeedsOut,
    ItemNeedsPatch,
    RouteIn,
    RouteOut,
    RoutePatch,
)
from forcemodel.service.routers.reference import Reference, reference_router
from forcemodel.service.tables import Course, Hub, ItemNeeds, Route

#: The tables, in the order the OpenAPI description lists them.
TABLES = (
    Reference(
        "hubs", "hubs", "hub", Hub, "id", (HubIn, HubOut, HubPatch),
        logistics.create_hub, logistics.update_hub, logistics.delete_hub,
        "The logistics hubs, by id", "that no route goes through",
    ),
    Reference(
        "routes", "routes", "route", Route, "id", (RouteIn, RouteOut, RoutePatch),
        logistics.create_route, logistics.update_route, logistics.delete_route,
        "The routes, by id", "",
    ),
    Reference(
        "courses", "courses", "course", Course, "id", (CourseIn, CourseOut, CoursePatch),
        logistics.create_course, logistics.update_course, logistics.delete_course,
        "The training courses, by id", "that no other course requires",
    ),
    Reference(
        "item-needs", "item needs", "item needs", ItemNeeds, "item_id",
        (ItemNeedsIn, ItemNeedsOut, ItemNeedsPatch),
        logistics.create_item_needs, logistics.update_item_needs, logistics.delete_item_needs,
        "What the items need, by item", "",
    ),
)  # fmt: skip

router = APIRouter()
for table in TABLES:
    router.include_router(reference_router(table))
