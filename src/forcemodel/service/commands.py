"""The service's commands: ``forcemodel serve`` and ``forcemodel users add|list``.

The heavy imports (FastAPI, SQLAlchemy, uvicorn) happen inside the commands, so the rest of the
CLI starts as fast as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

out = Console()
err = Console(stderr=True)

DatabaseURL = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL; default: $FORCEMODEL_DATABASE_URL, else ./forcemodel.db (SQLite).",
        show_default=False,
    ),
]

users_app = typer.Typer(
    name="users", help="Users of the assistance service and their tokens.", no_args_is_help=True
)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    database_url: DatabaseURL = None,
) -> None:
    """Serve the security-assistance API (OpenAPI description at /docs)."""
    import uvicorn

    from forcemodel.service.api import create_app

    app = create_app(database_url)
    err.print(f"serving on http://{host}:{port}  (API description: http://{host}:{port}/docs)")
    uvicorn.run(app, host=host, port=port, log_level="info")


@contextmanager
def _session(database_url: str | None) -> Iterator[Session]:
    from forcemodel.service.db import make_engine, session_factory
    from forcemodel.service.migrate import upgrade_to_head
    from forcemodel.service.settings import Settings

    engine = make_engine(Settings.load(database_url).database_url)
    try:
        upgrade_to_head(engine)
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()  # close the pooled connections now, not when collected


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user's name, unique.")],
    role: Annotated[str, typer.Option(help="donor, partner, coordinator, observer or analyst.")],
    nation: Annotated[
        str | None, typer.Option(help="Country code the user acts for (donors, partners).")
    ] = None,
    database_url: DatabaseURL = None,
) -> None:
    """Add a user and print their token: it is shown this once and stored only as a hash."""
    from forcemodel.service.auth import UserError, add_user
    from forcemodel.service.tables import Role

    try:
        chosen = Role(role)
    except ValueError:
        err.print(f"[bold red]error:[/] role {role!r}: choose one of {', '.join(Role)}")
        raise typer.Exit(2) from None
    with _session(database_url) as session:
        try:
            user, token = add_user(session, name, chosen, nation)
        except UserError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None
        where = f" for {user.nation}" if user.nation else ""
        err.print(f"added {user.name}, {user.role}{where}; the token (shown once):")
    # The token alone on stdout, so that scripts can capture it.
    print(token)


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="The user to remove.")],
    database_url: DatabaseURL = None,
) -> None:
    """Remove a user: its token is refused from the next request on, by every server process."""
    from forcemodel.service.auth import UserError, remove_user

    with _session(database_url) as session:
        try:
            remove_user(session, name)
        except UserError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None
    err.print(f"removed {name}; its token no longer works", highlight=False)


@users_app.command("rotate")
def users_rotate(
    name: Annotated[str, typer.Argument(help="The user whose token to replace.")],
    database_url: DatabaseURL = None,
) -> None:
    """Give a user a new token (printed once); the old one is refused from the next request on."""
    from forcemodel.service.auth import UserError, rotate_token

    with _session(database_url) as session:
        try:
            token = rotate_token(session, name)
        except UserError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None
    err.print(f"a new token for {name} (shown once); the old one no longer works:")
    print(token)


@users_app.command("list")
def users_list(database_url: DatabaseURL = None) -> None:
    """List the users (names, roles, nations; never tokens)."""
    from forcemodel.service.auth import list_users

    with _session(database_url) as session:
        users = list_users(session)
    table = Table("name", "role", "nation", "created")
    for user in users:
        table.add_row(user.name, user.role, user.nation or "-", f"{user.created_at:%Y-%m-%d}")
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the service's commands to the forcemodel CLI."""
    app.command("serve")(serve)
    app.add_typer(users_app)
