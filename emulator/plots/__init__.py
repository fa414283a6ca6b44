"""Plots of the menu studies (matplotlib, mplhep CMS-like style) and the HTML report page.

Each plot writer saves ``NAME.png`` and ``NAME.json`` (every number it shows) and
returns a :class:`PlotFile`; :func:`render_report` writes all applicable plots and
``index.html``.

>>> import tempfile
>>> from pathlib import Path
>>> rep = {"seeds": {"A": {"rate_khz": 2.0, "pure_rate_khz": 1.0}}, "overlap": {"seeds": ["A"], "counts": [[4]]}}
>>> from emulator.studies import overlap_study
>>> plot_pure_rates(overlap_study(rep), Path(tempfile.mkdtemp())).data.name
'pure_rates.json'
"""

from __future__ import annotations

from emulator.plots._style import PlotFile
from emulator.plots.anomaly import plot_anomaly
from emulator.plots.html import Table, write_html
from emulator.plots.latency import plot_latency
from emulator.plots.overlap import plot_overlap, plot_prescale_columns, plot_pure_rates
from emulator.plots.page import ReportInputs, render_report
from emulator.plots.pileup import plot_pileup
from emulator.plots.scan import plot_scan
from emulator.plots.turnon import plot_turnon

__all__ = [
    "PlotFile",
    "ReportInputs",
    "Table",
    "plot_anomaly",
    "plot_latency",
    "plot_overlap",
    "plot_pileup",
    "plot_prescale_columns",
    "plot_pure_rates",
    "plot_scan",
    "plot_turnon",
    "render_report",
    "write_html",
]
