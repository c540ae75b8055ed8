"""The capability file: what a capability planner adds to a scenario (docs/capability.md).

Every model is frozen and forbids unknown keys, as the scenario's do, so that a typo in a field
name is an error rather than a silently ignored value. Powers are in the scenario's unit
(brigade equivalents per capability, see the catalogue); money in millions.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from forcemodel.common.fields import Country as Ally
from forcemodel.common.fields import Identifier, NonNeg
from forcemodel.scenario.model import CAPABILITIES

Item = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]

#: Fair-share rules: the figure each ally's share is proportional to.
RULES: tuple[str, ...] = ("gdp", "population", "budget", "blend")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def _capability(value: str) -> str:
    if value not in CAPABILITIES:
        raise ValueError(f"unknown capability '{value}': use one of {', '.join(CAPABILITIES)}")
    return value


class ExtraRequirement(_Model):
    """A requirement the scenario's regions do not hold (e.g. a reserve of air defence)."""

    capability: str
    power: NonNeg = Field(description="Power required, brigade equivalents of the capability.")
    note: str | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _known(self) -> ExtraRequirement:
        _capability(self.capability)
        return self


class Bound(_Model):
    """A floor or cap on one ally's target in one capability (or in all, when none is named)."""

    ally: Ally
    capability: str | None = None
    power: NonNeg = Field(description="Least (floor) or most (cap) target, brigade equivalents.")
    source: str | None = None

    @model_validator(mode="after")
    def _known(self) -> Bound:
        if self.capability is not None:
            _capability(self.capability)
        return self


class Figure(_Model):
    """An ally's figures for a year, beside or instead of the bundled table."""

    ally: Ally
    year: Annotated[int, Field(ge=1949, le=2100)]
    gdp_busd: NonNeg | None = Field(
        default=None, description="GDP, billions of US dollars (current prices)."
    )
    gdp_const_busd: NonNeg | None = Field(
        default=None, description="GDP, billions of US dollars at 2015 prices."
    )
    population_m: NonNeg | None = Field(default=None, description="Population, millions.")
    expenditure_musd: NonNeg | None = Field(
        default=None, description="Defence expenditure, millions of US dollars."
    )
    expenditure_const_musd: NonNeg | None = Field(
        default=None,
        description="Defence expenditure, millions of US dollars at 2015 prices (rule 'budget').",
    )
    share_gdp_pct: NonNeg | None = None
    equipment_share_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    source: str


class Guideline(_Model):
    """A spending guideline: a share of GDP on defence and/or a share of it on equipment."""

    name: Annotated[str, Field(min_length=1, max_length=80)]
    share_gdp_pct: NonNeg | None = None
    equipment_share_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _something(self) -> Guideline:
        if self.share_gdp_pct is None and self.equipment_share_pct is None:
            raise ValueError("a guideline needs share_gdp_pct, equipment_share_pct or both")
        return self


class UnitCost(_Model):
    """What one unit of power of a capability costs (millions), a range where sources differ."""

    capability: str
    default: NonNeg
    low: NonNeg | None = None
    high: NonNeg | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3,4}$")] = "MUSD"
    source: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> UnitCost:
        _capability(self.capability)
        low = self.default if self.low is None else self.low
        high = self.default if self.high is None else self.high
        if not low <= self.default <= high:
            raise ValueError(
                f"need low <= default <= high, got {low:g}, {self.default:g}, {high:g}"
            )
        return self


RatePoint = tuple[NonNeg, NonNeg]


class ProductionLine(_Model):
    """A production line: output per month by day (a linear ramp), after a lead time."""

    item: Item
    line: Item
    per_month: tuple[RatePoint, ...] = Field(
        min_length=1, description="(day, output per month) points; linear between, held after."
    )
    lead_time_days: NonNeg = Field(
        default=0.0, description="Days before the line's schedule starts (output 0 before)."
    )
    share: Annotated[float, Field(ge=0, le=1)] = Field(
        default=1.0, description="Share of the output that refills the alliance's stock."
    )
    source: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ProductionLine:
        for (d0, _), (d1, _) in pairwise(self.per_month):
            if d1 <= d0:
                raise ValueError(f"per_month: days must increase, got day {d1:g} after {d0:g}")
        return self


class Stockpile(_Model):
    """A stock of munitions or interceptors and what uses it."""

    item: Item
    capability: str = Field(description="The capability whose power in the regions uses it.")
    quantity: NonNeg = Field(description="Rounds or missiles held on day 0.")
    per_power_per_day: NonNeg | None = Field(
        default=None, description="Used per unit of power per day of combat; none: bundled rate."
    )
    source: str | None = None

    @model_validator(mode="after")
    def _known(self) -> Stockpile:
        _capability(self.capability)
        return self


class JointPurchase(_Model):
    """A joint order: a quantity delivered evenly over a window after its lead time."""

    item: Item
    quantity: NonNeg
    order_day: NonNeg = 0.0
    lead_time_days: NonNeg = Field(default=730.0, description="Days from order to first delivery.")
    delivery_days: Annotated[float, Field(gt=0)] = Field(
        default=365.0, description="Days over which the quantity is delivered."
    )
    source: str | None = None


class AcquiredUnit(_Model):
    """The unit an acquisition forms, so that the simulation can move it (module
    :mod:`.acquisitions`): personnel and tons come from the catalogue's type."""

    type: Identifier = Field(description="A unit type of the scenario's catalogue.")
    home: Identifier = Field(description="The node it starts from.")
    id: Identifier | None = Field(default=None, description="Default: acq-<n>-<ally>.")
    name: str | None = None
    tier: Annotated[int, Field(ge=0, le=9)] = 2
    notice_to_move_days: NonNeg | None = None
    assigned_to: Identifier | None = None
    set_type: Identifier | None = None


class Acquisition(_Model):
    """An announced buy: power an ally adds to its offers from a year on."""

    ally: Ally
    capability: str
    power: NonNeg
    year: Annotated[int, Field(ge=2000, le=2100)] = Field(description="First year it counts.")
    what: str | None = Field(default=None, description="e.g. '4 Patriot batteries'.")
    unit: AcquiredUnit | None = Field(
        default=None, description="The unit it forms, for the force of a year as a scenario."
    )
    source: str | None = None

    def unit_id(self, k: int) -> str:
        """The id of the unit it forms, as the ``k``-th acquisition of the file (from 0)."""
        if self.unit is not None and self.unit.id is not None:
            return self.unit.id
        return f"acq-{k + 1}-{self.ally.lower()}"

    @model_validator(mode="after")
    def _known(self) -> Acquisition:
        _capability(self.capability)
        return self


class ShareRule(_Model):
    """How the fair share is measured; ``blend``: a weighted mix of the other figures."""

    rule: Literal["gdp", "population", "budget", "blend"] = "gdp"
    blend: dict[Literal["gdp", "population", "budget"], NonNeg] | None = Field(
        default=None, description="Weights of the figures for rule 'blend', e.g. {gdp: 0.5, ...}."
    )

    @model_validator(mode="after")
    def _blend(self) -> ShareRule:
        if self.rule == "blend":
            if not self.blend or sum(self.blend.values()) <= 0:
                raise ValueError("rule 'blend' needs blend weights with a positive sum")
        elif self.blend is not None:
            raise ValueError(f"blend weights are only for rule 'blend', the rule is '{self.rule}'")
        return self


class CapabilityFile(_Model):
    """Everything a capability study adds to a scenario; every part is optional."""

    year: Annotated[int, Field(ge=1949, le=2100)] = Field(
        default=2024, description="Year of the spending figures and of the acquisitions counted."
    )
    as_of: Annotated[int, Field(ge=1949, le=2100)] | None = Field(
        default=None,
        description="Year whose force the offers count (acquisitions up to it); none: year.",
    )
    share: ShareRule = ShareRule()
    cap_share: Annotated[float, Field(gt=0, le=1)] = Field(
        default=1.0, description="Most any one ally takes of a capability's requirement."
    )
    allies: tuple[Ally, ...] | None = Field(
        default=None, description="Allies that share the targets; none: those offering forces."
    )
    steps: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict,
        description="Whole units per capability (e.g. land: 1 brigade); targets come in steps.",
    )
    requirements: tuple[ExtraRequirement, ...] = ()
    floors: tuple[Bound, ...] = ()
    caps: tuple[Bound, ...] = ()
    figures: tuple[Figure, ...] = ()
    guidelines: tuple[Guideline, ...] = ()
    unit_costs: tuple[UnitCost, ...] = ()
    stockpiles: tuple[Stockpile, ...] = ()
    production: tuple[ProductionLine, ...] = ()
    pledge: tuple[ProductionLine, ...] = Field(
        default=(), description="The production lines under the pledge's ramp (none: bundled)."
    )
    joint_purchases: tuple[JointPurchase, ...] = ()
    acquisitions: tuple[Acquisition, ...] = ()

    @field_validator("steps")
    @classmethod
    def _steps(cls, steps: dict[str, float]) -> dict[str, float]:
        for cap in steps:
            _capability(cap)
        return steps
