"""The database engine and sessions (SQLAlchemy 2).

SQLite gets write-ahead logging (readers never block the writer), foreign keys enforced, a busy
timeout, and transactions that SQLAlchemy begins itself, so that a write transaction can take
the write lock at its start (``BEGIN IMMEDIATE``): its reads and checks then see no concurrent
change. Other databases lock the rows a write depends on (``SELECT ... FOR UPDATE``) instead.
PostgreSQL URLs without a driver (``postgresql://``) use psycopg 3, the driver installed with
forcemodel.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

#: Execution option that marks a session's connection as one that will write.
WRITE_OPTION = "forcemodel_write"
#: Seconds a SQLite connection waits for the write lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 30.0
#: Connections kept open, and opened on demand beyond them. Together they match the 40 threads
#: that run the service's routes (anyio's default), so that a route never waits for a
#: connection: a pool that runs dry makes requests wait and, past its timeout, fail.
POOL_SIZE = 10
POOL_OVERFLOW = 30


def is_sqlite(url: str) -> bool:
    """Whether the URL names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def database_url(url: str) -> URL:
    """The URL, with psycopg (3) as the driver of a PostgreSQL URL that names none."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str) -> Engine:
    """An engine for the URL, with SQLite set up for several readers and one writer."""
    pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
    if not is_sqlite(url):
        # pre_ping: a connection the server closed meanwhile (a restart) is replaced unseen.
        return create_engine(database_url(url), pool_pre_ping=True, **pool)
    memory = make_url(url).database in (None, "", ":memory:")
    if not memory:
        _create_private(str(make_url(url).database))
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        **({} if memory else pool),  # an in-memory database is one connection's own
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not the sqlite3 module, emits BEGIN (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before it is acknowledged, even across a power cut.
            cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _create_private(path: str) -> None:
    """Create the SQLite file readable and writable by its owner only (0600), if it is new.

    The records are the nations' plans: no other account of the machine may read them. SQLite
    gives its write-ahead log and shared-memory files the database file's permissions.
    """
    if path.startswith("file:"):
        return  # a URI filename: SQLite opens it as it says
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def session_factory(
    engine: Engine, *, write: bool = False, read_only: bool = False
) -> sessionmaker[Session]:
    """Sessions bound to the engine; objects stay readable after commit.

    ``write=True``: sessions whose transactions write (on SQLite they begin with the write
    lock). Like any session's, the transaction begins at the first statement, not when the
    session is made: a web request takes the lock in the thread that does its work.

    ``read_only=True``: sessions that only read, each statement on its own (autocommit) on
    PostgreSQL: no BEGIN and ROLLBACK, two round trips fewer per request. A read of one row,
    or one list, is one statement and sees one consistent state. (SQLite's transactions cost
    no round trip; there the sessions are as usual.)
    """
    options: dict[str, Any] = {}
    if write:
        options[WRITE_OPTION] = True
    if read_only and engine.dialect.name != "sqlite":
        options["isolation_level"] = "AUTOCOMMIT"
    bind = engine.execution_options(**options) if options else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Start the session's transaction as a write now (on SQLite: take the write lock now).

    Call it in the thread that goes on to do the work and commit, never in a FastAPI dependency
    (see ``session_factory``'s ``write``).
    """
    session.connection(execution_options={WRITE_OPTION: True})
