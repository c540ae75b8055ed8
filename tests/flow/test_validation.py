"""The model against public real-world moves (docs/validation.md).

Each case runs its scenario and every one-at-a-time variation of its uncertain inputs
(docs/validation/sensitivity.py) and asserts that the modelled figure stays within the tolerance
that spread gives, so that a change to the engine that breaks realism fails here. The scenarios
are small; the whole file runs in a few seconds.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import forcemodel
from forcemodel import simulate
from forcemodel.results import Results

DOCS = Path(__file__).resolve().parents[2] / "docs"
APS2_2022 = DOCS / "validation" / "validation-aps2-2022.yaml"

# The cases, their uncertain inputs and the tolerances those give (docs/validation.md).
_spec = importlib.util.spec_from_file_location(
    "sensitivity", DOCS / "validation" / "sensitivity.py"
)
assert _spec is not None and _spec.loader is not None
sensitivity = importlib.util.module_from_spec(_spec)
sys.modules["sensitivity"] = sensitivity  # its dataclasses look their module up
_spec.loader.exec_module(sensitivity)

OWN_EQUIPMENT_OBSERVED = 60.0  # days, "the typical 60 days"
OWN_EQUIPMENT_TOLERANCE = 0.25  # +-25 % once preparation exists (issue 14)
OWN_OVER_SET_MIN_RATIO = 3.0  # own equipment several times slower than drawing the set


@pytest.mark.parametrize("case", sensitivity.cases(), ids=lambda c: c.name.split(".")[0])
def test_case_within_the_tolerance_its_sensitivity_gives(case: Any) -> None:
    """The modelled figure lies within half the spread of the figures over the reasonable
    inputs (plus the observation's own uncertainty) of the observed figure."""
    verdict = sensitivity.Verdict(case, case.runs())
    assert verdict.high > verdict.low, "an input range that changes nothing says nothing"
    assert verdict.passes, verdict.table()


@cache
def run(source: str) -> Results:
    return simulate(forcemodel.load_scenario(source))


def within(value: float, observed: float, tolerance: float) -> bool:
    return abs(value - observed) <= tolerance * observed


def port_to_field(results: Results, port: str) -> float:
    """Days from the first equipment arriving at `port` to the last unit closing."""
    events: pd.DataFrame = results.unit_events
    at_port = events[(events["load"] == "equipment") & (events["to"] == port)]
    assert not at_port.empty, f"no equipment went through {port}"
    return float(results.units["closure_day"].max() - at_port["arrive"].min())


def closure(results: Results, unit: str) -> float:
    units = results.units.set_index("unit")
    return float(units.loc[unit, "closure_day"])


def test_abct_2017_rail_is_the_bottleneck() -> None:
    # 900 wagons at 3 trains a day took ten days in 2017; the model must queue on the rail leg.
    events = run("validation-abct-2017").unit_events
    waits = events[events["wait_reason"].fillna("").str.contains("bremerhaven_zagan_rail")]
    assert len(waits) >= 5


def test_own_equipment_within_a_quarter_of_60_days_and_slower_than_the_set() -> None:
    results = run("validation-powidz")
    own = closure(results, "abct-own-equipment")
    with_set = closure(results, "abct-powidz-set")
    assert within(own, OWN_EQUIPMENT_OBSERVED, OWN_EQUIPMENT_TOLERANCE), own
    assert own >= OWN_OVER_SET_MIN_RATIO * with_set, (own, with_set)
