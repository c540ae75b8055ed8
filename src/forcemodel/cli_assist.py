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
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from forcemodel.assist import (
    AssistError,
    MatchResult,
    fleet_mix,
    load_case,
    match_case,
    status_table,
    table_csv,
)
from forcemodel.optimize.errors import InfeasibleError, OptimizationError
from forcemodel.scenario.read import ReadError, read_text

assist_app = typer.Typer(
    name="assist",
    help="Security assistance: match pledges to a partner's requirements, explain the gaps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

#: Problems printed before the rest are counted.
MAX_PROBLEMS_SHOWN = 50

CaseArg = Annotated[str, typer.Argument(help="A case YAML file, or a bundled name (example).")]


@contextmanager
def _user_errors() -> Iterator[None]:
    """Input errors become a located message and exit status 2."""
    try:
        yield
    except AssistError as exc:
        n = len(exc.problems)
        err.print(f"[bold red]error:[/] {n} problem{'s' if n != 1 else ''} in the case")
        for p in exc.problems[:MAX_PROBLEMS_SHOWN]:
            err.print(f"  {p}", markup=False, highlight=False, emoji=False, soft_wrap=True)
        if n > MAX_PROBLEMS_SHOWN:
            err.print(f"  ... and {n - MAX_PROBLEMS_SHOWN} more")
        raise typer.Exit(2) from None
    except OptimizationError as exc:
        err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        for why in exc.reasons[:MAX_PROBLEMS_SHOWN]:
            err.print(f"  {why}", markup=False, highlight=False)
        raise typer.Exit(2 if isinstance(exc, InfeasibleError) else 1) from None
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        err.print(f"[bold red]error:[/]{escape(f'{where}: {exc.strerror or exc}')}")
        raise typer.Exit(2) from None


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


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
    case_path: CaseArg,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to write tables into.")],
    time_limit: Annotated[float, typer.Option(help="Solver time limit, seconds.")] = 60.0,
    gap: Annotated[float, typer.Option(help="Relative optimality gap of the MIP.")] = 1e-4,
    relax: Annotated[bool, typer.Option(help="Solve the LP relaxation only.")] = False,
    force: Annotated[bool, typer.Option(help="Replace the folder if it exists.")] = False,
) -> None:
    """Match a case's pledges to its requirements; write the plan as CSV tables."""
    if not time_limit > 0:
        raise _fail(f"--time-limit must be more than 0 seconds, got {time_limit:g}")
    if not gap >= 0:
        raise _fail(f"--gap must be 0 or more, got {gap:g}")
    with _user_errors():
        if out_dir.exists() and not force:
            raise _fail(f"{out_dir} exists; use --force to replace it")
        case = load_case(case_path)
        with err.status("matching"):
            result = match_case(case, time_limit=time_limit, mip_gap=gap, relax=relax)
        out_dir.mkdir(parents=True, exist_ok=True)
        tables = {
            "deliveries": result.deliveries,
            "requirements": result.requirements,
            "training": result.training,
            "hubs": result.hubs,
            "unmet": result.unmet,
            "status": status_table(result),
            "fleet_mix": fleet_mix(result),
        }
        for name, frame in tables.items():
            frame.to_csv(out_dir / f"{name}.csv", index=False)
        for table in ("pledges", "requirements"):
            (out_dir / f"input-{table}.csv").write_text(table_csv(case, table), encoding="utf-8")
        (out_dir / "solver.log").write_text(result.log, encoding="utf-8")
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
            raise _fail(f"--available-from {available_from!r}: not an ISO date") from None
        try:
            text = read_text(csv_path, str(csv_path))
        except ReadError as exc:
            raise AssistError(exc.problems) from None
        got = import_kiel(text, str(csv_path), case.items, available_from=when, location=location)
        out_file.write_text(got.pledges_csv(), encoding="utf-8")
        donors = out_file.with_name(f"{out_file.stem}-donors.csv")
        donors.write_text(got.donors_csv(), encoding="utf-8")
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
