"""Acquisition plans: the force of a year as a scenario the simulation reads, counted once by
the targets; a unit the scenario cannot hold is located in the capability file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import forcemodel
from forcemodel import capability as cap
from forcemodel.cli import app

BUY = {
    "year": 2024,
    "allies": ["DE", "PL"],
    "acquisitions": [
        {
            "ally": "PL",
            "capability": "air_defence",
            "power": 1.0,
            "year": 2027,
            "what": "a Patriot battalion",
            "unit": {"type": "air_defence_battalion", "home": "garrison-a", "tier": 1},
        },
        {"ally": "DE", "capability": "land", "power": 1.0, "year": 2031},
    ],
}


def test_the_force_of_a_year_is_a_scenario_and_counts_once() -> None:
    base = forcemodel.load_scenario("tiny")
    later = cap.force(base, BUY, as_of=2029)
    added = [u for u in later.units if u.id not in {v.id for v in base.units}]
    assert [(u.id, u.nation, u.power.air_defence) for u in added] == [("acq-1-pl", "PL", 1.0)]
    assert added[0].personnel == 600  # from the catalogue's air_defence_battalion
    assert cap.force(base, BUY, as_of=2026).digest() != later.digest()
    assert len(cap.force(base, BUY, as_of=2026).units) == len(base.units)
    # The targets count the buy once, from the plain scenario or from the force of 2029.
    for scenario in (base, later):
        t = cap.targets(scenario, BUY, as_of=2029).targets.set_index(["ally", "capability"])
        assert t.loc[("PL", "air_defence"), "offer"] == 1.0
    # The simulation moves it: it arrives in no region (not assigned) but runs.
    assert len(forcemodel.simulate(later).unit_events)


def test_a_unit_the_scenario_refuses_is_located(tmp_path: Path) -> None:
    f = tmp_path / "buy.yaml"
    f.write_text(
        "acquisitions:\n"
        "  - ally: PL\n"
        "    capability: land\n"
        "    power: 1\n"
        "    year: 2025\n"
        "    unit: {type: armoured_brigade, home: nowhere}\n"
    )
    with pytest.raises(cap.CapabilityError) as info:
        cap.force("tiny", f, as_of=2025)
    (p,) = info.value.problems
    assert p.line == 6 and p.field == "acquisitions[0].unit"
    assert "nowhere" in p.message


def test_cli_writes_a_scenario_the_loader_reads(tmp_path: Path) -> None:
    f = tmp_path / "buy.yaml"
    f.write_text(yaml.safe_dump(BUY))
    out = tmp_path / "tiny-2029.yaml"
    result = CliRunner().invoke(
        app, ["capability", "force", "tiny", "-c", str(f), "--as-of", "2029", "-o", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    scenario = forcemodel.load_scenario(out)
    assert scenario.meta.name == "tiny-2029"
    assert "acq-1-pl" in {u.id for u in scenario.units}
