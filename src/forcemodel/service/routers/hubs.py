"""Logistics hubs on the way to the partner: everyone reads them, coordinators keep them."""

from forcemodel.service import logistics
from forcemodel.service.logistics_schemas import HubIn, HubOut, HubPatch
from forcemodel.service.routers.reference import Reference, reference_router
from forcemodel.service.tables import Hub

# One resource per router module; its five routes come from the shared factory.
router = reference_router(
    Reference(
        "hubs", "hubs", "hub", Hub, "id", (HubIn, HubOut, HubPatch),
        logistics.create_hub, logistics.update_hub, logistics.delete_hub,
        "The logistics hubs, by id", "that no route goes through",
    )
)  # fmt: skip
