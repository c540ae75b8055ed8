"""The ``uncertainty`` section of a scenario: what a sweep draws, and what protection changes.

A scenario runs one world; this section says how the worlds of a sweep differ (docs/sweep.md
documents every field with its unit and the public source of its default): the warning day,
slips in units' notice to move, the share of each lift pool that is serviceable, and hybrid
hazards (sabotage of rail bridges and junctions, cyber attacks on port and rail IT, cut cables
and GPS jamming that slow named units, airfield closures, weather), each with its targets,
probability per campaign or per day, duration and capacity factor. Protective measures change
those distributions and have a cost; ``attack`` says what an intelligent adversary's attack on
an asset does (docs/sweep.md, "The attacker and the defender").

The simulation itself ignores this section: a sweep turns one draw of it into ordinary
scenario settings (``meta.warning_day``, ``units.ID.notice_to_move_days``,
``lift_pools.ID.availability`` and extra rows of ``disruptions``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

NonNeg = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]
Ident = Annotated[
    str,
    Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"),
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Dist(_Model):
    """A distribution of one number; a plain number in a file means that number, fixed.

    ``uniform`` (low, high), ``triangular`` (low, mode, high), ``normal`` (mean, sd; cut to
    low..high when given), ``lognormal`` (median, sigma; cut to low..high when given),
    ``choice`` (values, with optional weights).
    """

    dist: Literal["fixed", "uniform", "triangular", "normal", "lognormal", "choice"]
    value: float | None = Field(default=None, description="The value (fixed).")
    low: float | None = Field(default=None, description="Lowest value drawn.")
    high: float | None = Field(default=None, description="Highest value drawn.")
    mode: float | None = Field(default=None, description="Most likely value (triangular).")
    mean: float | None = Field(default=None, description="Mean (normal).")
    sd: Annotated[float, Field(gt=0)] | None = Field(default=None, description="Standard dev.")
    median: Annotated[float, Field(gt=0)] | None = Field(default=None, description="(lognormal)")
    sigma: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="Standard deviation of the log (lognormal)."
    )
    values: tuple[float, ...] = Field(default=(), description="The values (choice).")
    weights: tuple[NonNeg, ...] = Field(default=(), description="Their weights (choice).")

    @model_validator(mode="after")
    def _complete(self) -> Dist:
        need = {
            "fixed": ("value",),
            "uniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
            "normal": ("mean", "sd"),
            "lognormal": ("median", "sigma"),
            "choice": (),
        }[self.dist]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a {self.dist} distribution needs {', '.join(missing)}")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        if self.dist == "triangular" and not (self.low or 0) <= (self.mode or 0) <= (
            self.high or 0
        ):
            raise ValueError("a triangular distribution needs low <= mode <= high")
        if self.dist == "choice":
            if not self.values:
                raise ValueError("a choice needs at least one value")
            if self.weights and len(self.weights) != len(self.values):
                raise ValueError(
                    f"{len(self.weights)} weights for {len(self.values)} values: give one each"
                )
            if self.weights and sum(self.weights) <= 0:
                raise ValueError("the weights of a choice must not all be 0")
        return self

    def bounds(self) -> tuple[float, float]:
        """The smallest and largest value this distribution can give."""
        if self.dist == "fixed":
            v = float(self.value or 0.0)
            return v, v
        if self.dist == "choice":
            return min(self.values), max(self.values)
        lo = -float("inf") if self.low is None else self.low
        hi = float("inf") if self.high is None else self.high
        if self.dist == "lognormal":
            lo = max(lo, 0.0)
        return lo, hi


#: A number (fixed) or a distribution.
Value = float | Dist


def value_bounds(v: Value) -> tuple[float, float]:
    """The smallest and largest value of a number or distribution."""
    return (float(v), float(v)) if isinstance(v, (int, float)) else v.bounds()


class NoticeSlip(_Model):
    """Days added to the notice to move of some units (late mobilisation, late permits)."""

    id: Ident | None = None
    units: tuple[Ident, ...] = Field(default=(), description="Units it applies to.")
    tiers: tuple[Annotated[int, Field(ge=0, le=9)], ...] = Field(
        default=(), description="Readiness tiers it applies to (with units: either)."
    )
    days: Value = Field(description="Days added to the notice to move (>= 0 after drawing).")
    per: Literal["unit", "group"] = Field(
        default="unit", description="One draw for each unit, or one for the whole group."
    )
    source: str | None = None


class LiftAvailability(_Model):
    """The share of a lift pool's assets serviceable (aircraft) or activated on time (ships)."""

    pool: Ident = Field(description="A lift pool.")
    availability: Value = Field(description="Share of the pool's assets available, 0..1.")
    source: str | None = None

    @model_validator(mode="after")
    def _share(self) -> LiftAvailability:
        lo, hi = value_bounds(self.availability)
        if lo < 0 or hi > 1:
            raise ValueError("availability must lie within 0..1 (cut the distribution there)")
        return self


HazardKind = Literal[
    "sabotage", "cyber", "cable", "gps_jamming", "airfield_closure", "weather", "strike"
]
#: The disruption cause a hazard's events are recorded under.
CAUSE = {
    "sabotage": "sabotage",
    "cyber": "cyber",
    "cable": "other",
    "gps_jamming": "other",
    "airfield_closure": "other",
    "weather": "weather",
    "strike": "strike",
}


class Hazard(_Model):
    """A hybrid threat that may hit some links, nodes or units during the campaign."""

    id: Ident
    kind: HazardKind
    targets: tuple[Ident, ...] = Field(
        default=(), description="Links or nodes whose capacity an event cuts."
    )
    units: tuple[Ident, ...] = Field(
        default=(),
        description="Units whose notice to move an event lengthens (cut cables, GPS jamming: "
        "slower command traffic).",
    )
    probability: Share = Field(
        description="Chance of an event at each target: per campaign, or per day (per)."
    )
    per: Literal["campaign", "day"] = "campaign"
    start_day: Value = Field(
        default=0.0, description="Day an event begins (per campaign), days from day 0."
    )
    window: tuple[NonNeg, NonNeg] | None = Field(
        default=None,
        description="First and last day on which events may begin (per day); default the horizon.",
    )
    days: Value = Field(default=1.0, description="Duration of an event, days (> 0).")
    capacity_factor: Value = Field(
        default=0.0, description="Share of capacity left during an event, 0..1 (0: closed)."
    )
    delay_days: Value = Field(
        default=0.0, description="Days added to the named units' notice to move by an event."
    )
    source: str | None = None

    @model_validator(mode="after")
    def _sound(self) -> Hazard:
        if not self.targets and not self.units:
            raise ValueError("a hazard needs targets (links, nodes) or units to act on")
        lo, hi = value_bounds(self.capacity_factor)
        if lo < 0 or hi > 1:
            raise ValueError("capacity_factor must lie within 0..1")
        if value_bounds(self.days)[0] < 0 or value_bounds(self.start_day)[0] < 0:
            raise ValueError("days and start_day must not be negative")
        if self.window is not None and self.window[0] > self.window[1]:
            raise ValueError(f"window: day {self.window[0]:g} is after day {self.window[1]:g}")
        return self


class Measure(_Model):
    """A protective measure: it changes a hazard's distribution at its targets, at a cost."""

    id: Ident
    hazard: Ident | None = Field(
        default=None, description="The hazard it acts on; none: only the intelligent attacker."
    )
    targets: tuple[Ident, ...] = Field(
        default=(), description="Targets it protects; empty: all of the hazard's targets."
    )
    cost_m: NonNeg = Field(description="Cost, millions of the currency (meta).")
    probability_factor: Share = Field(
        default=1.0, description="Multiplies the chance of an event (guards, cyber defence)."
    )
    days_factor: NonNeg = Field(
        default=1.0, description="Multiplies an event's duration (repair teams)."
    )
    capacity_floor: Share = Field(
        default=0.0,
        description="Capacity kept at least during an event (redundant routes, manual fallback).",
    )
    guards: bool = Field(
        default=False,
        description="The targets cannot be taken out by the intelligent attacker (attack).",
    )
    active: bool = Field(
        default=False, description="In force in a sweep (sweep it: --param ...active=[false,true])."
    )
    source: str | None = None

    @model_validator(mode="after")
    def _acts(self) -> Measure:
        if self.hazard is None and not self.guards:
            raise ValueError("a measure acts on a hazard, or guards its targets (guards: true)")
        if self.guards and not self.targets:
            raise ValueError("a guarding measure names the targets it guards")
        return self


class AttackCost(_Model):
    """What taking out one asset costs the attacker (teams, missions), in attack-budget units."""

    asset: Ident
    cost: Annotated[float, Field(gt=0)] = Field(description="Cost of attacking this asset.")
    source: str | None = None


class Attack(_Model):
    """What an intelligent adversary's attack on one asset does, and what it may attack."""

    start_day: NonNeg = Field(default=0.0, description="Day the attack begins.")
    days: Annotated[float, Field(gt=0)] = Field(
        default=14.0, description="Days until the asset is repaired or bypassed."
    )
    capacity_factor: Share = Field(default=0.0, description="Capacity left meanwhile.")
    candidates: tuple[Ident, ...] = Field(
        default=(),
        description="Links and nodes that may be attacked; empty: every capped asset on the "
        "region's routes.",
    )
    guard_cost_m: NonNeg = Field(
        default=10.0,
        description="Cost of guarding one asset against the attacker where no guarding measure "
        "names it, millions of the currency.",
    )
    cost: Annotated[float, Field(gt=0)] = Field(
        default=1.0,
        description="Attacker's cost of one asset that costs does not name, in attack-budget "
        "units; 1: an attack budget of k is k assets.",
    )
    costs: tuple[AttackCost, ...] = Field(
        default=(), description="Attack costs of named assets (an attack budget limits their sum)."
    )
    source: str | None = None


class Uncertainty(_Model):
    """What differs between the worlds of a sweep (docs/sweep.md)."""

    warning_day: Value | None = Field(
        default=None, description="Day hostilities may begin; none: meta.warning_day."
    )
    notice_to_move: tuple[NoticeSlip, ...] = ()
    lift: tuple[LiftAvailability, ...] = ()
    hazards: tuple[Hazard, ...] = ()
    measures: tuple[Measure, ...] = ()
    attack: Attack = Attack()
    source: str | None = None

    @model_validator(mode="after")
    def _known_hazards(self) -> Uncertainty:
        ids = [h.id for h in self.hazards]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"hazard ids must be unique: {', '.join(dup)} twice")
        mids = [m.id for m in self.measures]
        mdup = sorted({i for i in mids if mids.count(i) > 1})
        if mdup:
            raise ValueError(f"measure ids must be unique: {', '.join(mdup)} twice")
        return self
