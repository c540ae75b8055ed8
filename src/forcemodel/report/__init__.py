"""The report: figures of one run as a self-contained HTML file or as PNG files.

:mod:`~forcemodel.report.data` prepares tidy frames from the results (pure functions);
:mod:`~forcemodel.report.html` draws them as an offline interactive HTML page (plotly.js
inlined); :mod:`~forcemodel.report.figures` draws them with matplotlib for papers.
"""

from forcemodel.report.data import TITLES, ReportData, prepare

__all__ = ["TITLES", "ReportData", "prepare"]
