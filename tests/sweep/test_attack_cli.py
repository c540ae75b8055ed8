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
    result = CliRunner().invoke(app, [*args, "-b", "0", "-b", "10", "-o", str(out)])
    assert result.exit_code == 0, result.output
    attacks = pd.read_csv(out / "attacks.csv")
    assert attacks["k"].tolist() == [1, 2]
    assert attacks.loc[0, "assets"] == "garrison-a_depot-p_rail" and attacks.loc[0, "delay"] > 0
    curve = pd.read_csv(out / "protection.csv")
    assert curve["worst_delay"].is_monotonic_decreasing
    assert curve.loc[1, "worst_delay"] < curve.loc[0, "worst_delay"]
    measures = pd.read_csv(out / "measures.csv")
    top = measures.iloc[0]
    assert top["measure"] == "guard:garrison-a_depot-p_rail" and top["days_per_million"] > 0
    for name in ("criticality-lithuania.png", "protection-lithuania.png", "criticality.csv"):
        assert (out / name).stat().st_size > 0


def test_a_bad_region_or_k_is_refused() -> None:
    result = CliRunner().invoke(app, ["attack", "tiny", "--region", "lithuana", "--k", "6"])
    assert result.exit_code == 2
    assert "--region lithuana: no such region (regions: lithuania)" in result.output
    assert "--k: k is 1..5, got 6" in result.output
