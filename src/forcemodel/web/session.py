"""Signed-in browsers: a session cookie per sign-in, a CSRF token per session.

A person signs in with the token that ``forcemodel users add`` made (the service's one
credential). The server keeps, per session, only the token's digest and a CSRF token; the
cookie holds a random session id (HttpOnly, SameSite=Strict, Secure over HTTPS). Every request
looks the user up again by the digest, so a user removed from the database is signed out at
once. Sessions live in memory: a restart signs everyone out, which is the safe direction.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from forcemodel.service.auth import Principal
from forcemodel.service.tables import Role, User

#: Name of the session cookie.
COOKIE = "fm_session"
#: Name of the cookie that carries the sign-in form's CSRF token (double submit).
LOGIN_COOKIE = "fm_login_csrf"
#: A session ends after this many seconds without a request.
IDLE_S = 8 * 3600.0
#: Sessions kept at most (oldest dropped first): a bound on memory.
MAX_SESSIONS = 10_000


@dataclass
class WebSession:
    """One signed-in browser."""

    token_digest: str
    csrf: str
    seen: float


class SessionStore:
    """The sessions of this server process, by session id."""

    def __init__(self, idle_s: float = IDLE_S, size: int = MAX_SESSIONS) -> None:
        self.idle_s = idle_s
        self.size = size
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    def open(self, token_digest: str) -> tuple[str, WebSession]:
        """A new session for the token's holder: its id (for the cookie) and the session."""
        sid = secrets.token_urlsafe(32)
        web = WebSession(token_digest, secrets.token_urlsafe(32), time.monotonic())
        with self._lock:
            if len(self._sessions) >= self.size:
                oldest = min(self._sessions, key=lambda k: self._sessions[k].seen)
                del self._sessions[oldest]
            self._sessions[sid] = web
        return sid, web

    def get(self, sid: str | None) -> WebSession | None:
        """The live session of the id, or None (unknown or idle too long)."""
        if not sid:
            return None
        with self._lock:
            web = self._sessions.get(sid)
            now = time.monotonic()
            if web is None:
                return None
            if now - web.seen > self.idle_s:
                del self._sessions[sid]
                return None
            web.seen = now
            return web

    def close(self, sid: str | None) -> None:
        """End the session (signing out)."""
        if sid:
            with self._lock:
                self._sessions.pop(sid, None)


def principal_by_digest(session: Session, digest: str) -> Principal | None:
    """The user whose token has this digest, or None."""
    user = session.scalars(select(User).where(User.token_hash == digest)).one_or_none()
    if user is None or not secrets.compare_digest(user.token_hash, digest):
        return None
    return Principal(id=user.id, name=user.name, role=Role(user.role), nation=user.nation)


def same_token(a: str | None, b: str | None) -> bool:
    """Whether two CSRF tokens are present and equal (in constant time)."""
    return bool(a) and bool(b) and secrets.compare_digest(str(a), str(b))
