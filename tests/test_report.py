"""The report: a self-contained offline HTML file and PNG figures from saved results."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from forcemodel import simulate
from forcemodel.assessment import assess
from forcemodel.cli import app
from forcemodel.report import TITLES, ReportData, prepare
from forcemodel.report.data import gantt_frame, vulnerable_spans
from forcemodel.report.html import map_figure
from forcemodel.report.world import load_world, outlines
from forcemodel.results import Results
from forcemodel.scenario import load_scenario

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
    return prepare(results, assess(results), load_scenario("tiny"))


@pytest.fixture(scope="module")
def report_html(results_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("html") / "report.html"
    result = invoke("report", str(results_dir), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    return out.read_text(encoding="utf-8")


def test_html_is_self_contained(report_html: str) -> None:
    assert report_html.startswith("<!DOCTYPE html>")
    # Every script and style is inline: no src= on a script, no external stylesheet.
    assert not re.search(r"<script[^>]*\bsrc\s*=", report_html, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", report_html, re.I)
    assert not re.search(r"@import\s+(url\()?[\"']?(https?:)?//", report_html, re.I)
    assert not re.search(r"<img[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", report_html, re.I)
    assert "Plotly.newPlot" in report_html
    assert len(report_html) < 8_000_000


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


def test_unknown_scenario_exits_2(results_dir: Path, tmp_path: Path) -> None:
    result = invoke("report", str(results_dir), "--scenario", "no-such-scenario")
    assert result.exit_code == 2
    assert "no-such-scenario" in result.stderr


def test_results_of_an_unbundled_scenario_need_scenario_option(
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
    assert result.exit_code == 2
    assert "--scenario" in result.stderr


def test_changed_scenario_warns(results_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "results"
    copy.mkdir()
    for f in results_dir.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    meta = json.loads((copy / "meta.json").read_text())
    meta["scenario_digest"] = "0" * 64
    (copy / "meta.json").write_text(json.dumps(meta))
    out = tmp_path / "r.html"
    result = invoke("report", str(copy), "--out", str(out), "--scenario", "tiny")
    assert result.exit_code == 0
    assert "has changed" in " ".join(result.stderr.split())
    assert "has changed" in out.read_text(encoding="utf-8")


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
