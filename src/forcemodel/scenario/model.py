"""The scenario format: one pydantic model per component type.

Every model is frozen (a loaded scenario is immutable) and forbids unknown keys, so a typo in a
field name is an error rather than a silently ignored value. Units are in the field names
(``t_per_day``, ``speed_kmh``, ``draw_days``) so that a file reads without a manual.

Fields that the loader fills before validation (from the unit-type catalogue, the readiness
tiers or the coordinates) are listed in :data:`FILLED_BY_LOADER`; the exported JSON Schema marks
them optional for the file while the resolved :class:`Scenario` always holds a value.
"""

from __future__ import annotations

import math
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from forcemodel.scenario.uncertainty import Uncertainty

#: Fields the loader supplies when a file leaves them out, by model name.
FILLED_BY_LOADER: dict[str, tuple[str, ...]] = {
    "Unit": ("personnel", "equipment_t", "outsize", "power", "notice_to_move_days"),
    "InPlaceForce": ("personnel", "power"),
    "Link": ("id", "distance_km", "speed_kmh"),
}


class Capability(StrEnum):
    """A capability in which power is counted and required."""

    land = "land"
    fires = "fires"
    air_defence = "air_defence"
    air = "air"
    maritime = "maritime"
    cyber = "cyber"


CAPABILITIES: tuple[str, ...] = tuple(c.value for c in Capability)

#: Rail gauges in mm: standard, Russian/Baltic, Finnish, Iberian.
GAUGES: tuple[int, ...] = (1435, 1520, 1524, 1668)


class Mode(StrEnum):
    """A mode of transport."""

    rail = "rail"
    road = "road"
    sea = "sea"
    air = "air"
    inland = "inland"


class NodeKind(StrEnum):
    """What a place is used for."""

    garrison = "garrison"
    depot = "depot"
    port = "port"
    airfield = "airfield"
    railhead = "railhead"
    border_crossing = "border_crossing"
    assembly_area = "assembly_area"
    junction = "junction"


NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]
Identifier = Annotated[
    str,
    Field(
        min_length=1,
        max_length=120,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
        description="Identifier: letters, digits, '_', '-', '.'; starts with a letter or digit.",
    ),
]
Country = Annotated[
    str,
    Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code, e.g. PL."),
]
#: A step curve: (day, value) pairs, days strictly increasing; the value holds until the next day.
Curve = tuple[tuple[NonNeg, NonNeg], ...]


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        allow_inf_nan=False,
        use_enum_values=True,
        validate_default=True,
        coerce_numbers_to_str=True,
    )


def _check_curve(curve: Curve, what: str) -> Curve:
    days = [d for d, _ in curve]
    for earlier, later in pairwise(days):
        if later <= earlier:
            raise ValueError(
                f"{what}: days must be strictly increasing, got day {later:g} after day {earlier:g}"
            )
    return curve


class Source(_Model):
    """A public source a figure was taken from."""

    id: Identifier
    title: str
    url: str | None = None
    date: str | None = Field(default=None, description="Publication date, ISO format if known.")
    note: str | None = None


class Objective(_Model):
    """How the optimiser weighs shortfall and cost (docs/optimization.md, "The model").

    Each field can also be given to ``forcemodel optimize`` (Python or command line), which
    then wins over the scenario's value.
    """

    early_weight: NonNeg = Field(
        default=1.0,
        description="A gap on day 0 weighs 1 + early_weight times a gap on the horizon day.",
    )
    day_weights: tuple[NonNeg, ...] | None = Field(
        default=None,
        description="The weight of each day 0..horizon_days instead (horizon_days + 1 values).",
    )
    late_weight: NonNeg = Field(
        default=10.0,
        description="A gap on or after a region's closure target weighs 1 + late_weight times "
        "as much (with closure targets: the plan as given, by default on the command line).",
    )
    cost_weight: NonNeg = Field(
        default=1e-3, description="Weight of the tie-breaking cost (earliest closure, RSOM)."
    )


class Meta(_Model):
    """What the scenario is and the clock it runs on."""

    name: Identifier
    description: str = ""
    horizon_days: Annotated[int, Field(gt=0, le=3650)] = Field(
        default=90, description="Days simulated after the decision to reinforce (day 0)."
    )
    warning_day: NonNeg = Field(
        default=0.0, description="Day on which hostilities may begin, counted from day 0."
    )
    ratio_threshold: Pos = Field(
        default=3.0,
        description="Attacker:defender force ratio above which a day counts as vulnerable.",
    )
    sources: tuple[Source, ...] = ()
    objective: Objective | None = Field(
        default=None, description="The optimiser's weights; none: its defaults."
    )

    @model_validator(mode="after")
    def _day_weights_cover_the_horizon(self) -> Meta:
        days = self.objective.day_weights if self.objective is not None else None
        if days is not None and len(days) != self.horizon_days + 1:
            raise ValueError(
                f"objective.day_weights needs {self.horizon_days + 1} values (days 0.."
                f"{self.horizon_days}), got {len(days)}"
            )
        return self


class Tier(_Model):
    """A readiness tier of the force model and its target."""

    tier: Annotated[int, Field(ge=0, le=9)]
    notice_to_move_days: NonNeg = Field(
        description="Default days from the decision until a unit of this tier is ready to move."
    )
    target_troops: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Troops the force model asks of this tier."
    )
    by_day: NonNeg | None = Field(default=None, description="Day by which the target applies.")
    source: str | None = None


class Transship(_Model):
    """The ability of a node to move cargo between rail gauges (or modes)."""

    t_per_day: Pos = Field(description="Tons transshipped per day (more than 0).")
    hours: NonNeg = Field(default=0.0, description="Time a load spends being transshipped.")


class Node(_Model):
    """A place: garrison, depot, port, airfield, railhead, border crossing, assembly area."""

    id: Identifier
    kind: NodeKind
    name: str | None = None
    country: Country
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    t_per_day: Pos | None = Field(
        default=None,
        description="Cargo handled per day, tons; empty means unlimited (0 is not allowed: "
        "close a node with a disruption).",
    )
    pax_per_day: Pos | None = Field(
        default=None, description="People handled per day; empty means unlimited."
    )
    handling_hours: NonNeg = Field(default=0.0, description="Time a load spends at the node.")
    transship: Transship | None = None
    source: str | None = None


class Link(_Model):
    """A leg between two nodes by one mode."""

    id: Identifier = Field(description="Defaults to '<from>_<to>_<mode>'.")
    from_: Identifier = Field(alias="from")
    to: Identifier
    mode: Mode
    distance_km: Pos = Field(
        description="Defaults to the great-circle distance times the mode's circuity factor."
    )
    speed_kmh: Pos = Field(
        description="Average speed over the whole day (halts included); defaults by mode."
    )
    t_per_day: NonNeg | None = Field(default=None, description="Tons per day; empty: unlimited.")
    pax_per_day: NonNeg | None = Field(
        default=None, description="People per day; empty: unlimited."
    )
    gauge: int | None = Field(
        default=None,
        description="Rail gauge in mm (1435, 1520, 1524 or 1668); for rail links, required there.",
    )
    pool: Identifier | None = Field(
        default=None, description="Lift pool whose assets carry the traffic (air and sea links)."
    )
    bidirectional: bool = Field(
        default=True, description="Usable both ways, with the capacity in each direction."
    )
    source: str | None = None

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _gauge_only_on_rail(self) -> Link:
        if self.mode == Mode.rail and self.gauge not in GAUGES:
            got = "none given" if self.gauge is None else f"got {self.gauge}"
            raise ValueError(f"a rail link needs a gauge of 1435, 1520, 1524 or 1668 mm, {got}")
        if self.mode != Mode.rail and self.gauge is not None:
            raise ValueError(f"gauge is only for rail links, this one is {self.mode}")
        return self

    @property
    def hours(self) -> float:
        """Travel time over the link at its average speed."""
        return self.distance_km / self.speed_kmh


class LiftPool(_Model):
    """Shared transport assets (an airlift fleet, sealift ships, rail wagons)."""

    id: Identifier
    mode: Mode
    assets: Annotated[int, Field(ge=1)] = Field(description="Aircraft, ships or trains available.")
    payload_t: NonNeg = Field(description="Tons one asset carries per trip.")
    pax: NonNeg = Field(default=0, description="People one asset carries per trip.")
    speed_kmh: Pos = Field(description="Cruise speed of an asset.")
    turnaround_hours: NonNeg = Field(
        default=0.0, description="Loading, unloading and servicing per round trip."
    )
    outsize: bool = Field(default=False, description="Can carry outsize cargo (tanks).")
    availability: Annotated[float, Field(gt=0, le=1)] = Field(
        default=1.0, description="Share of assets mission-capable on a given day."
    )
    source: str | None = None


class Power(_Model):
    """Combat power by capability, in brigade equivalents (see docs/concepts.md)."""

    land: NonNeg = 0.0
    fires: NonNeg = 0.0
    air_defence: NonNeg = 0.0
    air: NonNeg = 0.0
    maritime: NonNeg = 0.0
    cyber: NonNeg = 0.0

    def total(self) -> float:
        """Sum over capabilities."""
        return self.land + self.fires + self.air_defence + self.air + self.maritime + self.cyber


class UnitType(_Model):
    """Catalogue defaults for a type of unit."""

    personnel: Annotated[int, Field(ge=0)]
    equipment_t: NonNeg
    outsize: bool = False
    power: Power
    description: str = ""
    source: str


class Unit(_Model):
    """A force offer: a unit that can reinforce a region."""

    id: Identifier
    name: str | None = None
    nation: Country
    type: Identifier
    personnel: Annotated[int, Field(ge=0)]
    equipment_t: NonNeg = Field(description="Equipment to move, tons.")
    outsize: bool = Field(description="Has outsize equipment that most aircraft cannot carry.")
    power: Power
    tier: Annotated[int, Field(ge=0, le=9)]
    notice_to_move_days: NonNeg = Field(description="Defaults to the tier's notice to move.")
    home: Identifier = Field(description="Node the unit starts from.")
    assigned_to: Identifier | None = Field(
        default=None, description="Region the unit is pre-assigned to."
    )
    set_type: Identifier | None = Field(
        default=None, description="Pre-positioned equipment set the unit can fall in on."
    )
    source: str | None = None


class Stock(_Model):
    """Pre-positioned equipment sets or munitions at a depot."""

    id: Identifier
    depot: Identifier
    kind: Literal["equipment_set", "munitions"] = "equipment_set"
    set_type: Identifier | None = Field(
        default=None, description="Type of set held (for equipment sets)."
    )
    sets: Annotated[int, Field(ge=0)] = 0
    t: NonNeg = Field(default=0.0, description="Tons held (for munitions).")
    draw_days: NonNeg = Field(default=0.0, description="Days to draw and prepare one set.")
    source: str | None = None

    @model_validator(mode="after")
    def _set_type_for_sets(self) -> Stock:
        if self.kind == "equipment_set" and self.set_type is None:
            raise ValueError("an equipment_set stock needs a set_type")
        return self


class InPlaceForce(_Model):
    """Forces already in a region on day 0: host nation, forward-deployed formations."""

    type: Identifier
    count: Annotated[int, Field(ge=1)] = 1
    nation: Country
    name: str | None = None
    personnel: Annotated[int, Field(ge=0)] = Field(description="Per formation; from catalogue.")
    power: Power = Field(description="Per formation; defaults from the catalogue.")
    source: str | None = None


class Rsom(_Model):
    """Reception, staging and onward movement at a region."""

    t_per_day: Pos | None = Field(default=None, description="Tons received per day (> 0).")
    pax_per_day: Pos | None = Field(default=None, description="People received per day (> 0).")
    days: NonNeg = Field(default=2.0, description="Days from arrival until a unit counts.")
    assigned_factor: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.5, description="Multiplier on RSOM days for units pre-assigned to the region."
    )
    source: str | None = None


class Requirement(_Model):
    """Time-phased requirement per capability: step curves of power by day."""

    land: Curve = ()
    fires: Curve = ()
    air_defence: Curve = ()
    air: Curve = ()
    maritime: Curve = ()
    cyber: Curve = ()

    @model_validator(mode="after")
    def _ordered(self) -> Requirement:
        for cap in CAPABILITIES:
            _check_curve(getattr(self, cap), cap)
        return self


class Region(_Model):
    """A defended ally or area."""

    id: Identifier
    name: str | None = None
    country: Country | None = None
    reception: Identifier = Field(description="Node where reinforcements are received.")
    in_place: tuple[InPlaceForce, ...] = ()
    rsom: Rsom = Rsom()
    requirement: Requirement = Requirement()
    priority: Annotated[float, Field(gt=0)] = Field(
        default=1.0, description="Weight of this region's gaps when loads compete."
    )
    source: str | None = None

    def in_place_power(self, capability: str) -> float:
        """Power of one capability that the forces already in the region hold."""
        total: float = sum(getattr(f.power, capability) * f.count for f in self.in_place)
        return total


class Threat(_Model):
    """Adversary combat power available against a region, by day."""

    region: Identifier
    relative_to: Literal["warning_day", "decision"] = "warning_day"
    land: Curve = ()
    fires: Curve = ()
    air_defence: Curve = ()
    air: Curve = ()
    maritime: Curve = ()
    cyber: Curve = ()
    source: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Threat:
        for cap in CAPABILITIES:
            _check_curve(getattr(self, cap), cap)
        return self


class Disruption(_Model):
    """A cut in the capacity of a link or node over a time window."""

    id: Identifier | None = None
    target: Identifier = Field(description="Id of a link or a node.")
    start_day: NonNeg
    days: Pos
    capacity_factor: Annotated[float, Field(ge=0, le=1)] = Field(
        description="Share of capacity left during the window (0: closed)."
    )
    cause: Literal["sabotage", "cyber", "strike", "weather", "accident", "other"] = "other"
    source: str | None = None


class NewSetCost(_Model):
    """What one new pre-positioned set of a type costs (the optimiser's budget decision)."""

    set_type: Identifier = Field(description="A set type that some unit can fall in on.")
    cost_m: NonNeg = Field(description="Cost of one new set, millions of the currency.")
    source: str | None = None


class CandidateDepot(_Model):
    """A depot that may receive new pre-positioned sets, its fixed cost and its room."""

    depot: Identifier = Field(description="A node of kind depot.")
    fixed_cost_m: NonNeg = Field(
        default=0.0,
        description="Cost of using the depot for new sets at all (millions of the currency), "
        "paid once whatever their number.",
    )
    capacity_sets: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="New sets the depot can take in, beyond the stocks it holds; empty: "
        "no limit but the budget.",
    )
    draw_days: NonNeg | None = Field(
        default=None,
        description="Days to draw and prepare one new set there; empty: those of the "
        "depot's existing stock (required where it holds none).",
    )
    source: str | None = None


class Prepositioning(_Model):
    """The budgeted pre-positioning decision: which depots get how many new sets of which type.

    Read by ``forcemodel optimize`` (docs/optimization.md, "Pre-positioning within a budget");
    the simulation ignores it (it runs the stocks as given).
    """

    budget_m: NonNeg = Field(
        default=0.0, description="Money for new sets and depots, millions of the currency."
    )
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = Field(
        default="EUR", description="ISO 4217 code of every money field (in millions)."
    )
    sets: tuple[NewSetCost, ...] = Field(
        default=(), description="The set types that may be bought, with the cost of one set."
    )
    depots: tuple[CandidateDepot, ...] = Field(
        default=(), description="The depots that may receive new sets."
    )
    source: str | None = None


class Scenario(_Model):
    """A whole, validated, immutable scenario: plain component tables.

    Build one with :func:`forcemodel.load_scenario`; the constructor alone does not resolve
    catalogue defaults or check cross-references.
    """

    meta: Meta
    tiers: tuple[Tier, ...] = ()
    unit_types: dict[str, UnitType] = Field(default_factory=dict)
    nodes: tuple[Node, ...] = ()
    links: tuple[Link, ...] = ()
    lift_pools: tuple[LiftPool, ...] = ()
    units: tuple[Unit, ...] = ()
    stocks: tuple[Stock, ...] = ()
    regions: tuple[Region, ...] = ()
    threats: tuple[Threat, ...] = ()
    disruptions: tuple[Disruption, ...] = ()
    prepositioning: Prepositioning | None = Field(
        default=None,
        description="New pre-positioned sets the optimiser may buy within a budget; none: "
        "only the stocks as given.",
    )
    # Read by sweeps only; left out of dumps (and so of the digest) like the simulation ignores it.
    uncertainty: Uncertainty | None = Field(default=None, exclude=True)

    def table(self, component: str) -> Any:
        """One component table as a pandas DataFrame (nested fields flattened with dots)."""
        import pandas as pd

        rows = [
            _flatten(item.model_dump(by_alias=True, mode="json"))
            for item in getattr(self, component)
        ]
        return pd.DataFrame(rows)

    def digest(self) -> str:
        """SHA-256 of the canonical JSON form: equal scenarios have equal digests."""
        import hashlib

        # Without the optional section the digest is the one it had before the section existed.
        skip = {"prepositioning"} if self.prepositioning is None else None
        payload = self.model_dump_json(by_alias=True, exclude=skip).encode()
        return hashlib.sha256(payload).hexdigest()

    def node(self, node_id: str) -> Node:
        """The node with this id."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of the Earth's mean radius (6,371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


COMPONENT_MODELS: dict[str, type[_Model]] = {
    "tiers": Tier,
    "nodes": Node,
    "links": Link,
    "lift_pools": LiftPool,
    "units": Unit,
    "stocks": Stock,
    "regions": Region,
    "threats": Threat,
    "disruptions": Disruption,
}
