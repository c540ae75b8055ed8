"""Stockpiles: quantities are conserved (hypothesis), run-out and refill days by hand, the
pledge's ramp and a joint purchase, and the documented feedback rule on a Results' power."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import forcemodel
from forcemodel import capability as cap
from forcemodel.capability.industry import (
    MONTH_DAYS,
    daily_output,
    joint_output,
    refill_days,
    run_stock,
)
from forcemodel.capability.model import JointPurchase, ProductionLine

_amounts = st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=60)


@given(st.floats(0, 1e7), _amounts, _amounts)
def test_stock_conserves_quantities(
    initial: float, produced: list[float], demand: list[float]
) -> None:
    n = min(len(produced), len(demand))
    p, d = np.array(produced[:n]), np.array(demand[:n])
    run = run_stock(initial, p, d)
    final = float(run["stock_end"].iloc[-1])
    scale = max(1.0, initial + p.sum() + d.sum())
    assert initial + p.sum() - run["used"].sum() == pytest.approx(final, abs=1e-9 * scale)
    assert (run["used"] + run["unmet"]).to_numpy() == pytest.approx(d, abs=1e-9 * scale)
    assert (run["stock_end"] >= -1e-9 * scale).all()
    assert (run["used"] <= d + 1e-9 * scale).all()
    # Demand goes unmet only on a day that ends with the stock empty.
    short = run["unmet"] > 1e-9 * scale
    assert (run.loc[short, "stock_end"] <= 1e-9 * scale).all()


@given(
    st.floats(0, 1e6),
    st.floats(0, 400),
    st.floats(1, 400),
    st.integers(1, 900),
)
def test_joint_purchase_delivers_its_quantity(
    q: float, lead: float, window: float, days: int
) -> None:
    buy = JointPurchase(item="x", quantity=q, lead_time_days=lead, delivery_days=window)
    out = joint_output(buy, days)
    inside = min(max(days - lead, 0.0), window) / window
    assert out.sum() == pytest.approx(q * inside, rel=1e-9, abs=1e-6)
    assert (out >= 0).all()


def test_run_out_and_refill_by_hand() -> None:
    # 30 a month is one a day; a stock of 10 used 3 a day with 1 a day made lasts 5 days:
    # day 0..4 end with 8, 6, 4, 2, 0; day 5 has 1 to give against 3.
    line = ProductionLine(item="x", line="a", per_month=((0, MONTH_DAYS),))
    made = daily_output(line, 10)
    assert made == pytest.approx(np.ones(10))
    run = run_stock(10.0, made, np.full(10, 3.0))
    assert list(run["stock_end"][:5]) == pytest.approx([8, 6, 4, 2, 0])
    assert int(np.flatnonzero(run["unmet"] > 0)[0]) == 5
    # Refilling 10 from empty at one a day takes 10 days; a line twice as fast after a lead
    # time of 4 days: 0 for 4 days, then 2 a day: 4 + 5 days.
    assert refill_days(10.0, [line], []) == 10.0
    slow_start = ProductionLine(
        item="x", line="b", per_month=((0, 2 * MONTH_DAYS),), lead_time_days=4
    )
    assert refill_days(10.0, [slow_start], []) == 9.0


def test_linear_ramp() -> None:
    ramp = ProductionLine(item="x", line="a", per_month=((0, 0), (10, 10 * MONTH_DAYS)))
    assert daily_output(ramp, 12) == pytest.approx([*range(11), 10])


def test_eastern_flank_pledge_and_joint_purchase_help() -> None:
    plan = {
        "joint_purchases": [
            {"item": "155mm-shell", "quantity": 220000, "lead_time_days": 0, "delivery_days": 100}
        ]
    }
    r = cap.industry("eastern-flank", plan)
    s = r.summary.set_index(["item", "case"])
    shells = s.loc["155mm-shell"]
    # Stocks run out in every case under the assumed use, later with more production.
    assert shells.loc["today", "runout_day"] <= shells.loc["pledge", "runout_day"]
    assert shells.loc["pledge", "runout_day"] <= shells.loc["pledge+joint", "runout_day"]
    assert shells.loc["pledge", "refill_days"] <= shells.loc["today", "refill_days"]
    for case, row in shells.iterrows():
        c = r.curves[(r.curves["item"] == "155mm-shell") & (r.curves["case"] == case)]
        total = row["initial"] + row["produced"]
        assert total - row["used"] == pytest.approx(row["final"], abs=1e-9 * total)
        assert c["demand"].sum() == pytest.approx(row["used"] + row["unmet"])
    # No use before the warning day (day 10 in the scenario).
    assert r.curves.loc[r.curves["day"] < 10, "demand"].sum() == 0.0


def test_runout_scales_power_by_the_documented_rule() -> None:
    scenario = forcemodel.load_scenario("tiny")
    plan = {
        "stockpiles": [
            {
                "item": "interceptor",
                "capability": "air_defence",
                "quantity": 10,
                "per_power_per_day": 4,
            }
        ],
        "production": [{"item": "interceptor", "line": "a", "per_month": [[0, 0]]}],
    }
    r = cap.industry(scenario, plan)
    # tiny: air defence requirement 1 from day 15 (after warning day 10): 4 a day, 10 held:
    # days 15, 16 fully met, day 17 half (2 of 4), nothing after.
    today = r.by_region[r.by_region["case"] == "today"]
    met = today.set_index("day")["met"]
    assert met[16] == 1.0 and met[17] == pytest.approx(0.5) and met[18] == 0.0
    results = forcemodel.simulate(scenario)
    power = results.region_power
    scaled = cap.scale_power_after_runout(power, r, "interceptor", residual=0.5)
    ad = power["capability"] == "air_defence"
    before = power[ad].set_index("day")["power"]
    after = scaled[ad].set_index("day")["power"]
    assert after[16] == before[16]
    assert after[17] == pytest.approx(before[17] * 0.75)
    assert after[20] == pytest.approx(before[20] * 0.5)
    assert (scaled[~ad]["power"] == power[~ad]["power"]).all()
    # Assessed: air defence met its requirement of 1 from day 15 with the Dutch battalion; after
    # the run-out it holds half of it, so the requirement is no longer met from day 18 on.
    before_a = forcemodel.assess(results).capabilities.set_index("capability")
    after = cap.results_after_runout(results, r, "interceptor", residual=0.5)
    after_a = forcemodel.assess(after).capabilities.set_index("capability")
    assert (
        after_a.loc["air_defence", "shortfall_days"] > before_a.loc["air_defence", "shortfall_days"]
    )
    assert after_a.loc["air_defence", "closure_day"] is None or pd.isna(
        after_a.loc["air_defence", "closure_day"]
    )
    assert after_a.loc["land", "shortfall_days"] == before_a.loc["land", "shortfall_days"]


def test_negative_production_rate_is_located(tmp_path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "cap.yaml"
    f.write_text("production:\n  - item: 155mm-shell\n    line: us\n    per_month: [[0, -5]]\n")
    with pytest.raises(cap.CapabilityError) as info:
        cap.industry("tiny", f)
    (p,) = info.value.problems
    assert p.line == 4 and p.field.startswith("production[0].per_month[0]")
    assert p.message == "must be 0 or more, got -5"
