"""The report: a self-contained offline HTML file and PNG figures from saved results."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from forcemodel import load_scenario_data, simulate
from forcemodel.assessment import assess, compare
from forcemodel.cli import app
from forcemodel.report import COMPARE_TITLES, TITLES, ReportData, prepare
from forcemodel.report.compare_charts import compare_power_figure
from forcemodel.report.comparison import later_in_b
from forcemodel.report.data import gantt_frame, vulnerable_spans
from forcemodel.report.html import render_html
from forcemodel.report.maps import map_figure
from forcemodel.report.world import load_world, outlines
from forcemodel.results import Results
from forcemodel.scenario import load_scenario
from support.scenarios import tiny_with_poland

runner = CliRunner()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report") / "results"
    simulate(load_scenario("tiny")).save(folder)
    return folder


@pytest.fixture(scope="module")
def data(results_dir: Path) -> ReportData:
    results = Results.load(results_dir)
    return prepare(results, assess(results))


@pytest.fixture(scope="module")
def report_html(results_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("html") / "report.html"
    result = invoke("report", str(results_dir), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    return out.read_text(encoding="utf-8")


def assert_self_contained(text: str) -> None:
    """Every script and style is inline: no src= on a script, no external stylesheet or image."""
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", text, re.I)
    assert not re.search(r"@import\s+(url\()?[\"']?(https?:)?//", text, re.I)
    assert not re.search(r"<img[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", text, re.I)
    assert "Plotly.newPlot" in text
    assert len(text) < 8_000_000


def test_html_is_self_contained(report_html: str) -> None:
    assert_self_contained(report_html)


def test_html_names_every_region_and_figure(report_html: str, data: ReportData) -> None:
    for title in TITLES.values():
        assert title in report_html
    for region, name in zip(data.regions["region"], data.regions["name"], strict=True):
        assert name in report_html
        assert data.region_title(region) in report_html


def test_country_outlines_are_embedded(report_html: str, data: ReportData) -> None:
    assert data.borders and data.land
    fig = map_figure(data)
    borders = next(t for t in fig["data"] if t.get("name") == "borders")
    assert len(borders["x"]) > 100
    assert '"name":"borders"' in report_html
    # The map's outlines are the Lithuanian coast's and borders, among others.
    x0, y0, x1, y1 = data.view
    assert x0 < 23.9 < x1 and y0 < 54.9 < y1


def test_world_outlines_decode_to_lon_lat() -> None:
    world = load_world()
    assert len(world.arcs) > 1000 and len(world.land) > 100
    for arc in world.arcs[:50]:
        assert (abs(arc[:, 0]) <= 180.01).all() and (abs(arc[:, 1]) <= 90.01).all()
    borders, land = outlines((20.0, 53.0, 27.0, 57.0))
    assert borders and land


def test_pngs_are_written(results_dir: Path, tmp_path: Path) -> None:
    result = invoke("report", str(results_dir), "--png", str(tmp_path / "png"))
    assert result.exit_code == 0, result.stderr
    files = sorted((tmp_path / "png").glob("*.png"))
    names = {f.name for f in files}
    assert {"map.png", "utilisation.png", "power-lithuania.png", "movements-lithuania.png"} <= names
    for f in files:
        head = f.read_bytes()[:24]
        assert head[:8] == PNG_SIGNATURE and head[12:16] == b"IHDR"
        width, height = struct.unpack(">II", head[16:24])
        assert width > 300 and height > 200
    assert not (tmp_path / "report.html").exists()


def test_missing_results_folder_exits_2(tmp_path: Path) -> None:
    result = invoke("report", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r.html"))
    assert result.exit_code == 2
    assert "no such results folder" in " ".join(result.stderr.split())


def test_results_of_an_unbundled_scenario_report_from_their_own_scenario(
    results_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "results"
    copy.mkdir()
    for f in results_dir.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    meta = json.loads((copy / "meta.json").read_text())
    meta["scenario"] = "my-own-scenario"
    (copy / "meta.json").write_text(json.dumps(meta))
    result = invoke("report", str(copy), "--out", str(tmp_path / "r.html"))
    assert result.exit_code == 0, result.stderr
    assert "Lithuania" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_results_whose_scenario_was_tampered_with_exit_2(results_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "results"
    copy.mkdir()
    for f in results_dir.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    meta = json.loads((copy / "meta.json").read_text())
    meta["scenario_digest"] = "0" * 64
    (copy / "meta.json").write_text(json.dumps(meta))
    result = invoke("report", str(copy), "--out", str(tmp_path / "r.html"))
    assert result.exit_code == 2
    assert "not the scenario of these results" in " ".join(result.stderr.split())


def test_gantt_shows_the_first_units_per_region(results_dir: Path) -> None:
    results = Results.load(results_dir)
    bars, counts = gantt_frame(results, units_per_region=1)
    assert bars["unit"].nunique() == len(counts) == 1
    assert int(counts["shown"].iloc[0]) == 1 and int(counts["total"].iloc[0]) > 1
    first = results.units.sort_values("closure_day")["unit"].iloc[0]
    assert set(bars["unit"]) == {first}
    assert (bars["end"] > bars["start"]).all()


def test_vulnerable_spans_are_contiguous_runs(data: ReportData, results_dir: Path) -> None:
    a = assess(Results.load(results_dir))
    spans = vulnerable_spans(a)
    days = set(a.force_ratio.loc[a.force_ratio["vulnerable"], "day"].astype(int))
    covered = {d for s in spans.itertuples() for d in range(int(s.start), int(s.end))}
    assert covered == days


# The comparison of two runs (report --compare) -----------------------------------------------


@pytest.fixture(scope="module")
def optimised_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny simulated with the plan of ``forcemodel optimize tiny``, written back as a scenario."""
    root = tmp_path_factory.mktemp("optimised")
    result = invoke("optimize", "tiny", "--out", str(root / "plan"))
    assert result.exit_code == 0, result.stderr
    result = invoke("simulate", str(root / "plan"), "--out", str(root / "optimised"), "-q")
    assert result.exit_code == 0, result.stderr
    return root / "optimised"


@pytest.fixture(scope="module")
def compare_html(
    results_dir: Path, optimised_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> str:
    out = tmp_path_factory.mktemp("compare-html") / "report.html"
    result = invoke(
        "report",
        str(results_dir),
        "--compare",
        str(optimised_dir),
        "--labels",
        "given, optimised",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.stderr
    return out.read_text(encoding="utf-8")


def _section(text: str, key: str) -> str:
    start = text.index(f'<section id="{key}">')
    return text[start : text.index("</section>", start)]


def _cells(*values: Any) -> str:
    """Table cells as html.table_html writes them (numbers right-aligned, missing: '-')."""
    out = []
    for v in values:
        if isinstance(v, str):
            out.append(f"<td>{v}</td>")
        else:
            out.append(
                '<td class="num">-</td>' if v is None or pd.isna(v) else f'<td class="num">{v}</td>'
            )
    return "".join(out)


def test_compare_report_shows_both_runs(
    compare_html: str, report_html: str, results_dir: Path, optimised_dir: Path
) -> None:
    assert_self_contained(compare_html)
    section = _section(compare_html, "compare")
    # No address at all in what the comparison adds (plotly.js itself names a few in strings).
    assert "http" not in section
    assert f"{COMPARE_TITLES['compare']}: given vs optimised" in section
    assert '<a href="#compare">' in compare_html
    assert "compared with <b>optimised</b>" in compare_html
    # The closure, shortfall and vulnerability numbers are the compare engine's.
    c = compare(Results.load(results_dir), Results.load(optimised_dir), ("given", "optimised"))
    assert not c.same_scenario
    r = c.regions.iloc[0]
    assert r["region"] == "lithuania"
    assert (
        _cells(
            r["closure_day_given"], r["closure_day_optimised"], r["closure_day_diff"], r["closure"]
        )
        in section
    )
    assert (
        _cells(r["shortfall_days_given"], r["shortfall_days_optimised"], r["shortfall_days_diff"])
        in section
    )
    window = f"{r['vulnerable_from_given']}-{r['vulnerable_until_given']}"
    assert (
        _cells(
            r["vulnerable_days_given"],
            r["vulnerable_days_optimised"],
            r["vulnerable_days_diff"],
            window,
        )
        in section
    )
    for note in c.notes:
        assert note in section
    # The optimised plan closes no region later: the summary says so and no row is marked.
    assert int(r["closure_day_diff"]) <= 0
    assert "Every region in both runs closes in optimised no later than in given." in section
    assert 'class="bad"' not in section
    # One closure chart and one power chart per region on top of the run's own charts.
    n_regions = len(c.regions)
    assert compare_html.count("Plotly.newPlot") == report_html.count("Plotly.newPlot") + 1 + (
        n_regions
    )
    # The rest of the report is still run A's, whole.
    for title in TITLES.values():
        assert title in compare_html


def test_compare_power_chart_draws_both_runs(results_dir: Path, optimised_dir: Path) -> None:
    a, b = Results.load(results_dir), Results.load(optimised_dir)
    data = prepare(a, assess(a), other=b, labels=("given", "optimised"))
    assert data.comparison is not None
    fig = compare_power_figure(data.comparison, "lithuania")
    traces = {t["name"]: t for t in fig["data"]}
    for label, run in (("given", a), ("optimised", b)):
        land = run.region_power[run.region_power["capability"] == "land"].sort_values("day")
        trace = next(
            t for t in fig["data"] if t["name"] == f"combat power ({label})" and t["xaxis"] == "x"
        )
        assert trace["y"] == land["power"].round(3).tolist()
    # Same requirement and threat in both runs: drawn once, not per run.
    assert "requirement" in traces and "threat" in traces
    assert not any(name.startswith("requirement (") for name in traces)
    closure = compare(a, b, ("given", "optimised")).regions.iloc[0]
    texts = [x["text"] for x in fig["layout"]["annotations"]]
    assert f"given: closure day {closure['closure_day_given']}" in texts
    assert f"optimised: closure day {closure['closure_day_optimised']}" in texts


def test_compare_pngs_are_written(results_dir: Path, optimised_dir: Path, tmp_path: Path) -> None:
    result = invoke(
        "report", str(results_dir), "--compare", str(optimised_dir), "--png", str(tmp_path)
    )
    assert result.exit_code == 0, result.stderr
    for name in ("compare-closure.png", "compare-power-lithuania.png", "power-lithuania.png"):
        head = (tmp_path / name).read_bytes()[:24]
        assert head[:8] == PNG_SIGNATURE, name
        width, height = struct.unpack(">II", head[16:24])
        assert width > 300 and height > 200
    assert not (tmp_path / "report.html").exists()


def test_compare_labels_default_to_the_folder_names(
    results_dir: Path, optimised_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    result = invoke("report", str(results_dir), "--compare", str(optimised_dir), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert f"{COMPARE_TITLES['compare']}: results vs optimised" in text


def test_compare_matches_regions_by_id_and_shows_one_sided_ones(results_dir: Path) -> None:
    a = Results.load(results_dir)
    b = simulate(load_scenario_data(tiny_with_poland()))
    data = prepare(a, assess(a), other=b, labels=("today", "plan"))
    c = data.comparison
    assert c is not None
    assert list(c.regions["region"]) == ["lithuania", "poland"]
    assert c.presence("poland") == "only in plan" and c.presence("lithuania") == ""
    closure = c.closure().set_index(["region", "run"])
    assert not closure.loc[("poland", "today"), "present"]
    assert closure.loc[("poland", "plan"), "present"]
    assert set(c.lines.loc[c.lines["region"] == "poland", "run"]) == {"plan"}
    # With its tier-2 brigade sent to Poland, Lithuania no longer closes: later in plan.
    assert list(later_in_b(c)) == [True, False]
    assert "(later: lithuania)" in c.summary and "Only in plan: poland." in c.summary
    assert "no later than" not in c.summary
    text = render_html(data)
    section = _section(text, "compare")
    assert "<td>region only in plan</td>" in section
    assert c.region_title("poland") == "poland (only in plan): " + COMPARE_TITLES["power"].lower()
    assert json.dumps(c.region_title("poland")) in text
    assert section.count('<tr class="bad">') == 1
    assert c.summary in section


def test_compare_bad_folder_exits_2(results_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    missing = tmp_path / "nowhere"
    result = invoke("report", str(results_dir), "--compare", str(missing), "--out", str(out))
    assert result.exit_code == 2
    assert f"error: {missing}: no such results folder" in result.stderr
    assert not out.exists()

    old = tmp_path / "old"
    old.mkdir()
    for f in results_dir.iterdir():
        (old / f.name).write_bytes(f.read_bytes())
    meta = json.loads((old / "meta.json").read_text())
    meta["results_format"] = 999
    (old / "meta.json").write_text(json.dumps(meta))
    result = invoke("report", str(results_dir), "--compare", str(old), "--out", str(out))
    assert result.exit_code == 2
    assert "simulate again" in " ".join(result.stderr.split())
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--labels", "a,b"], "give --compare too"),
        (["--compare", "SELF", "--labels", "x,x"], "the two labels must differ"),
        (["--compare", "SELF", "--labels", "x"], "two labels are needed"),
    ],
)
def test_compare_bad_labels_exit_2(
    results_dir: Path, tmp_path: Path, args: list[str], words: str
) -> None:
    out = tmp_path / "r.html"
    args = [str(results_dir) if a == "SELF" else a for a in args]
    result = invoke("report", str(results_dir), *args, "--out", str(out))
    assert result.exit_code == 2
    assert words in result.stderr
    assert not out.exists()
