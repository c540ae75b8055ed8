"""The model against public real-world moves (docs/validation.md).

Each test runs one validation scenario and asserts that the modelled figure stays within the
tolerance stated in docs/validation.md, so that a change to the engine that breaks realism fails
here. The scenarios are small; the whole file runs in about a second.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

import forcemodel
from forcemodel import simulate
from forcemodel.results import Results

DOCS = Path(__file__).resolve().parents[2] / "docs"
APS2_2022 = DOCS / "validation" / "validation-aps2-2022.yaml"

# Observed figures and tolerances, as stated in docs/validation.md.
PORT_TO_FIELD_OBSERVED = 14.0  # days, Bremerhaven to assembly area, January 2017
PORT_TO_FIELD_TOLERANCE = 0.30  # +-30 %
POWIDZ_CLOSURE_RANGE = (5.0, 10.0)  # days; "as little as a week"
OWN_EQUIPMENT_CLOSURE_RANGE = (30.0, 90.0)  # days; "the typical 60 days", -50 % / +50 %
OWN_OVER_SET_MIN_RATIO = 3.0  # own equipment several times slower than drawing the set
APS2_2022_OBSERVED = 21.0  # days, order (24 Feb 2022) to the set moved to Grafenwoehr (17 Mar)
APS2_2022_TOLERANCE = 0.30  # +-30 %


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


def test_abct_2017_port_to_field_within_30_percent_of_14_days() -> None:
    results = run("validation-abct-2017")
    assert len(results.units) == 7
    assert (results.units["region"] == "western-poland").all()
    days = port_to_field(results, "bremerhaven")
    assert within(days, PORT_TO_FIELD_OBSERVED, PORT_TO_FIELD_TOLERANCE), days


def test_abct_2017_rail_is_the_bottleneck() -> None:
    # 900 wagons at 3 trains a day took ten days in 2017; the model must queue on the rail leg.
    events = run("validation-abct-2017").unit_events
    waits = events[events["wait_reason"].fillna("").str.contains("bremerhaven_zagan_rail")]
    assert len(waits) >= 5


def test_powidz_set_equips_the_brigade_in_about_a_week() -> None:
    results = run("validation-powidz")
    units = results.units.set_index("unit")
    assert units.loc["abct-powidz-set", "set_from"] == "powidz-abct-set"
    low, high = POWIDZ_CLOSURE_RANGE
    assert low <= closure(results, "abct-powidz-set") <= high


def test_own_equipment_takes_weeks_and_several_times_longer_than_the_set() -> None:
    results = run("validation-powidz")
    own = closure(results, "abct-own-equipment")
    with_set = closure(results, "abct-powidz-set")
    low, high = OWN_EQUIPMENT_CLOSURE_RANGE
    assert low <= own <= high, own
    assert own >= OWN_OVER_SET_MIN_RATIO * with_set, (own, with_set)


def test_aps2_2022_set_at_grafenwoehr_within_30_percent_of_21_days() -> None:
    results = run(str(APS2_2022))
    units = results.units.set_index("unit")
    assert units.loc["abct-1-3id", "set_from"] == "coleman-abct-set"
    arrival = float(units.loc["abct-1-3id", "arrival_day"])
    assert within(arrival, APS2_2022_OBSERVED, APS2_2022_TOLERANCE), arrival
