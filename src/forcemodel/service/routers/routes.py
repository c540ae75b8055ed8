"""Routes from where pledges wait, through a hub, to the partner: coordinators keep them."""

from forcemodel.service import logistics
from forcemodel.service.logistics_schemas import RouteIn, RouteOut, RoutePatch
from forcemodel.service.routers.reference import Reference, reference_router
from forcemodel.service.tables import Route

# One resource per router module; its five routes come from the shared factory.
router = reference_router(
    Reference(
        "routes", "routes", "route", Route, "id", (RouteIn, RouteOut, RoutePatch),
        logistics.create_route, logistics.update_route, logistics.delete_route,
        "The routes, by id", "",
    )
)  # fmt: skip
