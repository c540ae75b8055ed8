"""Bearer tokens: made once, shown once, stored only as a hash.

A token is 32 random bytes (``secrets.token_urlsafe``) behind the prefix ``fm_``. The database
keeps its SHA-256 digest: a token has 256 bits of entropy, so no dictionary or brute-force search
can invert the digest, and a plain (unsalted) digest lets the service find the user by an index
lookup. A slow password hash (PBKDF2) would be needed only for secrets chosen by people.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from forcemodel.service import audit
from forcemodel.service.tables import AuditAction, Donor, Role, User

TOKEN_PREFIX = "fm_"
#: The actor named in the audit log for changes made by ``forcemodel users add``.
CLI_ACTOR = "forcemodel users add"
#: A nation: ISO 3166-1 alpha-2 (or alpha-3) code, upper case.
NATION_PATTERN = r"^[A-Z]{2,3}$"

#: Roles that act for a nation, and so need one.
NATION_ROLES = frozenset({Role.donor, Role.partner})


class UserError(ValueError):
    """A user cannot be created as asked (the message says why)."""


def new_token() -> str:
    """A fresh random token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 digest of the token, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request."""

    id: int
    name: str
    role: Role
    nation: str | None


#: The caller's columns by token digest (a unique index): the columns alone, no ORM object to
#: build and track, one statement compiled once and cached.
_BY_DIGEST = select(User.id, User.name, User.role, User.nation, User.token_hash).where(
    User.token_hash == bindparam("digest")
)


def authenticate(session: Session, token: str) -> Principal | None:
    """The user holding the token, or None."""
    digest = hash_token(token)
    # On the session's connection: the ORM's handling of a statement that loads no object
    # would cost more than the lookup itself.
    row = session.connection().execute(_BY_DIGEST, {"digest": digest}).one_or_none()
    if row is None or not secrets.compare_digest(row.token_hash, digest):
        return None
    return Principal(id=row.id, name=row.name, role=Role(row.role), nation=row.nation)


def add_user(session: Session, name: str, role: Role, nation: str | None) -> tuple[User, str]:
    """Create a user and return it with its token (the only time the token is seen).

    A donor's nation becomes a donor record when there is none yet. Commits.
    """
    name = name.strip()
    if not name:
        raise UserError("the user's name is empty")
    if nation is not None:
        nation = nation.strip().upper()
        if not re.match(NATION_PATTERN, nation):
            raise UserError(f"nation {nation!r} is not a 2- or 3-letter country code such as DE")
    if role in NATION_ROLES and nation is None:
        raise UserError(f"a {role.value} acts for a nation: give --nation (e.g. --nation DE)")
    if session.scalars(select(User).where(User.name == name)).first() is not None:
        raise UserError(f"a user named {name!r} exists already")
    token = new_token()
    user = User(name=name, role=role.value, nation=nation, token_hash=hash_token(token))
    session.add(user)
    session.flush()
    _admin_audit(session, AuditAction.create, "user", user.id, None, audit.snapshot(user))
    if role is Role.donor and nation is not None and session.get(Donor, nation) is None:
        donor = Donor(code=nation, name=nation)
        session.add(donor)
        session.flush()
        _admin_audit(session, AuditAction.create, "donor", nation, None, audit.snapshot(donor))
    session.commit()
    return user, token


def _user(session: Session, name: str) -> User:
    user = session.scalars(select(User).where(User.name == name.strip())).one_or_none()
    if user is None:
        raise UserError(f"no user named {name!r}")
    return user


def remove_user(session: Session, name: str) -> None:
    """Remove a user: its token stops working at once (the next request is refused). Commits.

    The service looks every request's token up in the database (it keeps no cache of callers),
    so no server process, however many there are, accepts the token after the commit.
    """
    user = _user(session, name)
    before = audit.snapshot(user)
    session.delete(user)
    session.flush()
    _admin_audit(session, AuditAction.delete, "user", before["id"], before, None)
    session.commit()


def rotate_token(session: Session, name: str) -> str:
    """Give a user a new token and return it; the old one stops working at once. Commits."""
    user = _user(session, name)
    token = new_token()
    user.token_hash = hash_token(token)
    session.flush()
    snapshot = audit.snapshot(user)  # the hash is never copied into the log
    _admin_audit(session, AuditAction.update, "user", user.id, snapshot, snapshot)
    session.commit()
    return token


def list_users(session: Session) -> list[User]:
    """Every user, by name."""
    return list(session.scalars(select(User).order_by(User.name)))


def _admin_audit(
    session: Session,
    action: AuditAction,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Audit a change made from the command line (the administrator, not a caller)."""
    audit.record(
        session,
        actor=CLI_ACTOR,
        actor_role="admin",
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )
