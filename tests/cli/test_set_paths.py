"""Every ``--set`` path of the scenario format is accepted or refused with a located message.

The paths come from the schema itself (every field of every model, nested models included), for
every item of the bundled tiny scenario and for names that do not exist; the values are drawn by
hypothesis (numbers, text, lists, mappings, null). Through the command line, a refusal is exit
status 2 with located problems on stderr, never a traceback; through the API, a ScenarioError
whose every problem names where it is.
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from typer.testing import CliRunner

from forcemodel import ScenarioError
from forcemodel.cli import app
from forcemodel.scenario.load import read_scenario
from forcemodel.scenario.model import COMPONENT_MODELS, Meta, Prepositioning
from forcemodel.scenario.paths import item_key

RAW = read_scenario("tiny")


def _fields(model: type[BaseModel], prefix: str) -> list[str]:
    """Every field path of ``model`` under ``prefix``, nested models followed."""
    out = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        out.append(f"{prefix}.{key}")
        annotation = info.annotation
        for arg in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                out += _fields(arg, f"{prefix}.{key}")
    return out


def schema_paths() -> list[str]:
    paths = _fields(Meta, "meta") + _fields(Prepositioning, "prepositioning")
    for table, model in COMPONENT_MODELS.items():
        items = RAW.raw.get(table) or []
        names = [item_key(table, item) or str(n) for n, item in enumerate(items)]
        for name in [*names, "0", "no-such-item"]:
            paths += _fields(model, f"{table}.{name}")
    return [*sorted(set(paths)), "nosuchsection.x", "meta", "units", "units.armd-bde-1"]


PATHS = schema_paths()
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["lithuania", "gauge-change", "rail", "armoured_brigade", "1435"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _setting(path: str, value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6)
    return f"{path}={text.strip().removesuffix('...').strip()}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=values)
def test_every_path_is_accepted_or_refused_with_a_location(path: str, value: Any) -> None:
    setting = _setting(path, value)
    try:
        RAW.build([setting])
    except ScenarioError as exc:
        assert exc.problems
        for p in exc.problems:
            assert p.file, p  # every problem says where: a file or the --set option
            assert p.line is not None or p.field or p.file.startswith("--set"), p


def test_the_schema_paths_cover_every_table() -> None:
    tables = {p.split(".")[0] for p in PATHS}
    assert set(COMPONENT_MODELS) | {"meta", "prepositioning"} <= tables
    assert "nodes.gauge-change.transship.t_per_day" in PATHS


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=values)
def test_the_command_line_never_shows_a_traceback(path: str, value: Any) -> None:
    result = CliRunner().invoke(app, ["validate", "tiny", "--set", _setting(path, value)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 2)
    if result.exit_code == 2:
        assert "error:" in result.stderr and "Traceback" not in result.stderr
