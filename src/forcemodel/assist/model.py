"""The security-assistance format: donors, an item catalogue, requirements, pledges, hubs,
routes, training courses and recorded deliveries, held in one :class:`AssistanceCase`.

Every model is frozen and forbids unknown keys (a typo is an error, not a silently ignored
value). Dates are ISO dates; the matching model counts days from ``meta.start`` (day 0).
Quantities are in items (systems, rounds, sets of spares); ``tons`` is the weight of one item.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from forcemodel.common.fields import Identifier, NonNeg, Pos, StrictModel


class Standard(StrEnum):
    """The standard an item belongs to: what it is compatible with, and the fleet mix."""

    nato = "nato"
    soviet = "soviet"
    other = "other"


class Category(StrEnum):
    """What kind of item: only a ``system`` needs crews and supplies to be operational."""

    system = "system"
    ammunition = "ammunition"
    spares = "spares"
    other = "other"


class Status(StrEnum):
    """The stages of a delivery, in order."""

    pledged = "pledged"
    allocated = "allocated"
    shipped = "shipped"
    delivered = "delivered"
    operational = "operational"


#: Stages a recorded delivery can be in (``operational`` is computed, never recorded).
RECORDED_STATUSES: tuple[str, ...] = ("allocated", "shipped", "delivered")


class _Model(StrictModel):
    """A model of the case format (frozen, unknown keys refused: :class:`StrictModel`)."""


class Meta(_Model):
    """What the case is and its clock: day 0 is ``start``, the last day ``start + horizon``."""

    name: Identifier
    description: str = ""
    start: dt.date
    horizon_days: Annotated[int, Field(gt=0, le=1100)] = 180
    partner: str = Field(default="partner", description="The nation receiving the assistance.")


class Donor(_Model):
    """A donor nation (or institution, e.g. the EU)."""

    id: Identifier
    name: str = ""
    source: str | None = None


class Supply(_Model):
    """What one system needs besides crews to be operational: e.g. a first load of ammunition."""

    family: Identifier = Field(description="Family of the supplying items, e.g. 155mm.")
    per_system: Pos = Field(description="Items of that family each system needs.")


class Item(_Model):
    """An entry of the catalogue: a system, a type of ammunition, spares."""

    id: Identifier
    name: str = ""
    category: Category
    capability: Identifier = Field(description="What it does, e.g. tube_artillery, tank.")
    family: Identifier = Field(description="System family or calibre, e.g. leopard-2, 155mm.")
    standard: Standard
    tons: NonNeg = Field(default=0.0, description="Weight of one item, tons (hub throughput).")
    crew: Annotated[int, Field(ge=0)] = Field(
        default=0, description="People trained on the system that one system needs."
    )
    supplies: tuple[Supply, ...] = ()
    price_eur: Pos | None = Field(default=None, description="Price of one item for procurement.")
    lead_days: Annotated[int, Field(ge=0)] = Field(
        default=0, description="Days from a funded order to the item being ready to ship."
    )
    made_at: Identifier | None = Field(
        default=None, description="Location where procured items are ready to ship."
    )
    aliases: tuple[str, ...] = Field(
        default=(), description="Other names, matched when importing the Kiel tracker."
    )
    source: str | None = None

    @model_validator(mode="after")
    def _system_only(self) -> Item:
        if self.category != Category.system and (self.crew or self.supplies):
            raise ValueError("only a system has a crew or supplies")
        if self.price_eur is not None and self.made_at is None:
            raise ValueError("an item with a price needs made_at, where procured items wait")
        return self


class Requirement(_Model):
    """What the partner needs: an item, or any item of a capability (optionally a standard)."""

    id: Identifier
    item: Identifier | None = None
    capability: Identifier | None = None
    standard: Standard | None = Field(
        default=None, description="With capability: only items of this standard serve."
    )
    quantity: Pos
    priority: Pos = 1.0
    needed_by: dt.date
    source: str | None = None

    @model_validator(mode="after")
    def _item_or_capability(self) -> Requirement:
        if (self.item is None) == (self.capability is None):
            raise ValueError("give either item or capability")
        if self.item is not None and self.standard is not None:
            raise ValueError("standard goes with capability; an item has its own standard")
        return self


class Pledge(_Model):
    """A donor's offer: items (quantity, where and from when), or funds to buy items."""

    id: Identifier
    donor: Identifier
    item: Identifier | None = None
    quantity: Pos | None = None
    funds_eur: Pos | None = Field(default=None, description="Funds that buy priced items.")
    available_from: dt.date | None = Field(default=None, description="Default: meta.start.")
    location: Identifier | None = Field(
        default=None, description="Where the items wait; funds buy at each item's made_at."
    )
    source: str | None = None

    @model_validator(mode="after")
    def _items_or_funds(self) -> Pledge:
        if self.funds_eur is None:
            if self.item is None or self.quantity is None or self.location is None:
                raise ValueError("a pledge of items needs item, quantity and location")
        elif self.item is not None or self.quantity is not None:
            raise ValueError("a pledge of funds has funds_eur and no item or quantity")
        return self


class Hub(_Model):
    """A logistics hub on the way to the partner, with its daily throughput."""

    id: Identifier
    name: str = ""
    country: str = ""
    t_per_day: Pos
    source: str | None = None


class Route(_Model):
    """From a location through a hub to the partner; times in days, optional daily tons."""

    id: Identifier
    origin: Identifier = Field(alias="from")
    hub: Identifier
    to_hub_days: Annotated[int, Field(ge=0)]
    onward_days: Annotated[int, Field(ge=0)]
    t_per_day: Pos | None = None
    source: str | None = None


class Course(_Model):
    """A training course: cohorts start every ``every_days`` from ``first_start``."""

    id: Identifier
    provider: str = ""
    place: str = ""
    cohort_size: Annotated[int, Field(gt=0)] = Field(description="Trainees per cohort.")
    duration_days: Annotated[int, Field(gt=0)]
    first_start: dt.date | None = Field(default=None, description="Default: meta.start.")
    every_days: Annotated[int, Field(gt=0)] | None = Field(
        default=None, description="Days between cohort starts; default: the duration."
    )
    max_cohorts: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Most cohorts that may run (instructors, places)."
    )
    prerequisites: tuple[Identifier, ...] = ()
    qualifies: tuple[Identifier, ...] = Field(default=(), description="Items it trains crews on.")
    source: str | None = None


class FleetEntry(_Model):
    """Systems the partner already holds (for the fleet mix)."""

    item: Identifier
    quantity: NonNeg
    source: str | None = None


class Delivery(_Model):
    """A recorded delivery of (part of) a pledge to a requirement; the plan must honour it."""

    pledge: Identifier
    requirement: Identifier
    quantity: Pos
    status: Annotated[str, Field(pattern="^(allocated|shipped|delivered)$")]
    date: dt.date | None = Field(
        default=None, description="Day it left its location (shipped) or arrived (delivered)."
    )
    route: Identifier | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _dated(self) -> Delivery:
        if self.status != "allocated" and self.date is None:
            raise ValueError(f"a {self.status} delivery needs its date")
        return self


class AssistanceCase(_Model):
    """A whole case, every reference resolved (built by :mod:`forcemodel.assist.load`)."""

    meta: Meta
    donors: tuple[Donor, ...] = ()
    items: tuple[Item, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    pledges: tuple[Pledge, ...] = ()
    hubs: tuple[Hub, ...] = ()
    routes: tuple[Route, ...] = ()
    courses: tuple[Course, ...] = ()
    fleet: tuple[FleetEntry, ...] = ()
    deliveries: tuple[Delivery, ...] = ()

    def day(self, date: dt.date | None) -> int:
        """Day number of ``date`` counted from ``meta.start`` (``None``: day 0)."""
        return 0 if date is None else (date - self.meta.start).days

    def date(self, day: int) -> dt.date:
        """The calendar date of day ``day``."""
        return self.meta.start + dt.timedelta(days=int(day))

    def item(self, item_id: str) -> Item:
        """The catalogue item ``item_id``."""
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)


#: Tables of a case, in file order, and their models.
TABLES: dict[str, type[_Model]] = {
    "donors": Donor,
    "items": Item,
    "requirements": Requirement,
    "pledges": Pledge,
    "hubs": Hub,
    "routes": Route,
    "courses": Course,
    "fleet": FleetEntry,
    "deliveries": Delivery,
}

#: Tables that may come from a CSV file (flat rows); items and courses hold lists: YAML only.
CSV_TABLES: tuple[str, ...] = (
    "donors",
    "requirements",
    "pledges",
    "hubs",
    "routes",
    "fleet",
    "deliveries",
)


def requirement_serves(req: Requirement, item: Item) -> bool:
    """Whether ``item`` can meet ``req``: the named item, or the capability and standard."""
    if req.item is not None:
        return item.id == req.item
    return item.capability == req.capability and (
        req.standard is None or item.standard == req.standard
    )
