"""Scenario commands: validate, info, schema, generate; ``scenario copy|diff|paths``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from forcemodel.cli.app import app
from forcemodel.cli.common import (
    Format,
    ScenarioArg,
    SetOption,
    atomic_write_text,
    count_of,
    err,
    load_variant,
    out,
    print_table,
    records,
    user_errors,
    wrote,
)

#: ``forcemodel scenario ...``: variants of a scenario (copy, diff, the paths --set takes).
scenario_app = typer.Typer(
    help="Variants of a scenario: copy one to edit, list what differs, the paths --set takes.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(scenario_app, name="scenario")


@app.command()
def validate(scenario: ScenarioArg, settings: SetOption = None) -> None:
    """Check a scenario: every field typed, every reference resolved, problems located."""
    with user_errors():
        s = load_variant(scenario, settings)
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
    settings: SetOption = None,
) -> None:
    """Summarise a scenario: troops by readiness tier, by nation, by region; network size."""
    from forcemodel.scenario.summary import summarize

    with user_errors():
        s = load_variant(scenario, settings)
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
            print_table(frame, titles[key])
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
    folder: Annotated[
        Path | None, typer.Argument(help="Folder to write the scenario into (or --out).")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder to write the scenario into.")
    ] = None,
    units: Annotated[int, typer.Option(min=1, help="Number of units.")] = 100,
    nodes: Annotated[int, typer.Option(min=4, help="Number of nodes.")] = 50,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Horizon in days.")] = 90,
    regions: Annotated[int, typer.Option(min=1, help="Number of defended regions.")] = 4,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 0,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the folder if it exists.")
    ] = False,
) -> None:
    """Write a synthetic scenario of any size, valid by construction (for benchmarks, tests)."""
    from forcemodel.scenario.synthetic import synthetic_scenario
    from forcemodel.scenario.write import write_scenario_folder

    target = out_dir if out_dir is not None else folder
    if target is None or (folder is not None and out_dir is not None):
        err.print("[bold red]error:[/] name the folder to write once: --out FOLDER")
        raise typer.Exit(2)

    if regions > nodes // 2:
        err.print(f"[bold red]error:[/] --regions {regions} needs at least {2 * regions} nodes")
        raise typer.Exit(2)
    with user_errors():
        if target.exists() and not force:
            err.print(f"[bold red]error:[/] {target} exists; use --force to replace it")
            raise typer.Exit(2)
        with err.status("generating the scenario"):
            data = synthetic_scenario(
                units=units, nodes=nodes, days=days, regions=regions, seed=seed
            )
        with err.status(f"writing {target}"):
            write_scenario_folder(data, target)
    wrote(target, f"({units} units, {nodes} nodes, {days} days, seed {seed})")


@scenario_app.command("copy")
def copy_cmd(
    source: ScenarioArg,
    dest: Annotated[Path, typer.Argument(help="Folder to create: an editable copy.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the folder if it exists.")
    ] = False,
) -> None:
    """Copy a scenario (e.g. a bundled one) into a folder of files to edit.

    The copy keeps every file, comment and source as they are; run it by its folder
    (forcemodel simulate my-flank) and see what you changed with forcemodel scenario diff.
    From a results folder, the run's own scenario (--set included) is written as one YAML file.
    """
    from forcemodel.scenario.copy import copy_scenario, write_canonical

    if dest.exists() and not force:
        err.print(f"[bold red]error:[/] {escape(str(dest))} exists; use --force to replace it")
        raise typer.Exit(2)
    with user_errors():
        if (Path(source) / "meta.json").is_file():  # a results folder: the run's own scenario
            files = write_canonical(_scenario_or_run(source, None), dest, source)
        else:
            files = copy_scenario(source, dest)
    wrote(dest, f"({count_of(len(files), 'file')}: {', '.join(files)})")


@scenario_app.command("diff")
def diff_cmd(
    a: Annotated[str, typer.Argument(help="Scenario A: a file, folder, bundled name or results.")],
    b: Annotated[str, typer.Argument(help="Scenario B, compared with A.")],
    settings_a: Annotated[
        list[str] | None,
        typer.Option("--set-a", metavar="PATH=VALUE", help="A --set applied to A (repeatable)."),
    ] = None,
    settings_b: Annotated[
        list[str] | None,
        typer.Option("--set-b", metavar="PATH=VALUE", help="A --set applied to B (repeatable)."),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="table or json")] = Format.table,
) -> None:
    """List what differs from scenario A to B, field by field (a results folder: its scenario).

    Exit status 0 when they are the same, 1 when they differ (as diff does), 2 on bad input.
    """
    from forcemodel.scenario.diff import diff_scenarios

    sa = _scenario_or_run(a, settings_a)
    sb = _scenario_or_run(b, settings_b)
    changes = diff_scenarios(sa, sb)
    if format is Format.json:
        doc = [{"path": c.path, "change": c.kind, "a": c.a, "b": c.b} for c in changes]
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    elif not changes:
        out.print("the scenarios are the same (every field of the validated scenarios)")
    else:
        n = count_of(len(changes), "difference")
        out.print(f"{n} from A ({escape(a)}) to B ({escape(b)}):")
        for c in changes:
            out.print(f"  {c}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1 if changes else 0)


@scenario_app.command("paths")
def paths_cmd(
    scenario: ScenarioArg,
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Only paths containing this text.")
    ] = None,
) -> None:
    """List the PATHs that --set takes for a scenario, with their current values."""
    from forcemodel.scenario.load import read_scenario
    from forcemodel.scenario.paths import all_paths, get_value

    with user_errors():
        raw = read_scenario(scenario).raw
    for path in all_paths(raw):
        if search is None or search.lower() in path.lower():
            value = get_value(raw, path)
            out.print(f"{path}={value}", markup=False, highlight=False, soft_wrap=True)


def _scenario_or_run(source: str, settings: list[str] | None) -> Any:
    """The scenario of a results folder, or the scenario ``source`` names (with settings)."""
    from forcemodel.results import Results, ResultsError

    if (Path(source) / "meta.json").is_file():
        if settings:
            err.print("[bold red]error:[/] --set-a/--set-b apply to scenarios, not to results")
            raise typer.Exit(2)
        try:
            return Results.load(source).scenario
        except ResultsError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
    with user_errors():
        return load_variant(source, settings)
