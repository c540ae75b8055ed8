"""Pledges and requirements as CSV: export every row, import all rows or none.

An exported file imports back unchanged. On import a row without ``id`` is new; a row with an
``id`` changes that record and must carry the ``version`` it was exported at (a stale row is
refused with 409, like any other edit). ``category`` and ``standard`` come from the item
catalogue: on import they may be left empty, and when given they must agree with it.

Exports are safe to open in a spreadsheet: a cell that begins with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return (which a spreadsheet may run as a formula) is written with a ``'``
before it, and import takes that ``'`` away again (a cell that begins with ``'`` and then one
of those gets one more, so every text survives the round trip).

Imports are strict: a quote that is not closed, text after a closing quote, a line break in
a cell other than ``note``, a row with more or fewer cells than the header, a column named
twice, a whole number written other than as digits: each is refused, naming its line and
column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from forcemodel.service import reads, records
from forcemodel.service.auth import Principal
from forcemodel.service.records import RecordError
from forcemodel.service.schemas import (
    MAX_INT,
    ImportResult,
    PledgeIn,
    PledgePatch,
    RequirementIn,
    RequirementPatch,
)
from forcemodel.service.tables import Item, Pledge, PledgeStatus, Requirement

PLEDGE_COLUMNS = (
    "id",
    "donor",
    "item_id",
    "category",
    "standard",
    "quantity",
    "available_from",
    "location",
    "status",
    "note",
    "version",
)
REQUIREMENT_COLUMNS = (
    "id",
    "partner",
    "item_id",
    "category",
    "standard",
    "quantity",
    "priority",
    "needed_by",
    "location",
    "note",
    "version",
)
#: Columns that describe the catalogue item, not the record.
_ITEM_COLUMNS = ("category", "standard")


class CSVImportError(Exception):
    """The import was refused; nothing was written."""

    def __init__(self, status: int, problems: list[RecordError]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.status = status
        self.problems = problems


#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    """The cell as exported: a ``'`` before text a spreadsheet would run as a formula."""
    return f"'{value}" if value.lstrip("'").startswith(FORMULA_START) else value


def unescape_cell(value: str) -> str:
    """The text of an exported cell (the inverse of :func:`escape_cell`)."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_START):
        return value[1:]
    return value


def _write(columns: tuple[str, ...], rows: list[BaseModel]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        data = row.model_dump(mode="json")
        writer.writerow({k: escape_cell(v) if isinstance(v, str) else v for k, v in data.items()})
    return buf.getvalue()


def export_pledges(session: Session) -> str:
    """Every pledge as CSV text."""
    return _write(PLEDGE_COLUMNS, list(reads.pledges(session)))


def export_requirements(session: Session) -> str:
    """Every requirement as CSV text."""
    return _write(REQUIREMENT_COLUMNS, list(reads.requirements(session)))


def _refuse(message: str, *loc: str) -> CSVImportError:
    return CSVImportError(422, [RecordError(422, message, ("body", *loc))])


def _rows(text: str, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    # NUL: no database stores it, and its place in the file is lost once in a cell.
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise _refuse(f"line {line}: the file contains a NUL character")
    try:
        return _read(text, columns)
    except csv.Error as exc:  # e.g. a field longer than the csv module's limit
        raise _refuse(f"the file is not CSV as expected: {exc}") from None


def _problem(line: int, message: str, *loc: str) -> CSVImportError:
    return CSVImportError(422, [RecordError(422, f"line {line}: {message}", ("body", *loc))])


def _header(reader: Any, columns: tuple[str, ...]) -> list[str]:
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        raise _problem(1, f"the header is not CSV as expected: {exc}", "header") from None
    unknown = [c for c in header if c not in columns]
    if unknown or not header:
        raise CSVImportError(
            422,
            [
                RecordError(
                    422,
                    f"unknown column(s) {', '.join(map(repr, unknown))}; the columns are "
                    f"{', '.join(columns)}"
                    if header
                    else "the file is empty: it needs a header line",
                    ("body", "header"),
                )
            ],
        )
    for name in header:
        places = [i + 1 for i, h in enumerate(header) if h == name]
        if len(places) > 1:
            raise _problem(
                1,
                f"column {name!r} is named twice in the header (columns "
                f"{' and '.join(map(str, places))})",
                "header",
            )
    return header


def _broken_cell(text: str) -> int:
    """The 1-based column of the first cell of ``text`` (a record) that is not CSV."""
    column, i, quoted = 1, 0, False
    start_quote = 0
    while i < len(text):
        char = text[i]
        if quoted:
            if char == '"':
                if text[i + 1 : i + 2] == '"':
                    i += 1
                else:
                    quoted = False
                    after = text[i + 1 : i + 2]
                    if after not in ("", ",", "\n", "\r"):
                        return column  # text after the closing quote
        elif char == '"' and (i == 0 or text[i - 1] == ","):
            quoted, start_quote = True, column
        elif char == ",":
            column += 1
        i += 1
    return start_quote if quoted else column


def _read(text: str, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text), strict=True)
    header = _header(reader, columns)
    out = []
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            column = _broken_cell("".join(lines[line - 1 :]))
            name = header[column - 1] if column <= len(header) else "?"
            raise _problem(
                line,
                f"column {column} ({name}): not CSV as expected ({exc}): a quote that is "
                "not closed, or text after a closing quote",
                f"line {line}",
                name,
            ) from None
        if cells:
            out.append((line, _cells(header, cells, line)))
        line = reader.line_num + 1
    return out


def _cells(header: list[str], cells: list[str], line: int) -> dict[str, str]:
    if len(cells) != len(header):
        more = "more" if len(cells) > len(header) else "fewer"
        raise _problem(line, f"{more} cells ({len(cells)}) than columns ({len(header)})")
    for column, (name, cell) in enumerate(zip(header, cells, strict=True), 1):
        if ("\n" in cell or "\r" in cell) and name != "note":
            raise _problem(
                line,
                f"column {column} ({name}): a line break inside the cell (a quote not closed "
                "where it should be?)",
                f"line {line}",
                name,
            )
    return {name: unescape_cell(cell).strip() for name, cell in zip(header, cells, strict=True)}


#: Columns holding whole numbers: digits only, never "5.0", "true" or " 5 "-like text.
_WHOLE = frozenset({"quantity", "priority"})


def _model(model: type[BaseModel], fields: dict[str, Any], line: int) -> Any:
    fields = {
        k: int(v) if k in _WHOLE and isinstance(v, str) and v.isascii() and v.isdigit() else v
        for k, v in fields.items()
    }
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise CSVImportError(
            422,
            [
                RecordError(
                    422,
                    f"line {line}: {'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}",
                    ("body", f"line {line}", *e["loc"]),
                )
                for e in exc.errors()
            ],
        ) from None


def _check_item(session: Session, row: dict[str, str], item_id: str, line: int) -> None:
    item = session.get(Item, item_id)
    if item is None:
        return  # the record check says so
    for column in _ITEM_COLUMNS:
        given, known = row.get(column, ""), getattr(item, column)
        if given and given != known:
            raise RecordError(
                422,
                f"line {line}: {column}: item {item_id!r} is {known} in the catalogue, not {given}",
                ("body", f"line {line}", column),
            )


def _import(
    session: Session,
    text: str,
    columns: tuple[str, ...],
    record_fields: tuple[str, ...],
    create: Callable[[dict[str, str], int], object],
    update: Callable[[int, dict[str, str], int, int], bool],
) -> ImportResult:
    created = updated = unchanged = 0
    problems: list[RecordError] = []
    for line, row in _rows(text, columns):
        # An empty cell means "not given", except a note, which may be emptied.
        fields = {k: v for k, v in row.items() if k in record_fields and (v or k == "note")}
        try:
            _check_item(session, row, row.get("item_id", ""), line)
            if row.get("id"):
                ident = _int(row["id"], "id", line)
                version = _int(row.get("version", ""), "version", line)
                if update(ident, fields, version, line):
                    updated += 1
                else:
                    unchanged += 1
            else:
                create(fields, line)
                created += 1
        except CSVImportError as exc:
            problems.extend(exc.problems)
        except RecordError as exc:
            message = exc.message if exc.message.startswith("line ") else f"line {line}: {exc}"
            loc = ("body", f"line {line}", *exc.loc[1:])
            problems.append(RecordError(exc.status, message, loc))
    if problems:
        statuses = {p.status for p in problems}
        status = next((s for s in (403, 409) if s in statuses), 422)
        raise CSVImportError(status, [p for p in problems if p.status in (status, 404, 422)])
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


def _int(text: str, column: str, line: int) -> int:
    try:
        value = int(text)
        if not 1 <= value <= MAX_INT:  # ids and versions are positive 32-bit numbers
            raise ValueError(text)
    except ValueError:
        raise RecordError(
            422,
            f"line {line}: {column}: {'a whole number is needed' if text else 'missing'}"
            + (" (the version the row was exported at)" if column == "version" else ""),
            ("body", f"line {line}", column),
        ) from None
    return value


def import_pledges(session: Session, actor: Principal, text: str) -> ImportResult:
    """Create and update pledges from CSV text, all rows or none (raises CSVImportError)."""
    fields = ("donor", "item_id", "quantity", "available_from", "location", "status", "note")

    def create(row: dict[str, str], line: int) -> object:
        status = row.pop("status", PledgeStatus.pledged.value)
        if status != PledgeStatus.pledged.value:
            raise RecordError(422, "status: a new pledge starts as pledged", ("body", "status"))
        return records.create_pledge(session, actor, _model(PledgeIn, row, line))

    def update(ident: int, row: dict[str, str], version: int, line: int) -> bool:
        current = reads.get_row(session, Pledge, ident, "pledge")
        donor = row.pop("donor", current.donor)
        if donor != current.donor:
            raise RecordError(422, "donor: a pledge keeps its donor", ("body", "donor"))
        before = current.version
        records.update_pledge(session, actor, ident, _model(PledgePatch, row, line), version)
        return current.version != before

    return _import(session, text, PLEDGE_COLUMNS, fields, create, update)


def import_requirements(session: Session, actor: Principal, text: str) -> ImportResult:
    """Create and update requirements from CSV text, all rows or none (raises CSVImportError)."""
    fields = ("partner", "item_id", "quantity", "priority", "needed_by", "location", "note")

    def create(row: dict[str, str], line: int) -> object:
        return records.create_requirement(session, actor, _model(RequirementIn, row, line))

    def update(ident: int, row: dict[str, str], version: int, line: int) -> bool:
        current = reads.get_row(session, Requirement, ident, "requirement")
        partner = row.pop("partner", current.partner)
        if partner != current.partner:
            raise RecordError(422, "partner: a requirement keeps its partner", ("body", "partner"))
        before = current.version
        records.update_requirement(
            session, actor, ident, _model(RequirementPatch, row, line), version
        )
        return current.version != before

    return _import(session, text, REQUIREMENT_COLUMNS, fields, create, update)
