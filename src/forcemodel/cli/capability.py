"""``forcemodel capability``: targets, spending and industry from the command line.

A thin face over :mod:`forcemodel.capability`: it reads, renders and writes; it does not
compute. Bad input exits with status 2 and a located message, never a traceback.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
import yaml

from forcemodel import capability as cap
from forcemodel.capability.report import (
    FORMATS,
    spending_chart,
    stockpile_chart,
    targets_chart,
    write_tables,
)
from forcemodel.cli.common import (
    ScenarioArg,
    atomic_write_text,
    err,
    out,
    rich_table,
    user_errors,
    wrote,
)
from forcemodel.scenario.write import scenario_data

capability_app = typer.Typer(
    name="capability",
    help="Capability planning: fair-share targets, spending against guidelines, stockpiles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CapabilityOpt = Annotated[
    Path | None,
    typer.Option("--capability", "-c", help="Capability file (YAML, docs/capability.md)."),
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Folder to write tables and charts into.")
]
FormatOpt = Annotated[
    str, typer.Option("--format", "-f", help=f"Table format: {', '.join(FORMATS)}.")
]
YearOpt = Annotated[int | None, typer.Option("--year", help="Year of the figures (default 2024).")]
AsOfOpt = Annotated[
    int | None, typer.Option("--as-of", help="Year of the force: acquisitions up to it count.")
]
RuleOpt = Annotated[
    str | None, typer.Option("--rule", help="Fair share by gdp, population or budget.")
]
CapShareOpt = Annotated[
    float | None,
    typer.Option("--cap-share", help="Most any one ally takes of a requirement (0-1]."),
]
AlliesOpt = Annotated[
    str | None, typer.Option("--allies", help="Allies sharing the targets, e.g. PL,DE,US.")
]
WholeOpt = Annotated[
    bool, typer.Option("--whole", help="Targets in whole units (brigades, squadrons, ...).")
]


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        err.print(
            f"[bold red]error:[/] --format: unknown format '{fmt}': use one of {', '.join(FORMATS)}"
        )
        raise typer.Exit(2)
    return fmt


def _allies(text: str | None) -> list[str] | None:
    return None if text is None else [a.strip() for a in text.split(",") if a.strip()]


def _save(
    out_dir: Path | None,
    fmt: str,
    tables: dict[str, pd.DataFrame],
    charts: dict[str, Any],
    title: str,
) -> None:
    if out_dir is None:
        return
    for path in write_tables(out_dir, tables, fmt, charts, title):
        wrote(path)


def _share_options(
    year: int | None,
    as_of: int | None,
    rule: str | None,
    cap_share: float | None,
    allies: str | None,
    whole: bool,
) -> dict[str, Any]:
    """The fair-share options that targets and spending both take, as keyword arguments."""
    return {
        "year": year,
        "as_of": as_of,
        "rule": rule,
        "cap_share": cap_share,
        "allies": _allies(allies),
        "whole": whole,
    }


@capability_app.command("targets")
def targets_cmd(
    scenario: ScenarioArg,
    capability: CapabilityOpt = None,
    year: YearOpt = None,
    as_of: AsOfOpt = None,
    rule: RuleOpt = None,
    cap_share: CapShareOpt = None,
    allies: AlliesOpt = None,
    whole: WholeOpt = False,
    out_dir: OutOpt = None,
    fmt: FormatOpt = "csv",
) -> None:
    """Apportion the requirements as fair-share targets and compare them with the offers."""
    fmt = _format(fmt)
    with user_errors():
        r = cap.targets(
            scenario, capability, **_share_options(year, as_of, rule, cap_share, allies, whole)
        )
        out.print(rich_table(r.requirements, f"Alliance requirement per capability ({r.year})"))
        out.print(rich_table(r.shares[["ally", "weight"]], f"Fair shares by {r.rule}"))
        out.print(rich_table(r.targets, "Targets, offers and balance per ally and capability"))
        if len(r.unattributed):
            out.print(rich_table(r.unattributed, "Offers not apportioned"))
        _save(
            out_dir,
            fmt,
            {
                "requirements": r.requirements,
                "shares": r.shares,
                "targets": r.targets,
                "unattributed": r.unattributed,
            },
            {"targets": partial(targets_chart, r.targets)},
            f"Capability targets and offers: {scenario}",
        )


@capability_app.command("spending")
def spending_cmd(
    scenario: ScenarioArg,
    capability: CapabilityOpt = None,
    year: YearOpt = None,
    as_of: AsOfOpt = None,
    rule: RuleOpt = None,
    cap_share: CapShareOpt = None,
    allies: AlliesOpt = None,
    whole: WholeOpt = False,
    out_dir: OutOpt = None,
    fmt: FormatOpt = "csv",
) -> None:
    """Allies meeting each spending guideline, and what their capability shortfalls cost."""
    fmt = _format(fmt)
    with user_errors():
        s = cap.spending(
            scenario, capability, **_share_options(year, as_of, rule, cap_share, allies, whole)
        )
        y = s.targets.year
        out.print(rich_table(s.counts, "Allies meeting each guideline, by year"))
        out.print(rich_table(s.by_ally, f"Spending by ally, {y}"))
        out.print(rich_table(s.costs, "Cost of each ally's shortfall (empty: no unit cost)"))
        _save(
            out_dir,
            fmt,
            {"counts": s.counts, "by_ally": s.by_ally, "costs": s.costs, "real": s.real},
            {"spending": partial(spending_chart, s.by_ally, y, lines=s.share_lines)},
            f"Spending against the guidelines: {scenario}",
        )


@capability_app.command("industry")
def industry_cmd(
    scenario: ScenarioArg,
    capability: CapabilityOpt = None,
    days: Annotated[
        int | None, typer.Option("--days", help="Days to run (default: horizon).")
    ] = None,
    out_dir: OutOpt = None,
    fmt: FormatOpt = "csv",
) -> None:
    """How long each stockpile lasts, and how fast production refills it, with the pledge."""
    fmt = _format(fmt)
    with user_errors():
        r = cap.industry(scenario, capability, days=days)
        out.print(rich_table(r.summary, "Stockpiles: run-out day and refill time (days)"))
        _save(
            out_dir,
            fmt,
            {
                "summary": r.summary,
                "curves": r.curves,
                "by_region": r.by_region,
                "refill": r.refill,
            },
            {"stockpiles": partial(stockpile_chart, r.curves, r.summary, r.refill)},
            f"Stockpiles and industry: {scenario}",
        )


@capability_app.command("force")
def force_cmd(
    scenario: ScenarioArg,
    capability: CapabilityOpt = None,
    as_of: AsOfOpt = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Scenario YAML file to write.")
    ] = None,
) -> None:
    """The scenario as of a year: the file's acquisitions with a unit added as units."""
    with user_errors():
        before = cap.load_scenario_source(scenario)
        after = cap.force(before, capability, as_of=as_of)
        known = {u.id for u in before.units}
        added = after.table("units")
        added = added[~added["id"].isin(known)]
        cols = [c for c in ("id", "nation", "type", "home", "tier", "assigned_to") if c in added]
        out.print(rich_table(added[cols], f"Units added: {after.meta.name}"))
        if out_file is not None:
            data = scenario_data(after)
            text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
            atomic_write_text(out_file, text)
            wrote(out_file)
