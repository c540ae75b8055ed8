"""The optimiser's command: optimize."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from forcemodel.cli.app import app
from forcemodel.cli.common import (
    MAX_PROBLEMS_SHOWN,
    ScenarioArg,
    SetOption,
    err,
    out,
    rich_table,
    user_errors,
)


class SolverMethod(StrEnum):
    """HiGHS method for ``forcemodel optimize``."""

    choose = "choose"
    simplex = "simplex"
    ipm = "ipm"
    pdlp = "pdlp"


class Search(StrEnum):
    """How ``forcemodel optimize`` searches the MIP (``forcemodel.optimize.SEARCHES``)."""

    auto = "auto"
    relaxation = "relaxation"
    regions = "regions"


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
    search: Annotated[
        Search,
        typer.Option(
            help="relaxation: around the LP relaxation; regions: from the day-0 planner's "
            "plan, one group of regions at a time; auto: regions above 20,000 options."
        ),
    ] = Search.auto,
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
    budget: Annotated[
        float | None,
        typer.Option(
            help="Money for new pre-positioned sets, millions (>= 0; default: the scenario's "
            "prepositioning.budget_m)."
        ),
    ] = None,
    settings: SetOption = None,
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
        (
            budget is not None and not budget >= 0,
            f"--budget must be 0 or more (millions), got {budget:g}" if budget is not None else "",
        ),
        (method is SolverMethod.pdlp and not relax, "--method pdlp needs --relax (an LP)"),
        (
            search is Search.regions and relax,
            "--search regions finds whole plans: it cannot be used with --relax",
        ),
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
        from forcemodel.scenario.load import load_scenario

        s = load_scenario(scenario, settings or ())
        if budget is not None:
            from forcemodel.optimize.prepositioning import check_budget

            try:
                check_budget(s, budget)
            except ValueError as exc:
                err.print(f"[bold red]error:[/] --{escape(str(exc))}", highlight=False)
                raise typer.Exit(2) from None
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
                    budget=budget,
                    search=search.value,
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
    out.print(rich_table(shown, "Plan: region and set per unit (days)"))
    out.print(rich_table(result.objective, "Shortfall by region and capability"))
    if result.budget is not None:
        _print_purchases(result)
    if explain:
        _print_explanation(result)


def _print_purchases(result: Any) -> None:
    """The new pre-positioned sets bought: where, how many, and the spend against the budget."""
    words = (
        f"New pre-positioned sets: spent {result.spend:,.6g} of a budget of {result.budget:,.6g} "
        f"(millions of {result.currency})"
    )
    if result.purchases.empty:
        out.print(f"{words}: none bought.", highlight=False)
        return
    out.print(rich_table(result.purchases, words))


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
