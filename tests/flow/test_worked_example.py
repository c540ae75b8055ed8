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
    ("bundled", None, {"armd-bde-1": 27.0, "ad-bn-1": 28.0, "mech-bde-2": 50.0}),
    ("no set", _no_set, {"armd-bde-1": 29.0, "ad-bn-1": 22.1667, "mech-bde-2": 50.0}),
    ("no disruption", _no_disruption, {"armd-bde-1": 26.0, "ad-bn-1": 27.0, "mech-bde-2": 50.0}),
    ("no gauge break", _no_gauge_break, {"armd-bde-1": 22.0, "ad-bn-1": 23.0, "mech-bde-2": 47.0}),
    ("ad-bn alone", _ad_bn_alone, {"ad-bn-1": 22.1667, "mech-bde-2": 50.0}),
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
    assert units.loc["armd-bde-1", "arrival_day"] == pytest.approx(22.1667, abs=1e-4)
    ev = results.unit_events
    draw = ev[(ev["unit"] == "armd-bde-1") & (ev["kind"] == "draw")]
    assert draw["start"].tolist() == pytest.approx([3.1667], abs=1e-4)
    assert draw["arrive"].tolist() == pytest.approx([10.1667], abs=1e-4)
    eq = ev[(ev["unit"] == "armd-bde-1") & (ev["load"] == "equipment") & (ev["kind"] == "move")]
    # Leaves the depot rail on day 12, the transshipment on day 17 (+1 day), the 1520 mm line on 22.
    assert eq["depart"].tolist() == pytest.approx([12.0, 22.0])
    assert eq["arrive"].tolist() == pytest.approx([13.0, 22.1667], abs=1e-4)


def test_air_defence_battalion_queues_behind_the_brigade() -> None:
    ev = simulate(forcemodel.load_scenario("tiny")).unit_events
    ad = ev[(ev["unit"] == "ad-bn-1") & (ev["load"] == "equipment")]
    rsom = ad[ad["kind"] == "rsom"]
    assert rsom["arrive"].tolist() == pytest.approx([27.0])
    assert rsom["wait_reason"].tolist() == ["RSOM lithuania (t)"]


def test_region_closure_and_air_defence_shortfall() -> None:
    a = assess(simulate(forcemodel.load_scenario("tiny")))
    assert a.regions.set_index("region").loc["lithuania", "closure_day"] == 50
    caps = a.capabilities.set_index("capability")
    assert caps.loc["air_defence", "shortfall_days"] == 13
    assert caps.loc["land", "closure_day"] == 50
