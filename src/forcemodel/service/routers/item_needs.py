"""What items need (tons of one, crew of a system): everyone reads, coordinators keep them."""

from forcemodel.service import logistics
from forcemodel.service.logistics_schemas import ItemNeedsIn, ItemNeedsOut, ItemNeedsPatch
from forcemodel.service.routers.reference import Reference, reference_router
from forcemodel.service.tables import ItemNeeds

# One resource per router module; its five routes come from the shared factory.
router = reference_router(
    Reference(
        "item-needs", "item needs", "item needs", ItemNeeds, "item_id",
        (ItemNeedsIn, ItemNeedsOut, ItemNeedsPatch),
        logistics.create_item_needs, logistics.update_item_needs, logistics.delete_item_needs,
        "What the items need, by item", "",
    )
)  # fmt: skip
