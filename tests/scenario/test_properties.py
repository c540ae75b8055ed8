"""Property tests: valid scenarios mutated into invalid ones never escape as another exception.

Every mutation of the tiny scenario (as a YAML file or as a folder with CSV tables) either still
loads, or raises :class:`ScenarioError` whose problems each name a file and, where the input has
lines, a line; the CLI then exits 2 without a traceback. Mutations that must break the scenario
(a required key dropped, a dangling reference, a non-finite or negative number, a CSV row with
extra cells) must raise, with a problem at the mutated field.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st
from typer.testing import CliRunner

from forcemodel import Problem, ScenarioError, load_scenario, load_scenario_data
from forcemodel.cli import app
from forcemodel.common.read import dotted
from forcemodel.scenario.model import COMPONENT_MODELS, FILLED_BY_LOADER
from support.scenarios import FOLDER_CSV_TABLES, TINY_TEXT, Writer, csv_text, tiny_raw

Path_ = tuple[str | int, ...]
RAW = tiny_raw()
runner = CliRunner()

#: Problems about a whole file, which have no line to point at.
FILE_LEVEL = re.compile(r"empty|binary|MiB|cannot read|no such file|no CSV file|is a folder")

#: Fields that refer to an id elsewhere: (table, key).
REFERENCES = {
    "links": ("from", "to", "pool"),
    "units": ("home", "assigned_to", "set_type"),
    "stocks": ("depot",),
    "regions": ("reception",),
    "threats": ("region",),
    "disruptions": ("target",),
}


def walk(data: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from walk(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from walk(v, (*path, i))


ALL_PATHS = [p for p, _ in walk(RAW) if p]
KEY_PATHS = [p for p in ALL_PATHS if isinstance(p[-1], str)]
NUMBER_PATHS = [p for p, v in walk(RAW) if isinstance(v, int | float) and not isinstance(v, bool)]
REF_PATHS = [
    (table, i, key)
    for table, keys in REFERENCES.items()
    for i, item in enumerate(RAW.get(table, []))
    for key in keys
    if key in item
]
ALL_IDS = {str(v) for _, v in walk(RAW) if isinstance(v, str)}


def _required(model_name: str) -> set[str]:
    model = next(m for m in COMPONENT_MODELS.values() if m.__name__ == model_name)
    filled = set(FILLED_BY_LOADER.get(model_name, ()))
    return {
        (f.alias or name)
        for name, f in model.model_fields.items()
        if f.is_required() and (f.alias or name) not in filled
    }


def must_fail_without(path: Path_) -> bool:
    """Whether dropping the key at ``path`` must make tiny invalid."""
    if path in (("meta",), ("meta", "name")):
        return True
    if path[:2] == ("meta", "sources") and len(path) == 4:
        return path[3] in ("id", "title")
    if path[0] == "regions" and len(path) == 5 and path[2] == "in_place":
        return path[4] in ("type", "nation")
    if path[0] == "nodes" and path[2:] in (("transship",), ("transship", "t_per_day")):
        return True  # the gauge break needs its transshipment
    if len(path) == 3 and path[0] in COMPONENT_MODELS:
        table, i, key = path
        assert isinstance(i, int) and isinstance(key, str)
        model = COMPONENT_MODELS[str(table)].__name__
        if key in _required(model):
            return True
        item = RAW[str(table)][i]
        if table == "links" and key == "gauge":
            return bool(item["mode"] == "rail")
        return table == "stocks" and key == "set_type"
    return False


def get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def drop(data: Any, path: Path_) -> Any:
    out = copy.deepcopy(data)
    parent = get(out, path[:-1])
    del parent[path[-1]]
    return out


def put(data: Any, path: Path_, value: Any) -> Any:
    out = copy.deepcopy(data)
    get(out, path[:-1])[path[-1]] = value
    return out


# -- checks ---------------------------------------------------------------------------------------


def outcome(source: Path) -> list[Problem] | None:
    """None if the scenario loads, else its problems; any other exception fails the test."""
    try:
        load_scenario(source)
    except ScenarioError as exc:
        assert exc.problems, "a ScenarioError without problems"
        for p in exc.problems:
            note(str(p))
        return exc.problems
    return None


def assert_located(problems: list[Problem], files: set[str]) -> None:
    for p in problems:
        assert p.file in files, f"problem in an unexpected file: {p}"
        assert p.line is not None or FILE_LEVEL.search(p.message), f"no line: {p}"
        assert p.line is None or p.line >= 1
        assert p.message


def assert_cli(source: Path, problems: list[Problem] | None) -> None:
    result = runner.invoke(app, ["validate", str(source)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    if problems is None:
        assert result.exit_code == 0, result.stderr
    else:
        assert result.exit_code == 2
        first = problems[0]
        where = first.file if first.line is None else f"{first.file}:{first.line}:"
        assert where in result.stderr  # (rich expands tabs, so not the whole message)


def files_of(source: Path) -> set[str]:
    if source.is_dir():
        return {str(p) for p in source.iterdir()}
    return {str(source)}


def write_form(writer: Writer, data: dict[str, Any], folder: bool) -> Path:
    return writer.folder(data) if folder else writer.yaml(data)


def check(source: Path, must_fail: bool) -> list[Problem] | None:
    problems = outcome(source)
    if must_fail:
        assert problems is not None, "the mutated scenario should not load"
    if problems is not None:
        assert_located(problems, files_of(source))
    assert_cli(source, problems)
    return problems


def line_text(problem: Problem) -> str:
    assert problem.line is not None
    return Path(problem.file).read_text(encoding="utf-8").splitlines()[problem.line - 1]


def at_field(problems: list[Problem], path: Path_) -> list[Problem]:
    """Problems at the mutated field (or at its item, or inside it)."""
    field = dotted(path)
    item = dotted(path[:2]) if path[0] in COMPONENT_MODELS else field
    return [
        p
        for p in problems
        if p.field == field
        or p.field.startswith(field + ".")
        or p.field.startswith(field + "[")
        or p.field == item
    ]


# -- dict mutations -------------------------------------------------------------------------------


@given(path=st.sampled_from(KEY_PATHS), folder=st.booleans())
def test_dropped_key(session_writer: Writer, path: Path_, folder: bool) -> None:
    required = must_fail_without(path)
    note(f"drop {dotted(path)} (required: {required}, folder: {folder})")
    source = write_form(session_writer, drop(RAW, path), folder)
    problems = check(source, must_fail=required)
    if required and not folder:
        assert problems is not None
        assert at_field(problems, path) or path[0] == "meta" or path[-1] == "transship", problems


WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.sampled_from(["", "NO", "yes", "2024-10-10", "1e400", "-", "[x]", "{a: 1}", "*x"]),
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.sampled_from(["id", "a", "land"]), st.integers(0, 2), max_size=2),
)


@given(path=st.sampled_from(ALL_PATHS), value=WRONG_VALUES)
def test_wrong_type_yaml(session_writer: Writer, path: Path_, value: Any) -> None:
    note(f"{dotted(path)} = {value!r}")
    check(session_writer.yaml(put(RAW, path, value)), must_fail=False)


@given(path=st.sampled_from(ALL_PATHS), value=WRONG_VALUES)
def test_wrong_type_as_python_data(path: Path_, value: Any) -> None:
    """The same through the Python API: no file, so no lines, but always the field."""
    try:
        load_scenario_data(put(RAW, path, value))
    except ScenarioError as exc:
        assert all(p.file == "<data>" and p.line is None for p in exc.problems)


@given(
    path=st.sampled_from(REF_PATHS),
    new=st.from_regex(r"\Azz[a-z0-9][a-z0-9-]{0,6}\Z"),
    folder=st.booleans(),
)
def test_dangling_reference(session_writer: Writer, path: Path_, new: str, folder: bool) -> None:
    note(f"{dotted(path)} = {new!r} (folder: {folder})")
    assert new not in ALL_IDS
    source = write_form(session_writer, put(RAW, path, new), folder)
    problems = check(source, must_fail=True)
    assert problems is not None
    hits = [p for p in problems if p.field == dotted(path) and new in p.message]
    assert len(hits) == 1, problems
    assert new in line_text(hits[0]), f"{hits[0]} points at: {line_text(hits[0])!r}"


@given(
    path=st.sampled_from(NUMBER_PATHS),
    kind=st.sampled_from(["nan", "inf", "-inf", "negative"]),
    amount=st.floats(0.5, 1e9),
    folder=st.booleans(),
)
def test_bad_number(
    session_writer: Writer, path: Path_, kind: str, amount: float, folder: bool
) -> None:
    old = get(RAW, path)
    value = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(kind, -abs(old) - amount)
    may_be_negative = path[-1] in ("lat", "lon")
    note(f"{dotted(path)} = {value!r} (folder: {folder})")
    source = write_form(session_writer, put(RAW, path, value), folder)
    problems = check(source, must_fail=not (kind == "negative" and may_be_negative))
    if problems is not None:
        hits = at_field(problems, path)
        assert hits, problems
        token = "-" if kind in ("negative", "-inf") else kind
        assert any(token in line_text(p).lower() for p in hits), [line_text(p) for p in hits]


# -- text mutations -------------------------------------------------------------------------------

YAML_NOISE = st.text(
    alphabet=st.sampled_from(list(":{}[],-#&*!|>'\"\t\n %@`?\\abc019.\x07\x85é")),
    min_size=1,
    max_size=5,
)


@st.composite
def corrupted_yaml(draw: st.DrawFn) -> str:
    text = TINY_TEXT
    lines = text.splitlines(keepends=True)
    kind = draw(st.sampled_from(["insert", "delete", "indent", "dedent", "tab", "swap", "cut"]))
    if kind == "insert":
        pos = draw(st.integers(0, len(text)))
        noise = draw(st.one_of(YAML_NOISE, st.text(min_size=1, max_size=3)))
        return text[:pos] + noise + text[pos:]
    if kind == "delete":
        start = draw(st.integers(0, len(text) - 1))
        return text[:start] + text[start + draw(st.integers(1, 20)) :]
    if kind == "cut":
        return text[: draw(st.integers(0, len(text)))]
    i = draw(st.integers(0, len(lines) - 1))
    line = lines[i]
    if kind == "indent":
        lines[i] = " " * draw(st.integers(1, 3)) + line
    elif kind == "dedent":
        lines[i] = line[draw(st.integers(1, 4)) :] if line.startswith(" ") else line
    elif kind == "tab":
        stripped = line.lstrip(" ")
        lines[i] = "\t" * draw(st.integers(1, 2)) + stripped
    else:
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


@given(text=corrupted_yaml())
def test_corrupted_yaml_text(session_writer: Writer, text: str) -> None:
    check(session_writer.text(text), must_fail=False)


@st.composite
def corrupted_csv(draw: st.DrawFn) -> tuple[str, str | bytes, bool]:
    """(table, new content, must fail) for one CSV file of tiny's folder form."""
    table = draw(st.sampled_from(FOLDER_CSV_TABLES))
    folder = csv_text(RAW[table])
    lines = folder.splitlines()
    header = lines[0].split(",")
    kind = draw(st.sampled_from(["drop_column", "extra_cells", "garbage", "cut", "swap_header"]))
    if kind == "drop_column":
        col = draw(st.integers(0, len(header) - 1))
        rows = [r.split(",") for r in lines]
        if any(len(r) != len(header) for r in rows):  # quoted commas: keep it simple
            return table, folder, False
        text = "\n".join(",".join(r[:col] + r[col + 1 :]) for r in rows) + "\n"
        name = header[col].split(".")[0]
        model = COMPONENT_MODELS[table].__name__
        return table, text, name in _required(model)
    if kind == "extra_cells":
        i = draw(st.integers(1, len(lines) - 1))
        lines[i] += "," * draw(st.integers(1, 3)) + draw(st.sampled_from(["", "x", "1"]))
        return table, "\n".join(lines) + "\n", True
    if kind == "garbage":
        data = folder.encode()
        pos = draw(st.integers(0, len(data)))
        noise = draw(st.binary(min_size=1, max_size=6))
        return table, data[:pos] + noise + data[pos:], False
    if kind == "cut":
        return table, folder[: draw(st.integers(0, len(folder)))], False
    i, j = draw(st.integers(0, len(header) - 1)), draw(st.integers(0, len(header) - 1))
    header[i], header[j] = header[j], header[i]
    return table, "\n".join([",".join(header), *lines[1:]]) + "\n", False


@given(case=corrupted_csv())
def test_corrupted_csv(session_writer: Writer, case: tuple[str, str | bytes, bool]) -> None:
    table, content, must_fail = case
    note(f"{table}.csv = {content!r}")
    folder = session_writer.folder(tiny_raw())
    csv_file = folder / f"{table}.csv"
    if isinstance(content, bytes):
        csv_file.write_bytes(content)
    else:
        csv_file.write_text(content, encoding="utf-8")
    problems = check(folder, must_fail=must_fail)
    if must_fail:
        assert problems is not None
        assert any(p.file == str(csv_file) for p in problems), problems
