"""``forcemodel attack``: tables and charts on tiny; a bad region or k is refused, located."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from forcemodel.cli import app


@pytest.mark.slow
def test_attack_writes_its_tables_and_charts(tmp_path: Path) -> None:
    out = tmp_path / "attack"
    args = ["attack", "tiny", "-u", "tiny", "--region", "lithuania", "--k", "2", "-w", "1"]
    more = ["-b", "0", "-b", "10", "--attack-budget", "1", "--check", "1000", "-o", str(out)]
    result = CliRunner().invoke(app, [*args, *more])
    assert result.exit_code == 0, result.output
    attacks = pd.read_csv(out / "attacks.csv")
    assert attacks["form"].tolist() == ["k", "k", "budget"]
    assert attacks["k"].tolist()[:2] == [1, 2]
    assert attacks.loc[0, "assets"] == "garrison-a_depot-p_rail" and attacks.loc[0, "delay"] > 0
    # Tiny is small enough to check every attack the bound cut: each answer is proven.
    assert (attacks["status"] == "exact").all()
    # Every asset costs 1 by default: a budget of 1 is the single attack.
    assert attacks.loc[2, "assets"] == attacks.loc[0, "assets"]
    assert attacks.loc[2, "attack_cost"] == 1.0
    curve = pd.read_csv(out / "protection.csv")
    assert curve["worst_delay"].is_monotonic_decreasing
    assert curve.loc[1, "worst_delay"] < curve.loc[0, "worst_delay"]
    measures = pd.read_csv(out / "measures.csv")
    top = measures.iloc[0]
    assert top["measure"] == "guard:garrison-a_depot-p_rail" and top["days_per_million"] > 0
    for name in ("criticality-lithuania.png", "protection-lithuania.png", "criticality.csv"):
        assert (out / name).stat().st_size > 0


def test_a_bad_region_k_attack_budget_or_work_limit_is_refused() -> None:
    args = ["attack", "tiny", "--region", "lithuana", "--k", "6", "--attack-budget", "0"]
    result = CliRunner().invoke(app, [*args, "--check", "-1"])
    assert result.exit_code == 2
    assert "--region lithuana: no such region (regions: lithuania)" in result.output
    assert "--k: k is 1..5, got 6" in result.output
    assert "--attack-budget: an attack budget is positive, got 0" in result.output
    assert "--check: a work limit is not negative, got -1" in result.output


def test_the_cli_default_work_limit_is_the_api_one() -> None:
    from forcemodel.cli.sweep import CHECK_LIMIT as CLI
    from forcemodel.sweep.attack import CHECK_LIMIT as API

    assert CLI == API


def test_an_attack_cost_of_an_unknown_asset_is_located(tmp_path: Path) -> None:
    unc = tmp_path / "unc.yaml"
    unc.write_text(
        "attack:\n  costs:\n    - {asset: no-such-bridge, cost: 2, source: test}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["attack", "tiny", "-u", str(unc)])
    assert result.exit_code == 2
    assert "uncertainty.attack.costs[0].asset" in result.output
    assert "unknown link or node 'no-such-bridge'" in result.output
