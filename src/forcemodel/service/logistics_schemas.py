"""The API's schemas of the logistics and training records: hubs, routes, courses, item needs.

As :mod:`forcemodel.service.schemas` (whose bases and field types they use): unknown fields
refused, patches without nulls and with the version read, strict numbers (a ton figure is a JSON
number, never ``true`` or ``"5"``; days, seats and crews JSON integers), dates as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, StrictInt

from forcemodel.service.schemas import Code, Date, Label, _In, _Patch, _Row

#: Tons a day, or the weight of one item: a JSON number (never true or "5"), finite.
Tons = Annotated[
    float, Field(strict=True, gt=0, le=1e9, allow_inf_nan=False, description="Tons, above 0.")
]
Weight = Annotated[
    float,
    Field(strict=True, ge=0, le=1e6, allow_inf_nan=False, description="Tons of one item."),
]
Days = Annotated[StrictInt, Field(ge=0, le=1100, description="Whole days, 0 or more.")]
PositiveDays = Annotated[StrictInt, Field(ge=1, le=1100, description="Whole days, 1 or more.")]
Count = Annotated[StrictInt, Field(ge=0, le=1_000_000, description="A whole number, 0 or more.")]
Seats = Annotated[StrictInt, Field(ge=1, le=100_000, description="Trainees per cohort.")]
Prerequisites = Annotated[
    list[Code],
    Field(max_length=50, description="Ids of the courses to pass first (checked by the plan)."),
]


class HubIn(_In):
    """A new logistics hub."""

    id: Code = Field(examples=["rzeszow"])
    name: Label = Field(examples=["Rzeszow logistics hub"])
    location: Label = Field(examples=["Rzeszow, PL"])
    t_per_day: Tons = Field(description="Tons a day the hub passes on.", examples=[2000.0])


class HubPatch(_Patch):
    """A change to a hub."""

    name: Label | None = None
    location: Label | None = None
    t_per_day: Tons | None = None


class HubOut(_Row):
    """A logistics hub."""

    id: str
    name: str
    location: str
    t_per_day: float


class RouteIn(_In):
    """A new route: from where pledges wait, through a hub, to the partner."""

    id: Code = Field(examples=["gdansk-rzeszow"])
    origin: Label = Field(
        description="A pledge's location, matched exactly: its pledges take this route.",
        examples=["Gdansk"],
    )
    hub_id: Code
    to_hub_days: Days
    onward_days: Days
    t_per_day: Tons | None = Field(default=None, description="Tons a day the route takes.")


class RoutePatch(_Patch):
    """A change to a route."""

    origin: Label | None = None
    hub_id: Code | None = None
    to_hub_days: Days | None = None
    onward_days: Days | None = None
    t_per_day: Tons | None = None


class RouteOut(_Row):
    """A route."""

    id: str
    origin: str
    hub_id: str
    to_hub_days: int
    onward_days: int
    t_per_day: float | None


class CourseIn(_In):
    """A new training course: cohorts start every ``every_days`` from ``first_start``."""

    id: Code = Field(examples=["sph-155-crew"])
    item_id: Code | None = Field(
        default=None, description="The system it trains crews on (none: only a prerequisite)."
    )
    cohort_size: Seats
    duration_days: PositiveDays
    first_start: Date | None = Field(default=None, description="Default: the plan's first day.")
    every_days: PositiveDays | None = Field(default=None, description="Default: the duration.")
    max_cohorts: Count | None = Field(default=None, description="Default: no limit.")
    prerequisites: Prerequisites = Field(default_factory=list)


class CoursePatch(_Patch):
    """A change to a course."""

    item_id: Code | None = None
    cohort_size: Seats | None = None
    duration_days: PositiveDays | None = None
    first_start: Date | None = None
    every_days: PositiveDays | None = None
    max_cohorts: Count | None = None
    prerequisites: Prerequisites | None = None


class CourseOut(_Row):
    """A training course."""

    id: str
    item_id: str | None
    cohort_size: int
    duration_days: int
    first_start: dt.date | None
    every_days: int | None
    max_cohorts: int | None
    prerequisites: list[str]


class ItemNeedsIn(_In):
    """What one item of the catalogue needs: its weight and, for a system, its crew."""

    item_id: Code
    tons: Weight
    crew: Count = Field(default=0, description="People trained on it that one system needs.")


class ItemNeedsPatch(_Patch):
    """A change to an item's needs."""

    tons: Weight | None = None
    crew: Count | None = None


class ItemNeedsOut(_Row):
    """What one item needs."""

    item_id: str
    tons: float
    crew: int
