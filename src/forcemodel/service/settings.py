"""Settings of the service: where the database is.

The database URL comes, in this order, from an explicit argument, the environment variable
``FORCEMODEL_DATABASE_URL``, or the default: a SQLite file ``forcemodel.db`` in the current
folder, so that ``forcemodel serve`` just works. A shared deployment names PostgreSQL, e.g.
``postgresql+psycopg://user@host/forcemodel``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

#: Environment variable holding the database URL.
DATABASE_URL_ENV = "FORCEMODEL_DATABASE_URL"
#: File name of the default SQLite database, in the current folder.
DEFAULT_SQLITE_FILE = "forcemodel.db"


def default_database_url() -> str:
    """The SQLite file ``forcemodel.db`` in the current folder, as a URL."""
    return f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"


class Settings(BaseModel):
    """The service's settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = Field(min_length=1, description="SQLAlchemy database URL.")

    @classmethod
    def load(cls, database_url: str | None = None) -> Settings:
        """Settings from the argument, else the environment, else the defaults."""
        url = database_url or os.environ.get(DATABASE_URL_ENV) or default_database_url()
        return cls(database_url=url)
