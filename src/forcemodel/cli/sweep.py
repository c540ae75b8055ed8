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

#: forcemodel.sweep.attack.CHECK_LIMIT, written out so that the CLI starts without pandas
#: (tests/sweep/test_attack_cli.py checks that they agree).
CHECK_LIMIT = 200

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
    tornado: Annotated[
        str | None,
        typer.Option("--tornado", help="Region of the tornado chart (default: latest to close)."),
    ] = None,
    sensitivity: Annotated[
        str,
        typer.Option(
            "--sensitivity",
            help="spearman (rank correlation) or sobol: first-order Sobol indices (SALib, "
            "RBD-FAST) as well, in sobol.csv; needs 50 runs per region.",
        ),
    ] = "spearman",
) -> None:
    """Run a sweep: grid of --param values x --draws worlds; a Parquet table of every run."""
    from forcemodel.sweep import run_sweep
    from forcemodel.sweep.api import check_method
    from forcemodel.sweep.run import connect
    from forcemodel.sweep.spec import prepare

    with user_errors():
        check_method(sensitivity)
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

                result = run_sweep(
                    plan,
                    out_dir,
                    workers=workers,
                    scheduler=client,
                    progress=show,
                    sensitivity=sensitivity,
                )
        finally:
            if client is not None:
                client.close()
    wrote(out_dir / "runs.parquet", f"({result.runs:,} runs, {result.ran:,} run now)")
    if result.failed:
        err.print(f"[yellow]{result.failed} run(s) failed[/]: their error is in the runs table")
    closure = result.summary[result.summary["figure"].isin(["closure_day", "vulnerable_days"])]
    show_cols = [c for c in closure.columns if c not in ("point", "runs", "mean")]
    out.print(rich_table(closure[show_cols], "Closure day and days vulnerable: P10 / P50 / P90"))
    if result.sobol is not None:
        if result.sobol.empty:
            err.print(
                "[yellow]no Sobol indices[/]: fewer than 50 runs per region, or no input varies"
            )
        else:
            s1 = result.sobol[result.sobol["figure"] == "closure_day"]
            top = s1.groupby("region", sort=True).head(3)
            out.print(rich_table(top, "Closure day: first-order Sobol indices (top 3)"))
            wrote(out_dir / "sobol.csv")
    if plots:
        from forcemodel.sweep.plots import sweep_plots

        for path in sweep_plots(out_dir, region=tornado):
            wrote(path)


def attack_cmd(
    scenario: ScenarioArg,
    region: Annotated[
        list[str] | None, typer.Option("--region", "-r", help="Region attacked (repeatable).")
    ] = None,
    k: Annotated[int, typer.Option("--k", help="Attacks of 1..k assets (k at most 5).")] = 2,
    budget: Annotated[
        list[float] | None,
        typer.Option("--budget", "-b", help="Protection budget, millions (repeatable): curve."),
    ] = None,
    attack_budget: Annotated[
        list[float] | None,
        typer.Option(
            "--attack-budget",
            "-a",
            help="Attacker's budget of attack costs (uncertainty.attack.cost/costs; "
            "repeatable): the worst attack within it; the guards answer the largest.",
        ),
    ] = None,
    check: Annotated[
        int,
        typer.Option(
            "--check",
            help="Work limit: new simulations each answer may spend checking the attacks "
            "its bound cut (all checked: 'exact'; else 'best found, not proven').",
        ),
    ] = CHECK_LIMIT,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for tables and charts.")
    ] = None,
    set_: SetOpt = None,
    uncertainty: UncOpt = None,
    workers: WorkersOpt = 0,
    scheduler: SchedOpt = None,
) -> None:
    """The worst attacks of 1..k assets (or within attack budgets) on a region, its critical
    assets, the best guards; each answer says whether it is proven exact."""
    from forcemodel.sweep.attack import run_attack

    with user_errors(), err.status("simulating attacks") as status:
        report = run_attack(
            scenario,
            regions=region or [],
            k=k,
            budgets=budget or [],
            attack_budgets=attack_budget or [],
            check_limit=check,
            settings=set_ or [],
            uncertainty=uncertainty,
            workers=workers,
            scheduler=scheduler,
            progress=lambda n: status.update(f"simulating attacks: {n:,} simulations"),
        )
    top = report.criticality.groupby("region", sort=True).head(5)
    out.print(rich_table(top, "Critical assets: days of delay to closure if lost (top 5)"))
    out.print(rich_table(_attacks_view(report.attacks), "Worst attacks of each size and budget"))
    unproven = report.attacks[report.attacks["status"] != "exact"]
    if len(unproven):
        err.print(
            f"[yellow]{len(unproven)} answer(s) not proven exact[/]: the attacks the bound cut "
            "were not all simulated (raise --check); non_monotone in attacks.csv counts the "
            "cases seen where losing more delayed less",
            highlight=False,
        )
    if len(report.protection):
        cols = ["region", "budget_m", "cost_m", "worst_delay", "status", "plan"]
        out.print(rich_table(report.protection[cols], "Best protection plan per budget"))
        best = report.measures.groupby("region", sort=True).head(5)
        out.print(rich_table(best, "Days of closure bought per million (top 5)"))
    err.print(f"{report.simulations:,} simulations", highlight=False)
    if out_dir is not None:
        _save_attack(report, out_dir, scenario, set_ or [], uncertainty)


def _attacks_view(attacks: Any) -> Any:
    """The attacks table narrow enough for a terminal: one asset a line (attacks.csv has all)."""
    import pandas as pd

    return pd.DataFrame(
        {
            "region": attacks["region"],
            "attack": [
                f"k = {k}" if form == "k" else f"cost <= {b:g}"
                for form, k, b in zip(
                    attacks["form"], attacks["k"], attacks["attack_budget"], strict=True
                )
            ],
            "delay": attacks["delay"],
            "status": attacks["status"].str.replace(", ", ",\n"),
            "assets": [str(a).replace(" ", "\n") if a == a else "" for a in attacks["assets"]],
        }
    )


def _save_attack(
    report: Any, folder: Path, scenario: str, settings: list[str], uncertainty: str | None
) -> None:
    import json

    import pandas as pd

    from forcemodel.common.folders import atomic_write_text
    from forcemodel.scenario.load import read_scenario
    from forcemodel.sweep.plots import criticality_map, protection_curve
    from forcemodel.sweep.spec import load_uncertainty_file

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("criticality", "attacks", "protection", "measures"):
        frame = getattr(report, name)
        if frame.empty:
            continue  # no budget given: no protection tables
        path = folder / f"{name}.csv"
        tmp = path.with_name(f".{path.name}.tmp")
        frame.to_csv(tmp, index=False, lineterminator="\n")
        tmp.replace(path)
        wrote(path)
    raw = read_scenario(scenario)
    if uncertainty is not None:
        raw = load_uncertainty_file(raw, uncertainty)
    s = raw.build(settings)
    # What the tables are of, for forcemodel report --attack (which checks the scenario).
    about = {
        "scenario": s.meta.name,
        "regions": sorted(set(report.attacks["region"])),
        "settings": settings,
        "uncertainty": uncertainty,
        "simulations": report.simulations,
    }
    atomic_write_text(folder / "attack.json", json.dumps(about, indent=2) + "\n")
    wrote(folder / "attack.json")
    nodes = pd.DataFrame([{"id": n.id, "lat": n.lat, "lon": n.lon} for n in s.nodes])
    links = pd.DataFrame([{"id": lk.id, "src": lk.from_, "dst": lk.to} for lk in s.links])
    for region, g in report.criticality.groupby("region", sort=True):
        path = folder / f"criticality-{region}.png"
        wrote(criticality_map(g, nodes, links, path, f"{region}: delay to closure if lost"))
    if len(report.protection):
        for region, g in report.protection.groupby("region", sort=True):
            path = folder / f"protection-{region}.png"
            wrote(protection_curve(g, path, f"{region}: worst attack vs protection budget"))
