"""Simulation commands: simulate, assess, compare, report."""

from __future__ import annotations

import json
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

if TYPE_CHECKING:
    import pandas as pd

from forcemodel.cli.app import app
from forcemodel.cli.common import (
    MAX_PROBLEMS_SHOWN,
    ScenarioArg,
    SetOption,
    TableFormat,
    atomic_write_text,
    count_of,
    err,
    fail,
    load_variant,
    out,
    print_assessment,
    print_table,
    records,
    run_labels,
    user_errors,
    with_settings,
    wrote,
    xlsx_target,
)


@app.command("simulate")
def simulate_cmd(
    scenario: ScenarioArg,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Results folder to write.")] = Path(
        "results"
    ),
    seed: Annotated[int, typer.Option(help="Random seed (recorded; same seed, same bytes).")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print no assessment.")] = False,
    settings: SetOption = None,
) -> None:
    """Simulate the reinforcement of a scenario, save its results, print the assessment.

    The results folder holds the scenario as simulated (with every --set applied), so assess,
    report, compare and explain need nothing else.
    """
    from forcemodel.assessment import assess
    from forcemodel.flow import UnreachableError, simulate

    with user_errors():
        s = load_variant(scenario, settings)
        try:
            with err.status("simulating") as status:
                results = simulate(s, seed=seed, progress=lambda m: status.update(m))
        except UnreachableError as exc:
            err.print(f"[bold red]error:[/] {len(exc.units)} unit(s) cannot reach their region")
            for uid, why in exc.units[:MAX_PROBLEMS_SHOWN]:
                err.print(f"  {uid}: {why}", markup=False, highlight=False)
            raise typer.Exit(2) from None
        results = with_settings(results, settings)
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
    format: Annotated[
        TableFormat, typer.Option("--format", "-f", help="table, json or xlsx (with --out).")
    ] = TableFormat.table,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="The .xlsx workbook to write.")
    ] = None,
) -> None:
    """Assess saved results: closure days, shortfall, vulnerability, tiers, bottlenecks."""
    from forcemodel.assessment import assess
    from forcemodel.results import Results, ResultsError

    xlsx_target(format, out_file)
    if out_file is not None and out_file.suffix.lower() != ".xlsx":
        err.print(f"[bold red]error:[/] --out {escape(str(out_file))}: assess writes .xlsx")
        raise typer.Exit(2)
    try:
        results = Results.load(results_dir)
        a = assess(results)
    except ResultsError as exc:
        # soft_wrap: a long path must not be broken over lines; escape: it may hold "[".
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    if out_file is not None:
        from forcemodel.report.excel import write_xlsx

        about = [
            f"forcemodel assessment of {results_dir}",
            f"scenario {results.meta.get('scenario')} (digest "
            f"{str(results.meta.get('scenario_digest'))[:12]}), seed {results.meta.get('seed')}",
            *(f"--set {x}" for x in results.meta.get("settings", [])),
        ]
        tables = {
            "regions": a.regions,
            "capabilities": a.capabilities,
            "force_ratio": a.force_ratio,
            "tiers": a.tiers,
            "bottlenecks": a.bottlenecks,
        }
        with user_errors():
            write_xlsx(tables, out_file, about)
        wrote(out_file)
        return
    if format is TableFormat.json:
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
    format: Annotated[
        TableFormat, typer.Option("--format", "-f", help="table, json or xlsx (with --out).")
    ] = TableFormat.table,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Also save the per-region table (.csv or .json), or every table (.xlsx).",
        ),
    ] = None,
) -> None:
    """Compare two saved runs side by side: closure days, shortfall, vulnerability (B - A)."""
    from forcemodel.assessment.compare import compare, default_labels
    from forcemodel.results import Results, ResultsError

    xlsx_target(format, out_file)
    if out_file is not None and out_file.suffix.lower() not in (".csv", ".json", ".xlsx"):
        raise fail(f"--out {out_file}: the file name must end in .csv, .json or .xlsx")
    if out_file is not None and not out_file.absolute().parent.is_dir():
        raise fail(f"--out {out_file}: no folder {out_file.absolute().parent}")
    names = run_labels(labels, results_b, "--compare", lambda: default_labels(results_a, results_b))
    try:
        c = compare(Results.load(results_a), Results.load(results_b), labels=names)
    except ResultsError as exc:
        raise fail(str(exc)) from None
    if out_file is not None and out_file.suffix.lower() == ".xlsx":
        from forcemodel.report.excel import write_xlsx

        about = [
            f"forcemodel comparison: {names[0]} ({results_a}) against {names[1]} ({results_b})",
            "every difference (_diff) is B - A",
            *c.notes,
            "headline:",
            *c.headline,
        ]
        with user_errors():
            write_xlsx(c.tables(), out_file, about)
        wrote(out_file)
        if format is TableFormat.xlsx:
            return
    elif out_file is not None:
        if out_file.suffix.lower() == ".csv":
            text = c.regions.to_csv(index=False, lineterminator="\n")
        else:
            text = json.dumps(records(c.regions), indent=2) + "\n"
        with user_errors():
            atomic_write_text(out_file, text)
        wrote(out_file)
    if format is TableFormat.json:
        doc = {
            "labels": list(c.labels),
            "same_scenario": c.same_scenario,
            "notes": list(c.notes),
            "headline": list(c.headline),
            **{name: records(frame) for name, frame in c.tables().items()},
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    print_comparison(c)


def print_comparison(c: Any) -> None:
    """What changed, the headline, then the tables of a comparison (narrow views, 80 columns).

    Headers are the JSON names: ``closure_day`` over ``A`` is ``closure_day_A`` in
    ``--format json``; ``--format json`` and ``--out`` have every column.
    """
    import pandas as pd

    la, lb = c.labels
    say = partial(out.print, markup=False, highlight=False, soft_wrap=True)
    out.print(
        f"[bold]{escape(la)}[/] against [bold]{escape(lb)}[/] (diff: {escape(f'{lb} - {la}')})"
    )
    for note in c.notes:
        say(f"  {note}")
    changes = c.changes
    if len(changes):
        say(f"What changed from {la}'s scenario to {lb}'s ({count_of(len(changes), 'field')}):")
        for row in changes.head(MAX_PROBLEMS_SHOWN).to_dict("records"):
            use = ""
            if row["legs_a"] is not None and not pd.isna(row["legs_a"]):
                use = (
                    f" [{row['element']}: {row['legs_a']} legs, load {row['load_a']:,.0f} in "
                    f"{la}; {row['legs_b']} legs, load {row['load_b']:,.0f} in {lb}]"
                )
            say(f"  {row['path']}: {row['a']} -> {row['b']}{use}")
            if row["note"]:
                say(f"    {row['note']}")
        if len(changes) > MAX_PROBLEMS_SHOWN:
            say(f"  ... and {len(changes) - MAX_PROBLEMS_SHOWN} more (--format json has them all)")
    elif c.same_scenario:
        say(f"The scenarios of {la} and {lb} are the same.")
    say("Headline:")
    for line in c.headline:
        say(f"  {line}")
    regions = c.regions.copy()
    for side in (la, lb):
        regions[f"window_{side}"] = [
            "-" if pd.isna(f) else f"{f}-{u}"
            for f, u in zip(
                regions[f"vulnerable_from_{side}"], regions[f"vulnerable_until_{side}"], strict=True
            )
        ]
    views: list[tuple[str, pd.DataFrame, list[str], list[str]]] = [
        ("Closure day by region", regions, ["region"], ["closure_day", "closure"]),
        (
            "Shortfall by region: days short, brigade-days short",
            regions,
            ["region"],
            ["shortfall_days", "shortfall_bde_days"],
        ),
        (
            "Window of vulnerability by region: days the force ratio exceeds the threshold",
            regions,
            ["region"],
            ["vulnerable_days", "window", "max_ratio"],
        ),
        (
            "Closure day by region and capability",
            c.capabilities,
            ["region", "capability"],
            ["closure_day", "closure"],
        ),
        ("Troops closed in region by day", c.alliance, ["day"], ["troops_closed"]),
    ]
    for title, frame, keys, quantities in views:
        columns = {k: k for k in keys}
        for q in quantities:
            if q in frame.columns:
                columns[q] = q
            for side in (la, lb, "diff"):
                if f"{q}_{side}" in frame.columns:
                    columns[f"{q}_{side}"] = escape(f"{q}\n{side}")
        view = frame[list(columns)].copy()
        for col in view.columns:
            if not pd.api.types.is_numeric_dtype(view[col]):
                view[col] = view[col].map(lambda v: escape(v) if isinstance(v, str) else v)
        print_table(view.set_axis(list(columns.values()), axis=1), title)


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
    sweep_dir: Annotated[
        Path | None, typer.Option("--sweep", help="A sweep folder of this scenario: its charts.")
    ] = None,
    attack_dir: Annotated[
        Path | None, typer.Option("--attack", help="A forcemodel attack folder: criticality map.")
    ] = None,
) -> None:
    """Write the report of saved results: offline HTML (and PNG figures with --png).

    With --compare, the report also sets the run side by side with a second one (B - A).
    """
    from forcemodel.assessment import default_labels
    from forcemodel.report import prepare
    from forcemodel.results import Results, ResultsError

    names = run_labels(
        labels, compare_dir, "--compare", lambda: default_labels(results_dir, str(compare_dir))
    )
    try:
        results = Results.load(results_dir)
        other = Results.load(compare_dir) if compare_dir is not None else None
    except ResultsError as exc:
        raise fail(str(exc)) from None
    extra: list[Any] = []
    if sweep_dir is not None or attack_dir is not None:
        from forcemodel.report.sweep_section import read_sweep_section

        with user_errors():
            extra.append(read_sweep_section(results, sweep_dir, attack_dir))
    # The scenario comes with the results (results.scenario), never re-read by name.
    with err.status("preparing the report"):
        data = prepare(
            results, None, units_per_region or None, servers or None, other=other, labels=names
        )
    for w in data.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    with user_errors():
        if png is not None:
            from forcemodel.report.figures import write_pngs

            with err.status("drawing PNG figures") as status:
                paths = write_pngs(data, png, lambda m: status.update(f"drawing {m}"))
            wrote(png, f"({len(paths)} PNG figures)")
        if out_file is not None or png is None:
            from forcemodel.report.html import write_html

            try:
                with err.status("writing the HTML report"):
                    target = write_html(data, out_file or Path("report.html"), extra)
            except ModuleNotFoundError as exc:
                err.print(f"[bold red]error:[/] the HTML report needs plotly ({escape(str(exc))})")
                raise typer.Exit(2) from None
            wrote(target)
