"""Runs carry their scenario; variants by --set, scenario copy and scenario diff (issue 16)."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from forcemodel import Results, load_scenario
from forcemodel.cli import app

runner = CliRunner()


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result


def test_results_store_their_scenario_and_stay_byte_reproducible(tmp_path: Path) -> None:
    for run in ("a", "b"):
        result = invoke(
            "simulate",
            "tiny",
            "--out",
            str(tmp_path / run),
            "-q",
            "--set",
            "units.armd-bde-1.tier=2",
        )
        assert result.exit_code == 0, result.stderr
    cmp = filecmp.dircmp(tmp_path / "a", tmp_path / "b")
    assert cmp.left_list == cmp.right_list and "scenario.json" in cmp.left_list
    _, mismatch, errors = filecmp.cmpfiles(
        tmp_path / "a", tmp_path / "b", cmp.left_list, shallow=False
    )
    assert not mismatch and not errors
    loaded = Results.load(tmp_path / "a")
    want = load_scenario("tiny", ["units.armd-bde-1.tier=2"])
    assert loaded.scenario == want
    assert loaded.meta["settings"] == ["units.armd-bde-1.tier=2"]
    assert loaded.meta["scenario_digest"] == want.digest()


def test_report_of_an_edited_copy_with_a_bundled_name_shows_the_copy(tmp_path: Path) -> None:
    copy = tmp_path / "my-tiny"
    assert invoke("scenario", "copy", "tiny", str(copy)).exit_code == 0
    text = (copy / "scenario.yaml").read_text(encoding="utf-8")
    assert "name: tiny" in text  # the copy keeps the bundled name
    (copy / "scenario.yaml").write_text(
        text.replace("name: Lithuania", "name: Edited Lithuania", 1),
        encoding="utf-8",
    )
    results = tmp_path / "run"
    assert invoke("simulate", str(copy), "--out", str(results), "-q").exit_code == 0
    # The bundled scenario is not what the run came from; the report must not use it.
    report = tmp_path / "report.html"
    result = invoke("report", str(results), "--out", str(report))
    assert result.exit_code == 0, result.stderr
    assert "changed since" not in result.stderr
    html = report.read_text(encoding="utf-8")
    assert "Edited Lithuania" in html
    # diff of the run against the bundled scenario names exactly the edit
    result = invoke("scenario", "diff", "tiny", str(results))
    assert result.exit_code == 1
    assert "regions.lithuania.name: Lithuania -> Edited Lithuania" in result.stdout


def test_old_results_without_a_scenario_are_refused_plainly(tmp_path: Path) -> None:
    results = tmp_path / "run"
    assert invoke("simulate", "tiny", "--out", str(results), "-q").exit_code == 0
    (results / "scenario.json").unlink()
    result = invoke("assess", str(results))
    assert result.exit_code == 2
    assert "scenario.json is missing" in result.stderr


def test_set_changes_a_value_and_is_located_when_wrong(tmp_path: Path) -> None:
    result = invoke("validate", "tiny", "--set", "nodes.gauge-change.transship.t_per_day=-5")
    assert result.exit_code == 2
    assert "--set nodes.gauge-change.transship.t_per_day=-5" in result.stderr
    result = invoke("validate", "tiny", "--set", "nodes.gauge-chnge.transship.t_per_day=5")
    assert result.exit_code == 2
    assert "did you mean 'gauge-change'" in result.stderr
    result = invoke("validate", "tiny", "--set", "units.armd-bde-1.assigned_to=nowhere")
    assert result.exit_code == 2
    assert "--set units.armd-bde-1.assigned_to=nowhere" in result.stderr


def test_scenario_copy_is_editable_and_equal(tmp_path: Path) -> None:
    dest = tmp_path / "my-flank"
    result = invoke("scenario", "copy", "eastern-flank", str(dest))
    assert result.exit_code == 0, result.stderr
    assert (dest / "scenario.yaml").is_file() and (dest / "units.csv").is_file()
    assert load_scenario(dest) == load_scenario("eastern-flank")
    assert invoke("scenario", "diff", "eastern-flank", str(dest)).exit_code == 0
    again = invoke("scenario", "copy", "eastern-flank", str(dest))
    assert again.exit_code == 2 and "--force" in again.stderr


def test_scenario_diff_field_by_field_as_json() -> None:
    result = invoke(
        "scenario",
        "diff",
        "tiny",
        "tiny",
        "--format",
        "json",
        "--set-b",
        "nodes.gauge-change.transship.t_per_day=4000",
        "--set-b",
        "disruptions.cut={target: gauge-change, start_day: 5, days: 20, capacity_factor: 0}",
    )
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    by_path = {d["path"]: d for d in doc}
    assert by_path["nodes.gauge-change.transship.t_per_day"]["b"] == 4000
    assert by_path["disruptions.cut"]["change"] == "added"
    assert by_path["disruptions.cut"]["b"]["start_day"] == 5
    assert len(doc) == 2


def test_scenario_paths_lists_what_set_takes() -> None:
    result = invoke("scenario", "paths", "tiny", "--search", "transship")
    assert result.exit_code == 0
    assert "nodes.gauge-change.transship.t_per_day=8000" in result.stdout.splitlines()


def test_set_reaches_optimize_and_replan(tmp_path: Path) -> None:
    bad = "units.armd-bde-1.assigned_to=nowhere"
    for args in (
        ["optimize", "tiny", "--out", str(tmp_path / "o")],
        ["replan", "tiny", "--day", "5", "--out", str(tmp_path / "r")],
    ):
        result = invoke(*args, "--set", bad)
        assert result.exit_code == 2, result.output
        assert f"--set {bad}" in result.stderr
    assert not (tmp_path / "o").exists() and not (tmp_path / "r").exists()


def test_the_scenario_of_a_run_can_be_copied_out_and_rerun(tmp_path: Path) -> None:
    run = tmp_path / "run"
    setting = "nodes.gauge-change.transship.t_per_day=4000"
    assert invoke("simulate", "tiny", "--out", str(run), "-q", "--set", setting).exit_code == 0
    copy = tmp_path / "from-run"
    result = invoke("scenario", "copy", str(run), str(copy))
    assert result.exit_code == 0, result.stderr
    assert invoke("scenario", "diff", str(run), str(copy)).exit_code == 0  # the same scenario
    again = tmp_path / "again"
    assert invoke("simulate", str(copy), "--out", str(again), "-q").exit_code == 0
    for table in ("units.parquet", "region_power.parquet", "scenario.json"):
        assert (again / table).read_bytes() == (run / table).read_bytes()
