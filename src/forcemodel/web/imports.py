"""CSV import on the board: a row-by-row preview before anything is written, then all or none.

The preview runs the service's own import (:func:`forcemodel.service.csvio.import_pledges`,
``import_requirements``: the same parsing, checks, roles and versions as ``POST /pledges.csv``)
inside a transaction that is always rolled back, and places each problem it reports on its
row (problems carry their line). Confirming runs the same import again and commits: a file
that changed meanwhile, or records that others changed meanwhile, are checked again then, and
the whole file is refused when any row is (nothing half-written).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from forcemodel.service import csvio
from forcemodel.service.auth import Principal
from forcemodel.service.records import RecordError
from forcemodel.service.schemas import ImportResult
from forcemodel.service.tables import Role

#: An import file larger than this is refused before it is read (the API's body limit is the
#: service's; the page's form carries the text back once more to confirm).
MAX_IMPORT_BYTES = 2 * 1024 * 1024

Importer = Callable[[Session, Principal, str], ImportResult]


@dataclass(frozen=True)
class Kind:
    """What a file imports: its columns, the service's import, who may import it."""

    name: str
    record: str
    columns: tuple[str, ...]
    run: Importer
    role: Role


KINDS = {
    "pledges": Kind("pledges", "pledge", csvio.PLEDGE_COLUMNS, csvio.import_pledges, Role.donor),
    "requirements": Kind(
        "requirements",
        "requirement",
        csvio.REQUIREMENT_COLUMNS,
        csvio.import_requirements,
        Role.partner,
    ),
}


@dataclass(frozen=True)
class RowCheck:
    """One data row of the file: its line, what it would do, its cells, its problems."""

    line: int
    action: str
    cells: list[str]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Preview:
    """What importing a file would do, row by row; ``result`` when every row passes."""

    kind: Kind
    header: list[str]
    rows: list[RowCheck]
    #: Problems of the whole file (its header, its encoding, a line that is not CSV).
    general: list[str]
    result: ImportResult | None
    #: The status the API would answer (200, or 403 / 409 / 422).
    status: int

    @property
    def ok(self) -> bool:
        return self.result is not None


_LINE = re.compile(r"^line (\d+)$")


def _line_of(problem: RecordError) -> int | None:
    for part in problem.loc:
        found = _LINE.match(str(part))
        if found:
            return int(found.group(1))
    found = re.match(r"^line (\d+): ", problem.message)
    return int(found.group(1)) if found else None


def _rows(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and data rows of the file as a lenient reader sees them, with their lines
    (numbered as the service's import numbers them); stops where the file stops being CSV."""
    reader = csv.reader(io.StringIO(text))
    rows: list[tuple[int, list[str]]] = []
    try:
        header = next(reader, [])
        line = reader.line_num + 1
        for cells in reader:
            if cells:
                rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error:
        pass
    return [h.strip() for h in header], rows


def _action(kind: Kind, header: list[str], cells: list[str]) -> str:
    at = header.index("id") if "id" in header else len(cells)
    ident = cells[at].strip() if at < len(cells) else ""
    return f"change {kind.record} {ident}" if ident else f"new {kind.record}"


def check(session: Session, actor: Principal, kind: Kind, text: str) -> Preview:
    """Preview importing ``text``: the service's import, run and rolled back; nothing is kept.

    Call with a session that may write (the import's checks read what earlier rows create);
    the session's transaction is rolled back before this returns, whatever happens.
    """
    result: ImportResult | None = None
    problems: list[RecordError] = []
    status = 200
    try:
        result = kind.run(session, actor, text)
    except csvio.CSVImportError as exc:
        problems, status = exc.problems, exc.status
    except RecordError as exc:
        problems, status = [exc], exc.status
    finally:
        session.rollback()
    by_line: dict[int, list[str]] = {}
    general: list[str] = []
    for p in problems:
        line = _line_of(p)
        if line is None:
            general.append(p.message)
        else:
            by_line.setdefault(line, []).append(re.sub(r"^line \d+: ", "", p.message))
    header, rows = _rows(text)
    checks = [
        RowCheck(line, _action(kind, header, cells), cells, by_line.pop(line, []))
        for line, cells in rows
    ]
    # A problem on a line the lenient reader did not show as a row (e.g. the header's line).
    general.extend(f"line {n}: {m}" for n, ms in sorted(by_line.items()) for m in ms)
    return Preview(kind, header, checks, general, result, status)


def confirm(session: Session, actor: Principal, kind: Kind, text: str) -> ImportResult:
    """Import ``text`` for good: every row or none (raises ``CSVImportError``/``RecordError``;
    the caller's session is rolled back then). Commits."""
    try:
        result = kind.run(session, actor, text)
    except Exception:
        session.rollback()
        raise
    session.commit()
    return result
