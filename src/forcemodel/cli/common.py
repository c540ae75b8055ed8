"""What every command shares: consoles, located errors, tables, writing files."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from forcemodel.common.errors import LocatedError

if TYPE_CHECKING:  # pandas is imported by the commands that print tables, not by --help
    import pandas as pd

out = Console()
err = Console(stderr=True)

#: Problems printed before the rest are counted (a 10,000-row table can hold 10,000 of them).
MAX_PROBLEMS_SHOWN = 50

F = TypeVar("F", bound=Callable[..., Any])


class Format(StrEnum):
    """Output format of a command."""

    table = "table"
    json = "json"


class TableFormat(StrEnum):
    """Output format of a command whose tables analysts take further (assess, compare)."""

    table = "table"
    json = "json"
    xlsx = "xlsx"


def xlsx_target(format: TableFormat, out_file: Path | None) -> None:
    """Check that ``--format xlsx`` comes with ``--out FILE.xlsx`` (exit 2 otherwise)."""
    if format is TableFormat.xlsx and (out_file is None or out_file.suffix.lower() != ".xlsx"):
        err.print("[bold red]error:[/] --format xlsx writes a workbook: give --out FILE.xlsx")
        raise typer.Exit(2)
    if out_file is not None and not out_file.absolute().parent.is_dir():
        folder = escape(str(out_file.absolute().parent))
        err.print(f"[bold red]error:[/] --out {escape(str(out_file))}: no folder {folder}")
        raise typer.Exit(2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn input errors into a located message and exit status 2, never a traceback."""
    try:
        yield
    except LocatedError as exc:  # a scenario, a case: whatever was being loaded
        print_problems(exc.problems, f"in the {exc.what}")
        raise typer.Exit(2) from None
    except OSError as exc:
        print_os_error(exc)
        raise typer.Exit(2) from None


def print_problems(problems: Sequence[object], where: str) -> None:
    """``error: N problems <where>``, then the first :data:`MAX_PROBLEMS_SHOWN` of them."""
    n = len(problems)
    err.print(f"[bold red]error:[/] {n} problem{'s' if n != 1 else ''} {where}")
    for p in problems[:MAX_PROBLEMS_SHOWN]:
        # emoji=False: "file.yaml:100:" must not become a 100-points emoji.
        err.print(f"  {p}", markup=False, highlight=False, emoji=False, soft_wrap=True)
    if n > MAX_PROBLEMS_SHOWN:
        err.print(f"  ... and {n - MAX_PROBLEMS_SHOWN} more")


def print_os_error(exc: OSError) -> None:
    """A file that cannot be read or written, by name and reason."""
    where = f" {exc.filename}" if exc.filename else ""
    what = escape(f"{where}: {exc.strerror or exc}")
    err.print(f"[bold red]error:[/]{what}", highlight=False, emoji=False)


ScenarioArg = Annotated[
    str,
    typer.Argument(help="A YAML file, a scenario folder, or a bundled name (tiny, eastern-flank)."),
]

#: ``--set PATH=VALUE`` (repeatable): a variant of the scenario without copying any file.
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Change one value of the scenario before validation (repeatable), e.g. "
        "--set nodes.lt-sestokai.transship.t_per_day=4000; paths: `forcemodel scenario paths`.",
    ),
]


def load_variant(source: str, settings: Sequence[str] | None) -> Any:
    """The scenario ``source`` with ``settings`` applied; located errors as for a file."""
    from forcemodel.scenario.load import load_scenario

    return load_scenario(source, list(settings or ()))


def with_settings(results: Any, settings: Sequence[str] | None) -> Any:
    """``results`` whose metadata records the ``--set`` settings its scenario was built with."""
    import dataclasses

    return dataclasses.replace(results, meta={**results.meta, "settings": list(settings or ())})


#: What the short words of the tables mean (headers are the JSON names).
LEGENDS = {
    "regions": "closure_day: first day every requirement is met to the horizon (-: not within "
    "it); shortfall_days: days short; shortfall_bde_days: brigade equivalents short, summed "
    "over days; vulnerable_*: days the attacker:defender land ratio exceeds the threshold; "
    "max_ratio: its highest value.",
    "tiers": "closed_by_D: troops closed in their region by day D (days past the horizon are "
    "not counted); target_troops by target_day: the force model's.",
    "bottlenecks": "server: a link, node, lift pool or RSOM; (t): its tons a day, (pax): its "
    "people a day; days_at_capacity: days it was full; mean_utilisation: its mean load over "
    "capacity.",
}


def print_assessment(a: Any) -> None:
    print_table(
        a.regions, "Regions: closure day, shortfall, window of vulnerability", LEGENDS["regions"]
    )
    # The terminal shows troops closed in region; --format json and the report have it all.
    closed = [c for c in a.tiers.columns if str(c).startswith("closed_by_")]
    tiers = a.tiers[["tier", "troops", "target_troops", "target_day", *closed]]
    print_table(tiers, "Troops by readiness tier closed in their region by day", LEGENDS["tiers"])
    print_table(
        a.bottlenecks.drop(columns=["target"]),
        "Worst bottlenecks (days at capacity)",
        LEGENDS["bottlenecks"],
    )


def wrote(path: Path | str, detail: str = "") -> None:
    """Say what was written; a path never wraps and is never read as markup."""
    err.print(f"wrote {path} {detail}".rstrip(), markup=False, highlight=False, soft_wrap=True)


def count_of(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON records (missing values as null)."""
    return json.loads(frame.to_json(orient="records"))  # type: ignore[no-any-return]


def rich_table(frame: pd.DataFrame, title: str) -> Table:
    """``frame`` as a rich table: headers are the column names (as in --format json), and each
    numeric column has one number format (decimals chosen from its largest value)."""
    import pandas as pd

    table = Table(title=title, title_justify="left")
    formats = {}
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(
            frame[col]
        )
        formats[col] = _number_format(frame[col]) if numeric else None
        # Names stay on one line; numbers and their headers may wrap.
        table.add_column(
            str(col), justify="right" if numeric else "left", overflow="fold", no_wrap=not numeric
        )
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v, formats[c]) for v, c in zip(row, frame.columns, strict=True)))
    return table


def _number_format(column: pd.Series) -> str:
    """One format for a whole column: integers as such, else decimals by magnitude."""
    import pandas as pd

    values = pd.to_numeric(column, errors="coerce").dropna()
    values = values[abs(values) != float("inf")]
    if pd.api.types.is_integer_dtype(column) or (
        len(values) and (values == values.round()).all() and abs(values).max() >= 10
    ):
        return "{:,.0f}"
    top = float(abs(values).max()) if len(values) else 0.0
    return "{:,.2f}" if top < 10 else "{:,.1f}" if top < 1000 else "{:,.0f}"


def print_table(frame: pd.DataFrame, title: str, legend: str | None = None) -> None:
    """Print ``frame`` as a table at its natural width: never squeezed to the terminal.

    Rich fits a table to the console by cutting numbers and ids short (``de-pzbrig`` for
    ``de-pzbrig-45``); a line that wraps in a narrow terminal loses nothing. ``legend``, printed
    under the table, says what its short headers mean.
    """
    show(rich_table(frame, title))
    if legend:
        out.print(legend, markup=False, highlight=False, soft_wrap=True, style="dim")


def show(table: Table) -> None:
    """Print a rich table at least as wide as it needs."""
    from rich.measure import Measurement

    need = Measurement.get(out, out.options.update(max_width=1000), table).maximum
    if need <= out.width:
        out.print(table)
        return
    # The console lays a table out at its own width: widen it for this table only.
    width = out._width  # None: follow the terminal
    out.width = need
    try:
        out.print(table, crop=False)
    finally:
        out._width = width


def _cell(value: Any, number: str | None = None) -> str:
    import numpy as np
    import pandas as pd

    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if number is not None and isinstance(value, (int, float, np.integer, np.floating)):
        return "inf" if value == float("inf") else number.format(value)
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def atomic_write_text(path: Path, text: str) -> None:
    """Write through a temporary file and rename, so a failure leaves the old file intact."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
