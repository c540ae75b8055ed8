"""The main report's capability section: it is there (linked from the nav), and its numbers
are those of the capability API for the run's scenario (targets, spending, stockpiles)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from forcemodel import capability as cap
from forcemodel import simulate
from forcemodel.cli import app
from forcemodel.report.capability_section import KEY, YEAR, capability_view
from forcemodel.report.html import _cell
from forcemodel.scenario import load_scenario

runner = CliRunner()


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("capreport") / "results"
    simulate(load_scenario("tiny")).save(folder)
    return folder


@pytest.fixture(scope="module")
def section(results_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("html") / "report.html"
    result = runner.invoke(app, ["report", str(results_dir), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert f'<a href="#{KEY}">' in text  # the nav links to it
    start = text.index(f'<section id="{KEY}">')
    return text[start : text.index("</section>", start)]


def _rows(section: str, first_header: str) -> list[list[str]]:
    """The body rows (cell texts) of the section's table whose first column is named so."""
    for table in re.findall(r"<table>.*?</table>", section):
        if re.search(rf"<thead><tr><th>{first_header}</th>", table):
            body = table.split("<tbody>", 1)[1]
            return [
                re.findall(r"<td[^>]*>(.*?)</td>", row)
                for row in re.findall(r"<tr>(.*?)</tr>", body)
            ]
    raise AssertionError(f"no table starting with {first_header!r}")


def _texts(*values: Any) -> list[str]:
    return [_cell(v) for v in values]


def test_targets_and_offers_are_the_apis(section: str) -> None:
    api = cap.targets(load_scenario("tiny"), year=YEAR).targets
    rows = _rows(section, "ally")
    assert len(rows) == len(api) > 0
    for row, r in zip(rows, api.itertuples(), strict=True):
        assert row == _texts(r.ally, r.capability, r.target, r.offer, r.balance)
    # The targets of each capability sum to the requirement (the engine's promise, shown).
    assert api.groupby("capability")["target"].sum().to_dict() == pytest.approx(
        {"land": 4.0, "air_defence": 1.0}
    )


def test_spending_counts_are_the_apis(section: str) -> None:
    api = cap.spending(load_scenario("tiny"), year=YEAR).counts
    rows = _rows(section, "guideline")
    assert rows == [
        _texts(r.guideline, r.year, r.members, r.meeting, r.not_meeting, r.no_figure)
        for r in api.itertuples()
    ]
    # NATO's count for 2024 (press release of 17 June 2024: 23 of 32 at or above 2 %).
    assert ["2% of GDP", "2,024", "32", "23"] in [r[:4] for r in rows]


def test_stockpiles_are_the_apis(section: str) -> None:
    api = cap.industry(load_scenario("tiny")).summary
    rows = _rows(section, "item")
    assert [r[:2] for r in rows] == [[r.item, r.case] for r in api.itertuples()]
    col = list(api.columns).index("refill_days")
    assert [r[col] for r in rows] == [_cell(v) for v in api["refill_days"]]
    assert section.count('class="chart"') >= 2 + 1 + 2  # targets, spending, two stock items


def test_a_scenario_without_allies_gets_the_reason_not_numbers() -> None:
    scenario = load_scenario("tiny")
    units = tuple(u.model_copy(update={"nation": "XX"}) for u in scenario.units)
    regions = tuple(
        r.model_copy(
            update={"in_place": tuple(f.model_copy(update={"nation": "XX"}) for f in r.in_place)}
        )
        for r in scenario.regions
    )
    view = capability_view(scenario.model_copy(update={"units": units, "regions": regions}))
    assert "no ally to share the targets" in view.problem
    assert view.targets.empty
