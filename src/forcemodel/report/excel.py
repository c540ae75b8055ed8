"""Excel workbooks of an assessment or a comparison: one sheet per table, where analysts work.

Written with pandas through openpyxl; headers are the JSON names of ``--format json``, the
header row is frozen and bold, columns are as wide as their contents, and a first sheet
``about`` says where the numbers come from. Written through a temporary file and a rename, so a
failure never leaves half a workbook.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

#: Excel's limit on the length of a sheet's name.
_SHEET_NAME = 31


def write_xlsx(tables: Mapping[str, pd.DataFrame], path: str | Path, about: list[str]) -> Path:
    """Write ``tables`` (sheet name -> frame) and an ``about`` sheet to ``path``, atomically."""
    from openpyxl.styles import Font

    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
            pd.DataFrame({"about": about}).to_excel(writer, sheet_name="about", index=False)
            for name, frame in tables.items():
                sheet = name[:_SHEET_NAME]
                _plain(frame).to_excel(writer, sheet_name=sheet, index=False)
                ws: Any = writer.sheets[sheet]
                ws.freeze_panes = "A2"
                for cell in ws[1]:
                    cell.font = Font(bold=True)
                for i, col in enumerate(frame.columns, start=1):
                    width = max([len(str(col)), *(len(str(v)) for v in frame[col].head(200))])
                    ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(
                        width + 2, 60
                    )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable integers and missing values as Excel takes them (empty cells)."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.Int64Dtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out
