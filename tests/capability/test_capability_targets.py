"""Requirements to fair-share targets: the hand-worked case of docs/capability.md, the
properties every apportionment keeps (sum, floors, caps), and infeasible bounds explained."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import forcemodel
from forcemodel import capability as cap
from forcemodel.capability.load import bundled_tables
from forcemodel.capability.plan import whole_targets
from forcemodel.capability.shares import bound_issues, water_fill

#: The hand-worked case (docs/capability.md, "A case worked by hand"): the tiny scenario,
#: four allies with GDP figures of round numbers (billions of USD; invented for the example).
HAND = {
    "year": 2024,
    "allies": ["DE", "PL", "NL", "LT"],
    "cap_share": 0.5,
    "figures": [
        {"ally": "DE", "year": 2024, "gdp_busd": 4000, "source": "example"},
        {"ally": "PL", "year": 2024, "gdp_busd": 800, "source": "example"},
        {"ally": "NL", "year": 2024, "gdp_busd": 1000, "source": "example"},
        {"ally": "LT", "year": 2024, "gdp_busd": 200, "source": "example"},
    ],
}


def _target(result: cap.TargetsResult, ally: str, capability: str, col: str = "target") -> float:
    t = result.targets
    return float(t[(t["ally"] == ally) & (t["capability"] == capability)][col].iloc[0])


def test_hand_worked_case_matches_the_docs() -> None:
    r = cap.targets("tiny", HAND)
    # Requirement: the peaks of lithuania's curves, land 4 and air defence 1.
    req = r.requirements.set_index("capability")["requirement"]
    assert req["land"] == 4.0 and req["air_defence"] == 1.0
    # Shares 4000:800:1000:200 of 6000; DE's fair 2.667 is capped at 0.5 x 4 = 2, the other
    # 2 go to PL, NL, LT as 800:1000:200.
    for ally, want in {"DE": 2.0, "PL": 0.8, "NL": 1.0, "LT": 0.2}.items():
        assert _target(r, ally, "land") == pytest.approx(want)
    for ally, want in {"DE": 0.5, "PL": 0.2, "NL": 0.25, "LT": 0.05}.items():
        assert _target(r, ally, "air_defence") == pytest.approx(want)
    # Offers: DE armoured brigade 1.0 + battlegroup 0.3; PL mechanised 0.9; LT 3 x 0.6.
    for ally, want in {"DE": -0.7, "PL": 0.1, "NL": -1.0, "LT": 1.6}.items():
        assert _target(r, ally, "land", "balance") == pytest.approx(want)
    assert _target(r, "NL", "air_defence", "balance") == pytest.approx(0.75)


def test_hand_worked_case_with_a_floor_and_whole_brigades() -> None:
    floor = {**HAND, "floors": [{"ally": "LT", "capability": "land", "power": 0.5}]}
    r = cap.targets("tiny", floor)
    # LT's floor 0.5; the 1.5 left after DE's cap go to PL and NL as 800:1000.
    assert _target(r, "LT", "land") == pytest.approx(0.5)
    assert _target(r, "PL", "land") == pytest.approx(1.5 * 800 / 1800)
    assert _target(r, "NL", "land") == pytest.approx(1.5 * 1000 / 1800)
    whole = cap.targets("tiny", {**HAND, "steps": {"land": 1}})
    # Continuous 2, 0.8, 1, 0.2: whole brigades 2, 1, 1, 0 (PL's remainder 0.8 is largest).
    got = {a: _target(whole, a, "land") for a in ("DE", "PL", "NL", "LT")}
    assert got == {"DE": 2.0, "PL": 1.0, "NL": 1.0, "LT": 0.0}


def test_targets_sum_to_the_requirement_on_the_eastern_flank() -> None:
    scenario = forcemodel.load_scenario("eastern-flank")
    r = cap.targets(scenario, cap_share=0.3)
    got = r.targets.groupby("capability")["target"].sum()
    req = r.requirements.set_index("capability")["requirement"]
    for c, total in got.items():
        assert total == pytest.approx(req[c])
    assert (r.targets["target"] <= 0.3 * r.targets["capability"].map(req) + 1e-9).all()
    # XX (unnamed reinforcements in the scenario) is no ally: its offers are shown apart.
    assert "XX" in set(r.unattributed["nation"])


@st.composite
def _cases(draw: st.DrawFn) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 7))
    w = np.array(draw(st.lists(st.floats(0.01, 100), min_size=n, max_size=n)))
    lo = np.array(draw(st.lists(st.floats(0, 3), min_size=n, max_size=n)))
    extra = np.array(draw(st.lists(st.floats(0, 5), min_size=n, max_size=n)))
    hi = lo + extra
    r = draw(st.floats(float(lo.sum()), float(hi.sum()))) if hi.sum() > lo.sum() else lo.sum()
    return float(r), w / w.sum(), lo, hi


@given(_cases())
def test_water_fill_sums_and_keeps_bounds(case: tuple[float, np.ndarray, ...]) -> None:
    r, w, lo, hi = case
    t = water_fill(r, w, lo, hi)
    assert t.sum() == pytest.approx(r, abs=1e-7)
    assert (t >= lo - 1e-9).all() and (t <= hi + 1e-9).all()
    # Fairness: among allies strictly inside their bounds, targets are proportional to weight.
    free = (t > lo + 1e-7) & (t < hi - 1e-7)
    if free.sum() >= 2:
        ratio = t[free] / w[free]
        assert ratio.max() == pytest.approx(ratio.min(), rel=1e-6)


@settings(max_examples=8)
@given(_cases(), st.sampled_from([0.3, 0.5, 1.0]))
def test_whole_steps_sum_and_keep_bounds(case: tuple[float, np.ndarray, ...], step: float) -> None:
    r, w, lo, hi = case
    if bound_issues(
        "land",
        r,
        [str(i) for i in range(len(w))],
        lo,
        hi,
        [("floors",)] * len(w),
        [("caps",)] * len(w),
        step,
    ):
        return  # infeasible in whole steps: explained, tested below
    t = water_fill(r, w, lo, hi)
    n = whole_targets(t, step, lo, hi, r)
    assert n.sum() == pytest.approx(math.ceil(r / step - 1e-9) * step)
    assert (n >= lo - 1e-9).all() and (n <= hi + 1e-9).all()
    assert np.allclose(n / step, np.rint(n / step))
    # Without bounds in the way, no whole-step target is a step or more from the fair one.
    free = whole_targets(t, step, np.zeros(len(t)), np.full(len(t), 1e6), r)
    assert (np.abs(free - t) < step + 1e-9).all()


def test_floors_above_the_requirement_are_explained() -> None:
    bad = {
        **HAND,
        "floors": [
            {"ally": "PL", "capability": "land", "power": 2},
            {"ally": "NL", "capability": "land", "power": 1.5},
            {"ally": "LT", "capability": "land", "power": 1},
        ],
    }
    with pytest.raises(cap.CapabilityError) as info:
        cap.targets("tiny", bad)
    text = str(info.value)
    assert "land: floors sum to 4.5, more than the requirement 4 (PL 2, NL 1.5, LT 1)" in text


def test_a_floor_above_a_cap_names_the_ally_and_both_bounds() -> None:
    bad = {**HAND, "floors": [{"ally": "DE", "capability": "air_defence", "power": 0.8}]}
    with pytest.raises(cap.CapabilityError) as info:
        cap.targets("tiny", bad)
    assert "air_defence: the floor of DE (0.8) is above its cap (0.5, set by cap_share)" in str(
        info.value
    )


def test_caps_too_low_are_explained_at_the_option() -> None:
    with pytest.raises(cap.CapabilityError) as info:
        cap.targets("tiny", HAND, cap_share=0.2)
    assert {p.file for p in info.value.problems} == {"--cap-share"}
    messages = " ".join(p.message for p in info.value.problems)
    assert "land: caps allow at most 3.2 of the requirement 4" in messages
    assert "air_defence: caps allow at most 0.8 of the requirement 1" in messages


def test_errors_point_at_the_line_of_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "cap.yaml"
    f.write_text(
        "allies: [DE, PL]\n"
        "figures:\n"
        "  - {ally: DE, year: 2024, gdp_busd: 10, source: x}\n"
        "floors:\n"
        "  - {ally: DE, capability: land, power: 3}\n"
        "  - {ally: PL, capability: land, power: 2}\n"
        "  - {ally: PL, capability: lnad, power: 2}\n"
    )
    with pytest.raises(cap.CapabilityError) as info:
        cap.targets("tiny", f)
    (p,) = info.value.problems
    assert (p.file, p.line) == (str(f), 7)
    assert "unknown capability 'lnad'" in p.message
    f.write_text(f.read_text().replace("lnad", "land"))
    with pytest.raises(cap.CapabilityError) as info:
        cap.targets("tiny", f)
    assert info.value.problems[0].line == 5
    assert "floors sum to 5" in info.value.problems[0].message


def test_an_ally_without_gdp_is_named() -> None:
    # The bundled economy table has no 2019 column: the file gives DE's GDP, NL has none.
    de = {"figures": [{"ally": "DE", "year": 2019, "gdp_busd": 3900, "source": "x"}]}
    with pytest.raises(cap.CapabilityError) as info:
        cap.targets("tiny", de, year=2019, allies=["DE", "NL"])
    (p,) = info.value.problems
    assert p.file == "--allies"
    assert "ally NL has no gdp figure for 2019" in p.message


def test_every_eastern_flank_force_provider_is_apportioned() -> None:
    """With GDP for all 32 allies bundled, only non-allies (the notional XX) are left out, in
    every year the tables hold and under every rule whose figures are bundled."""
    scenario = forcemodel.load_scenario("eastern-flank")
    nations = {u.nation for u in scenario.units} | {
        f.nation for r in scenario.regions for f in r.in_place
    }
    allies = set(bundled_tables().allies["ally"])
    for year, rule in [(2014, "gdp"), (2022, "gdp"), (2023, "population"), (2024, "gdp")]:
        r = cap.targets(scenario, year=year, rule=rule)
        members = set(bundled_tables().allies.query("member_since <= @year")["ally"])
        assert set(r.shares["ally"]) == nations & members, (year, rule)
        assert set(r.unattributed["nation"]) <= (nations - allies) | (nations - members)
        assert r.shares["weight"].sum() == pytest.approx(1.0)
    assert {"FI", "SE", "NO", "CA", "RO"} <= set(cap.targets(scenario).shares["ally"])


def test_acquisitions_add_to_offers_from_their_year() -> None:
    buys = {
        **HAND,
        "acquisitions": [
            {"ally": "NL", "capability": "land", "power": 1.0, "year": 2029, "what": "a brigade"}
        ],
    }
    now = cap.targets("tiny", buys)
    later = cap.targets(
        "tiny", {**buys, "year": 2029, "figures": [{**f, "year": 2029} for f in HAND["figures"]]}
    )
    assert _target(now, "NL", "land", "offer") == 0.0
    assert _target(later, "NL", "land", "offer") == 1.0
    # Or the 2024 figures with the force of 2029 (as_of): the same offers, 2024's shares.
    as_of = cap.targets("tiny", buys, as_of=2029)
    assert _target(as_of, "NL", "land", "offer") == 1.0 and as_of.as_of == 2029


def test_budget_and_blend_rules() -> None:
    figures = [
        {"ally": "DE", "year": 2024, "gdp_busd": 4000, "expenditure_musd": 100, "source": "x"},
        {"ally": "PL", "year": 2024, "gdp_busd": 1000, "expenditure_musd": 100, "source": "x"},
    ]
    base = {"allies": ["DE", "PL"], "figures": figures}
    gdp = cap.targets("tiny", base).shares.set_index("ally")["weight"]
    budget = cap.targets("tiny", base, rule="budget").shares.set_index("ally")["weight"]
    blend = cap.targets(
        "tiny", {**base, "share": {"rule": "blend", "blend": {"gdp": 1, "budget": 1}}}
    ).shares.set_index("ally")["weight"]
    assert gdp.to_dict() == pytest.approx({"DE": 0.8, "PL": 0.2})
    assert budget.to_dict() == pytest.approx({"DE": 0.5, "PL": 0.5})
    assert blend.to_dict() == pytest.approx({"DE": 0.65, "PL": 0.35})


_values = st.one_of(
    st.none(),
    st.integers(-5, 3000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.lists(st.integers(-2, 5), max_size=3),
    st.dictionaries(
        st.sampled_from(["ally", "capability", "power", "year", "x"]),
        st.one_of(st.text(max_size=3), st.integers(-3, 3)),
        max_size=3,
    ),
)
_fields = st.sampled_from(
    [
        "year",
        "as_of",
        "share",
        "cap_share",
        "allies",
        "steps",
        "requirements",
        "floors",
        "caps",
        "figures",
        "guidelines",
        "unit_costs",
        "stockpiles",
        "production",
        "pledge",
        "joint_purchases",
        "acquisitions",
        "bogus",
    ]
)


@given(st.dictionaries(_fields, st.one_of(_values, st.lists(_values, max_size=3)), max_size=4))
def test_any_capability_data_loads_or_is_refused_with_located_problems(data: dict) -> None:  # type: ignore[type-arg]
    try:
        loaded = cap.load_capability_data(data, label="cap.yaml")
    except cap.CapabilityError as exc:
        assert exc.problems and all(p.file == "cap.yaml" and p.message for p in exc.problems)
    else:
        assert isinstance(loaded.plan, cap.CapabilityFile)
