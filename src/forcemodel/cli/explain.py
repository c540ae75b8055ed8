"""``forcemodel explain``: the units and bottlenecks that decide a region's closure day."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from forcemodel.cli.app import app
from forcemodel.cli.common import Format, err, out, print_table, records


@app.command("explain")
def explain_cmd(
    results_dir: Annotated[Path, typer.Argument(help="A results folder written by simulate.")],
    region: Annotated[str, typer.Option("--region", "-r", help="The region to explain.")],
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            "-a",
            help="Another results folder (A): what moved the closure from A to RESULTS (B).",
        ),
    ] = None,
    labels: Annotated[
        str | None,
        typer.Option("--labels", "-l", help="Names of the runs with --against, 'A,B'."),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="table or json")] = Format.table,
) -> None:
    """Which units and bottlenecks decide a region's closure day (and, --against, what moved it).

    The deciding units are those of the last capability to close whose integration ends on the
    closure day; each is followed along the load that arrived last, with every wait and the
    server it waited for, in days.
    """
    from forcemodel.assessment import ExplainError, check_labels, default_labels, explain
    from forcemodel.results import Results, ResultsError

    def fail(message: str) -> typer.Exit:
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        return typer.Exit(2)

    names = ("A", "B")
    if labels is not None:
        if against is None:
            raise fail("--labels names the two runs of --against: give --against too")
        try:
            names = check_labels([x.strip() for x in labels.split(",")])
        except ValueError as exc:
            raise fail(f"--labels {labels!r}: {exc}") from None
    elif against is not None:
        names = default_labels(against, results_dir)
    try:
        results = Results.load(results_dir)
        other = Results.load(against) if against is not None else None
        e = explain(results, region, against=other, labels=names)
    except (ResultsError, ExplainError) as exc:
        raise fail(str(exc)) from None
    if format is Format.json:
        doc = {
            "region": e.region,
            "closure_day": e.closure_day,
            "deciding": e.deciding,
            "statements": list(e.statements),
            **{k: records(v) for k, v in e.tables().items()},
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    for line in e.statements:
        out.print(f"- {line}", markup=False, highlight=False, soft_wrap=True)
    print_table(e.capabilities, "Closure day by capability (decides: the last to close)")
    if len(e.units):
        print_table(e.units, "Deciding units (critical_load: the load that arrived last)")
    if len(e.bottlenecks):
        print_table(e.bottlenecks, "Bottlenecks on the deciding units' way (wait_days)")
    if against is not None and len(e.moved):
        print_table(e.moved.head(20), f"Units of {region} whose closure moved (diff: B - A)")
