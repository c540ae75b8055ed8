"""The shared field types and the one reading of a step curve (forcemodel.common.fields)."""

from __future__ import annotations

from bisect import bisect_right

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from forcemodel.common.fields import (
    Country,
    Curve,
    Identifier,
    check_curve,
    step_value,
    step_values,
)

days = st.lists(st.integers(0, 400), unique=True, max_size=8).map(sorted)


@st.composite
def curves(draw: st.DrawFn) -> Curve:
    ds = draw(days)
    vs = draw(st.lists(st.floats(0, 1e6), min_size=len(ds), max_size=len(ds)))
    return tuple((float(d), v) for d, v in zip(ds, vs, strict=True))


@given(curves(), st.lists(st.floats(-10, 500), max_size=20))
def test_a_step_curve_holds_each_value_until_the_next_day(curve: Curve, ts: list[float]) -> None:
    for t in ts:
        # The reference: the last point on or before t, 0 before the first.
        i = bisect_right([d for d, _ in curve], t) - 1
        want = curve[i][1] if i >= 0 else 0.0
        assert step_value(curve, t) == want
    assert step_values(curve, np.array(ts)).tolist() == [step_value(curve, t) for t in ts]


def test_curve_days_must_strictly_increase() -> None:
    assert check_curve(((0.0, 1.0), (3.0, 2.0)), "required") == ((0.0, 1.0), (3.0, 2.0))
    with pytest.raises(ValueError, match="required: days must be strictly increasing"):
        check_curve(((3.0, 1.0), (3.0, 2.0)), "required")


def test_identifiers_and_country_codes_are_checked() -> None:
    TypeAdapter(Identifier).validate_python("de-pzbrig-45")
    TypeAdapter(Country).validate_python("PL")
    for bad in ("", "-x", "a b"):
        with pytest.raises(ValidationError):
            TypeAdapter(Identifier).validate_python(bad)
    with pytest.raises(ValidationError):
        TypeAdapter(Country).validate_python("pl")
