"""``forcemodel replan``: re-plan on day T after a disruption and compare, as a thin face.

It checks the options, calls :func:`forcemodel.optimize.replan.replan`, writes the two results
folders and the tables, and prints the comparison; the work is done there. Bad input exits
with status 2 and a message, never a traceback.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.markup import escape
from rich.table import Table

from forcemodel.cli.common import SetOption, err, out

if TYPE_CHECKING:
    import pandas as pd

#: What ``--out DIR`` holds afterwards.
WITHOUT_DIR, WITH_DIR = "without-replan", "with-replan"
COMPARISON_CSV, UNITS_CSV = "comparison.csv", "units.csv"


def replan_cmd(
    scenario: Annotated[
        str,
        typer.Argument(help="A YAML file, a scenario folder, or a bundled name (tiny, ...)."),
    ],
    day: Annotated[float, typer.Option("--day", help="Day of the re-plan (0 to the horizon).")],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Folder for both results folders, comparison.csv and units.csv."
        ),
    ],
    disrupt: Annotated[
        str | None,
        typer.Option(help="Link or node id struck on the day of the re-plan (optional)."),
    ] = None,
    factor: Annotated[
        float, typer.Option(help="Share of its capacity left, 0 (closed) to 1.")
    ] = 0.0,
    days: Annotated[float, typer.Option(help="How long the disruption lasts, days (> 0).")] = 7.0,
    method: Annotated[
        str, typer.Option(help="optimize (the MIP) or planner (the day-0 planning rule).")
    ] = "optimize",
    time_limit: Annotated[
        float, typer.Option(help="Optimiser time limit, seconds (finite, > 0).")
    ] = 30.0,
    work_limit: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Stop the optimiser by work, not by the clock (the same re-plan on any "
            "machine): this many simulations, HiGHS node and iteration limits per solve.",
        ),
    ] = None,
    keep_assignments: Annotated[
        bool, typer.Option(help="Keep pre-assigned units in their region.")
    ] = False,
    force: Annotated[bool, typer.Option(help="Replace the folder if it exists.")] = False,
    settings: SetOption = None,
) -> None:
    """Re-plan the units not yet moving on day T, simulate with and without, compare.

    Writes OUT/without-replan and OUT/with-replan (results folders), OUT/comparison.csv
    (closure day and shortfall per region) and OUT/units.csv (each unit's plan before and
    after). The rules: docs/optimization.md, "Re-planning".
    """
    from forcemodel.cli.common import user_errors
    from forcemodel.common.folders import staged_folder
    from forcemodel.flow import UnreachableError
    from forcemodel.mip.errors import InfeasibleError, OptimizationError
    from forcemodel.optimize.replan import METHODS, ReplanMethod, replan
    from forcemodel.optimize.stopping import WorkLimits
    from forcemodel.scenario.load import load_scenario
    from forcemodel.scenario.model import Disruption

    for bad, what in (
        (not 0 <= factor <= 1, f"--factor must be between 0 and 1, got {factor:g}"),
        (
            not (days > 0 and math.isfinite(days)),
            f"--days must be a finite number of days above 0, got {days:g}",
        ),
        (
            not (time_limit > 0 and math.isfinite(time_limit)),
            f"--time-limit must be a finite number of seconds above 0, got {time_limit:g}",
        ),
        (method not in METHODS, f"--method must be one of {', '.join(METHODS)}, got {method}"),
        (
            not (day >= 0 and math.isfinite(day)),
            f"--day must be a finite day, 0 or more, got {day:g}",
        ),
    ):
        if bad:
            _fail(what)
    with user_errors():
        if out_dir.exists() and not force:
            _fail(f"{out_dir} exists; use --force to replace")
        s = load_scenario(scenario, settings or ())
        disruption = (
            Disruption(target=disrupt, start_day=day, days=days, capacity_factor=factor)
            if disrupt is not None
            else None
        )
        try:
            # No spinner: plain lines only, readable when piped.
            result = replan(
                s,
                day,
                disruption,
                method=cast(ReplanMethod, method),  # checked against METHODS above
                time_limit=time_limit,
                keep_assignments=keep_assignments,
                work=WorkLimits(evaluations=work_limit) if work_limit is not None else None,
            )
        except ValueError as exc:  # bad day or target: the input's fault
            _fail(str(exc))
        except UnreachableError as exc:
            _fail(str(exc))
        except OptimizationError as exc:
            err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
            for why in exc.reasons:
                err.print(f"  {why}", markup=False, highlight=False)
            raise typer.Exit(2 if isinstance(exc, InfeasibleError) else 1) from None
        with staged_folder(out_dir) as tmp:
            result.without_replan.save(tmp / WITHOUT_DIR)
            result.with_replan.save(tmp / WITH_DIR)
            result.comparison.to_csv(tmp / COMPARISON_CSV, index=False, lineterminator="\n")
            result.units.to_csv(tmp / UNITS_CSV, index=False, lineterminator="\n")
    free = int((result.units["status"] == "free").sum())
    err.print(
        f"wrote {escape(str(out_dir))}: {len(result.replanned)} of {free} unit(s) not yet "
        f"moving on day {day:g} re-planned ({method})",
        highlight=False,
    )
    if not result.replanned:
        err.print(f"nothing changed: {unchanged_reason(result)}", highlight=False, soft_wrap=True)
    out.print(_comparison_table(result.comparison))


def unchanged_reason(result: Any) -> str:
    """Why a re-plan changed no unit's region or set, in words."""
    units = result.units
    free = int((units["status"] == "free").sum())
    committed = int((units["status"] == "committed").sum())
    stuck = int((units["status"] == "stuck").sum())
    day = f"{result.day:g}"
    if free == 0:
        return (
            f"no unit was free to re-plan on day {day}: {committed} committed (ready before "
            f"day {day}, already moving), {stuck} with no reachable option in the planning view"
        )
    if result.method == "planner":
        return (
            f"the day-0 planning rule, applied to the planning view on day {day}, chose the same "
            f"region and set for all {free} free unit(s)"
        )
    opt = result.optimization
    words = f" ({opt.termination.replace('_', ' ')})" if opt is not None else ""
    return (
        f"the optimiser's plan for the planning view on day {day}{words} keeps the region and "
        f"set of all {free} free unit(s): moving any of them would not lower its objective"
    )


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _comparison_table(frame: pd.DataFrame) -> Table:
    table = Table(title="Closure day and shortfall from the day of the re-plan, by region")
    for col in ("region", "undisrupted", "without re-plan", "with re-plan", "days recovered"):
        table.add_column(col, justify="left" if col == "region" else "right")
    table.add_column("shortfall bde-days (without / with)", justify="right")
    for r in frame.to_dict("records"):
        table.add_row(
            str(r["region"]),
            _day(r["closure_undisrupted"]),
            _day(r["closure_without_replan"]),
            _day(r["closure_with_replan"]),
            _day(r["days_recovered"], never="-"),
            f"{r['shortfall_without_replan']:,.1f} / {r['shortfall_with_replan']:,.1f}",
        )
    return table


def _day(value: object, never: str = "never") -> str:
    """A closure day, or ``never`` for NaN (not closed within the horizon)."""
    v = float(str(value))
    return never if math.isnan(v) else f"{v:g}"
