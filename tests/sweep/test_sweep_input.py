"""Bad sweep input: a located message and exit status 2, before any run and any write."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests_sweep_support import free_port_closed
from typer.testing import CliRunner

from forcemodel.cli import app
from forcemodel.sweep.spec import SweepError, parse_param, prepare
from support.scenarios import line_of

BUNDLED = Path(__file__).resolve().parents[2] / "src/forcemodel/sweep/data/tiny.yaml"


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["sweep", "tiny", "-n", "2", "--no-plots", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("meta.warnin_day=0,10", "unknown field (did you mean 'warning_day'?)"),
        ("nodes.nowhere.t_per_day=1,2", "no item 'nowhere' in nodes"),
        ("meta.warning_day=5:1:1", "is empty"),
        ("meta.warning_day=1..0", "is empty"),
        ("meta.warning_day=0:10:0", "step above 0"),
        ("meta.warning_day=[]", "empty list"),
        ("meta.warning_day=-1,5", "greater than or equal to 0"),
        ("meta.warning_day", "PATH=LIST|RANGE"),
    ],
)
def test_a_bad_parameter_is_located_at_its_option(tmp_path: Path, param: str, message: str) -> None:
    code, output = _run(["-p", param, "-o", str(tmp_path / "out")])
    assert code == 2, output
    assert f"--param {param}" in output and message in output
    assert "Traceback" not in output
    assert not (tmp_path / "out").exists()


def test_a_probability_above_one_is_located_at_its_line(tmp_path: Path) -> None:
    text = BUNDLED.read_text(encoding="utf-8").replace("probability: 0.3", "probability: 1.5")
    bad = tmp_path / "unc.yaml"
    bad.write_text(text, encoding="utf-8")
    code, output = _run(["-u", str(bad), "-o", str(tmp_path / "out")])
    assert code == 2
    line = line_of(text, "probability: 1.5")
    assert f"{bad}:{line}: uncertainty.hazards[0].probability" in output
    assert "less than or equal to 1" in output
    assert not (tmp_path / "out").exists()


def test_a_hazard_on_an_unknown_asset_is_located(tmp_path: Path) -> None:
    data = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    data["hazards"][0]["targets"] = ["gauge-chnge"]
    bad = tmp_path / "unc.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(SweepError) as exc:
        prepare("tiny", draws=1, seed=0, uncertainty=bad)
    p, q = exc.value.problems
    assert p.file == str(bad) and p.line and p.field == "uncertainty.hazards[0].targets[0]"
    assert p.message == "unknown link or node 'gauge-chnge'"
    # The measure that guards gauge-change now names a target the hazard no longer has.
    assert q.field == "uncertainty.measures[0].targets[0]" and "not a target" in q.message


def test_an_unreachable_scheduler_stops_before_any_work(tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{free_port_closed()}"
    code, output = _run(["--scheduler", address, "-o", str(tmp_path / "out")])
    assert code == 2
    assert f"--scheduler {address}: cannot reach the Dask scheduler" in output
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_resume_folder_of_another_sweep_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    code, output = _run(["--seed", "1", "-w", "1", "-o", str(folder)])
    assert code == 0, output
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    for args in (["--seed", "2"], ["-p", "meta.warning_day=0,1"]):
        code, output = _run([*args, "-w", "1", "-o", str(folder)])
        assert code == 2
        assert "holds another sweep (scenario tiny" in output
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before


def test_ranges_include_both_ends() -> None:
    assert parse_param("a.b=0:30:10").values == ("0", "10", "20", "30")
    assert parse_param("a.b=0:1:0.25").values == ("0", "0.25", "0.5", "0.75", "1")
    assert parse_param("a.b=2..4").values == ("2", "3", "4")
    assert parse_param("a.b=x,y").values == ("x", "y")
    assert parse_param("a.b=[true, false]").values == ("true", "false")
