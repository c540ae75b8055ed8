"""``forcemodel sweep`` and ``forcemodel attack``: many worlds, and an adversary who chooses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from forcemodel.cli.common import ScenarioArg, err, out, rich_table, user_errors, wrote

ParamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-p",
        help="PATH=LIST|RANGE swept (a,b,c or [a, b] or LOW:HIGH:STEP or LOW..HIGH); "
        "the same paths as --set. Repeat for a grid.",
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="PATH=VALUE for every run (as for simulate). Repeatable."),
]
UncOpt = Annotated[
    str | None,
    typer.Option(
        "--uncertainty",
        "-u",
        help="A YAML file of the uncertainty section (or a bundled one: eastern-flank, tiny), "
        "instead of the scenario's own.",
    ),
]
WorkersOpt = Annotated[
    int, typer.Option("--workers", "-w", min=0, help="Local worker processes (0: one per CPU).")
]
SchedOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="A Dask scheduler, tcp://HOST:PORT: run there instead."),
]


class _Rate(ProgressColumn):
    """Runs per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f} runs/s" if speed else "- runs/s")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(),
        TextColumn("left"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[failed]} failed"),
        console=err,
    )


def sweep_cmd(
    scenario: ScenarioArg,
    draws: Annotated[int, typer.Option("--draws", "-n", help="Monte Carlo draws per grid point.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Sweep folder (resumes there).")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed, the same draws.")] = 0,
    param: ParamOpt = None,
    set_: SetOpt = None,
    uncertainty: UncOpt = None,
    workers: WorkersOpt = 0,
    scheduler: SchedOpt = None,
    plots: Annotated[
        bool, typer.Option("--plots/--no-plots", help="Draw the sweep's PNG charts into --out.")
    ] = True,
) -> None:
    """Run a sweep: grid of --param values x --draws worlds; a Parquet table of every run."""
    from forcemodel.sweep import run_sweep
    from forcemodel.sweep.run import connect
    from forcemodel.sweep.spec import prepare

    with user_errors():
        plan = prepare(
            scenario,
            draws=draws,
            seed=seed,
            params=param or [],
            settings=set_ or [],
            uncertainty=uncertainty,
        )
        client: Any = connect(scheduler) if scheduler else None
        try:
            with _progress() as bar:
                task = bar.add_task("runs", total=plan.runs, failed=0)

                def show(done: int, total: int, failed: int) -> None:
                    bar.update(task, completed=done, total=total, failed=failed)

                result = run_sweep(plan, out_dir, workers=workers, scheduler=client, progress=show)
        finally:
            if client is not None:
                client.close()
    wrote(out_dir / "runs.parquet", f"({result.runs:,} runs, {result.ran:,} run now)")
    if result.failed:
        err.print(f"[yellow]{result.failed} run(s) failed[/]: their error is in the runs table")
    closure = result.summary[result.summary["figure"].isin(["closure_day", "vulnerable_days"])]
    show_cols = [c for c in closure.columns if c not in ("point", "runs", "mean")]
    out.print(rich_table(closure[show_cols], "Closure day and days vulnerable: P10 / P50 / P90"))
    if plots:
        from forcemodel.sweep.plots import sweep_plots

        for path in sweep_plots(out_dir):
            wrote(path)
