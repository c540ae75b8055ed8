"""The command line: a thin face over the Python API. It renders; it does not compute."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import forcemodel
from forcemodel.cli_assist import assist_app
from forcemodel.cli_replan import replan_cmd
from forcemodel.scenario import ScenarioError, load_scenario
from forcemodel.scenario.summary import summarize

app = typer.Typer(
    name="forcemodel",
    help="Plan an alliance's deterrence and defence posture: force model, reinforcement, needs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(assist_app, name="assist")
app.command("replan")(replan_cmd)
out = Console()
err = Console(stderr=True)

#: Problems printed before the rest are counted (a 10,000-row table can hold 10,000 of them).
MAX_PROBLEMS_SHOWN = 50

F = TypeVar("F", bound=Callable[..., Any])


class Format(StrEnum):
    """Output format of a command."""

    table = "table"
    json = "json"


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn input errors into a located message and exit status 2, never a traceback."""
    try:
        yield
    except ScenarioError as exc:
        n = len(exc.problems)
        err.print(f"[bold red]error:[/] {n} problem{'s' if n != 1 else ''} in the scenario")
        for p in exc.problems[:MAX_PROBLEMS_SHOWN]:
            # emoji=False: "file.yaml:100:" must not become a 100-points emoji.
            err.print(f"  {p}", markup=False, highlight=False, emoji=False, soft_wrap=True)
        if n > MAX_PROBLEMS_SHOWN:
            err.print(f"  ... and {n - MAX_PROBLEMS_SHOWN} more")
        raise typer.Exit(2) from None
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        what = escape(f"{where}: {exc.strerror or exc}")
        err.print(f"[bold red]error:[/]{what}", highlight=False, emoji=False)
        raise typer.Exit(2) from None


ScenarioArg = Annotated[
    str,
    typer.Argument(help="A YAML file, a scenario folder, or a bundled name (tiny, eastern-flank)."),
]


def _version(value: bool) -> None:
    if value:
        out.print(f"forcemodel {forcemodel.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """forcemodel: open, reproducible planning of deterrence and defence posture."""


@app.command()
def validate(scenario: ScenarioArg) -> None:
    """Check a scenario: every field typed, every reference resolved, problems located."""
    with user_errors():
        s = load_scenario(scenario)
    counts = ", ".join(
        _count(n, what)
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
    }
    if format is Format.json:
        doc = {"name": summary.name, **{k: _records(v) for k, v in tables.items()}}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    out.print(f"[bold]{summary.name}[/]: {summary.description}")
    titles = {
        "tiers": "Reinforcing troops by readiness tier (force model targets)",
        "nations": "Troops by nation",
        "regions": "Regions",
        "network": "Network",
    }
    for key, frame in tables.items():
        out.print(_rich_table(frame, titles[key]))


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
        _atomic_write_text(output, text)
    _wrote(output)


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
    from forcemodel.synthetic import synthetic_scenario, write_scenario_folder

    if regions > nodes // 2:
        err.print(f"[bold red]error:[/] --regions {regions} needs at least {2 * regions} nodes")
        raise typer.Exit(2)
    with user_errors():
        if out_dir.exists() and not force:
            err.print(f"[bold red]error:[/] {out_dir} exists; use --force to replace it")
            raise typer.Exit(2)
        data = synthetic_scenario(units=units, nodes=nodes, days=days, regions=regions, seed=seed)
        write_scenario_folder(data, out_dir)
    _wrote(out_dir, f"({units} units, {nodes} nodes, {days} days, seed {seed})")


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
    _wrote(out_dir)
    if not quiet:
        _print_assessment(assess(results))


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
            "regions": _records(a.regions),
            "capabilities": _records(a.capabilities),
            "tiers": _records(a.tiers),
            "bottlenecks": _records(a.bottlenecks),
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    _print_assessment(a)


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
    from forcemodel.compare import check_labels, compare
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
        names = ("A", "B")
        candidates = [
            (results_a.absolute().name, results_b.absolute().name),
            (str(results_a), str(results_b)),
        ]
        for pair in candidates:
            try:
                names = check_labels(pair)
                break
            except ValueError:
                continue
    try:
        c = compare(Results.load(results_a), Results.load(results_b), labels=names)
    except ResultsError as exc:
        raise fail(str(exc)) from None
    if out_file is not None:
        if out_file.suffix.lower() == ".csv":
            text = c.regions.to_csv(index=False, lineterminator="\n")
        else:
            text = json.dumps(_records(c.regions), indent=2) + "\n"
        with user_errors():
            _atomic_write_text(out_file, text)
        _wrote(out_file)
    if format is Format.json:
        doc = {
            "labels": list(c.labels),
            "same_scenario": c.same_scenario,
            "notes": list(c.notes),
            **{name: _records(frame) for name, frame in c.tables().items()},
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
        out.print(_rich_table(view.set_axis(list(columns.values()), axis=1), title))


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
) -> None:
    """Write the report of saved results: offline HTML (and PNG figures with --png)."""
    from forcemodel.assessment import assess
    from forcemodel.report import prepare
    from forcemodel.results import Results, ResultsError
    from forcemodel.scenario import bundled_scenarios

    try:
        results = Results.load(results_dir)
    except ResultsError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
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
    data = prepare(results, assess(results), s, units_per_region or None, servers or None)
    for w in data.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    with user_errors():
        if png is not None:
            from forcemodel.report.figures import write_pngs

            paths = write_pngs(data, png)
            _wrote(png, f"({len(paths)} PNG figures)")
        if out_file is not None or png is None:
            from forcemodel.report.html import write_html

            try:
                target = write_html(data, out_file or Path("report.html"))
            except ModuleNotFoundError as exc:
                err.print(f"[bold red]error:[/] the HTML report needs plotly ({escape(str(exc))})")
                raise typer.Exit(2) from None
            _wrote(target)


class SolverMethod(StrEnum):
    """HiGHS method for ``forcemodel optimize``."""

    choose = "choose"
    simplex = "simplex"
    ipm = "ipm"
    pdlp = "pdlp"


@app.command("optimize")
def optimize_cmd(
    scenario: ScenarioArg,
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write the plan, objective and log into.")
    ],
    time_limit: Annotated[
        float,
        typer.Option(help="Time budget of the search, seconds (> 0); the final checks add a few."),
    ] = 50.0,
    gap: Annotated[float, typer.Option(help="Relative optimality gap of the MIP (>= 0).")] = 1e-4,
    method: Annotated[
        SolverMethod, typer.Option(help="HiGHS method (pdlp only with --relax).")
    ] = SolverMethod.choose,
    threads: Annotated[
        int | None, typer.Option(min=1, help="Solver threads (default: HiGHS's choice).")
    ] = None,
    early_weight: Annotated[
        float | None,
        typer.Option(
            help="A gap on day 0 weighs 1 + this times one on the last day "
            "(default: the scenario's meta.objective, else 1)."
        ),
    ] = None,
    keep_assignments: Annotated[
        bool, typer.Option(help="Keep pre-assigned units in their region.")
    ] = False,
    relax: Annotated[bool, typer.Option(help="Solve the LP relaxation only.")] = False,
    force: Annotated[bool, typer.Option(help="Replace the folder if it exists.")] = False,
    write_model: Annotated[
        Path | None,
        typer.Option(help="Also write the model to this .mps or .lp file for other solvers."),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option(help="Print the ten binding capacities and why requirements are unmet."),
    ] = False,
    closure_by_bundled: Annotated[
        bool,
        typer.Option(
            "--closure-by-bundled/--no-closure-by-bundled",
            help="Weigh a shortfall after the day the scenario as given closes a region more.",
        ),
    ] = True,
    late_weight: Annotated[
        float | None,
        typer.Option(
            help="A shortfall after that day weighs 1 + this times more "
            "(default: the scenario's meta.objective, else 10)."
        ),
    ] = None,
) -> None:
    """Choose each unit's region and set use; write the plan as a scenario folder.

    The model and what it leaves out: docs/optimization.md.
    """
    from forcemodel.optimize import InfeasibleError, OptimizationError, Weights, optimize

    for bad, what in (
        (not time_limit > 0, f"--time-limit must be more than 0 seconds, got {time_limit:g}"),
        (not gap >= 0, f"--gap must be 0 or more, got {gap:g}"),
        (
            early_weight is not None and not early_weight >= 0,
            f"--early-weight must be 0 or more, got {early_weight}",
        ),
        (
            late_weight is not None and not late_weight >= 0,
            f"--late-weight must be 0 or more, got {late_weight}",
        ),
        (method is SolverMethod.pdlp and not relax, "--method pdlp needs --relax (an LP)"),
        (
            write_model is not None and write_model.suffix.lower() not in (".mps", ".lp"),
            f"--write-model must end in .mps or .lp, got '{write_model}'",
        ),
    ):
        if bad:
            err.print(f"[bold red]error:[/] {escape(what)}", highlight=False)
            raise typer.Exit(2)
    with user_errors():
        if out_dir.exists() and not force:
            err.print(f"[bold red]error:[/] {escape(str(out_dir))} exists; use --force to replace")
            raise typer.Exit(2)
        s = load_scenario(scenario)
        try:
            with err.status("optimising"):
                result = optimize(
                    s,
                    time_limit=time_limit,
                    mip_gap=gap,
                    method=method.value,
                    threads=threads,
                    weights=Weights.of(s, early_weight=early_weight, late_weight=late_weight),
                    keep_assignments=keep_assignments,
                    relax=relax,
                    write_model=write_model,
                    closure_by="bundled" if closure_by_bundled else None,
                )
        except OptimizationError as exc:
            err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
            for why in exc.reasons[:MAX_PROBLEMS_SHOWN]:
                err.print(f"  {why}", markup=False, highlight=False)
            raise typer.Exit(2 if isinstance(exc, InfeasibleError) else 1) from None
        result.save(out_dir)
    gap_text = f", gap {result.mip_gap:.2g}" if result.mip_gap is not None else ""
    err.print(
        f"wrote {escape(str(out_dir))}: {result.termination.replace('_', ' ')}{gap_text}, "
        f"objective {result.objective_value:,.4f}",
        highlight=False,
    )
    shown = result.plan[["unit", "region", "stock", "estimated_closure", "counted_from"]]
    out.print(_rich_table(shown, "Plan: region and set per unit (days)"))
    out.print(_rich_table(result.objective, "Shortfall by region and capability"))
    if explain:
        _print_explanation(result)


def _print_explanation(result: Any) -> None:
    """``optimize --explain``: the ten largest binding capacities, then the unmet needs."""
    from forcemodel.optimize import CAPACITY_KINDS

    kinds = {"rsom_tons": "RSOM tons", "rsom_people": "RSOM people", "stock": "stock", "shared": ""}
    b = result.bindings[result.bindings["kind"].isin(CAPACITY_KINDS)].head(10)
    if b.empty:
        out.print("No capacity binds: more RSOM capacity or sets would not lower the objective.")
    else:
        table = Table(
            title="Binding capacities (shadow price: change of the objective per ton, person or "
            "set more)",
            title_justify="left",
        )
        table.add_column("binding", no_wrap=True)
        table.add_column("day", justify="right")
        table.add_column("shadow price", justify="right")
        table.add_column("in words", ratio=1)
        for row in b.itertuples(index=False):
            table.add_row(
                f"{kinds[str(row.kind)]} {row.region or row.stock or row.server}".strip(),
                str(row.day) if row.day >= 0 else "",
                f"{row.shadow_price:.3g}" if row.shadow_price == row.shadow_price else "-",
                str(row.meaning),
            )
        out.print(table)
    if result.unmet.empty:
        out.print("Every requirement is met on every day.")
        return
    table = Table(
        title="Requirements not met (brigades), and what stops them", title_justify="left"
    )
    table.add_column("requirement", no_wrap=True)
    table.add_column("days", justify="right", no_wrap=True)
    table.add_column("short up to", justify="right")
    table.add_column("stopped by", ratio=1)
    for row in result.unmet.itertuples(index=False):
        days = f"{row.from_day}-{row.to_day}" if row.from_day != row.to_day else str(row.from_day)
        table.add_row(
            f"{str(row.capability).replace('_', ' ')} at {row.region}",
            days,
            f"{row.peak_shortfall:.3g}",
            str(row.stopped_by).replace("; ", ";\n"),
        )
    out.print(table)


def _print_assessment(a: Any) -> None:
    out.print(_rich_table(a.regions, "Regions: closure day, shortfall, window of vulnerability"))
    # The terminal shows troops closed in region; --format json and the report have it all.
    closed = [c for c in a.tiers.columns if str(c).startswith("closed_by_")]
    tiers = a.tiers[["tier", "troops", "target_troops", *closed]].rename(
        columns={"target_troops": "target", **{c: c.replace("_by_", " by day ") for c in closed}}
    )
    out.print(_rich_table(tiers, "Troops by readiness tier closed in their region by day"))
    out.print(
        _rich_table(a.bottlenecks.drop(columns=["target"]), "Worst bottlenecks (days at capacity)")
    )


def _wrote(path: Path | str, detail: str = "") -> None:
    """Say what was written; a path never wraps and is never read as markup."""
    err.print(f"wrote {path} {detail}".rstrip(), markup=False, highlight=False, soft_wrap=True)


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))  # type: ignore[no-any-return]


#: Short column labels for the terminal; the saved tables keep their full names.
_LABELS = {
    "closure_day": "closure day",
    "shortfall_days": "gap days",
    "shortfall_bde_days": "gap bde days",
    "vulnerable_days": "vuln. days",
    "vulnerable_from": "vuln. from",
    "vulnerable_until": "vuln. until",
    "days_at_capacity": "days full",
    "mean_utilisation": "mean use",
    "notice_to_move_days": "notice to move",
    "share_of_target": "of target",
    "land_required_day0": "land needed day 0",
    "land_required_peak": "land needed peak",
}


def _rich_table(frame: pd.DataFrame, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col])
        label = _LABELS.get(str(col), str(col).replace("_", " "))
        # Names stay on one line; numbers and their headers may wrap.
        table.add_column(
            label, justify="right" if numeric else "left", overflow="fold", no_wrap=not numeric
        )
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    return table


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _atomic_write_text(path: Path, text: str) -> None:
    """Write through a temporary file and rename, so a failure leaves the old file intact."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _add_service_commands() -> None:
    """``forcemodel serve`` and ``forcemodel users``: the assistance service."""
    from forcemodel.service.commands import register

    register(app)


_add_service_commands()


def main() -> None:
    """Entry point of the ``forcemodel`` command."""
    app()
