"""Alembic environment: migrates the database of the engine that forcemodel passes in.

Run by ``forcemodel.service.migrate``; the engine arrives in ``config.attributes["engine"]``
(so SQLite's pragmas and transaction handling apply to migrations too), or is made from the
configured ``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from forcemodel.service.db import WRITE_OPTION, make_engine
from forcemodel.service.tables import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Write the SQL of the migrations instead of running it."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations against the database, in one transaction."""
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        connection = connection.execution_options(**{WRITE_OPTION: True})
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
