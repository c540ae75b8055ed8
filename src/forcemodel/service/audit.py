"""The audit log: every change, with who, when, and the row before and after.

Entries are added to the same session as the change, so they commit (or roll back) with it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from forcemodel.service.tables import AuditAction, AuditEntry, Base, utcnow

#: Columns never copied into the log.
SECRET_COLUMNS = frozenset({"token_hash"})


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def snapshot(row: Base) -> dict[str, Any]:
    """The row's column values as JSON-ready data (dates as ISO text), secrets left out."""
    mapper = inspect(type(row))
    return {
        attr.key: _json_value(getattr(row, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in SECRET_COLUMNS
    }


def record(
    session: Session,
    *,
    actor: str,
    actor_role: str,
    action: AuditAction,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEntry:
    """Add an audit entry to the session (it commits with the change)."""
    entry = AuditEntry(
        at=utcnow(),
        actor=actor,
        actor_role=actor_role,
        entity=entity,
        entity_id=str(entity_id),
        action=action.value,
        before=before,
        after=after,
    )
    session.add(entry)
    return entry
