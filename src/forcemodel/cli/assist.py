"""``forcemodel assist``: the command line of security-assistance coordination.

A thin face over :mod:`forcemodel.assist`: it reads and writes files and renders tables; it
does not compute. Bad input exits with status 2 and a located message, never a traceback.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.markup import escape
from rich.table import Table

from forcemodel.assist import (
    AssistError,
    MatchResult,
    fleet_mix,
    load_case,
    match_case,
    result_tables,
    status_table,
    table_csv,
)
from forcemodel.cli.assist_records import line_key, located, missing_sqlite_file, split_by_owner
from forcemodel.cli.common import MAX_PROBLEMS_SHOWN, err, fail, out, user_errors
from forcemodel.common.folders import atomic_write_text, staged_folder
from forcemodel.common.read import ReadError, read_text
from forcemodel.mip.errors import InfeasibleError, OptimizationError

assist_app = typer.Typer(
    name="assist",
    help="Security assistance: match pledges to a partner's requirements, explain the gaps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CaseArg = Annotated[str, typer.Argument(help="A case YAML file, or a bundled name (example).")]
DatabaseURL = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="The service's database (SQLAlchemy URL, e.g. sqlite:///forcemodel.db).",
        show_default=False,
    ),
]
#: The records the CSV commands read and write.
RECORD_KINDS = ("pledges", "requirements")
#: Who the audit log names for changes made from the command line.
CLI_MATCH_ACTOR = "forcemodel assist match"
CLI_IMPORT_ACTOR = "forcemodel assist import"


@contextmanager
def _user_errors() -> Iterator[None]:
    """Input errors become a located message and exit status 2; so does an infeasible match."""
    with user_errors():
        try:
            yield
        except OptimizationError as exc:
            err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
            for why in exc.reasons[:MAX_PROBLEMS_SHOWN]:
                err.print(f"  {why}", markup=False, highlight=False)
            raise typer.Exit(2 if isinstance(exc, InfeasibleError) else 1) from None


@assist_app.command("demo")
def demo_cmd(
    time_limit: Annotated[float, typer.Option(help="Solver time limit, seconds.")] = 60.0,
) -> None:
    """Load the bundled example (public orders of magnitude), match it and show the plan."""
    with _user_errors():
        case = load_case("example")
        with err.status("matching"):
            result = match_case(case, time_limit=time_limit)
    _show(result)


@assist_app.command("match")
def match_cmd(
    case_path: Annotated[
        str | None,
        typer.Argument(help="A case YAML file, or a bundled name; or --database-url instead."),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder to write tables into.")
    ] = None,
    time_limit: Annotated[float, typer.Option(help="Solver time limit, seconds.")] = 60.0,
    gap: Annotated[float, typer.Option(help="Relative optimality gap of the MIP.")] = 1e-4,
    relax: Annotated[bool, typer.Option(help="Solve the LP relaxation only.")] = False,
    force: Annotated[bool, typer.Option(help="Replace the folder if it exists.")] = False,
    database_url: DatabaseURL = None,
    apply: Annotated[
        bool, typer.Option(help="With --database-url: write the proposed allocations.")
    ] = False,
) -> None:
    """Match a case's pledges to its requirements; write the plan as CSV tables.

    With --database-url, match the service's records instead (as POST /match does): show the
    allocations the plan adds, and with --apply write them (audited, all or none).
    """
    if not time_limit > 0:
        raise fail(f"--time-limit must be more than 0 seconds, got {time_limit:g}")
    if not gap >= 0:
        raise fail(f"--gap must be 0 or more, got {gap:g}")
    if database_url is not None:
        if case_path is not None:
            raise fail("give a case or --database-url, not both")
        if relax:
            raise fail("--relax is for cases; the database's records are matched as a MIP")
        _match_database(database_url, out_dir, force, apply, time_limit, gap)
        return
    if apply:
        raise fail("--apply writes allocations to a database: give --database-url")
    if case_path is None or out_dir is None:
        raise fail("give a case and --out FOLDER (or --database-url URL)")
    with _user_errors():
        if out_dir.exists() and not force:
            raise fail(f"{out_dir} exists; use --force to replace it")
        case = load_case(case_path)
        with err.status("matching"):
            result = match_case(case, time_limit=time_limit, mip_gap=gap, relax=relax)
        # All the tables appear at once, or none (a failure leaves what was there).
        with staged_folder(out_dir) as folder:
            for name, frame in result_tables(result).items():
                frame.to_csv(folder / f"{name}.csv", index=False)
            for table in ("pledges", "requirements"):
                (folder / f"input-{table}.csv").write_text(table_csv(case, table), encoding="utf-8")
            (folder / "solver.log").write_text(result.log, encoding="utf-8")
    err.print(f"wrote {out_dir}", markup=False, highlight=False, soft_wrap=True)
    _show(result)


@assist_app.command("import-kiel")
def import_kiel_cmd(
    csv_path: Annotated[Path, typer.Argument(help="A CSV export of the Kiel tracker.")],
    out_file: Annotated[
        Path, typer.Option("--out", "-o", help="Pledges CSV to write (donors beside it).")
    ],
    case_path: Annotated[
        str, typer.Option("--case", help="Case whose catalogue the categories map to.")
    ] = "example",
    available_from: Annotated[
        str, typer.Option(help="ISO date the pledges are available from (default: case start).")
    ] = "",
    location: Annotated[
        str, typer.Option(help="Location of the pledges (a route must leave it).")
    ] = "depot-de",
) -> None:
    """Turn rows of the Kiel Ukraine Support Tracker (donor, category, count, value) into pledges.

    Rows whose category maps to no catalogue item are listed, with their line.
    """
    from forcemodel.assist import import_kiel

    with _user_errors():
        case = load_case(case_path)
        try:
            when = dt.date.fromisoformat(available_from) if available_from else case.meta.start
        except ValueError:
            raise fail(f"--available-from {available_from!r}: not an ISO date") from None
        try:
            text = read_text(csv_path, str(csv_path))
        except ReadError as exc:
            raise AssistError(exc.problems) from None
        got = import_kiel(text, str(csv_path), case.items, available_from=when, location=location)
        atomic_write_text(out_file, got.pledges_csv())
        donors = out_file.with_name(f"{out_file.stem}-donors.csv")
        atomic_write_text(donors, got.donors_csv())
    err.print(
        f"wrote {out_file} and {donors}: {len(got.pledges)} of {got.rows} rows as pledges",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for p in got.unmapped[:MAX_PROBLEMS_SHOWN]:
        err.print(f"  not imported: {p}", markup=False, highlight=False, soft_wrap=True)
    if len(got.unmapped) > MAX_PROBLEMS_SHOWN:
        err.print(f"  ... and {len(got.unmapped) - MAX_PROBLEMS_SHOWN} more not imported")


@contextmanager
def _database(database_url: str) -> Iterator[Any]:
    """Sessions on the service's database, brought to the newest schema first.

    Database errors (a bad URL, a file that cannot be opened, a SQLite file that does not
    exist: a typo would otherwise create an empty database and match nothing) exit with
    status 2.
    """
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from forcemodel.service.db import make_engine, session_factory
    from forcemodel.service.migrate import upgrade_to_head

    try:
        missing = missing_sqlite_file(database_url)
    except (ArgumentError, ValueError) as exc:
        raise fail(f"--database-url {database_url!r}: {exc}") from None
    if missing is not None:
        # Before the engine: making it creates the file (owner-only) for the service.
        raise fail(
            f"--database-url {database_url!r}: no database file {missing} (the service makes "
            "it: forcemodel serve or forcemodel users add with the same URL)"
        )
    try:
        engine = make_engine(database_url)
    except (ArgumentError, ValueError) as exc:
        raise fail(f"--database-url {database_url!r}: {exc}") from None
    try:
        upgrade_to_head(engine)
        yield session_factory(engine)
    except SQLAlchemyError as exc:
        raise fail(f"database {database_url}: {str(exc).splitlines()[0]}") from None
    finally:
        engine.dispose()


def _kind(kind: str) -> str:
    if kind not in RECORD_KINDS:
        raise fail(f"{kind!r}: choose pledges or requirements")
    return kind


@assist_app.command("export")
def export_cmd(
    kind: Annotated[str, typer.Argument(help="pledges or requirements")],
    database_url: DatabaseURL = None,
    out_file: Annotated[
        Path, typer.Option("--out", "-o", help="CSV file to write ('-': standard output).")
    ] = Path("-"),
) -> None:
    """Export the service's pledges or requirements as CSV (the layout GET /pledges.csv gives)."""
    from forcemodel.service import csvio

    _kind(kind)
    if database_url is None:
        raise fail("give --database-url URL (the service's database)")
    with _database(database_url) as sessions, sessions() as session:
        text = (
            csvio.export_pledges(session)
            if kind == "pledges"
            else (csvio.export_requirements(session))
        )
    if str(out_file) == "-":
        typer.echo(text, nl=False)
        return
    with _user_errors():
        atomic_write_text(out_file, text)
    rows = max(0, text.count("\n") - 1)
    err.print(f"wrote {out_file}: {rows} {kind}", markup=False, highlight=False, soft_wrap=True)


@assist_app.command("import")
def import_cmd(
    kind: Annotated[str, typer.Argument(help="pledges or requirements")],
    csv_file: Annotated[Path, typer.Argument(help="CSV file in the layout export writes.")],
    database_url: DatabaseURL = None,
) -> None:
    """Import pledges or requirements from CSV into the service's database: all rows or none.

    Rows without id are created, rows with id and version change that record (a stale version
    is refused), as POST /pledges.csv does. Each row acts for its own donor (pledges) or partner
    (requirements), so one file may hold several nations' rows. A problem names the file, line
    and field, and nothing is written (exit status 2).
    """
    from forcemodel.service import csvio
    from forcemodel.service.auth import Principal
    from forcemodel.service.db import begin_write
    from forcemodel.service.records import RecordError
    from forcemodel.service.tables import Pledge, Requirement, Role

    _kind(kind)
    if database_url is None:
        raise fail("give --database-url URL (the service's database)")
    with _user_errors():
        try:
            raw = csv_file.read_bytes()
        except OSError as exc:
            raise fail(f"{csv_file}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(f"{csv_file}: not UTF-8 text ({exc.reason})") from None
    owner_column = "donor" if kind == "pledges" else "partner"
    model: Any = Pledge if kind == "pledges" else Requirement
    role = Role.donor if kind == "pledges" else Role.partner
    do_import = csvio.import_pledges if kind == "pledges" else csvio.import_requirements
    problems: list[str] = []
    totals = {"created": 0, "updated": 0, "unchanged": 0}
    with _database(database_url) as sessions, sessions() as session:
        begin_write(session)

        def owner_of(row_id: str) -> str | None:
            try:
                found = session.get(model, int(row_id))
            except ValueError:
                return None
            return None if found is None else str(getattr(found, owner_column))

        parts, unowned = split_by_owner(text, owner_column, owner_of)
        problems.extend(f"{csv_file}:{line}: {owner_column}: {why}" for line, why in unowned)
        for nation, part in parts.items():
            actor = Principal(id=0, name=CLI_IMPORT_ACTOR, role=role, nation=nation)
            try:
                got = do_import(session, actor, part)
            except csvio.CSVImportError as exc:
                problems.extend(located(str(csv_file), p.message) for p in exc.problems)
                continue
            except RecordError as exc:
                problems.append(located(str(csv_file), exc.message))
                continue
            for key in totals:
                totals[key] += int(getattr(got, key))
        if problems:
            session.rollback()
            unique = sorted(set(problems), key=line_key)
            n = len(unique)
            err.print(
                f"[bold red]error:[/] {n} problem{'s' if n != 1 else ''} in {escape(str(csv_file))}"
                "; nothing was imported"
            )
            for p in unique[:MAX_PROBLEMS_SHOWN]:
                err.print(f"  {p}", markup=False, highlight=False, soft_wrap=True)
            if n > MAX_PROBLEMS_SHOWN:
                err.print(f"  ... and {n - MAX_PROBLEMS_SHOWN} more")
            raise typer.Exit(2)
        session.commit()
    err.print(
        f"imported {csv_file}: {totals['created']} created, {totals['updated']} updated, "
        f"{totals['unchanged']} unchanged",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _match_database(
    database_url: str,
    out_dir: Path | None,
    force: bool,
    apply: bool,
    time_limit: float,
    gap: float,
) -> None:
    """``assist match --database-url``: the matcher over the service's records."""
    from forcemodel.service.auth import Principal
    from forcemodel.service.matching import match_records, proposed_frame
    from forcemodel.service.records import RecordError
    from forcemodel.service.tables import Role

    if out_dir is not None and out_dir.exists() and not force:
        raise fail(f"{out_dir} exists; use --force to replace it")
    actor = Principal(id=0, name=CLI_MATCH_ACTOR, role=Role.coordinator, nation=None)
    with _database(database_url) as sessions:
        try:
            with err.status("matching"):
                got = match_records(
                    sessions, actor, apply=apply, time_limit=time_limit, mip_gap=gap
                )
        except RecordError as exc:
            raise fail(exc.message) from None
    proposed = proposed_frame(got)
    unmet = pd.DataFrame([u.model_dump(mode="json") for u in got.unmet])
    mix = pd.DataFrame([r.model_dump(mode="json") for r in got.fleet_mix])
    if out_dir is not None:
        with _user_errors(), staged_folder(out_dir) as folder:
            proposed.to_csv(folder / "allocations.csv", index=False)
            unmet.to_csv(folder / "unmet.csv", index=False)
            mix.to_csv(folder / "fleet_mix.csv", index=False)
        err.print(f"wrote {out_dir}", markup=False, highlight=False, soft_wrap=True)
    gap_text = f", gap {got.mip_gap:.2g}" if got.mip_gap is not None else ""
    out.print(
        f"[bold]database[/]: {got.termination.replace('_', ' ')}{gap_text}, "
        f"objective {got.objective:,.4f}",
        highlight=False,
    )
    verb = "Allocations written" if apply else "Allocations proposed (dry run: --apply writes)"
    out.print(_table(proposed, verb))
    if not unmet.empty:
        out.print(
            _table(unmet[["requirement_id", "reason", "detail"]], "Why requirements are short")
        )


def _show(result: MatchResult) -> None:
    case = result.case
    gap = f", gap {result.mip_gap:.2g}" if result.mip_gap is not None else ""
    out.print(
        f"[bold]{escape(case.meta.name)}[/]: {result.termination.replace('_', ' ')}{gap}, "
        f"objective {result.objective:,.4f}",
        highlight=False,
    )
    req = result.requirements[
        [
            "requirement",
            "wants",
            "quantity",
            "needed_by",
            "delivered_by_due",
            "operational_by_due",
            "shortfall",
        ]
    ]
    out.print(_table(req, "Requirements by their needed-by date"))
    out.print(_table(status_table(result), "Stages reached by the end of the horizon"))
    mix = fleet_mix(result, every=30)
    out.print(_table(mix, "Fleet mix: systems operational by standard (own and donated)"))
    if result.unmet.empty:
        out.print("Every requirement is operational by its needed-by date.")
        return
    table = Table(title="Why requirements are short", title_justify="left")
    table.add_column("requirement", no_wrap=True)
    table.add_column("reason", no_wrap=True)
    table.add_column("in words", ratio=1)
    for row in result.unmet.itertuples(index=False):
        table.add_row(escape(str(row.requirement)), str(row.reason), escape(str(row.detail)))
    out.print(table)


def _table(frame: pd.DataFrame, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col])
        table.add_column(
            str(col).replace("_", " "), justify="right" if numeric else "left", no_wrap=not numeric
        )
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    return table


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1 and value != 0 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))
