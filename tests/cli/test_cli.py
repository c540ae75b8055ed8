"""The command line: validate, info, schema, --version; errors exit 2 with located messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

import forcemodel
from forcemodel import ScenarioError, load_scenario
from forcemodel.cli import MAX_PROBLEMS_SHOWN, app
from support.scenarios import TINY_TEXT, Writer, line_of

runner = CliRunner()


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    # An exception other than the clean exit would be a traceback for the user.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"forcemodel {forcemodel.__version__}"


def test_no_arguments_shows_help() -> None:
    result = invoke()
    assert result.exit_code in (0, 2)
    assert "validate" in result.stdout + result.stderr


def test_validate_ok() -> None:
    result = invoke("validate", "tiny")
    assert result.exit_code == 0
    assert "ok tiny: 6 nodes, 7 links, 3 units, 1 region" in result.stdout
    assert result.stderr == ""


def test_validate_folder(write: Writer, tiny_data: dict[str, Any]) -> None:
    result = invoke("validate", str(write.folder(tiny_data)))
    assert result.exit_code == 0, result.stderr


def test_validate_reports_every_problem_located_on_stderr(write: Writer) -> None:
    text = TINY_TEXT.replace("horizon_days:", "horizon_dayz:").replace(
        "to: airbase-a, mode: road", "to: airbase-x, mode: road"
    )
    path = write.text(text)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "error: 2 problems in the scenario" in result.stderr
    assert f"{path}:{line_of(text, 'horizon_dayz')}: meta.horizon_dayz: unknown field" in (
        result.stderr
    )
    assert f"{path}:{line_of(text, 'airbase-x')}: links[0].to: unknown node 'airbase-x'" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "file is empty"),
        (b"\x00\x01binary", "binary file"),
        (b"meta: [unclosed\n", "YAML syntax error"),
        (b"meta: {name: t}\nmeta: {name: u}\n", "duplicate key"),
    ],
)
def test_validate_bad_files(write: Writer, content: bytes, words: str) -> None:
    path = write.text(content)
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert str(path) in result.stderr and words in result.stderr


def test_validate_missing_file_and_unknown_name() -> None:
    result = invoke("validate", "/nonexistent/scenario.yaml")
    assert result.exit_code == 2 and "no such file or folder" in result.stderr
    result = invoke("validate", "tinny")
    assert result.exit_code == 2 and "did you mean 'tiny'" in result.stderr


def test_long_problem_lists_are_cut(write: Writer, tiny_data: dict[str, Any]) -> None:
    tiny_data["nodes"] = [
        {"id": f"n{i}", "kind": "depot", "country": "DE", "lat": 100, "lon": 0} for i in range(80)
    ]
    result = invoke("validate", str(write.yaml(tiny_data)))
    assert result.exit_code == 2
    assert "... and " in result.stderr
    shown = [ln for ln in result.stderr.splitlines() if ln.startswith("  ") and ".yaml:" in ln]
    assert len(shown) == MAX_PROBLEMS_SHOWN, result.stderr
    # Every located problem is printed verbatim: ':100:' must not become an emoji. Pad the file
    # with comment lines so that the first problem sits on line 100.
    path = write.yaml(tiny_data)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    first = min(p.line for p in caught.value.problems if p.line is not None)
    assert first <= 100
    text = "# padding\n" * (100 - first) + path.read_text(encoding="utf-8")
    path = write.text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    result = invoke("validate", str(path))
    for problem in caught.value.problems[:MAX_PROBLEMS_SHOWN]:
        assert str(problem) in result.stderr
    assert any(p.line == 100 for p in caught.value.problems[:MAX_PROBLEMS_SHOWN])
    assert "\U0001f4af" not in result.stderr


def test_info_table() -> None:
    result = invoke("info", "tiny")
    assert result.exit_code == 0
    for words in ("tiny", "readiness tier", "Troops by nation", "lithua", "Network"):
        assert words in result.stdout


def test_info_json() -> None:
    result = invoke("info", "tiny", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["name"] == "tiny"
    assert set(doc) == {"name", "tiers", "nations", "regions", "network", "sets", "budget"}
    assert doc["budget"] is None  # tiny has no budget for new sets
    assert doc["sets"] == [
        {"depot": "depot-p", "set_type": "armoured_brigade", "sets_held": 1, "draw_days": 7.0}
    ]
    (region,) = doc["regions"]
    assert region["region"] == "lithuania" and region["assigned_units"] == 2
    nodes = next(r for r in doc["network"] if r["component"] == "nodes")
    assert nodes["count"] == 6
    tier1 = next(r for r in doc["tiers"] if r["tier"] == 1)
    assert tier1["units"] == 2


def test_info_shows_sets_to_buy_and_the_budget(write: Writer) -> None:
    section = (
        "prepositioning:\n"
        "  budget_m: 250\n"
        "  currency: USD\n"
        "  sets: [{set_type: armoured_brigade, cost_m: 120}]\n"
        "  depots: [{depot: depot-p, fixed_cost_m: 10, capacity_sets: 2}]\n"
    )
    path = write.text(TINY_TEXT + section)
    doc = json.loads(invoke("info", str(path), "--format", "json").stdout)
    assert doc["budget"] == "250 million USD"
    (row,) = doc["sets"]
    assert row == {
        "depot": "depot-p",
        "set_type": "armoured_brigade",
        "sets_held": 1,
        "draw_days": 7.0,
        "new_set_cost_m": 120.0,
        "depot_fixed_cost_m": 10.0,
        "depot_capacity_sets": 2,
    }
    table = invoke("info", str(path)).stdout
    assert "and to buy" in table and "250 million USD" in table


def test_info_error_exits_2(write: Writer) -> None:
    path = write.text(TINY_TEXT.replace("pax_per_day: 5000", "pax_per_day: -5000", 1))
    result = invoke("info", str(path), "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "nodes[1].pax_per_day" in result.stderr


def test_schema_is_json_schema_that_tiny_satisfies(tiny_data: dict[str, Any]) -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    validator = validator_cls(schema)
    validator.validate(tiny_data)
    # A typo in a key is rejected, as the loader rejects it.
    tiny_data["meta"]["horizon_dayz"] = tiny_data["meta"].pop("horizon_days")
    assert not validator.is_valid(tiny_data)
    tiny_data["meta"]["horizon_days"] = tiny_data["meta"].pop("horizon_dayz")
    tiny_data["nodes"][0]["lattitude"] = 1.0
    assert not validator.is_valid(tiny_data)
    del tiny_data["nodes"][0]["lattitude"]
    # A table may be the name of a CSV file.
    tiny_data["nodes"] = "nodes.csv"
    assert validator.is_valid(tiny_data)


def test_schema_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "scenario.schema.json"
    result = invoke("schema", "--out", str(out))
    assert result.exit_code == 0
    assert json.loads(out.read_text())["title"] == "forcemodel scenario"
    result = invoke("schema", "--out", str(tmp_path / "missing" / "x.json"))
    assert result.exit_code == 2


def test_installed_entry_point_exits_2_cleanly(write: Writer) -> None:
    """A real process: the console script and ``python -m forcemodel``."""
    path = write.text(
        TINY_TEXT.replace("home: garrison-a, assigned_to", "home: nowhere, assigned_to")
    )
    script = Path(sys.executable).parent / "forcemodel"
    commands = [[sys.executable, "-m", "forcemodel", "validate", str(path)]]
    if script.exists():
        commands.append([str(script), "validate", str(path)])
    for command in commands:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
        assert f"{path}:" in proc.stderr and "units[0].home: unknown node 'nowhere'" in proc.stderr
