"""Reading input files (scenarios, assistance cases) into plain data while remembering where
every value came from.

This is the only place that touches the file system for input. It returns raw Python data
(dicts, lists, scalars) and a map from each value's path to its file and line, so that later
validation can point at the exact line of a CSV row or a YAML key.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import yaml

from forcemodel.common.errors import Problem

#: Largest scenario file read; larger ones are refused before reading (a 1 GB file is a mistake).
MAX_FILE_BYTES = 256 * 1024 * 1024

#: Component tables that may also come from CSV files in a scenario folder.
CSV_TABLES = ("nodes", "links", "lift_pools", "units", "stocks", "disruptions", "tiers")

Path_ = tuple[str | int, ...]
Locations = dict[Path_, tuple[str, int]]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAX_DEPTH = 64
#: Deepest nesting handed to libyaml's composer, which recurses in C: some 30,000 levels of
#: '[' crash the interpreter (segmentation fault), so deeper input is refused beforehand.
#: The libyaml in PyYAML 6.0.4 refuses the same depth itself while scanning (its message is
#: reworded to ours below).
_MAX_COMPOSE_DEPTH = 1000
_DEEP_BLOCK = re.compile(rf"^[ \t?:-]{{{_MAX_COMPOSE_DEPTH}}}", re.MULTILINE)


class ReadError(Exception):
    """Reading failed in a way that stops everything else (a file that is not YAML at all)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def read_text(path: Path, label: str) -> str:
    """The text of a scenario file, refusing files that are missing, huge, binary or empty."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ReadError(
            [Problem(label, None, "", f"cannot read the file: {exc.strerror}")]
        ) from exc
    if path.is_dir():
        raise ReadError([Problem(label, None, "", "is a folder, expected a file")])
    if size > MAX_FILE_BYTES:
        raise ReadError(
            [
                Problem(
                    label,
                    None,
                    "",
                    f"file is {size / 2**20:,.0f} MiB, more than the {MAX_FILE_BYTES // 2**20} MiB "
                    "a scenario file may have; split long tables into CSV files",
                )
            ]
        )
    try:
        # Bounded read: a pipe or device (/dev/zero) reports size 0 but may never end.
        with path.open("rb") as f:
            data = _read_bounded(f, size)
    except OSError as exc:
        reason = f"cannot read the file: {exc.strerror}"
        raise ReadError([Problem(label, None, "", reason)]) from exc
    if len(data) > MAX_FILE_BYTES:
        raise ReadError([Problem(label, None, "", f"is larger than {MAX_FILE_BYTES // 2**20} MiB")])
    if b"\x00" in data[:65536]:
        raise ReadError([Problem(label, None, "", "is a binary file, expected UTF-8 text")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ReadError(
            [Problem(label, line, "", f"is not UTF-8 text (byte {exc.start}: {exc.reason})")]
        ) from exc
    if not text.strip():
        raise ReadError([Problem(label, None, "", "file is empty")])
    return text


def _read_bounded(f: BinaryIO, size: int) -> bytes:
    """At most MAX_FILE_BYTES + 1 bytes, without reserving that much memory up front.

    A regular file is read in one go (its size is known and already checked); a pipe or a
    device reports size 0 and is read in chunks until it ends or passes the limit.
    """
    if size > 0:
        return f.read(size + 1)
    chunks: list[bytes] = []
    total = 0
    while total <= MAX_FILE_BYTES:
        chunk = f.read(min(1 << 20, MAX_FILE_BYTES + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


class _Builder:
    """Turns a composed YAML node tree into Python data, recording each value's line."""

    def __init__(self, label: str, locs: Locations, problems: list[Problem]) -> None:
        self.label = label
        self.locs = locs
        self.problems = problems
        self.constructor = yaml.constructor.SafeConstructor()
        #: Values left to build: aliases can make a short file expand without bound (a
        #: "billion laughs"); parse_yaml sets this from the length of the text.
        self.budget = 1_000_000

    def build(self, node: yaml.Node, path: Path_, depth: int = 0) -> Any:
        self.locs[path] = (self.label, node.start_mark.line + 1)
        self.budget -= 1
        if self.budget < 0:
            msg = "the file expands to too many values (YAML aliases repeated within aliases?)"
            raise ReadError([Problem(self.label, node.start_mark.line + 1, _dotted(path), msg)])
        if depth > _MAX_DEPTH:
            self.problems.append(
                Problem(self.label, node.start_mark.line + 1, _dotted(path), "nesting too deep")
            )
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self._problem(key_node, path, "a key must be a plain value")
                    continue
                key = self._scalar(key_node)
                if key == "<<":
                    self._problem(key_node, path, "YAML merge keys ('<<') are not supported")
                    continue
                if key in out:
                    self._problem(key_node, (*path, key), "duplicate key")
                    continue
                out[key] = self.build(value_node, (*path, key), depth + 1)
                self.locs[(*path, key)] = (self.label, key_node.start_mark.line + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, (*path, i), depth + 1) for i, v in enumerate(node.value)]
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: Path_ = ()) -> Any:
        tag = node.tag
        # Dates stay text; YAML 1.1 'yes/no/on/off' stay text (Norway's code is NO).
        if tag == "tag:yaml.org,2002:timestamp":
            return node.value
        if tag == "tag:yaml.org,2002:bool" and str(node.value).lower() not in ("true", "false"):
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError):
            # e.g. '!!int abc', '!!python/name:...': unreadable or unsafe tagged values.
            self._problem(node, path, f"cannot read {node.value!r} as {tag}")
            return None

    def _problem(self, node: yaml.Node, path: Path_, message: str) -> None:
        self.problems.append(Problem(self.label, node.start_mark.line + 1, _dotted(path), message))


def _check_depth(text: str) -> None:
    """Refuse YAML nested deeper than :data:`_MAX_COMPOSE_DEPTH` before composing it.

    Nesting needs a '[' or '{' per flow level or an indentation/indicator column per block
    level; only text that could nest that deep is scanned (by events, which do not recurse).
    """
    if text.count("[") + text.count("{") < _MAX_COMPOSE_DEPTH and not _DEEP_BLOCK.search(text):
        return
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > _MAX_COMPOSE_DEPTH:
                raise yaml.MarkedYAMLError(
                    problem=f"nested more than {_MAX_COMPOSE_DEPTH} levels deep",
                    problem_mark=cast(yaml.Mark, event.start_mark),
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def parse_yaml(text: str, label: str, locs: Locations, problems: list[Problem]) -> Any:
    """Parse YAML text; a syntax error stops reading this file with its line and column."""
    try:
        _check_depth(text)
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        col = f", column {mark.column + 1}" if mark is not None else ""
        what = exc.problem or exc.context or "syntax error"
        if "maximum nesting depth" in what:
            what = f"nested more than {_MAX_COMPOSE_DEPTH} levels deep"
        raise ReadError([Problem(label, line, "", f"YAML syntax error{col}: {what}")]) from exc
    except yaml.reader.ReaderError as exc:
        # e.g. a control character; libyaml gives the position in bytes of the UTF-8 text.
        line = text.encode("utf-8", "replace")[: exc.position].count(b"\n") + 1
        raise ReadError([Problem(label, line, "", f"YAML error: {exc.reason}")]) from exc
    except yaml.YAMLError as exc:
        raise ReadError([Problem(label, None, "", f"YAML error: {exc}")]) from exc
    if root is None:
        raise ReadError([Problem(label, None, "", "file is empty")])
    builder = _Builder(label, locs, problems)
    builder.budget = 2 * len(text) + 1000  # a value takes at least a character, but aliases
    return builder.build(root, ())


def read_yaml_mapping(
    path: Path, label: str, locs: Locations, problems: list[Problem], *, keys: str
) -> dict[str, Any]:
    """The top-level mapping of a YAML file (``keys``: examples of its keys, for the message).

    Raises :class:`ReadError` for a file that cannot be read or parsed, or whose top level is
    not a mapping; problems of single values are added to ``problems``.
    """
    raw = parse_yaml(read_text(path, label), label, locs, problems)
    if not isinstance(raw, dict):
        raise ReadError(
            [Problem(label, 1, "", f"the top level must be a mapping with keys such as {keys}")]
        )
    return raw


def read_csv_into(
    raw: dict[str, Any],
    headers: dict[str, tuple[str, list[str]]],
    table: str,
    path: Path,
    label: str,
    locs: Locations,
    problems: list[Problem],
) -> bool:
    """Read the CSV file of ``table`` into ``raw[table]`` (its header into ``headers``).

    A file that cannot be read adds its problems, leaves the table empty and returns False.
    """
    try:
        text = read_text(path, label)
    except ReadError as exc:
        problems.extend(exc.problems)
        raw[table] = []
        return False
    rows, header = read_csv_table(text, label, table, locs, problems)
    raw[table] = rows
    headers[table] = (label, header)
    return True


def read_csv_table(
    text: str, label: str, table: str, locs: Locations, problems: list[Problem]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of a CSV table as dicts; dotted columns (``power.land``) become nested fields.

    Empty cells are left out so that defaults apply. Returns the rows and the header.
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        problems.append(Problem(label, 1, "", "CSV file has no header row"))
        return [], []
    except csv.Error as exc:
        problems.append(Problem(label, 1, "", f"CSV syntax error: {exc}"))
        return [], []
    seen: set[str] = set()
    for h in header:
        if not h:
            problems.append(Problem(label, 1, "", "CSV header has an empty column name"))
        elif h in seen:
            problems.append(Problem(label, 1, h, "column appears twice in the header"))
        seen.add(h)
    keys = [tuple(h.split(".")) for h in header]
    rows: list[dict[str, Any]] = []
    for h in seen:
        parts = h.split(".")
        for n in range(1, len(parts)):
            if ".".join(parts[:n]) in seen:
                problems.append(
                    Problem(label, 1, h, f"column conflicts with column '{'.'.join(parts[:n])}'")
                )
    for line, row in csv_rows(reader, label, problems):
        if len(row) != len(header):
            problems.append(
                Problem(
                    label,
                    line,
                    f"{table}[{len(rows)}]",
                    f"row has {len(row)} cells, the header has {len(header)}",
                )
            )
        item: dict[str, Any] = {}
        for key, cell in zip(keys, row, strict=False):
            value = cell.strip()
            if not value or not key[0]:
                continue
            target = item
            for part in key[:-1]:
                nxt = target.setdefault(part, {})
                if not isinstance(nxt, dict):
                    break
                target = nxt
            else:
                target[key[-1]] = value
        locs[(table, len(rows))] = (label, line)
        rows.append(item)
    return rows, header


def csv_rows(reader: Any, label: str, problems: list[Problem]) -> Iterator[tuple[int, list[str]]]:
    """The rest of a ``csv.reader``'s rows that hold something, each with the line it starts on.

    A syntax error is recorded in ``problems`` and ends the rows.
    """
    while True:
        # A quoted cell may span lines: a row is located at the line where it starts.
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.append(Problem(label, reader.line_num, "", f"CSV syntax error: {exc}"))
            return
        if any(cell.strip() for cell in row):
            yield line, row


class LocatingValidator:
    """Shared by the loaders: raw data, where each part came from, and the problems found."""

    def __init__(
        self,
        raw: dict[str, Any],
        locs: Locations,
        label: str,
        problems: list[Problem],
        headers: dict[str, tuple[str, list[str]]],
    ) -> None:
        self.raw = raw
        self.locs = locs
        self.label = label
        self.problems = problems
        self.headers = headers  # CSV tables: table -> (file label, header)
        # CSV tables whose header is wrong: their rows are not validated one by one.
        self.bad_header: set[str] = set()
        # Raw list position of each validated item, per table, parallel to the validated list.
        self.positions: dict[str, list[int]] = {}
        # (table, column) pairs already reported as a missing CSV column.
        self.missing_columns: set[tuple[str, str]] = set()

    def where(self, path: Path_) -> tuple[str, int | None]:
        """The file and line of ``path``, or of its nearest located parent."""
        for n in range(len(path), -1, -1):
            hit = self.locs.get(path[:n])
            if hit is not None:
                return hit
        return self.label, None

    def problem(self, path: Path_, message: str) -> None:
        """Record a problem at ``path``, located."""
        file, line = self.where(path)
        self.problems.append(Problem(file, line, dotted(path), message))


def _dotted(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


dotted = _dotted


#: Messages in words for the patterns of the shared field types (:mod:`forcemodel.common.fields`)
#: and the scenario's currency code, instead of the pattern itself.
PATTERN_MESSAGES = {
    "^[A-Z]{2}$": "must be a two-letter country code in capitals (ISO 3166-1), e.g. PL",
    "^[A-Z]{3}$": "must be a three-letter currency code in capitals (ISO 4217), e.g. EUR",
    r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$": (
        "must be an identifier: letters, digits, '_', '-' and '.', starting with a letter or digit"
    ),
}


def suggest(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the option closest to a mistyped ``word``, else ``""``."""
    close = difflib.get_close_matches(word, [str(o) for o in options], n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def no_such_source(source: str, bundled: Iterable[str], kind: str, what: str = "file") -> Problem:
    """The problem of a ``source`` that is neither a ``what`` (file, folder) nor the name of a
    bundled ``kind`` (case, scenario): with the closest bundled name and the list of them."""
    names = list(bundled)
    return Problem(
        source,
        None,
        "",
        f"no such {what}, and no bundled {kind} of that name{suggest(source, names)} "
        f"(bundled: {', '.join(names)})",
    )


def validation_message(
    err: Any, loc: tuple[Any, ...], known_fields: Callable[[], Iterable[str]]
) -> str:
    """One pydantic validation error in plain words: an unknown field with the known one it
    is closest to (``known_fields``, asked only then), a missing field, a pattern in words
    (:data:`PATTERN_MESSAGES`), and the value given where it is a single value."""
    kind = err["type"]
    if kind == "extra_forbidden":
        field = str(loc[-1]) if loc else "?"
        return f"unknown field{suggest(field, known_fields())}"
    if kind == "missing":
        return "required field is missing"
    msg = str(err["msg"])
    if kind == "string_pattern_mismatch":
        pattern = str((err.get("ctx") or {}).get("pattern", ""))
        msg = PATTERN_MESSAGES.get(pattern, msg)
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    value = err.get("input")
    if kind not in ("model_type", "dict_type") and not isinstance(value, dict | list):
        msg = f"{msg} (got {value!r})"
    return msg
