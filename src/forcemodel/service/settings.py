"""Settings of the service: where the database is, and the limits that keep it serving.

Each setting comes, in this order, from an explicit argument, an environment variable, or its
default. The database: ``FORCEMODEL_DATABASE_URL``, else a SQLite file ``forcemodel.db`` in the
current folder, so that ``forcemodel serve`` just works (a shared deployment names PostgreSQL,
e.g. ``postgresql+psycopg://user@host/forcemodel``). The limits (docs/service.md, "Limits"):

- ``FORCEMODEL_MAX_BODY_BYTES``: the largest request body (default 16 MiB); a larger one is
  refused with 413 before it is read.
- ``FORCEMODEL_AUTH_FAILURE_LIMIT``: how many requests with an unknown token one client
  (address) may make, e.g. ``20/minute`` (the default); beyond it every request of that client
  is refused with 429 until the window has passed.
- ``FORCEMODEL_EXPENSIVE_LIMIT``: how many matches and CSV imports one caller may start, e.g.
  ``30/minute`` (the default).
- ``FORCEMODEL_RATE_LIMIT_STORAGE``: where the counts are kept, as a URI of the ``limits``
  library: ``memory://`` (the default: each server process counts on its own) or e.g.
  ``redis://host:6379`` (every process shares the counts).
- ``FORCEMODEL_MATCH_QUEUE``: how many matches may wait for the matcher (default 50); beyond
  it a match is refused with 503 and ``Retry-After``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from limits import parse
from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Environment variable holding the database URL.
DATABASE_URL_ENV = "FORCEMODEL_DATABASE_URL"
#: File name of the default SQLite database, in the current folder.
DEFAULT_SQLITE_FILE = "forcemodel.db"
#: Environment variables of the other settings, by field name.
ENV = {
    "max_body_bytes": "FORCEMODEL_MAX_BODY_BYTES",
    "auth_failure_limit": "FORCEMODEL_AUTH_FAILURE_LIMIT",
    "expensive_limit": "FORCEMODEL_EXPENSIVE_LIMIT",
    "rate_limit_storage": "FORCEMODEL_RATE_LIMIT_STORAGE",
    "match_queue": "FORCEMODEL_MATCH_QUEUE",
}


def default_database_url() -> str:
    """The SQLite file ``forcemodel.db`` in the current folder, as a URL."""
    return f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"


class Settings(BaseModel):
    """The service's settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = Field(min_length=1, description="SQLAlchemy database URL.")
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    auth_failure_limit: str = "20/minute"
    expensive_limit: str = "30/minute"
    rate_limit_storage: str = "memory://"
    match_queue: int = Field(default=50, ge=1, le=10_000)

    @field_validator("auth_failure_limit", "expensive_limit")
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate such as 20/minute") from None
        return value

    @classmethod
    def load(cls, database_url: str | None = None, **overrides: Any) -> Settings:
        """Settings from the arguments, else the environment, else the defaults."""
        url = database_url or os.environ.get(DATABASE_URL_ENV) or default_database_url()
        values: dict[str, Any] = {
            name: os.environ[env] for name, env in ENV.items() if os.environ.get(env)
        }
        return cls(database_url=url, **{**values, **overrides})
