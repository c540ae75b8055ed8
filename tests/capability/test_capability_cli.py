"""``forcemodel capability targets|spending|industry``: files in every format, located errors
and exit status 2 for bad input, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from forcemodel.cli import app

runner = CliRunner()

HAND = """\
year: 2024
allies: [DE, PL, NL, LT]
cap_share: 0.5
figures:
  - {ally: DE, year: 2024, gdp_busd: 4000, source: example}
  - {ally: PL, year: 2024, gdp_busd: 800, source: example}
  - {ally: NL, year: 2024, gdp_busd: 1000, source: example}
  - {ally: LT, year: 2024, gdp_busd: 200, source: example}
"""


def invoke(*args: str) -> Any:
    result = runner.invoke(app, ["capability", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture
def hand(tmp_path: Path) -> Path:
    f = tmp_path / "hand.yaml"
    f.write_text(HAND)
    return f


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json", "xlsx"])
def test_targets_writes_tables_and_chart(tmp_path: Path, hand: Path, fmt: str) -> None:
    out = tmp_path / "out"
    result = invoke("targets", "tiny", "-c", str(hand), "--out", str(out), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert (out / "targets.png").stat().st_size > 1000
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "<table" in page
    if fmt == "xlsx":
        frame = pd.read_excel(out / "capability.xlsx", sheet_name="targets")
    elif fmt == "json":
        frame = pd.read_json(out / "targets.json")
    else:
        frame = getattr(pd, f"read_{fmt}")(out / f"targets.{fmt}")
    land = frame[frame["capability"] == "land"].set_index("ally")["target"]
    assert land.to_dict() == pytest.approx({"DE": 2.0, "PL": 0.8, "NL": 1.0, "LT": 0.2})


def test_spending_and_industry_write_their_tables(tmp_path: Path) -> None:
    result = invoke("spending", "eastern-flank", "--out", str(tmp_path / "s"))
    assert result.exit_code == 0, result.stderr
    counts = pd.read_csv(tmp_path / "s" / "counts.csv")
    two = counts[counts["guideline"] == "2% of GDP"].set_index("year")["meeting"]
    assert two.to_dict() == {2014: 3, 2022: 7, 2023: 11, 2024: 23}
    assert (tmp_path / "s" / "spending.png").exists()
    real = pd.read_csv(tmp_path / "s" / "real.csv").set_index(["ally", "year"])
    assert real.loc[("PL", 2024), "from_year"] == 2023
    assert real.loc[("PL", 2024), "real_change_pct"] > 0
    result = invoke("industry", "eastern-flank", "--days", "60", "--out", str(tmp_path / "i"))
    assert result.exit_code == 0, result.stderr
    summary = pd.read_csv(tmp_path / "i" / "summary.csv")
    assert set(summary["case"]) == {"today", "pledge"}
    assert (tmp_path / "i" / "stockpiles.png").exists()


@pytest.mark.parametrize(
    ("extra", "args", "where", "words"),
    [
        # caps and floors that cannot be met
        (
            "floors:\n  - {ally: PL, capability: land, power: 3}\n",
            [],
            ":10:",
            "the floor of PL (3) is above its cap (2",
        ),
        ("", ["--cap-share", "0.1"], "--cap-share", "caps allow at most 1.6 of the requirement 4"),
        # a negative production rate
        (
            "production:\n  - {item: x, line: a, per_month: [[0, -1]]}\n",
            [],
            ":10:",
            "must be 0 or more, got -1",
        ),
        # an unknown capability
        (
            "requirements:\n  - {capability: cyberr, power: 1}\n",
            [],
            ":10:",
            "unknown capability 'cyberr'",
        ),
        # an ally with no GDP figure for the year
        (
            "",
            ["--year", "2019", "--allies", "DE,IS"],
            "--allies",
            "ally IS has no gdp figure for 2019",
        ),
    ],
)
def test_bad_input_exits_2_with_a_located_message(
    tmp_path: Path, extra: str, args: list[str], where: str, words: str
) -> None:
    f = tmp_path / "cap.yaml"
    f.write_text(HAND + extra)
    command = "industry" if "production" in extra else "targets"
    result = invoke(command, "tiny", "-c", str(f), *args)
    assert result.exit_code == 2
    assert where in result.stderr and words in result.stderr, result.stderr


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    result = invoke("targets", "tiny", "--format", "xls")
    assert result.exit_code == 2 and "--format" in result.stderr
    result = invoke("targets", "tiny", "-c", str(tmp_path / "none.yaml"))
    assert result.exit_code == 2 and "none.yaml" in result.stderr
