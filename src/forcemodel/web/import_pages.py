"""The assistance coordination board's CSV import: a file previewed row by row, then confirmed.

Donors import their nation's pledges, partners their nation's requirements
(:mod:`forcemodel.web.imports` checks and writes them through the API's records, as one
change); the preview shows each row passing or refused, and why.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from forcemodel.service import csvio
from forcemodel.service.records import RecordError
from forcemodel.web import imports
from forcemodel.web.board_pages import Anyone
from forcemodel.web.frame import Refused, Viewer, check_csrf, render, state

# Included before the board's other pages: "/pledges/import" is not a pledge's number.
router = APIRouter(prefix="/board")

ImportKind = Annotated[str, Path(pattern="^(pledges|requirements)$")]


def _importer(v: Viewer, kind: str) -> imports.Kind:
    found = imports.KINDS[kind]
    if v.role is not found.role:
        raise Refused(
            f"Only {found.role.value}s import {kind} (each for their own nation); "
            f"your role is {v.role.value}."
        )
    return found


@router.get("/{kind}/import", response_class=HTMLResponse)
def import_form(request: Request, v: Anyone, kind: ImportKind) -> Response:
    found = _importer(v, kind)
    context = {"kind": found, "preview": None, "text": "", "done": None, "stale": False}
    return render(request, "import.html", context, v=v)


@router.post("/{kind}/import", response_class=HTMLResponse)
def import_file(
    request: Request,
    v: Anyone,
    kind: ImportKind,
    csrf: Annotated[str, Form(max_length=200)] = "",
    step: Annotated[str, Form(pattern="^(preview|confirm)$")] = "preview",
    file: Annotated[UploadFile | None, File()] = None,
    text: Annotated[str, Form(max_length=imports.MAX_IMPORT_BYTES)] = "",
) -> Response:
    check_csrf(v, csrf)
    found = _importer(v, kind)
    if file is not None and file.filename:
        content = file.file.read(imports.MAX_IMPORT_BYTES + 1)
        if len(content) > imports.MAX_IMPORT_BYTES:
            raise Refused(f"The file is larger than {imports.MAX_IMPORT_BYTES} bytes.", 413)
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Refused(f"The file is not UTF-8 text ({exc.reason}).", 422) from None
    if not text.strip():
        raise Refused("Choose a CSV file to import (it needs a header line).", 422)
    web = state(request)
    if step == "confirm":
        try:
            with web.write_sessions() as session:
                result = imports.confirm(session, v.user, found, text)
        except (csvio.CSVImportError, RecordError):
            pass  # shown below, row by row, from a fresh preview
        else:
            return render(
                request,
                "import.html",
                {"kind": found, "preview": None, "text": "", "done": result, "stale": False},
                v=v,
            )
    with web.write_sessions() as session:
        preview = imports.check(session, v.user, found, text)
    status = 200 if preview.ok and step == "preview" else preview.status or 422
    return render(
        request,
        "import.html",
        {
            "kind": found,
            "preview": preview,
            "text": text,
            "done": None,
            "stale": step == "confirm",
        },
        v=v,
        status=status,
    )
