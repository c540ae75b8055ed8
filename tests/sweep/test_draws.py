"""Draws: reproducible from the seed alone, within their distributions, protection only helps."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from forcemodel.scenario.uncertainty import Dist, Measure
from forcemodel.sweep.draws import draw, quantile
from forcemodel.sweep.spec import prepare
from forcemodel.sweep.worker import point_of

PLAN = prepare("tiny", draws=1, seed=0, uncertainty="tiny")
POINT = point_of(PLAN, 0)

dists = st.one_of(
    st.builds(
        lambda a, b: Dist(dist="uniform", low=min(a, b), high=max(a, b)),
        st.floats(-50, 50),
        st.floats(-50, 50),
    ),
    st.builds(
        lambda a, m, b: Dist(
            dist="triangular", **dict(zip(("low", "mode", "high"), sorted((a, m, b)), strict=True))
        ),
        st.floats(0, 50),
        st.floats(0, 50),
        st.floats(0, 50),
    ),
    st.builds(
        lambda m, s: Dist(dist="normal", mean=m, sd=s, low=m - 3 * s, high=m + 2 * s),
        st.floats(-5, 5),
        st.floats(0.1, 5),
    ),
    st.builds(
        lambda m, s: Dist(dist="lognormal", median=m, sigma=s),
        st.floats(0.1, 9),
        st.floats(0.05, 2),
    ),
    st.builds(
        lambda v: Dist(dist="choice", values=tuple(v)),
        st.lists(st.floats(-9, 9), min_size=1, max_size=4),
    ),
)


@given(dists, st.floats(0, 1))
def test_a_quantile_lies_within_its_distribution(d: Dist, u: float) -> None:
    lo, hi = d.bounds()
    x = quantile(d, u)
    assert lo - 1e-9 <= x <= hi + 1e-9
    if d.dist == "choice":
        assert x in d.values


@given(st.integers(0, 2**40), st.integers(0, 10_000))
def test_the_same_seed_and_index_give_the_same_world(seed: int, index: int) -> None:
    a = draw(POINT.scenario, POINT.uncertainty, seed, index)
    b = draw(POINT.scenario, POINT.uncertainty, seed, index)
    assert a == b
    other = draw(POINT.scenario, POINT.uncertainty, seed, index + 1)
    assert other.inputs["warning_day"] != a.inputs["warning_day"]


@given(st.integers(0, 2**40), st.integers(0, 500))
def test_a_measure_never_adds_an_event_nor_lengthens_one(seed: int, index: int) -> None:
    unc = POINT.uncertainty
    guarded = unc.model_copy(
        update={
            "measures": (
                Measure(
                    id="m",
                    hazard="gauge-sabotage",
                    cost_m=1,
                    probability_factor=0.5,
                    days_factor=0.5,
                    capacity_floor=0.2,
                    active=True,
                ),
            )
        }
    )
    before = {(e["target"], e["id"]): e for e in draw(POINT.scenario, unc, seed, index).disruptions}
    after = draw(POINT.scenario, guarded, seed, index).disruptions
    for e in after:
        old = before[(e["target"], e["id"])]  # the same random numbers: only fewer events
        if "gauge-sabotage" in e["id"]:
            assert e["days"] <= old["days"] and e["capacity_factor"] >= 0.2
        else:
            assert e == old
    assert len(after) <= len(before)


def test_a_swept_path_is_not_drawn() -> None:
    w = draw(POINT.scenario, POINT.uncertainty, 1, 1, fixed=frozenset({"meta.warning_day"}))
    assert not any(s.startswith("meta.warning_day=") for s in w.settings)
    assert replace(w, settings=()).inputs["warning_day"] == POINT.scenario.meta.warning_day
