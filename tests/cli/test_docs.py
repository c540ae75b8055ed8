"""The documentation stays true to the code.

- docs/scenario-format.md documents every field of every model of the scenario format;
- docs/scenario.schema.json is the current JSON Schema;
- docs/tutorial.md runs: its marked code blocks are executed in order in a temporary folder,
  and every output block it shows is exactly what the command prints (see ``docs_blocks``).

"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

import pytest
import yaml
from docs_blocks import PAGES, UPDATE_ENV, WIDTH, mismatches, read_page, update
from pydantic import BaseModel

import forcemodel.scenario.model as model_module
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


# -- the pages that run ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_shown_output_is_what_the_command_prints(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each output block equals what its command prints (``python -m tests.cli.docs_blocks
    --update`` regenerates them all when the code changes what it prints)."""
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    parsed = read_page(page)
    assert any(b.output is not None for b in parsed.blocks), f"{page.name} shows no output"
    if os.environ.get(UPDATE_ENV):
        update(parsed, tmp_path)
        return
    problems = mismatches(parsed, tmp_path)
    assert not problems, "\n\n".join(problems) + (
        "\n\nIf the change is meant, regenerate: python -m tests.cli.docs_blocks --update"
    )


def test_the_tutorial_keeps_its_sections() -> None:
    blocks = read_page(TUTORIAL).blocks
    code = "".join(b.code for b in blocks)
    for command in ("generate", "simulate", "compare", "explain", "scenario copy", "--set"):
        assert command in code, f"the tutorial lost its {command} section"


def test_a_drifted_output_block_is_caught(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```bash run\nforcemodel validate tiny\n```\n\n```text output\nok tiny: 5 nodes\n```\n",
        encoding="utf-8",
    )
    work = tmp_path / "work"
    work.mkdir()
    problems = mismatches(read_page(page), work)
    assert len(problems) == 1 and "+ok tiny: 6 nodes" in problems[0]
    assert update(read_page(page), work) == 1
    assert "ok tiny: 6 nodes, 7 links, 3 units, 1 region" in page.read_text(encoding="utf-8")
    assert mismatches(read_page(page), work) == []
