"""Latency: percentiles per stage and end to end, and histograms when the report has them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mplhep as hep
import numpy as np

from emulator.plots._style import PlotFile, figure, label, save, style
from emulator.studies.latency import QUANTITIES

__all__ = ["plot_latency"]


def _percentiles(rows: list[Mapping[str, Any]], out_dir: Path, right: str) -> PlotFile:
    names = [f"{r['name']} ({r['kind'].replace('_us', '').replace('_', ' ')})" for r in rows]
    y = np.arange(len(rows))
    with style():
        fig, ax = figure(wide=True)
        height = 0.8 / len(QUANTITIES)
        for k, q in enumerate(QUANTITIES):
            ax.barh(y + (k - 2) * height, [r[q] for r in rows], height=height, label=q)
        ax.set_yticks(y, names, fontsize=12)
        ax.minorticks_off()
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("latency [µs]")
        ax.legend(fontsize=14)
        label(ax, right)
        fig.tight_layout()
        return save(fig, out_dir, "latency_percentiles", {"rows": rows}, title="Latency percentiles",
                    section="Latency")  # fmt: skip


def _histogram(name: str, h: Mapping[str, Any], out_dir: Path, right: str) -> PlotFile:
    with style():
        fig, ax = figure()
        hep.histplot(np.asarray(h["counts"]), np.asarray(h["edges_us"]), ax=ax, label=name)
        ax.set_xscale("log")
        ax.set_xlabel("latency [µs]")
        ax.set_ylabel("events")
        ax.legend(fontsize=16)
        label(ax, right)
        slug = name.replace(" ", "_").replace("-", "_")
        return save(fig, out_dir, f"latency_{slug}", dict(h), title=f"Latency: {name}", section="Latency")


def plot_latency(study: Mapping[str, Any], out_dir: Path, *, right: str = "") -> list[PlotFile]:
    """Percentile bars (rows with samples) and one plot per histogram in the study.

    >>> import tempfile
    >>> s = {"p50": 2.0, "p90": 3.0, "p99": 5.0, "max": 9.0, "mean": 2.5, "samples": 10.0}
    >>> from emulator.studies import latency_study
    >>> hist = {"edges_us": [1.0, 10.0, 100.0], "counts": [7, 3]}
    >>> study = latency_study({"latency_us": {"end_to_end": {**s, "hist": hist}, "stages": {}}})
    >>> [p.name for p in plot_latency(study, Path(tempfile.mkdtemp()))]
    ['latency_percentiles', 'latency_end_to_end']
    """
    rows = [r for r in study["rows"] if r["samples"] > 0]
    plots = [_percentiles(rows, out_dir, right)] if rows else []
    plots += [_histogram(n, h, out_dir, right) for n, h in study["histograms"].items()]
    return plots
