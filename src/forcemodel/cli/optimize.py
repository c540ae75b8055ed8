"""The optimiser's command: optimize."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
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
        float | None,
        typer.Option(
            help="Stop by the clock instead of the work limits: a time budget in seconds "
            "(finite, > 0; the final checks add a few). The plan then depends on the machine."
        ),
    ] = None,
    work_limit: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Simulations the simulated search may run (default 400), with HiGHS's node "
            "and iteration limits per solve: the default stopping rule, the same plan on any "
            "machine.",
        ),
    ] = None,
    deterministic: Annotated[
        bool,
        typer.Option(help="Stop by the default work limits (the default; kept for scripts)."),
    ] = False,
    gap: Annotated[
        float, typer.Option(help="Relative optimality gap of the MIP (0 or more, below 1).")
    ] = 1e-4,
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
    from forcemodel.optimize import (
        InfeasibleError,
        OptimizationError,
        Weights,
        WorkLimits,
        optimize,
    )

    problem = _bad_option(
        time_limit,
        work_limit is not None or deterministic,
        gap,
        early_weight,
        late_weight,
        budget,
        method,
        relax,
        search,
        write_model,
    )
    if problem is not None:
        err.print(f"[bold red]error:[/] {escape(problem)}", highlight=False)
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
        # Work limits by default (the same plan on any machine); the clock only when asked.
        work = (
            WorkLimits(evaluations=work_limit)
            if work_limit is not None
            else None
            if time_limit is not None
            else WorkLimits()
        )
        try:
            with progress_lines(time_limit if work is None else None):
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
                    work=work,
                )
        except KeyboardInterrupt:
            err.print("interrupted before any plan was scored: nothing written", highlight=False)
            raise typer.Exit(130) from None
        except OptimizationError as exc:
            err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
            for why in exc.reasons[:MAX_PROBLEMS_SHOWN]:
                err.print(f"  {why}", markup=False, highlight=False)
            raise typer.Exit(2 if isinstance(exc, InfeasibleError) else 1) from None
        result.save(out_dir)
    _print_result(result, out_dir, explain)


def _print_result(result: Any, out_dir: Path, explain: bool) -> None:
    """What was written, the plan's provenance and tables; exit 130 if interrupted."""
    gap_text = f", gap {result.mip_gap:.2g}" if result.mip_gap is not None else ""
    err.print(
        f"wrote {escape(str(out_dir))}: {result.termination.replace('_', ' ')}{gap_text}, "
        f"objective {result.objective_value:,.4f}",
        highlight=False,
    )
    if result.provenance is not None:
        _print_provenance(result.provenance)
    shown = result.plan[["unit", "region", "stock", "estimated_closure", "counted_from"]]
    out.print(rich_table(shown, "Plan: region and set per unit (days)"))
    out.print(rich_table(result.objective, "Shortfall by region and capability"))
    if result.budget is not None:
        _print_purchases(result)
    if explain:
        _print_explanation(result)
    if result.termination == "interrupted":
        err.print("interrupted: the best plan scored so far was written", highlight=False)
        raise typer.Exit(130)


def _bad_option(
    time_limit: float | None,
    by_work: bool,
    gap: float,
    early_weight: float | None,
    late_weight: float | None,
    budget: float | None,
    method: SolverMethod,
    relax: bool,
    search: Search,
    write_model: Path | None,
) -> str | None:
    """The first option that cannot be used, in words (``None``: all can)."""
    import math

    for bad, what in (
        (
            time_limit is not None and not (time_limit > 0 and math.isfinite(time_limit)),
            f"--time-limit must be a finite number of seconds above 0, got {time_limit}",
        ),
        (
            time_limit is not None and by_work,
            "--time-limit stops by the clock, --work-limit and --deterministic by work: "
            "give one of them",
        ),
        (not 0 <= gap < 1, f"--gap must be 0 or more and below 1 (a share), got {gap:g}"),
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
        (
            write_model is not None and not write_model.resolve().parent.is_dir(),
            f"--write-model: the folder of '{write_model}' does not exist",
        ),
    ):
        if bad:
            return what
    return None


@contextmanager
def progress_lines(budget_s: float | None) -> Iterator[None]:
    """Print the optimiser's progress on stderr, one plain line per event (readable when
    piped): elapsed time against the budget, stage, incumbent, bound and gap."""
    import logging
    import time

    began = time.monotonic()
    of = f" / {budget_s:g} s" if budget_s is not None else ""

    class _Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            text = record.getMessage().split("\n", 1)[0].strip("= ")
            err.print(
                f"[{time.monotonic() - began:6.1f} s{of}] {text}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )

    handler = _Lines(level=logging.INFO)
    names = (
        "forcemodel.optimize.progress",
        "forcemodel.optimize.refine",
        "forcemodel.optimize.simulated",
    )
    loggers = [logging.getLogger(n) for n in names]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeHandler(handler)


def _print_provenance(p: Any) -> None:
    """Which rule stopped the search, which plan was kept, and its simulation by region."""
    how = "simulated" if p.simulated else "not simulated"
    extra = f", {p.evaluations} simulations" if p.evaluations else ""
    out.print(
        f"Plan kept: {escape(p.kept)} ({how}{extra}); stopped by: "
        f"{p.stopped_by.replace('_', ' ')} under a {escape(p.rule)}",
        highlight=False,
    )
    if p.simulated and len(p.regions):
        table = p.regions.rename(
            columns={
                "simulated_closure": "closure day (simulated)",
                "target": "target (bundled plan)",
                "shortfall_bde_days": "shortfall bde-days (simulated)",
            }
        )
        out.print(rich_table(table, "Simulated closure by region against its target"))


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
    """``optimize --explain``: the binding capacities grouped by server and span of days, the
    five largest of each unit (tons, people, asset-days, sets apart), then the unmet needs."""
    from forcemodel.optimize import capacity_spans

    spans = capacity_spans(result.bindings)
    if spans.empty:
        out.print("No capacity binds: more RSOM capacity or sets would not lower the objective.")
    for unit, group in spans.groupby("unit", sort=True):
        per = "set more" if unit == "set" else f"{unit} more a day, on every day of the span"
        table = Table(
            title=f"Binding capacities per {unit} (change of the objective per {per}, and of "
            "the shortfall in brigade-days; each day's price holds alone up to 'holds for', "
            "HiGHS ranging)",
            title_justify="left",
        )
        table.add_column("binding", no_wrap=True)
        table.add_column("days", justify="right", no_wrap=True)
        table.add_column("price a day", justify="right", no_wrap=True)
        table.add_column("span's sum", justify="right", no_wrap=True)
        table.add_column("brigade-days, span", justify="right", no_wrap=True)
        table.add_column(f"holds for, least day ({unit}s)", justify="right")
        for rec in group.head(5).to_dict("records"):
            lo, hi = float(rec["price_per_day_min"]), float(rec["price_per_day_max"])
            first, last, holds = int(rec["from_day"]), int(rec["to_day"]), float(rec["holds_for"])
            table.add_row(
                escape(str(rec["binding"])),
                f"{first}-{last}" if first >= 0 else "",
                f"{lo:.3g}" if lo == hi else f"{lo:.3g} to {hi:.3g}",
                f"{float(rec['price_sum']):.3g}",
                "" if math.isnan(bde := float(rec["bde_days_sum"])) else f"{bde:.3g}",
                "" if math.isnan(holds) else f"{holds:.3g}",
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
