"""Where analysts work: Excel workbooks, Jupyter views, the top-level API (issue 16, item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

import forcemodel
from forcemodel.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("runs")
    a, b = root / "a", root / "b"
    assert runner.invoke(app, ["simulate", "tiny", "--out", str(a), "-q"]).exit_code == 0
    slow = "links.depot-p_gauge-change_rail.t_per_day=3000"
    assert (
        runner.invoke(app, ["simulate", "tiny", "-o", str(b), "-q", "--set", slow]).exit_code == 0
    )
    return a, b


def sheet(path: Path, name: str) -> list[dict[str, object]]:
    rows = list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]  # type: ignore[arg-type]


def test_assessment_workbook_holds_the_json_tables(runs: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = runs
    out = tmp_path / "assessment.xlsx"
    result = runner.invoke(app, ["assess", str(a), "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(runner.invoke(app, ["assess", str(a), "--format", "json"]).stdout)
    assert openpyxl.load_workbook(out).sheetnames[0] == "about"
    for name in ("regions", "capabilities", "tiers", "bottlenecks"):
        got = sheet(out, name)
        assert len(got) == len(doc[name])
        for row, want in zip(got, doc[name], strict=True):
            assert set(row) == set(want)  # headers are the JSON names
            for key, value in want.items():
                if isinstance(value, float):
                    assert row[key] == pytest.approx(value)
                else:
                    assert row[key] == value


def test_comparison_workbook_and_refusals(runs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = runs
    out = tmp_path / "compare.xlsx"
    result = runner.invoke(app, ["compare", str(a), str(b), "-f", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == [
        "about",
        "changes",
        "runs",
        "regions",
        "capabilities",
        "alliance",
        "tiers",
    ]
    assert sheet(out, "changes")[0]["path"] == "links.depot-p_gauge-change_rail.t_per_day"
    about = [r[0] for r in book["about"].iter_rows(values_only=True)]
    assert "headline:" in about
    bad = runner.invoke(app, ["compare", str(a), str(b), "-f", "xlsx"])
    assert bad.exit_code == 2 and "--out FILE.xlsx" in bad.stderr
    bad = runner.invoke(app, ["assess", str(a), "-o", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2


def test_jupyter_views_are_short_and_say_what_they_are(runs: tuple[Path, Path]) -> None:
    a, b = runs
    flank = forcemodel.load_scenario("eastern-flank")
    view = flank._repr_html_()
    assert "eastern-flank" in view and "<table" in view
    assert len(view) < 20_000 < len(repr(flank))  # the whole scenario is far longer
    ra, rb = forcemodel.Results.load(a), forcemodel.Results.load(b)
    assert "Results of scenario tiny" in ra._repr_html_()
    assert "closure_day" in forcemodel.assess(ra)._repr_html_()
    c = forcemodel.compare(ra, rb)
    assert "Headline" in c._repr_html_() and "links.depot-p_gauge-change_rail" in c._repr_html_()
    e = forcemodel.assessment.explain(rb, "lithuania", against=ra)
    assert "lithuania" in e._repr_html_()


def test_compare_optimize_and_report_from_the_top_level(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = runs
    ra, rb = forcemodel.Results.load(a), forcemodel.Results.load(b)
    c = forcemodel.compare(ra, rb, labels=("today", "slow"))
    assert c.labels == ("today", "slow")
    assert callable(forcemodel.optimize.optimize)
    page = forcemodel.report.write_report(ra, tmp_path / "r.html", other=rb)
    assert 'id="headline"' in page.read_text(encoding="utf-8")
    assert {"compare", "optimize", "report"} <= set(dir(forcemodel))
