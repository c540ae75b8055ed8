"""The scenario format: one pydantic model per component type.

Every model is frozen (a loaded scenario is immutable) and forbids unknown keys, so a typo in a
field name is an error rather than a silently ignored value. Units are in the field names
(``t_per_day``, ``speed_kmh``, ``draw_days``) so that a file reads without a manual.

Fields that the loader fills before validation (from the unit-type catalogue, the readiness
tiers or the coordinates) are listed in :data:`FILLED_BY_LOADER`; the exported JSON Schema marks
them optional for the file while the resolved :class:`Scenario` always holds a value.

Long because this is the one model of the scenario format: every component's fields, their
units and their validators are read (and exported as JSON Schema) together, and the models
refer to one another.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from forcemodel.common.fields import (
    Country,
    Identifier,
    StrictModel,
    check_curve,
)
from forcemodel.scenario.capabilities import CAPABILITIES as CAPABILITIES
from forcemodel.scenario.capabilities import Capability as Capability
from forcemodel.scenario.uncertainty import Uncertainty

#: Fields the loader supplies when a file leaves them out, by model name.
FILLED_BY_LOADER: dict[str, tuple[str, ...]] = {
    "Unit": ("personnel", "equipment_t", "outsize", "power", "notice_to_move_days"),
    "InPlaceForce": ("personnel", "power"),
    "Link": ("id", "distance_km", "speed_kmh"),
}


#: Rail gauges in mm: standard, Russian/Baltic, Finnish, Iberian.
GAUGES: tuple[int, ...] = (1435, 1520, 1524, 1668)


class Mode(StrEnum):
    """A mode of transport."""

    rail = "rail"
    road = "road"
    sea = "sea"
    air = "air"
    inland = "inland"


class Profile(StrEnum):
    """How a kind of unit moves (docs/simulation.md, "Movement profiles")."""

    army = "army"  # by any mode, lift as the links say; reception at the region's RSOM node
    ship = "ship"  # sails with its crew, sea links only, under its own power; to a port
    aircraft = "aircraft"  # the aircraft ferry; the support flies, air links only; to an air base


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


#: Validation context key: the values come from CSV cells, which are text by nature, so text
#: that reads as a number is taken. Anywhere else (YAML, JSON, Python data) a quoted number
#: such as ``t_per_day: "2500"`` is refused: the quotes usually hide a mistake.
TEXT_CELLS = "text_cells"


def _not_text(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str) and not (info.context or {}).get(TEXT_CELLS):
        raise ValueError(f"must be a number, not the text {value[:40]!r}: remove the quotes")
    return value


def _not_text_bool(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str) and not (info.context or {}).get(TEXT_CELLS):
        raise ValueError(f"must be true or false, not the text {value[:40]!r}")
    return value


def _zero_or_at_least(low: float) -> AfterValidator:
    def check(value: float) -> float:
        if 0 < value < low:
            raise ValueError(f"must be 0 (none) or at least {low:g}, got {value:g}")
        return value

    return AfterValidator(check)


Typed = BeforeValidator(_not_text)
Flag = Annotated[bool, BeforeValidator(_not_text_bool)]

# Physical bounds (docs/scenario-format.md, "Bounds"): beyond them a figure is a typo, and
# within them every run ends and no hop is lost to rounding (docs/simulation.md, "Time").
#: Longest duration in days (a century): notice to move, draw, RSOM, disruptions, curves.
MAX_DAYS = 36500.0
#: Longest time in hours spent at a node or on an asset's turnaround (a year).
MAX_HOURS = 8760.0
#: Largest capacity per day (tons or people) and largest amount (tons, people in one unit).
MAX_PER_DAY = 1e9
MAX_PERSONNEL = 1_000_000
MAX_TONS = 1e7
#: Capacities per day are 0 (none, on links) or at least this: a smaller one is a unit mistake.
MIN_PER_DAY = 1.0

#: A non-negative number of the scenario format (typed: text refused outside CSV cells).
Amount = Annotated[float, Typed, Field(ge=0)]
Days = Annotated[float, Typed, Field(ge=0, le=MAX_DAYS)]
Hours = Annotated[float, Typed, Field(ge=0, le=MAX_HOURS)]
#: A capacity per day (tons or people): 1 .. 1e9.
PerDay = Annotated[float, Typed, Field(ge=MIN_PER_DAY, le=MAX_PER_DAY)]
#: A link's capacity per day: 0 (the link carries none of it) or 1 .. 1e9.
LinkPerDay = Annotated[float, Typed, Field(ge=0, le=MAX_PER_DAY), _zero_or_at_least(MIN_PER_DAY)]
#: An average speed: 1 .. 1,200 km/h (a day's march with halts up to a jet's cruise).
Speed = Annotated[float, Typed, Field(ge=1, le=1200)]
Tons = Annotated[float, Typed, Field(ge=0, le=MAX_TONS)]
Personnel = Annotated[int, Typed, Field(ge=0, le=MAX_PERSONNEL)]
Power_ = Annotated[float, Typed, Field(ge=0, le=1e6)]
#: A road march's length in km: 1 .. 40,075 (the Earth's circumference).
RoadKm = Annotated[float, Typed, Field(ge=1, le=40075)]

#: How a written scenario says "no road-march limit" in a CSV cell, where an empty cell means
#: "the unit type's value" (YAML's null says the same in scenario.yaml).
NO_LIMIT = "none"


def _no_limit(value: Any) -> Any:
    return None if isinstance(value, str) and value.strip().lower() == NO_LIMIT else value


RoadLimit = Annotated[RoadKm | None, BeforeValidator(_no_limit)]
#: A step curve: (day, value) pairs, days strictly increasing; the value holds until the next day.
Curve = tuple[tuple[Days, Power_], ...]


class _Model(StrictModel):
    """The shared input rules (:class:`~forcemodel.common.fields.StrictModel`); a number where
    text is expected (an id written 12) is taken as text."""

    model_config = ConfigDict(coerce_numbers_to_str=True)


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

    early_weight: Amount = Field(
        default=1.0,
        description="A gap on day 0 weighs 1 + early_weight times a gap on the horizon day.",
    )
    day_weights: tuple[Amount, ...] | None = Field(
        default=None,
        description="The weight of each day 0..horizon_days instead (horizon_days + 1 values).",
    )
    late_weight: Amount = Field(
        default=10.0,
        description="A gap on or after a region's closure target weighs 1 + late_weight times "
        "as much (with closure targets: the plan as given, by default on the command line).",
    )
    cost_weight: Amount = Field(
        default=1e-3, description="Weight of the tie-breaking cost (earliest closure, RSOM)."
    )


class TransferHours(_Model):
    """Hours to load equipment onto, or unload it from, each mode at a node without a
    ``transship`` of its own: a change of mode or gauge costs unloading plus loading
    (docs/simulation.md, "A hop"). Defaults: orders of magnitude, see their source."""

    rail: Hours = Field(default=12.0, description="Entrain or detrain at a railhead's ramps.")
    road: Hours = Field(default=2.0, description="Form up into or out of a road march.")
    sea: Hours = Field(default=24.0, description="Load or discharge a ro-ro ship in port.")
    air: Hours = Field(default=4.0, description="Load or unload aircraft at an air terminal.")
    inland: Hours = Field(default=12.0, description="Load or unload barges.")
    source: str | None = Field(
        default="assumption: a battalion's trains entrain in about half a day at a military "
        "ramp and a ro-ro ship discharges in about a day (order of magnitude from the public "
        "exercise reports in docs/validation.md); road 2 h to form up; air 4 h per wave",
        description="Where the figures come from.",
    )

    def of(self, mode: str) -> float:
        """Hours for a mode."""
        hours: float = getattr(self, mode)
        return hours


class Meta(_Model):
    """What the scenario is and the clock it runs on."""

    name: Identifier
    description: str = ""
    horizon_days: Annotated[int, Typed, Field(gt=0, le=3650)] = Field(
        default=90, description="Days simulated after the decision to reinforce (day 0)."
    )
    warning_day: Days = Field(
        default=0.0, description="Day on which hostilities may begin, counted from day 0."
    )
    ratio_threshold: Annotated[float, Typed, Field(gt=0, le=1e6)] = Field(
        default=3.0,
        description="Attacker:defender force ratio above which a day counts as vulnerable.",
    )
    sources: tuple[Source, ...] = ()
    permit_days: dict[Annotated[str, Field(pattern=r"^[A-Z]{2}$")], Days] = Field(
        default_factory=dict,
        description="By country: the day from which loads may enter it, the notice its "
        "movement permit needs (asked on day 0); a country not listed needs none.",
    )
    transfer_hours: TransferHours = Field(
        default=TransferHours(),
        description="Hours to load onto or unload from each mode where a node has no transship.",
    )
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

    tier: Annotated[int, Typed, Field(ge=0, le=9)]
    notice_to_move_days: Days = Field(
        description="Default days from the decision until a unit of this tier is ready to move."
    )
    target_troops: Annotated[int, Typed, Field(ge=0, le=100_000_000)] | None = Field(
        default=None, description="Troops the force model asks of this tier."
    )
    by_day: Days | None = Field(default=None, description="Day by which the target applies.")
    source: str | None = None


class Transship(_Model):
    """The ability of a node to move cargo between rail gauges (or modes)."""

    t_per_day: PerDay = Field(description="Tons transshipped per day (1 or more).")
    hours: Hours = Field(default=0.0, description="Time a load spends being transshipped.")


class ModeTransfer(_Model):
    """A node's means to load equipment onto, or unload it from, one mode: a railhead's ramps,
    a port's ro-ro berths (port discharge), an air terminal's loaders (docs/simulation.md,
    "A hop", stages 2 and 3)."""

    t_per_day: PerDay | None = Field(
        default=None,
        description="Tons loaded onto or unloaded from this mode per day (1 or more); empty: "
        "unlimited. A load queuing here waits for a ramp, a berth or a loader.",
    )
    hours: Hours | None = Field(
        default=None,
        description="Hours to load or unload a load here; empty: meta.transfer_hours of the mode.",
    )


class Node(_Model):
    """A place: garrison, depot, port, airfield, railhead, border crossing, assembly area."""

    id: Identifier
    kind: NodeKind
    name: str | None = None
    country: Country
    lat: Annotated[float, Typed, Field(ge=-90, le=90)]
    lon: Annotated[float, Typed, Field(ge=-180, le=180)]
    t_per_day: PerDay | None = Field(
        default=None,
        description="Cargo handled per day, tons; empty means unlimited (0 is not allowed: "
        "close a node with a disruption).",
    )
    pax_per_day: PerDay | None = Field(
        default=None, description="People handled per day; empty means unlimited."
    )
    handling_hours: Hours = Field(default=0.0, description="Time a load spends at the node.")
    transship: Transship | None = None
    transfer: dict[Mode, ModeTransfer] = Field(
        default_factory=dict,
        description="By mode: the node's capacity and time to load onto or unload from it, for "
        "a change of mode or gauge at a node without a transship (a railhead's ramps, a port's "
        "discharge, an air terminal).",
    )
    source: str | None = None


class Link(_Model):
    """A leg between two nodes by one mode."""

    id: Identifier = Field(description="Defaults to '<from>_<to>_<mode>'.")
    from_: Identifier = Field(alias="from")
    to: Identifier
    mode: Mode
    distance_km: Annotated[float, Typed, Field(ge=0.01, le=40075)] = Field(
        description="Defaults to the great-circle distance times the mode's circuity factor."
    )
    speed_kmh: Speed = Field(
        description="Average speed over the whole day (halts included); defaults by mode."
    )
    t_per_day: LinkPerDay | None = Field(
        default=None, description="Tons per day; empty: unlimited."
    )
    pax_per_day: LinkPerDay | None = Field(
        default=None, description="People per day; empty: unlimited."
    )
    gauge: Annotated[int, Typed] | None = Field(
        default=None,
        description="Rail gauge in mm (1435, 1520, 1524 or 1668); for rail links, required there.",
    )
    pool: Identifier | None = Field(
        default=None, description="Lift pool whose assets carry the traffic (air and sea links)."
    )
    bidirectional: Flag = Field(
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
    assets: Annotated[int, Typed, Field(ge=1, le=100_000)] = Field(
        description="Aircraft, ships or trains available."
    )
    payload_t: Annotated[float, Typed, Field(ge=0, le=1e6), _zero_or_at_least(0.01)] = Field(
        description="Tons one asset carries per trip (0: no cargo, or at least 0.01)."
    )
    pax: Annotated[float, Typed, Field(ge=0, le=1e5), _zero_or_at_least(1)] = Field(
        default=0, description="People one asset carries per trip (0: none, or at least 1)."
    )
    speed_kmh: Speed = Field(description="Cruise speed of an asset.")
    activation_days: Days = Field(
        default=0.0,
        description="Days from day 0 until the assets are activated and positioned (reduced "
        "operating status of reserve ships, crews recalled): no capacity before.",
    )
    turnaround_hours: Hours = Field(
        default=0.0, description="Loading, unloading and servicing per round trip."
    )
    outsize: Flag = Field(default=False, description="Can carry outsize cargo (tanks).")
    availability: Annotated[float, Typed, Field(ge=0.01, le=1)] = Field(
        default=1.0, description="Share of assets mission-capable on a given day."
    )
    source: str | None = None


class Power(_Model):
    """Combat power by capability, in brigade equivalents (see docs/concepts.md)."""

    land: Power_ = 0.0
    fires: Power_ = 0.0
    air_defence: Power_ = 0.0
    air: Power_ = 0.0
    maritime: Power_ = 0.0
    cyber: Power_ = 0.0

    def total(self) -> float:
        """Sum over capabilities."""
        return self.land + self.fires + self.air_defence + self.air + self.maritime + self.cyber


class UnitType(_Model):
    """Catalogue defaults for a type of unit."""

    personnel: Personnel
    equipment_t: Tons
    outsize: Flag = False
    power: Power
    load_out_days: Days = Field(
        default=0.0,
        description="Days to load the equipment out at the home station before its first move.",
    )
    profile: Profile = Field(
        default=Profile.army,
        description="How the type moves: army, ship (sails to a port) or aircraft (ferries "
        "to an air base); docs/simulation.md, 'Movement profiles'.",
    )
    max_road_march_km: RoadLimit = Field(
        default=None,
        description="Longest road march of its equipment, km (tracked vehicles): a longer road "
        "link is closed to it, and it never takes two road links in a row; empty: no limit.",
    )
    description: str = ""
    source: str


class Unit(_Model):
    """A force offer: a unit that can reinforce a region."""

    id: Identifier
    name: str | None = None
    nation: Country
    type: Identifier
    personnel: Personnel
    equipment_t: Tons = Field(description="Equipment to move, tons.")
    outsize: Flag = Field(description="Has outsize equipment that most aircraft cannot carry.")
    power: Power
    tier: Annotated[int, Typed, Field(ge=0, le=9)]
    notice_to_move_days: Days = Field(description="Defaults to the tier's notice to move.")
    load_out_days: Days = Field(
        default=0.0,
        description="Days to load its own equipment out at home after the notice to move "
        "(not for a set drawn elsewhere); defaults to the unit type's.",
    )
    profile: Profile = Field(
        default=Profile.army, description="How it moves; defaults to the unit type's."
    )
    max_road_march_km: RoadLimit = Field(
        default=None,
        description="Longest road march of its equipment, km; defaults to the unit type's.",
    )
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
    sets: Annotated[int, Typed, Field(ge=0, le=100_000)] = 0
    t: Annotated[float, Typed, Field(ge=0, le=1e9)] = Field(
        default=0.0, description="Tons held (for munitions)."
    )
    draw_days: Days = Field(default=0.0, description="Days to draw and prepare one set.")
    source: str | None = None

    @model_validator(mode="after")
    def _set_type_for_sets(self) -> Stock:
        if self.kind == "equipment_set" and self.set_type is None:
            raise ValueError("an equipment_set stock needs a set_type")
        return self


class InPlaceForce(_Model):
    """Forces already in a region on day 0: host nation, forward-deployed formations."""

    type: Identifier
    count: Annotated[int, Typed, Field(ge=1, le=100_000)] = 1
    nation: Country
    name: str | None = None
    personnel: Personnel = Field(description="Per formation; from catalogue.")
    power: Power = Field(description="Per formation; defaults from the catalogue.")
    source: str | None = None


class Rsom(_Model):
    """Reception, staging and onward movement at a region."""

    t_per_day: PerDay | None = Field(default=None, description="Tons received per day (>= 1).")
    pax_per_day: PerDay | None = Field(default=None, description="People received per day (>= 1).")
    days: Days = Field(default=2.0, description="Days from arrival until a unit counts.")
    assigned_factor: Annotated[float, Typed, Field(gt=0, le=1)] = Field(
        default=0.5, description="Multiplier on RSOM days for units pre-assigned to the region."
    )
    source: str | None = None


class Reception(_Model):
    """Where a region receives the units of one movement profile: a port or an air base."""

    node: Identifier = Field(description="The port (ships) or air base (aircraft).")
    t_per_day: PerDay | None = Field(
        default=None, description="Tons received per day (>= 1); empty: unlimited."
    )
    pax_per_day: PerDay | None = Field(
        default=None, description="People received per day (>= 1); empty: unlimited."
    )
    days: Days = Field(default=1.0, description="Days from arrival until a unit counts.")
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
            check_curve(getattr(self, cap), cap)
        return self


class Region(_Model):
    """A defended ally or area."""

    id: Identifier
    name: str | None = None
    country: Country | None = None
    reception: Identifier = Field(description="Node where reinforcements are received.")
    in_place: tuple[InPlaceForce, ...] = ()
    rsom: Rsom = Rsom()
    port: Reception | None = Field(
        default=None,
        description="Where ships are received (berths; their crews stay aboard); empty: "
        "ships move and are received as the army is.",
    )
    air_base: Reception | None = Field(
        default=None,
        description="Where aircraft are received (air-base reception); empty: squadrons move "
        "and are received as the army is.",
    )
    requirement: Requirement = Requirement()
    priority: Annotated[float, Typed, Field(gt=0, le=1e6)] = Field(
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
            check_curve(getattr(self, cap), cap)
        return self


class Disruption(_Model):
    """A cut in the capacity of a link or node over a time window."""

    id: Identifier | None = None
    target: Identifier = Field(description="Id of a link or a node.")
    start_day: Days
    days: Annotated[float, Typed, Field(gt=0, le=MAX_DAYS)]
    capacity_factor: Annotated[float, Typed, Field(ge=0, le=1)] = Field(
        description="Share of capacity left during the window (0: closed)."
    )
    cause: Literal["sabotage", "cyber", "strike", "weather", "accident", "other"] = "other"
    source: str | None = None


class NewSetCost(_Model):
    """What one new pre-positioned set of a type costs (the optimiser's budget decision)."""

    set_type: Identifier = Field(description="A set type that some unit can fall in on.")
    cost_m: Amount = Field(description="Cost of one new set, millions of the currency.")
    source: str | None = None


class CandidateDepot(_Model):
    """A depot that may receive new pre-positioned sets, its fixed cost and its room."""

    depot: Identifier = Field(description="A node of kind depot.")
    fixed_cost_m: Amount = Field(
        default=0.0,
        description="Cost of using the depot for new sets at all (millions of the currency), "
        "paid once whatever their number.",
    )
    capacity_sets: Annotated[int, Typed, Field(ge=0)] | None = Field(
        default=None,
        description="New sets the depot can take in, beyond the stocks it holds; empty: "
        "no limit but the budget.",
    )
    draw_days: Days | None = Field(
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

    budget_m: Amount = Field(
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

    def _repr_html_(self) -> str:
        """A short view for Jupyter: name, clock, sizes, tiers and regions (not every item)."""
        from forcemodel.scenario.display import scenario_html

        return scenario_html(self)

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
