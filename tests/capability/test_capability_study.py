"""The eastern-flank study of docs/capability.md stays true: its headline numbers are what
the commands give with docs/capability/eastern-flank.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from forcemodel import capability as cap

STUDY = Path(__file__).resolve().parents[2] / "docs" / "capability" / "eastern-flank.yaml"


def test_study_stockpile_numbers() -> None:
    s = cap.industry("eastern-flank", STUDY).summary.set_index(["item", "case"])
    assert s.loc[("155mm-shell", "today"), "runout_day"] == 71
    assert s.loc[("155mm-shell", "pledge"), "runout_day"] == 74
    assert s.loc[("155mm-shell", "today"), "refill_days"] == 124
    assert s.loc[("155mm-shell", "pledge"), "refill_days"] == 106
    assert s.loc[("patriot-interceptor", "pledge+joint"), "runout_day"] == 24
    assert s.loc[("patriot-interceptor", "today"), "refill_days"] == 609


def test_study_targets_and_costs() -> None:
    r = cap.spending("eastern-flank", STUDY)
    t = r.targets.targets.set_index(["ally", "capability"])
    assert t.loc[("US", "land"), "target"] == 22
    assert t.loc[("GB", "air_defence"), ["target", "offer"]].tolist() == pytest.approx([1, 0.3])
    assert t.loc[("PL", "air_defence"), "offer"] == pytest.approx(2.2)  # with Wisla phase II
    assert t.loc[("CA", "air_defence"), ["target", "offer"]].tolist() == pytest.approx([1, 0])
    costs = r.costs.set_index(["ally", "capability"])
    assert costs.loc[("GB", "air_defence"), "cost_default"] == pytest.approx(1155)
    assert costs.loc[("TR", "air"), "cost_default"] == pytest.approx(1483)
    assert r.targets.requirements.set_index("capability").loc["fires", "apportioned"] == (
        pytest.approx(8.7)
    )
    # Every ally offering forces shares the targets (GDP for all 32 bundled): 26, not 15.
    assert len(r.targets.shares) == 26
    assert set(r.targets.unattributed["nation"]) == {"XX"}
    weights = r.targets.shares.set_index("ally")["weight"]
    assert weights["US"] == pytest.approx(0.535, abs=5e-4)
    assert weights["DE"] == pytest.approx(0.0843, abs=5e-5)
