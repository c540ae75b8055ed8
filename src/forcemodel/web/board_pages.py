"""The assistance coordination board's pages: lists, a pledge's edit form, the matcher, audit.

Every write goes through :mod:`forcemodel.service.records` (the API's checks, versions and
audit), with the API's roles: donors edit their own nation's pledges, coordinators a pledge's
status and run the matcher, everyone signed in reads; the audit log is for coordinators. The
CSV import (previewed row by row, then confirmed) is :mod:`.import_pages`.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import ValidationError

from forcemodel.service import csvio, reads, records
from forcemodel.service.matching import DEFAULT_TIME_LIMIT
from forcemodel.service.records import RecordError
from forcemodel.service.schemas import PledgePatch
from forcemodel.service.tables import PledgeStatus, Role
from forcemodel.web import board
from forcemodel.web.frame import (
    COORDINATORS,
    EVERYONE,
    PLEDGE_EDITORS,
    Refused,
    Viewer,
    allow,
    check_csrf,
    render,
    state,
)

router = APIRouter(prefix="/board")

Anyone = Annotated[Viewer, Depends(allow(*EVERYONE))]
Editor = Annotated[Viewer, Depends(allow(*PLEDGE_EDITORS))]
Coordinator = Annotated[Viewer, Depends(allow(*COORDINATORS))]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Limit = Annotated[int, Query(ge=1, le=board.MAX_PAGE)]
Nation = Annotated[str | None, Query(pattern=r"^[A-Z]{2,3}$")]
Code = Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9._-]*$")]

#: The fields of a pledge a donor edits, in form order; a coordinator edits the status only.
DONOR_FIELDS = ("item_id", "quantity", "available_from", "location", "status", "note")
COORDINATOR_FIELDS = ("status",)
LABELS = {
    "item_id": "Item",
    "quantity": "Quantity",
    "available_from": "Available from",
    "location": "Location",
    "status": "Status",
    "note": "Note",
}
#: The matcher's reasons, in words (assist.explain names them).
REASONS = {
    "no_pledge": "no pledge of a compatible item",
    "incompatible_standard": "incompatible ammunition standard",
    "late": "pledged too late",
    "hub_capacity": "hub capacity",
    "training": "training bottleneck",
}


def _blank(value: str | None) -> str | None:
    return None if value is None or value == "" else value


# --- lists ----------------------------------------------------------------------------------


@router.get("/pledges", response_class=HTMLResponse)
def pledges(
    request: Request,
    v: Anyone,
    donor: Nation = None,
    status: Annotated[PledgeStatus | None, Query()] = None,
    category: Code = None,
    item: Code = None,
    offset: Offset = 0,
    limit: Limit = board.PAGE,
) -> Response:
    with state(request).read_sessions() as session:
        page = board.pledge_page(
            session,
            donor=donor,
            status=status.value if status else None,
            category=_blank(category),
            item_id=_blank(item),
            offset=offset,
            limit=limit,
        )
        options = board.choices(session)
    filters = {
        "donor": donor or "",
        "status": status.value if status else "",
        "category": category or "",
        "item": item or "",
        "limit": limit,
    }
    return render(
        request,
        "pledges.html",
        {
            "page": page,
            "options": options,
            "filters": filters,
            "statuses": [s.value for s in PledgeStatus],
            "can_edit": v.role in PLEDGE_EDITORS,
        },
        v=v,
    )


@router.get("/requirements", response_class=HTMLResponse)
def requirements(
    request: Request,
    v: Anyone,
    partner: Nation = None,
    category: Code = None,
    priority: Annotated[int | None, Query(ge=1, le=1000)] = None,
    offset: Offset = 0,
    limit: Limit = board.PAGE,
) -> Response:
    with state(request).read_sessions() as session:
        page = board.requirement_page(
            session,
            partner=partner,
            category=_blank(category),
            priority=priority,
            offset=offset,
            limit=limit,
        )
        options = board.choices(session)
    filters = {
        "partner": partner or "",
        "category": category or "",
        "priority": priority or "",
        "limit": limit,
    }
    return render(
        request, "requirements.html", {"page": page, "options": options, "filters": filters}, v=v
    )


def _csv(text: str, name: str) -> Response:
    return PlainTextResponse(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/pledges.csv")
def pledges_csv(request: Request, _v: Anyone) -> Response:
    with state(request).read_sessions() as session:
        return _csv(csvio.export_pledges(session), "pledges.csv")


@router.get("/requirements.csv")
def requirements_csv(request: Request, _v: Anyone) -> Response:
    with state(request).read_sessions() as session:
        return _csv(csvio.export_requirements(session), "requirements.csv")


# --- one record -------------------------------------------------------------------------------


def _get_pledge(request: Request, pledge_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with state(request).read_sessions() as session:
        try:
            pledge = reads.pledge(session, pledge_id).model_dump(mode="json")
        except RecordError as exc:
            raise Refused(exc.message, exc.status) from None
        return pledge, board.allocations_of(session, pledge_id=pledge_id)


@router.get("/pledges/{pledge_id}", response_class=HTMLResponse)
def pledge(request: Request, v: Anyone, pledge_id: int) -> Response:
    found, allocations = _get_pledge(request, pledge_id)
    return render(
        request,
        "pledge.html",
        {
            "pledge": found,
            "allocations": allocations,
            "can_edit": _may_edit(v, found),
            "labels": LABELS,
            "coordinator": v.role is Role.coordinator,
            "saved": request.query_params.get("saved") == "1",
        },
        v=v,
    )


@router.get("/requirements/{req_id}", response_class=HTMLResponse)
def requirement(request: Request, v: Anyone, req_id: int) -> Response:
    with state(request).read_sessions() as session:
        try:
            found = reads.requirement(session, req_id).model_dump(mode="json")
        except RecordError as exc:
            raise Refused(exc.message, exc.status) from None
        allocations = board.allocations_of(session, requirement_id=req_id)
    return render(
        request,
        "requirement.html",
        {"req": found, "allocations": allocations, "coordinator": v.role is Role.coordinator},
        v=v,
    )


# --- editing a pledge ---------------------------------------------------------------------


def _may_edit(v: Viewer, pledge: dict[str, Any]) -> bool:
    if v.role is Role.coordinator:
        return True
    return v.role is Role.donor and v.user.nation == pledge["donor"]


def _fields(v: Viewer) -> tuple[str, ...]:
    return COORDINATOR_FIELDS if v.role is Role.coordinator else DONOR_FIELDS


def _form_page(
    request: Request,
    v: Viewer,
    pledge: dict[str, Any],
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    summary: str = "",
    original: str = "",
) -> Response:
    with state(request).read_sessions() as session:
        items = board.choices(session)["items"]
    original = original or json.dumps(_as_text(pledge, _fields(v)))
    return render(
        request,
        "pledge_edit.html",
        {
            "pledge": pledge,
            "values": values,
            "errors": errors,
            "summary": summary,
            "fields": _fields(v),
            "labels": LABELS,
            "items": items,
            "statuses": [s.value for s in PledgeStatus],
            "original": original,
        },
        v=v,
        status=status,
    )


def _as_text(pledge: dict[str, Any], fields: tuple[str, ...]) -> dict[str, str]:
    """A pledge's fields as a form shows them."""
    return {f: "" if pledge.get(f) is None else str(pledge[f]) for f in fields}


def _original(text: str) -> dict[str, str]:
    """The values a form showed when it was opened (its hidden ``original`` field)."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items()}


@router.get("/pledges/{pledge_id}/edit", response_class=HTMLResponse)
def edit_pledge(request: Request, v: Editor, pledge_id: int) -> Response:
    found, _ = _get_pledge(request, pledge_id)
    if not _may_edit(v, found):
        raise Refused(f"Only {found['donor']}'s donors and the coordinators edit this pledge.")
    return _form_page(request, v, found, dict(found), {})


def _parse(
    fields: tuple[str, ...], form: dict[str, str | None]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Form text to typed values (strictly: a whole number, an ISO date), with errors by field."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in fields:
        text = (form.get(name) or "").strip()
        if name == "quantity":
            if not text.isascii() or not text.isdigit():
                errors[name] = "a whole number of items, such as 12"
            else:
                values[name] = int(text)
        elif name == "available_from":
            try:
                values[name] = dt.date.fromisoformat(text)
            except ValueError:
                errors[name] = "a date such as 2026-03-01"
        elif name == "note":
            values[name] = text
        elif not text:
            errors[name] = "required"
        else:
            values[name] = text
    return values, errors


@router.post("/pledges/{pledge_id}/edit", response_class=HTMLResponse)
def save_pledge(
    request: Request,
    v: Editor,
    pledge_id: int,
    csrf: Annotated[str, Form(max_length=200)] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    item_id: Annotated[str | None, Form(max_length=200)] = None,
    quantity: Annotated[str | None, Form(max_length=40)] = None,
    available_from: Annotated[str | None, Form(max_length=40)] = None,
    location: Annotated[str | None, Form(max_length=400)] = None,
    status: Annotated[str | None, Form(max_length=40)] = None,
    note: Annotated[str | None, Form(max_length=4000)] = None,
    original: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    check_csrf(v, csrf)
    current, _ = _get_pledge(request, pledge_id)
    if not _may_edit(v, current):
        raise Refused(f"Only {current['donor']}'s donors and the coordinators edit this pledge.")
    fields = _fields(v)
    form = {
        "item_id": item_id,
        "quantity": quantity,
        "available_from": available_from,
        "location": location,
        "status": status,
        "note": note,
    }
    shown = {**current, **{k: form[k] for k in fields if form[k] is not None}}
    # Only the fields the user changed from the values the form showed are sent: a change
    # reapplied on a newer version keeps what others changed meanwhile in the other fields.
    base = _original(original)
    changed = tuple(f for f in fields if f not in base or (form[f] or "").strip() != base[f])
    if not version.isdigit():
        return _form_page(
            request,
            v,
            current,
            shown,
            {},
            422,
            "The form lost the version it was based on: reload it.",
        )
    if not changed:  # nothing to change
        return RedirectResponse(
            f"{request.scope.get('root_path', '')}/board/pledges/{pledge_id}", 303
        )
    values, errors = _parse(changed, form)
    if not errors:
        try:
            patch = PledgePatch.model_validate({**values, "version": int(version)})
        except ValidationError as exc:
            for e in exc.errors():
                errors[str(e["loc"][0]) if e["loc"] else "status"] = str(e["msg"]).removeprefix(
                    "Value error, "
                )
    if errors:
        return _form_page(
            request,
            v,
            {**current, "version": int(version)},
            shown,
            errors,
            422,
            "The pledge was not saved: correct the fields marked below.",
            original,
        )
    try:
        with state(request).write_sessions() as session:
            records.update_pledge(session, v.user, pledge_id, patch, int(version))
            session.commit()
    except RecordError as exc:
        if exc.status == 409 and exc.rule is None:  # a stale version: someone changed it
            latest, _ = _get_pledge(request, pledge_id)
            mine = {k: shown[k] for k in fields}
            return render(
                request,
                "conflict.html",
                {
                    "pledge": latest,
                    "mine": mine,
                    "fields": fields,
                    "labels": LABELS,
                    "based_on": int(version),
                    "message": exc.message,
                    "differs": [k for k in fields if str(mine[k]) != str(latest.get(k))],
                    "changed": changed,
                    "original": original,
                },
                v=v,
                status=409,
            )
        if exc.status in (409, 422):  # invalid, or a change the lifecycle forbids (its rule)
            field = str(exc.loc[-1]) if exc.loc else ""
            where = field if field in fields else ""
            rule = f" (rule {exc.rule})" if exc.rule else ""
            return _form_page(
                request,
                v,
                {**current, "version": int(version)},
                shown,
                {where: exc.message + rule} if where else {},
                exc.status,
                "The pledge was not saved: " + exc.message + rule,
                original,
            )
        raise Refused(exc.message, exc.status) from None
    base = request.scope.get("root_path", "")
    return RedirectResponse(f"{base}/board/pledges/{pledge_id}?saved=1", 303)


# --- the matcher --------------------------------------------------------------------------


@router.get("/match", response_class=HTMLResponse)
def match_form(request: Request, v: Coordinator) -> Response:
    return render(request, "match.html", {"result": None, "reasons": REASONS}, v=v)


@router.post("/match", response_class=HTMLResponse)
async def run_match(
    request: Request,
    v: Coordinator,
    csrf: Annotated[str, Form(max_length=200)] = "",
    apply: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    check_csrf(v, csrf)
    # The service's bounded match queue: the match runs in its thread, never a request's.
    matcher = state(request).matcher
    try:
        job = matcher.submit(v.user, apply=apply == "yes", time_limit=DEFAULT_TIME_LIMIT)
        await matcher.wait(job)
        if job.error is not None:
            raise job.error
    except RecordError as exc:
        context = {"result": None, "reasons": REASONS, "error": exc.message}
        return render(request, "match.html", context, v=v, status=exc.status)
    return render(request, "match.html", {"result": job.result, "reasons": REASONS}, v=v)


# --- audit --------------------------------------------------------------------------------


@router.get("/audit/{entity}/{entity_id}", response_class=HTMLResponse)
def audit(
    request: Request,
    v: Coordinator,
    entity: Annotated[str, Path(pattern=r"^[a-z]{1,20}$")],
    entity_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,40}$")],
) -> Response:
    with state(request).read_sessions() as session:
        changes = board.history(session, entity, entity_id)
    return render(
        request, "audit.html", {"entity": entity, "entity_id": entity_id, "changes": changes}, v=v
    )
