"""Frames as the dashboard's tables show them (header and cells as text), and as CSV files."""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import numpy as np
import pandas as pd


def cell(value: Any) -> str:
    """A table cell as text: no decimals for whole numbers, one otherwise, a dash for none."""
    if value is None:
        return "—"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        if math.isnan(float(value)):
            return "—"
        v = float(value)
        return f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}" if abs(int(value)) >= 10_000 else str(int(value))
    return str(value)


def table(frame: pd.DataFrame, limit: int | None = None) -> dict[str, Any]:
    """A frame as header and text rows for the table macro."""
    shown = frame if limit is None else frame.head(limit)
    return {
        "columns": [str(c) for c in shown.columns],
        "rows": [[cell(v) for v in row] for row in shown.itertuples(index=False)],
        "total": len(frame),
    }


#: Characters that make a spreadsheet read a cell as a formula.
FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def csv_text(frame: pd.DataFrame) -> str:
    """A frame as CSV, with cells that a spreadsheet would run as formulas quoted with '."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            text = (
                "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
            )
            cells.append(
                "'" + text if text.startswith(FORMULA_LEAD) and not _number(text) else text
            )
        writer.writerow(cells)
    return out.getvalue()


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
