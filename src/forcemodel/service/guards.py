"""What keeps the service serving under hostile load: rate limits and security headers.

Rate limits use the ``limits`` library (moving windows; counts in memory per process, or in a
shared store such as Redis, see :mod:`forcemodel.service.settings`): requests with an unknown
token, per client address, and the expensive operations (matching, CSV import), per caller.
A client beyond a limit is answered 429 with ``Retry-After``. :class:`BodyLimit` refuses a
request body larger than the limit with 413: at once, unread, when its ``Content-Length`` says
so (before authentication, routing or anything else), else as soon as the bytes read pass the
limit, so that no request holds more than the limit in memory. (Starlette's own body limit
answers plain text where the API promises JSON, so the service keeps this small one.)

Every answer carries security headers: a Content-Security-Policy that lets nothing load but
the service's own documentation page's assets, ``X-Content-Type-Options: nosniff``,
``Referrer-Policy: no-referrer`` and ``X-Frame-Options: DENY``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forcemodel.service.records import RecordError
from forcemodel.service.settings import Settings

#: The policy of the API's answers (JSON and CSV): nothing may load, nothing may frame them.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: The policy of the documentation page: its scripts, styles and images from the service only
#: (served from the package, never a CDN). The inline script starts Swagger UI.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
#: Paths of the documentation pages.
DOCS_PATHS = ("/docs", "/redoc")
#: Where the web pages are (forcemodel.web): their own middleware sets their (page) policy.
WEB_PATH = "/ui"


class SecurityHeaders:
    """ASGI middleware: the security headers on every answer (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if path == WEB_PATH or path.startswith(WEB_PATH + "/"):  # the pages set their own
            await self.app(scope, receive, send)
            return
        docs = str(scope.get("path", "")).startswith(DOCS_PATHS)
        policy = (DOCS_POLICY if docs else API_POLICY).encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in _ADDED_NAMES
                ]
                headers += [(b"content-security-policy", policy), *_ADDED]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def too_large(max_bytes: int) -> str:
    """Why a body was refused (413)."""
    return f"the request body is larger than the service takes ({max_bytes} bytes)"


class BodyTooLarge(HTTPException):
    """The request body passed the limit while it was read (answered 413 by the app)."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="Content Too Large")


class BodyLimit:
    """ASGI middleware: refuse (413) a request body larger than ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)  # not a byte of the body is read
            return
        read = 0

        async def receive_within_limit() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > self.max_bytes:
                    raise BodyTooLarge  # the app's error handler answers 413
            return message

        await self.app(scope, receive_within_limit, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": too_large(self.max_bytes)}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


_ADDED = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_ADDED_NAMES = {b"content-security-policy", *(name for name, _ in _ADDED)}


@dataclass
class RateLimits:
    """The service's rate limits and where their counts are kept."""

    auth_failures: RateLimitItem
    expensive: RateLimitItem
    limiter: MovingWindowRateLimiter

    @classmethod
    def of(cls, settings: Settings) -> RateLimits:
        """The limits the settings name."""
        storage = storage_from_string(settings.rate_limit_storage)
        return cls(
            parse(settings.auth_failure_limit),
            parse(settings.expensive_limit),
            MovingWindowRateLimiter(storage),
        )

    def _refuse(self, item: RateLimitItem, keys: tuple[str, str], what: str) -> RecordError:
        reset = self.limiter.get_window_stats(item, *keys).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        return RecordError(
            429,
            f"too many {what} (at most {item.amount} per {item.multiples} "
            f"{item.GRANULARITY.name}); try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )

    def check_client(self, client: str) -> None:
        """Refuse (429) a client that has sent too many unknown tokens lately."""
        if not self.limiter.test(self.auth_failures, "auth", client):
            raise self._refuse(
                self.auth_failures, ("auth", client), "requests with an unknown token"
            )

    def failed(self, client: str) -> None:
        """Count a request of the client with an unknown token."""
        self.limiter.hit(self.auth_failures, "auth", client)

    def spend(self, caller: str, what: str) -> None:
        """Count an expensive operation of the caller; refuse it (429) beyond the limit."""
        if not self.limiter.hit(self.expensive, "expensive", caller):
            raise self._refuse(self.expensive, ("expensive", caller), what)
