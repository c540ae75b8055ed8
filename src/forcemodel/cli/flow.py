"""Simulation commands: simulate, assess, compare, report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape

from forcemodel.cli.app import app
from forcemodel.cli.common import (
    MAX_PROBLEMS_SHOWN,
    Format,
    ScenarioArg,
    atomic_write_text,
    err,
    out,
    print_assessment,
    records,
    rich_table,
    user_errors,
    wrote,
)
from forcemodel.scenario import load_scenario


@app.command("simulate")
def simulate_cmd(
    scenario: ScenarioArg,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Results folder to write.")] = Path(
        "results"
    ),
    seed: Annotated[int, typer.Option(help="Random seed (recorded; same seed, same bytes).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print no assessment.")] = False,
) -> None:
    """Simulate the reinforcement of a scenario, save its results, print the assessment."""
    from forcemodel.assessment import assess
    from forcemodel.flow import UnreachableError, simulate

    with user_errors():
        s = load_scenario(scenario)
        try:
            with err.status("simulating") as status:
                results = simulate(s, seed=seed, progress=lambda m: status.update(m))
        except UnreachableError as exc:
            err.print(f"[bold red]error:[/] {len(exc.units)} unit(s) cannot reach their region")
            for uid, why in exc.units[:MAX_PROBLEMS_SHOWN]:
                err.print(f"  {uid}: {why}", markup=False, highlight=False)
            raise typer.Exit(2) from None
        results.save(out_dir)
    wrote(out_dir)
    left = results.meta["units_not_closed"]  # still moving at the stop day, or stranded
    if left:
        stop = results.meta["stop_day"]
        err.print(f"note: {left} unit(s) not closed when the run stopped on day {stop}")
    if not quiet:
        print_assessment(assess(results))


@app.command("assess")
def assess_cmd(
    results_dir: Annotated[Path, typer.Argument(help="A results folder written by simulate.")],
    format: Annotated[Format, typer.Option("--format", "-f", help="table or json")] = Format.table,
) -> None:
    """Assess saved results: closure days, shortfall, vulnerability, tiers, bottlenecks."""
    from forcemodel.assessment import assess
    from forcemodel.results import Results, ResultsError

    try:
        a = assess(Results.load(results_dir))
    except ResultsError as exc:
        # soft_wrap: a long path must not be broken over lines; escape: it may hold "[".
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if format is Format.json:
        doc = {
            "regions": records(a.regions),
            "capabilities": records(a.capabilities),
            "tiers": records(a.tiers),
            "bottlenecks": records(a.bottlenecks),
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    print_assessment(a)


@app.command("compare")
def compare_cmd(
    results_a: Annotated[Path, typer.Argument(help="First results folder (A), e.g. today's.")],
    results_b: Annotated[Path, typer.Argument(help="Second results folder (B); B - A is shown.")],
    labels: Annotated[
        str | None,
        typer.Option("--labels", "-l", help="Names of the runs, 'A,B' (default: folder names)."),
    ] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="table or json")] = Format.table,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Also save the per-region table (.csv or .json)."),
    ] = None,
) -> None:
    """Compare two saved runs side by side: closure days, shortfall, vulnerability (B - A)."""
    from forcemodel.compare import check_labels, compare, default_labels
    from forcemodel.results import Results, ResultsError

    def fail(message: str) -> typer.Exit:
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        return typer.Exit(2)

    if out_file is not None and out_file.suffix.lower() not in (".csv", ".json"):
        raise fail(f"--out {out_file}: the file name must end in .csv or .json")
    if out_file is not None and not out_file.absolute().parent.is_dir():
        raise fail(f"--out {out_file}: no folder {out_file.absolute().parent}")
    if labels is not None:
        try:
            names = check_labels([x.strip() for x in labels.split(",")])
        except ValueError as exc:
            raise fail(f"--labels {labels!r}: {exc}") from None
    else:
        names = default_labels(results_a, results_b)
    try:
        c = compare(Results.load(results_a), Results.load(results_b), labels=names)
    except ResultsError as exc:
        raise fail(str(exc)) from None
    if out_file is not None:
        if out_file.suffix.lower() == ".csv":
            text = c.regions.to_csv(index=False, lineterminator="\n")
        else:
            text = json.dumps(records(c.regions), indent=2) + "\n"
        with user_errors():
            atomic_write_text(out_file, text)
        wrote(out_file)
    if format is Format.json:
        doc = {
            "labels": list(c.labels),
            "same_scenario": c.same_scenario,
            "notes": list(c.notes),
            **{name: records(frame) for name, frame in c.tables().items()},
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    la, lb = c.labels
    out.print(
        f"[bold]{escape(la)}[/] against [bold]{escape(lb)}[/] (diff: {escape(f'{lb} - {la}')})"
    )
    for note in c.notes:
        out.print(f"  {escape(note)}", highlight=False)
    # The terminal shows narrow views (80 columns); --format json and --out have every column.
    regions = c.regions.copy()
    for side in (la, lb):
        regions[f"window_{side}"] = [
            "-" if pd.isna(f) else f"{f}-{u}"
            for f, u in zip(
                regions[f"vulnerable_from_{side}"], regions[f"vulnerable_until_{side}"], strict=True
            )
        ]
    views: list[tuple[str, pd.DataFrame, list[str], dict[str, str]]] = [
        ("Closure day by region", regions, ["region"], {"closure_day": "", "closure": ""}),
        (
            "Shortfall by region: days short, brigade-days short",
            regions,
            ["region"],
            {"shortfall_days": "days", "shortfall_bde_days": "bde days"},
        ),
        (
            "Window of vulnerability by region: days the force ratio exceeds the threshold",
            regions,
            ["region"],
            {"vulnerable_days": "days", "window": "window", "max_ratio": "max ratio"},
        ),
        (
            "Closure day by region and capability",
            c.capabilities,
            ["region", "capability"],
            {"closure_day": "", "closure": ""},
        ),
        (
            "Troops closed in region by day",
            c.alliance,
            ["day"],
            {"troops_closed": ""},
        ),
    ]
    for title, frame, keys, quantities in views:
        columns = {k: k for k in keys}
        for q, word in quantities.items():
            if q in frame.columns:
                columns[q] = q
            for side in (la, lb, "diff"):
                if f"{q}_{side}" in frame.columns:
                    columns[f"{q}_{side}"] = escape(f"{word}\n{side}" if word else side)
        view = frame[list(columns)].copy()
        for col in view.columns:
            if not pd.api.types.is_numeric_dtype(view[col]):
                view[col] = view[col].map(lambda v: escape(v) if isinstance(v, str) else v)
        out.print(rich_table(view.set_axis(list(columns.values()), axis=1), title))


@app.command("report")
def report_cmd(
    results_dir: Annotated[Path, typer.Argument(help="A results folder written by simulate.")],
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="HTML file to write (default report.html)."),
    ] = None,
    png: Annotated[
        Path | None, typer.Option("--png", help="Also (or only) write one PNG per figure here.")
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            "-s",
            help="Scenario of the run (name or path); default: the bundled one named in meta.",
        ),
    ] = None,
    units_per_region: Annotated[
        int, typer.Option(min=0, help="Units per region in the movement chart (0: all).")
    ] = 12,
    servers: Annotated[
        int, typer.Option(min=0, help="Busiest servers in the heat map (0: all).")
    ] = 40,
    compare_dir: Annotated[
        Path | None,
        typer.Option(
            "--compare",
            "-c",
            help="A second results folder (B) to compare with: closure days, shortfall, "
            "vulnerability and both runs' power, side by side.",
        ),
    ] = None,
    labels: Annotated[
        str | None,
        typer.Option(
            "--labels", "-l", help="Names of the two runs with --compare, 'A,B' (default: folders)."
        ),
    ] = None,
) -> None:
    """Write the report of saved results: offline HTML (and PNG figures with --png).

    With --compare, the report also sets the run side by side with a second one (B - A).
    """
    from forcemodel.assessment import assess
    from forcemodel.compare import check_labels, default_labels
    from forcemodel.report import prepare
    from forcemodel.results import Results, ResultsError
    from forcemodel.scenario import bundled_scenarios

    def fail(message: str) -> typer.Exit:
        err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        return typer.Exit(2)

    names = ("A", "B")
    if labels is not None and compare_dir is None:
        raise fail("--labels names the two runs of --compare: give --compare too")
    if labels is not None:
        try:
            names = check_labels([x.strip() for x in labels.split(",")])
        except ValueError as exc:
            raise fail(f"--labels {labels!r}: {exc}") from None
    elif compare_dir is not None:
        names = default_labels(results_dir, compare_dir)
    try:
        results = Results.load(results_dir)
        other = Results.load(compare_dir) if compare_dir is not None else None
    except ResultsError as exc:
        raise fail(str(exc)) from None
    source = scenario or str(results.meta.get("scenario", ""))
    if scenario is None and source not in bundled_scenarios():
        err.print(
            f"[bold red]error:[/] the results come from scenario {escape(repr(source))}, "
            "which is not bundled: name its file or folder with --scenario",
            highlight=False,
        )
        raise typer.Exit(2)
    with user_errors():
        s = load_scenario(source)
    data = prepare(
        results,
        assess(results),
        s,
        units_per_region or None,
        servers or None,
        other=other,
        labels=names,
    )
    for w in data.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    with user_errors():
        if png is not None:
            from forcemodel.report.figures import write_pngs

            paths = write_pngs(data, png)
            wrote(png, f"({len(paths)} PNG figures)")
        if out_file is not None or png is None:
            from forcemodel.report.html import write_html

            try:
                target = write_html(data, out_file or Path("report.html"))
            except ModuleNotFoundError as exc:
                err.print(f"[bold red]error:[/] the HTML report needs plotly ({escape(str(exc))})")
                raise typer.Exit(2) from None
            wrote(target)
