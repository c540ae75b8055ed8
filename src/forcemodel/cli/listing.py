"""``forcemodel list nodes|links|units|stocks``: find ids without pandas."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape

from forcemodel.cli.app import app
from forcemodel.cli.common import (
    Format,
    ScenarioArg,
    SetOption,
    count_of,
    err,
    load_variant,
    print_table,
    records,
    user_errors,
)


class What(StrEnum):
    """The tables that ``forcemodel list`` lists."""

    nodes = "nodes"
    links = "links"
    units = "units"
    stocks = "stocks"


@app.command("list")
def list_cmd(
    what: Annotated[What, typer.Argument(help="nodes, links, units or stocks.")],
    scenario: ScenarioArg,
    search: Annotated[
        str | None,
        typer.Option("--search", "-s", help="Text found in any field (any case), e.g. rail."),
    ] = None,
    country: Annotated[
        str | None, typer.Option("--country", "-c", help="ISO country code, e.g. LT.")
    ] = None,
    near: Annotated[
        str | None,
        typer.Option("--near", "-n", help="A node id: distance from it (km), nearest first."),
    ] = None,
    within: Annotated[
        float | None,
        typer.Option("--within", min=0, help="With --near: only within this many km."),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="table or json")] = Format.table,
    settings: SetOption = None,
) -> None:
    """List a scenario's nodes, links, units or stocks; filter by text, country, place.

    Ids are what --set, disruptions and the optimiser's output name, e.g.
    forcemodel list links eastern-flank --near lt-sestokai --within 50.
    """
    from forcemodel.scenario.find import find

    if within is not None and near is None:
        err.print("[bold red]error:[/] --within counts from a node: give --near NODE too")
        raise typer.Exit(2)
    with user_errors():
        s = load_variant(scenario, settings)
    try:
        table = find(s, what.value, search, country, near, within)
    except KeyError:
        ids = [n.id for n in s.nodes]
        from difflib import get_close_matches

        close = get_close_matches(near or "", ids, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        err.print(f"[bold red]error:[/] --near {escape(str(near))}: no such node{escape(hint)}")
        raise typer.Exit(2) from None
    if format is Format.json:
        sys.stdout.write(json.dumps(records(table), indent=2) + "\n")
        return
    filters = [
        f"{k} {v}"
        for k, v in (("matching", search), ("in", country), ("near", near))
        if v is not None
    ]
    title = f"{count_of(len(table), what.value.removesuffix('s'))}" + (
        f" {' '.join(filters)}" if filters else ""
    )
    print_table(table, escape(title))
