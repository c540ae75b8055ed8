"""The documentation stays true to the code.

- docs/scenario-format.md documents every field of every model of the scenario format;
- docs/scenario.schema.json is the current JSON Schema;
- docs/tutorial.md runs: its marked code blocks are executed in order in a temporary folder.

Tutorial blocks are marked by their info string:

- ```` ```bash run ```` : shell lines, each ``forcemodel ...`` (run in-process), ``mkdir -p DIR``
  or a ``cat > FILE <<'EOF'`` here-document; expected exit status 0;
- ```` ```bash run exit=2 ````: the same, expected to exit with status 2;
- ```` ```python run ````: Python, run in one namespace shared by all Python blocks;
- ```` ```text output ````: right after a run block, every line of it must appear in that
  block's output.

Every ```` ```bash ```` block of the tutorial must be marked ``run``, so none escapes testing.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

import forcemodel.scenario.model as model_module
from forcemodel.cli import app
from forcemodel.scenario.schema import scenario_json_schema

DOCS = Path(__file__).resolve().parents[2] / "docs"
FORMAT_DOC = DOCS / "scenario-format.md"
SCHEMA_FILE = DOCS / "scenario.schema.json"
TUTORIAL = DOCS / "tutorial.md"


def scenario_models() -> list[type[BaseModel]]:
    """Every public pydantic model defined in forcemodel.scenario.model."""
    return [
        obj
        for name, obj in vars(model_module).items()
        if inspect.isclass(obj)
        and issubclass(obj, BaseModel)
        and obj.__module__ == model_module.__name__
        and not name.startswith("_")
    ]


def doc_section(text: str, model_name: str) -> str:
    """The text under the heading that names the model as `Model`, up to the next heading."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#") and f"`{model_name}`" in line:
            body, in_code = [], False
            for nxt in lines[i + 1 :]:
                if nxt.startswith("```"):
                    in_code = not in_code
                elif nxt.startswith("#") and not in_code:
                    break
                body.append(nxt)
            return "\n".join(body)
    raise AssertionError(f"docs/scenario-format.md has no heading naming `{model_name}`")


@pytest.mark.parametrize("model", scenario_models(), ids=lambda m: m.__name__)
def test_every_field_is_documented(model: type[BaseModel]) -> None:
    section = doc_section(FORMAT_DOC.read_text(encoding="utf-8"), model.__name__)
    missing = [
        key
        for name, info in model.model_fields.items()
        if f"| `{(key := info.alias or name)}` |" not in section
    ]
    assert not missing, (
        f"docs/scenario-format.md, section `{model.__name__}`: "
        f"no table row for {', '.join(missing)}"
    )


def test_models_are_found() -> None:
    names = {m.__name__ for m in scenario_models()}
    assert {"Scenario", "Unit", "Link", "Region", "Power"} <= names


def test_schema_file_is_current() -> None:
    on_disk = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert on_disk == scenario_json_schema(), (
        "docs/scenario.schema.json is stale: run "
        "`forcemodel schema --out docs/scenario.schema.json`"
    )


def test_tiny_matches_schema() -> None:
    import jsonschema  # a dev dependency: no skip, a missing one is a failure

    tiny = Path(model_module.__file__).parents[1] / "data" / "scenarios" / "tiny.yaml"
    jsonschema.validate(yaml.safe_load(tiny.read_text(encoding="utf-8")), scenario_json_schema())


# -- the tutorial ---------------------------------------------------------------------------------


@dataclass
class Block:
    lang: str
    tags: list[str]
    code: str
    line: int
    expected_output: list[str] = field(default_factory=list)

    @property
    def expected_exit(self) -> int:
        for tag in self.tags:
            if tag.startswith("exit="):
                return int(tag.removeprefix("exit="))
        return 0


FENCE = re.compile(r"^```(\S*)(.*)$")


def tutorial_blocks() -> list[Block]:
    """Fenced blocks of the tutorial marked `run`, each with the output block that follows."""
    blocks: list[Block] = []
    lines = TUTORIAL.read_text(encoding="utf-8").splitlines()
    i = 0
    previous: Block | None = None
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            if lines[i].strip():
                previous = None
            i += 1
            continue
        lang, tags, start = m.group(1), m.group(2).split(), i + 1
        end = start
        while not lines[end].startswith("```"):
            end += 1
        code = "\n".join(lines[start:end]) + "\n"
        if lang == "bash":
            assert "run" in tags, f"tutorial.md:{i + 1}: bash block not marked `run`"
        if "run" in tags:
            previous = Block(lang, tags, code, i + 1)
            blocks.append(previous)
        elif lang == "text" and "output" in tags:
            assert previous is not None, f"tutorial.md:{i + 1}: output block after no run block"
            previous.expected_output = [s.strip() for s in code.splitlines() if s.strip()]
        else:
            previous = None
        i = end + 1
    return blocks


HEREDOC = re.compile(r"^cat > (\S+) <<'EOF'$")


def run_bash(block: Block, runner: CliRunner, cwd: Path) -> tuple[int, str]:
    """Run the lines of a bash block; return the last exit status and the combined output."""
    lines = block.code.splitlines()
    output, status = [], 0
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        where = f"tutorial.md:{block.line + 1 + i}"
        i += 1
        if not line or line.startswith("#"):
            continue
        if m := HEREDOC.match(line):
            end = lines.index("EOF", i)
            (cwd / m.group(1)).write_text("\n".join(lines[i:end]) + "\n", encoding="utf-8")
            i = end + 1
            continue
        words = shlex.split(line, comments=True)
        if words[:2] == ["mkdir", "-p"]:
            for d in words[2:]:
                (cwd / d).mkdir(parents=True, exist_ok=True)
            continue
        assert words[0] == "forcemodel", f"{where}: the test cannot run `{line}`"
        result = runner.invoke(app, words[1:])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{where}: `{line}` raised") from result.exception
        output.append(result.output)
        status = result.exit_code
        if status != 0 and i < len(lines):
            raise AssertionError(f"{where}: `{line}` exited {status}:\n{result.output}")
    return status, "".join(output)


def test_tutorial_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = tutorial_blocks()
    assert any("generate" in b.code for b in blocks), "the tutorial lost its generate section"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    namespace: dict[str, object] = {"__name__": "tutorial"}
    for block in blocks:
        where = f"tutorial.md:{block.line}"
        if block.lang == "bash":
            status, output = run_bash(block, runner, tmp_path)
            assert status == block.expected_exit, (
                f"{where}: exit status {status}, the tutorial expects {block.expected_exit}:\n"
                f"{output}"
            )
        elif block.lang == "python":
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(block.code, where, "exec"), namespace)
            output = buffer.getvalue()
        else:
            raise AssertionError(f"{where}: cannot run a `{block.lang}` block")
        got = {s.strip() for s in output.splitlines()}
        for expected in block.expected_output:
            assert expected in got, f"{where}: output lacks {expected!r}; got:\n{output}"
