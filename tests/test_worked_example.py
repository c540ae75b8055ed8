"""The tiny scenario's closure days, as worked out by hand in docs/worked-example.md."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

import forcemodel
from forcemodel import simulate
from forcemodel.assessment import assess

TINY: dict[str, Any] = yaml.safe_load(
    forcemodel.bundled_scenarios()["tiny"].read_text(encoding="utf-8")
)


def _no_set(d: dict[str, Any]) -> None:
    for u in d["units"]:
        u.pop("set_type", None)


def _no_disruption(d: dict[str, Any]) -> None:
    d["disruptions"] = []


def _no_gauge_break(d: dict[str, Any]) -> None:
    for link in d["links"]:
        if link.get("gauge") == 1520:
            link["gauge"] = 1435


def _ad_bn_alone(d: dict[str, Any]) -> None:
    d["units"] = [u for u in d["units"] if u["id"] != "armd-bde-1"]


VARIANTS: list[tuple[str, Callable[[dict[str, Any]], None] | None, dict[str, float]]] = [
    ("bundled", None, {"armd-bde-1": 29.1833, "ad-bn-1": 29.6833, "mech-bde-2": 52.7167}),
    ("no set", _no_set, {"armd-bde-1": 31.6059, "ad-bn-1": 18.46, "mech-bde-2": 52.7167}),
    (
        "no disruption",
        _no_disruption,
        {"armd-bde-1": 28.5417, "ad-bn-1": 29.0417, "mech-bde-2": 52.7167},
    ),
    (
        "no gauge break",
        _no_gauge_break,
        {"armd-bde-1": 24.4167, "ad-bn-1": 24.9167, "mech-bde-2": 49.4667},
    ),
    ("ad-bn alone", _ad_bn_alone, {"ad-bn-1": 18.46, "mech-bde-2": 52.7167}),
]


@pytest.mark.parametrize(("name", "change", "expected"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_closure_days_match_the_hand_calculation(
    name: str, change: Callable[[dict[str, Any]], None] | None, expected: dict[str, float]
) -> None:
    data = copy.deepcopy(TINY)
    if change is not None:
        change(data)
    results = simulate(forcemodel.load_scenario_data(data, label=name))
    closure = dict(zip(results.units["unit"], results.units["closure_day"], strict=True))
    assert closure == pytest.approx(expected, abs=1e-4)


def test_each_factor_changes_the_answer() -> None:
    base = VARIANTS[0][2]
    for name, _, expected in VARIANTS[1:]:
        assert any(abs(expected[u] - base[u]) > 0.5 for u in expected), name


def test_armoured_brigade_draws_the_set_and_its_stages() -> None:
    results = simulate(forcemodel.load_scenario("tiny"))
    units = results.units.set_index("unit")
    assert units.loc["armd-bde-1", "set_from"] == "powidz-set"
    assert units.loc["armd-bde-1", "arrival_day"] == pytest.approx(23.1833, abs=1e-4)
    ev = results.unit_events
    draw = ev[(ev["unit"] == "armd-bde-1") & (ev["kind"] == "draw")]
    assert draw["start"].tolist() == pytest.approx([4.0])
    assert draw["arrive"].tolist() == pytest.approx([11.0])
    ad = ev[(ev["unit"] == "ad-bn-1") & (ev["load"] == "equipment") & (ev["kind"] == "move")]
    # It waits 2.7858 days at the transshipment and 3.8542 days for the 1520 mm line.
    assert ad["wait_days"].sum() == pytest.approx(2.78581 + 3.85417, abs=1e-4)


def test_region_closure_and_air_defence_shortfall() -> None:
    a = assess(simulate(forcemodel.load_scenario("tiny")))
    assert a.regions.set_index("region").loc["lithuania", "closure_day"] == 53
    caps = a.capabilities.set_index("capability")
    assert caps.loc["air_defence", "shortfall_days"] == 15
    assert caps.loc["land", "closure_day"] == 53
