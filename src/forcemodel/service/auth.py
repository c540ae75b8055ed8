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
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
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


def authenticate(session: Session, token: str) -> Principal | None:
    """The user holding the token, or None."""
    digest = hash_token(token)
    user = session.scalars(select(User).where(User.token_hash == digest)).one_or_none()
    if user is None or not secrets.compare_digest(user.token_hash, digest):
        return None
    return Principal(id=user.id, name=user.name, role=Role(user.role), nation=user.nation)


class PrincipalCache:
    """The callers of recently seen tokens, remembered for ``ttl_s`` seconds.

    Every request names its caller by token; looking the token up in the database costs a
    connection and several round trips, more than a read of a record. Users are only ever added
    (not removed or changed), so a remembered caller stays right; a token that is not found is
    never remembered, so a user just added is found at once. The key is the token's digest.
    """

    def __init__(self, ttl_s: float = 60.0, size: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> Principal | None:
        entry = self._entries.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, digest: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()  # rare (many distinct tokens): start afresh
            self._entries[digest] = (time.monotonic() + self.ttl_s, principal)


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
    audit.record(
        session,
        actor=CLI_ACTOR,
        actor_role="admin",
        action=AuditAction.create,
        entity="user",
        entity_id=user.id,
        before=None,
        after=audit.snapshot(user),
    )
    if role is Role.donor and nation is not None and session.get(Donor, nation) is None:
        donor = Donor(code=nation, name=nation)
        session.add(donor)
        session.flush()
        audit.record(
            session,
            actor=CLI_ACTOR,
            actor_role="admin",
            action=AuditAction.create,
            entity="donor",
            entity_id=nation,
            before=None,
            after=audit.snapshot(donor),
        )
    session.commit()
    return user, token


def list_users(session: Session) -> list[User]:
    """Every user, by name."""
    return list(session.scalars(select(User).order_by(User.name)))
