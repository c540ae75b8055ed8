"""The service's records on the command line (``assist import``, ``export``, ``match
--database-url``): a CSV file split by the nation each row acts for, problems located by file
and line, and the SQLite file a URL names. Plain text handling; the commands are in
:mod:`forcemodel.cli.assist`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any


def missing_sqlite_file(database_url: str) -> str | None:
    """The file a SQLite URL names when it does not exist (``None`` for any other URL, an
    in-memory database or a SQLite URI, whose file the driver resolves itself)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    name = url.database
    if url.get_backend_name() != "sqlite" or name in (None, "", ":memory:"):
        return None
    if "uri" in url.query or str(name).startswith("file:"):
        return None
    return None if Path(str(name)).is_file() else str(name)


def split_by_owner(
    text: str, column: str, owner_of: Any
) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """The CSV text split by the nation each row acts for, line numbers kept.

    Each part holds the header and its nation's rows; the other rows become empty lines (the CSV
    reader skips them but counts them), so a problem's line is the line of the whole file.
    A row's nation is its ``column`` cell, else that of the record its ``id`` names.
    """
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return {"": text}, []
    head_end = reader.line_num
    names = [h.strip() for h in header]
    col = names.index(column) if column in names else None
    ident = names.index("id") if "id" in names else None
    spans: list[tuple[int, int, str | None]] = []
    unowned: list[tuple[int, str]] = []
    start = head_end
    for row in reader:
        end = reader.line_num
        if not any(cell.strip() for cell in row):
            start = end
            continue
        nation = row[col].strip() if col is not None and col < len(row) else ""
        if not nation and ident is not None and ident < len(row) and row[ident].strip():
            nation = owner_of(row[ident].strip()) or ""
        if not nation:
            unowned.append((start + 1, "missing: whose row is it? (a nation code such as DE)"))
        spans.append((start, end, nation or None))
        start = end
    parts: dict[str, list[str]] = {}
    for nation in sorted({n for _, _, n in spans if n}):
        keep = list(lines[:head_end])
        for s0, s1, n in spans:
            chunk = lines[s0:s1]
            keep.extend(chunk if n == nation else ["\n"] * len(chunk))
        parts[nation] = keep
    if not spans:
        # A file with a header only: let the import check the header.
        return {"": text}, unowned
    return {n: "".join(v) for n, v in parts.items()}, unowned


def located(file: str, message: str) -> str:
    """``line 4: quantity: ...`` as ``FILE:4: quantity: ...``."""
    if message.startswith("line "):
        number, _, rest = message[5:].partition(": ")
        if number.isdigit():
            return f"{file}:{number}: {rest}"
    return f"{file}: {message}"


def line_key(problem: str) -> tuple[int, str]:
    """Sort key of a located problem: its line number (0 when it has none), then its text."""
    parts = problem.split(":")
    return (int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0, problem)
