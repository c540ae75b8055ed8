"""The command line, consistent (issue 16, item 7): headers are the JSON names, one number
format per column, nothing past the horizon, --out everywhere, no ``<bool>`` metavars."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from forcemodel.cli import app

runner = CliRunner()


def commands() -> list[list[str]]:
    """Every command path of the application (``["scenario", "copy"]``, ...)."""
    root = typer.main.get_command(app)
    found: list[list[str]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        if hasattr(cmd, "commands"):  # a group (typer may bring its own click)
            ctx = typer.Context(cmd)
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), [*path, name])
        else:
            found.append(path)

    walk(root, [])
    return found


@pytest.mark.parametrize("path", commands(), ids=lambda p: " ".join(p))
def test_help_has_no_bool_metavar(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output and "BOOLEAN" not in result.output


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runs") / "tiny"
    assert runner.invoke(app, ["simulate", "tiny", "--out", str(folder), "-q"]).exit_code == 0
    return folder


def tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Header words and cell rows of each rich table in ``text``."""
    out: list[tuple[list[str], list[list[str]]]] = []
    header: list[str] | None = None
    rows: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("┃"):
            cells = [c.strip() for c in line.strip("┃").split("┃")]
            header = (
                cells
                if header is None
                else [f"{a} {b}".strip() for a, b in zip(header, cells, strict=True)]
            )
        elif line.startswith("│") and header is not None:
            rows.append([c.strip() for c in line.strip("│").split("│")])
        elif line.startswith("└") and header is not None:
            out.append((header, rows))
            header, rows = None, []
    return out


def test_assess_headers_are_the_json_names_and_numbers_share_a_format(run: Path) -> None:
    text = runner.invoke(app, ["assess", str(run)], env={"COLUMNS": "250"}).stdout
    doc: dict[str, Any] = json.loads(runner.invoke(app, ["assess", str(run), "-f", "json"]).stdout)
    found = tables(text)
    assert len(found) == 3
    for (header, rows), name in zip(found, ("regions", "tiers", "bottlenecks"), strict=True):
        keys = set(doc[name][0]) if doc[name] else set()
        assert set(header) <= keys, (name, header)
        for i in range(len(header)):
            column = [r[i] for r in rows if r[i] != "-"]
            decimals = {
                len(c.split(".")[1]) if "." in c else 0
                for c in column
                if re.fullmatch(r"-?[\d,]+(\.\d+)?", c)
            }
            assert len(decimals) <= 1, (name, header[i], column)


def test_nothing_is_counted_past_the_horizon(run: Path) -> None:
    doc = json.loads(runner.invoke(app, ["assess", str(run), "-f", "json"]).stdout)
    horizon = json.loads((run / "meta.json").read_text())["horizon_days"]
    days = [
        int(k.removeprefix("closed_by_")) for k in doc["tiers"][0] if k.startswith("closed_by_")
    ]
    assert days and max(days) == horizon and all(d <= horizon for d in days)
    text = runner.invoke(app, ["assess", str(run)], env={"COLUMNS": "250"}).stdout
    assert "closed_by_180" not in text
    compare = json.loads(runner.invoke(app, ["compare", str(run), str(run), "-f", "json"]).stdout)
    assert {r["day"] for r in compare["alliance"]} <= set(range(horizon + 1))


def test_generate_takes_out_like_every_other_command(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    args = ["generate", "--out", str(out), "--units", "8", "--nodes", "8", "--regions", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "scenario.yaml").is_file()
    both = runner.invoke(app, ["generate", str(tmp_path / "x"), "--out", str(tmp_path / "y")])
    assert both.exit_code == 2


def test_help_imports_no_engine() -> None:
    """``forcemodel --help`` (and --help of validate) load no engine, pandas or solver."""
    code = (
        "import sys\n"
        "from forcemodel.cli import main\n"
        "sys.argv = ['forcemodel', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ['pandas', 'numba', 'linopy', 'forcemodel.assist', 'forcemodel.flow',\n"
        "         'forcemodel.optimize', 'scipy', 'matplotlib', 'plotly', 'sqlalchemy']\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout
    assert "assist" in result.stdout


def test_lazy_commands_keep_their_own_help() -> None:
    from forcemodel.cli.app import LAZY

    for name, (module, attribute, help_text) in LAZY.items():
        sub = getattr(importlib.import_module(module), attribute)
        assert sub.info.help == help_text, name
    result = runner.invoke(app, ["assist", "--help"])
    assert result.exit_code == 0 and "match" in result.output


def test_the_cli_spells_the_optimisers_names_as_the_optimiser_does() -> None:
    """The CLI keeps its choices in light modules (for a fast --help); they must be the
    optimiser's own names, so the two never drift apart."""
    from forcemodel.cli.optimize import Search, SolverMethod
    from forcemodel.mip.solve import METHODS
    from forcemodel.optimize import SEARCHES

    assert [m.value for m in SolverMethod] == list(METHODS)
    assert [s.value for s in Search] == list(SEARCHES)
