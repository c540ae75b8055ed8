"""Scenario commands: validate, info, schema, generate."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from forcemodel.cli.app import app
from forcemodel.cli.common import (
    Format,
    ScenarioArg,
    atomic_write_text,
    count_of,
    err,
    out,
    records,
    rich_table,
    user_errors,
    wrote,
)
from forcemodel.scenario import load_scenario
from forcemodel.scenario.summary import summarize


@app.command()
def validate(scenario: ScenarioArg) -> None:
    """Check a scenario: every field typed, every reference resolved, problems located."""
    with user_errors():
        s = load_scenario(scenario)
    counts = ", ".join(
        count_of(n, what)
        for n, what in (
            (len(s.nodes), "node"),
            (len(s.links), "link"),
            (len(s.units), "unit"),
            (len(s.regions), "region"),
        )
    )
    out.print(f"[green]ok[/] {s.meta.name}: {counts}")


@app.command()
def info(
    scenario: ScenarioArg,
    format: Annotated[Format, typer.Option("--format", "-f", help="table or json")] = Format.table,
) -> None:
    """Summarise a scenario: troops by readiness tier, by nation, by region; network size."""
    with user_errors():
        s = load_scenario(scenario)
    summary = summarize(s)
    tables = {
        "tiers": summary.tiers,
        "nations": summary.nations,
        "regions": summary.regions,
        "network": summary.network,
        "sets": summary.sets,
    }
    if format is Format.json:
        doc = {
            "name": summary.name,
            **{k: records(v) for k, v in tables.items()},
            "budget": summary.budget,
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    out.print(f"[bold]{summary.name}[/]: {summary.description}")
    titles = {
        "tiers": "Reinforcing troops by readiness tier (force model targets)",
        "nations": "Troops by nation",
        "regions": "Regions",
        "network": "Network",
        "sets": "Pre-positioned equipment sets" + (" (held, and to buy)" if summary.budget else ""),
    }
    for key, frame in tables.items():
        if not frame.empty:
            out.print(rich_table(frame, titles[key]))
    if summary.budget:
        out.print(f"Budget for new sets: {summary.budget}")


@app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Write the JSON Schema of the scenario format (for editors and other tools)."""
    from forcemodel.scenario.schema import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    with user_errors():
        atomic_write_text(output, text)
    wrote(output)


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the scenario into.")],
    units: Annotated[int, typer.Option(min=1, help="Number of units.")] = 100,
    nodes: Annotated[int, typer.Option(min=4, help="Number of nodes.")] = 50,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Horizon in days.")] = 90,
    regions: Annotated[int, typer.Option(min=1, help="Number of defended regions.")] = 4,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 0,
    force: Annotated[bool, typer.Option(help="Replace the folder if it exists.")] = False,
) -> None:
    """Write a synthetic scenario of any size, valid by construction (for benchmarks, tests)."""
    from forcemodel.scenario.synthetic import synthetic_scenario
    from forcemodel.scenario.write import write_scenario_folder

    if regions > nodes // 2:
        err.print(f"[bold red]error:[/] --regions {regions} needs at least {2 * regions} nodes")
        raise typer.Exit(2)
    with user_errors():
        if out_dir.exists() and not force:
            err.print(f"[bold red]error:[/] {out_dir} exists; use --force to replace it")
            raise typer.Exit(2)
        data = synthetic_scenario(units=units, nodes=nodes, days=days, regions=regions, seed=seed)
        write_scenario_folder(data, out_dir)
    wrote(out_dir, f"({units} units, {nodes} nodes, {days} days, seed {seed})")
