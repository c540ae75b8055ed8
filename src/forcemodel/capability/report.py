"""Charts and files of capability planning (matplotlib PNGs; CSV, Parquet, JSON or Excel).

A face: it draws and writes what the engines computed; it computes nothing new.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from forcemodel.common.folders import staged_folder

FORMATS: tuple[str, ...] = ("csv", "parquet", "json", "xlsx")
#: Longest table shown in report.html (longer ones are in their files).
HTML_MAX_ROWS = 300


def targets_chart(targets: pd.DataFrame, path: Path, title: str = "") -> None:
    """One panel per capability: each ally's target and offer (bars), so gaps show."""
    caps = [
        c
        for c in dict.fromkeys(targets["capability"])
        if targets.loc[targets["capability"] == c, ["target", "offer"]].to_numpy().sum() > 0
    ]
    n = max(1, len(caps))
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.4 * rows), squeeze=False)
    for ax, cap in zip(axes.ravel(), caps, strict=False):
        t = targets[targets["capability"] == cap].sort_values("target", ascending=False)
        x = range(len(t))
        ax.bar([i - 0.2 for i in x], t["target"], width=0.4, label="target", color="#4c72b0")
        ax.bar([i + 0.2 for i in x], t["offer"], width=0.4, label="offer", color="#dd8452")
        ax.set_xticks(list(x), t["ally"], rotation=90, fontsize=7)
        ax.set_title(cap.replace("_", " "))
        ax.set_ylabel("power (catalogue units)")
    for ax in axes.ravel()[len(caps) :]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=8)
    fig.suptitle(title or "Capability targets (fair share) and offers per ally")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def spending_chart(by_ally: pd.DataFrame, year: int, path: Path, lines: list[float]) -> None:
    """Defence spending per ally as a share of GDP, with the guidelines as lines, and (where
    the figure is known) the share of it spent on major equipment against 20 %."""
    t = by_ally.dropna(subset=["share_gdp_pct"]).sort_values("share_gdp_pct", ascending=False)
    e = by_ally.dropna(subset=["equipment_share_pct"]).sort_values(
        "equipment_share_pct", ascending=False
    )
    fig, (ax, bx) = plt.subplots(
        1, 2, figsize=(14, 4.2), gridspec_kw={"width_ratios": [3, 1]}, squeeze=True
    )
    low = min(lines) if lines else 2.0
    colours = ["#55a868" if v >= low else "#c44e52" for v in t["share_gdp_pct"]]
    ax.bar(t["ally"], t["share_gdp_pct"], color=colours)
    for y in lines:
        ax.axhline(y, color="black", lw=0.8, ls="--")
        ax.text(len(t) - 0.5, y, f" {y:g} %", va="bottom", ha="right", fontsize=8)
    ax.set_ylabel("defence spending, % of GDP")
    ax.set_title(f"Defence expenditure by ally, {year} (green: at or above {low:g} %)")
    ax.tick_params(axis="x", labelsize=8)
    colours = ["#55a868" if v >= 20 else "#c44e52" for v in e["equipment_share_pct"]]
    bx.bar(e["ally"], e["equipment_share_pct"], color=colours)
    bx.axhline(20, color="black", lw=0.8, ls="--")
    bx.set_ylabel("% of defence spending on equipment")
    bx.set_title(f"On major equipment, {year}\n(allies with a figure)")
    bx.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def stockpile_chart(
    curves: pd.DataFrame, summary: pd.DataFrame, refill: pd.DataFrame, path: Path
) -> None:
    """Per item: the stock by day in each case (today's lines, the pledge, a joint purchase),
    and below it what production alone makes from empty against the stock to refill."""
    items = list(dict.fromkeys(curves["item"]))
    n = max(1, len(items))
    fig, axes = plt.subplots(2, n, figsize=(6 * n, 7), squeeze=False)
    for k, item in enumerate(items):
        ax, bx = axes[0, k], axes[1, k]
        for case, c in curves[curves["item"] == item].groupby("case", sort=False):
            (line,) = ax.plot(c["day"], c["stock_end"], label=str(case))
            row = summary[(summary["item"] == item) & (summary["case"] == case)]
            day = row["runout_day"].iloc[0] if len(row) else None
            if day is not None and pd.notna(day):
                ax.axvline(float(day), ls=":", lw=0.8, color=line.get_color())
            r = refill[(refill["item"] == item) & (refill["case"] == case)]
            bx.plot(r["day"], r["made"], label=str(case), color=line.get_color())
        initial = summary.loc[summary["item"] == item, "initial"]
        if len(initial):
            bx.axhline(float(initial.iloc[0]), color="black", lw=0.8, ls="--")
            bx.text(0, float(initial.iloc[0]), " stock to refill", va="bottom", fontsize=8)
        ax.set_title(f"{item}: stock by day under the scenario")
        ax.set_xlabel("day (from the decision to reinforce)")
        ax.set_ylabel("stock")
        ax.legend(fontsize=8)
        bx.set_title(f"{item}: made from empty by production alone")
        bx.set_xlabel("day")
        bx.set_ylabel("made")
        bx.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def html_page(title: str, tables: dict[str, pd.DataFrame], charts: dict[str, bytes]) -> str:
    """One self-contained page (works offline): the charts inline as PNG, then the tables."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        "img{max-width:100%}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for name, png in charts.items():
        data = base64.b64encode(png).decode("ascii")
        parts.append(
            f"<h2>{html.escape(name)}</h2><img alt='{html.escape(name)}' "
            f"src='data:image/png;base64,{data}'>"
        )
    for name, frame in tables.items():
        parts.append(f"<h2>{html.escape(name)}</h2>")
        if len(frame) > HTML_MAX_ROWS:
            parts.append(f"<p>{len(frame):,} rows: see the file {html.escape(name)}.*</p>")
            continue
        parts.append(frame.to_html(index=False, na_rep="", float_format=lambda v: f"{v:,.4g}"))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_tables(
    folder: Path,
    tables: dict[str, pd.DataFrame],
    fmt: str,
    charts: dict[str, Any],
    title: str = "Capability planning",
) -> list[Path]:
    """Write the tables (one file each, or one workbook), the charts (PNG) and a page with
    both (``report.html``) into ``folder`` at once: a failure leaves whatever was there
    before. ``charts``: name -> draw(path)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}': use one of {', '.join(FORMATS)}")
    written: list[Path] = []
    with staged_folder(folder) as tmp:
        if fmt == "xlsx":
            with pd.ExcelWriter(tmp / "capability.xlsx", engine="openpyxl") as xw:
                for name, frame in tables.items():
                    frame.to_excel(xw, sheet_name=name[:31], index=False)
            written.append(folder / "capability.xlsx")
        for name, frame in tables.items():
            if fmt == "csv":
                frame.to_csv(tmp / f"{name}.csv", index=False, lineterminator="\n")
            elif fmt == "parquet":
                frame.to_parquet(tmp / f"{name}.parquet", index=False)
            elif fmt == "json":
                records = json.loads(frame.to_json(orient="records"))
                (tmp / f"{name}.json").write_text(json.dumps(records, indent=1) + "\n")
            if fmt != "xlsx":
                written.append(folder / f"{name}.{fmt}")
        pngs: dict[str, bytes] = {}
        for name, draw in charts.items():
            draw(tmp / f"{name}.png")
            pngs[name] = (tmp / f"{name}.png").read_bytes()
            written.append(folder / f"{name}.png")
        (tmp / "report.html").write_text(html_page(title, tables, pngs), encoding="utf-8")
        written.append(folder / "report.html")
    return written
