"""Field types shared by the input formats (scenario, assistance case): identifiers, country
codes, non-negative and positive numbers, step curves and how a step curve is read, and the
strict base model.

No domain here: a format imports these so that an identifier or a curve means the same in
every file the tool reads.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

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


class StrictModel(BaseModel):
    """Base of the input formats' models: frozen (loaded input is immutable), unknown keys
    refused (a typo in a field name is an error, not a silently ignored value), no infinities
    or NaN, enums stored as their values, defaults validated too."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        allow_inf_nan=False,
        use_enum_values=True,
        validate_default=True,
    )


def check_curve(curve: Curve, what: str) -> Curve:
    """``curve`` if its days strictly increase; else :class:`ValueError` naming ``what``."""
    days = [d for d, _ in curve]
    for earlier, later in pairwise(days):
        if later <= earlier:
            raise ValueError(
                f"{what}: days must be strictly increasing, got day {later:g} after day {earlier:g}"
            )
    return curve


def step_values(curve: Any, t: Any) -> Any:
    """The value of a step curve at each time in the array ``t`` (0 before its first point).

    The one evaluation of step curves (requirements, threats, assistance needs): the value of
    the last point whose day is at or before ``t`` holds until the next point.
    """
    import numpy as np  # here: validating a file needs no numpy

    times = np.asarray(t, dtype=float)
    if not curve:
        return np.zeros(times.shape)
    i = np.searchsorted(np.array([d for d, _ in curve], dtype=float), times, side="right") - 1
    values = np.array([v for _, v in curve], dtype=float)
    return np.where(i >= 0, values[np.maximum(i, 0)], 0.0)


def step_value(curve: Any, t: float) -> float:
    """:func:`step_values` at one time."""
    return float(step_values(curve, [t])[0])
