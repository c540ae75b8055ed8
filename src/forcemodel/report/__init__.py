"""The report: figures of one run (or two, compared) as a self-contained HTML file or PNG files.

:mod:`~forcemodel.report.data` prepares tidy frames from the results (pure functions), and
:mod:`~forcemodel.report.comparison` those of a second run compared with the first;
:mod:`~forcemodel.report.html` draws them as an offline interactive HTML page (plotly.js
inlined); :mod:`~forcemodel.report.figures` draws them with matplotlib for papers.
"""

from forcemodel.report.comparison import COMPARE_TITLES, ComparisonData, prepare_comparison
from forcemodel.report.data import TITLES, ReportData, prepare
from forcemodel.report.write import write_report

__all__ = [
    "COMPARE_TITLES",
    "TITLES",
    "ComparisonData",
    "ReportData",
    "prepare",
    "prepare_comparison",
    "write_report",
]
