"""Alembic migrations of the service's database, run from Python (no alembic.ini needed).

The migration scripts live in ``forcemodel/service/migrations`` and ship with the package.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

#: The folder of the migration scripts.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration for the engine's database; env.py uses the engine given here."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
    )
    config.attributes["engine"] = engine
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database's schema to the newest revision (creating it when empty)."""
    command.upgrade(alembic_config(engine), "head")
