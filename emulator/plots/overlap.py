"""Overlap heat map, rates with pure rates, and the total rate of each prescale column."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from emulator.plots._style import PlotFile, figure, label, save, style

__all__ = ["plot_overlap", "plot_prescale_columns", "plot_pure_rates"]


def plot_overlap(study: Mapping[str, Any], out_dir: Path, *, right: str = "") -> PlotFile:
    """Row-normalised overlap fractions: row i, column j = share of seed i's events where j also fired.

    >>> import tempfile
    >>> from emulator.studies import overlap_study
    >>> rep = {"seeds": {"A": {"rate_khz": 2.0, "pure_rate_khz": 1.0}, "B": {"rate_khz": 1.0, "pure_rate_khz": 0.0}},
    ...        "overlap": {"seeds": ["A", "B"], "counts": [[4, 2], [2, 2]]}}
    >>> plot_overlap(overlap_study(rep), Path(tempfile.mkdtemp())).png.name
    'overlap.png'
    """
    seeds = study["seeds"]
    frac = np.asarray(study["fraction"])
    with style():
        fig, ax = figure(wide=True)
        im = ax.imshow(frac, cmap="viridis", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(len(seeds)), seeds, rotation=90, fontsize=9)
        ax.set_yticks(range(len(seeds)), seeds, fontsize=9)
        ax.minorticks_off()
        if len(seeds) <= 25:
            for i, j in zip(*np.nonzero(frac > 0), strict=True):
                ax.text(j, i, f"{frac[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if frac[i, j] < 0.6 else "black")  # fmt: skip
        fig.colorbar(im, ax=ax, label="fraction of row seed's events")
        label(ax, right)
        fig.tight_layout()
        return save(fig, out_dir, "overlap", dict(study), title="Seed overlaps", section="Overlaps")


def plot_pure_rates(study: Mapping[str, Any], out_dir: Path, *, right: str = "") -> PlotFile:
    """Horizontal bars: each seed's rate and its pure rate (only this seed fired)."""
    seeds = study["seeds"]
    y = np.arange(len(seeds))
    with style():
        fig, ax = figure(wide=True)
        ax.barh(y + 0.2, study["rate_khz"], height=0.4, label="rate")
        ax.barh(y - 0.2, study["pure_rate_khz"], height=0.4, label="pure rate")
        ax.set_yticks(y, seeds, fontsize=10)
        ax.minorticks_off()
        ax.invert_yaxis()
        ax.set_xlabel("rate [kHz]")
        ax.legend(fontsize=16)
        label(ax, right)
        fig.tight_layout()
        data = {k: study[k] for k in ("seeds", "rate_khz", "pure_rate_khz", "pure_fraction")}
        return save(fig, out_dir, "pure_rates", data, title="Rates and pure rates", section="Overlaps")


def plot_prescale_columns(cols: Mapping[str, Any], out_dir: Path, *, right: str = "") -> PlotFile:
    """Total L1 rate of every prescale column with its statistical error.

    >>> import tempfile
    >>> cols = {"columns": ["a", "b"], "default_column": "a", "total_rate_khz": [90.0, 60.0],
    ...         "total_rate_err_khz": [3.0, 2.0]}
    >>> plot_prescale_columns(cols, Path(tempfile.mkdtemp())).name
    'prescale_columns'
    """
    names = cols["columns"]
    with style():
        fig, ax = figure()
        x = np.arange(len(names))
        colors = ["tab:red" if n == cols["default_column"] else "tab:blue" for n in names]
        ax.bar(x, cols["total_rate_khz"], yerr=cols["total_rate_err_khz"], color=colors, capsize=6)
        for i, r in enumerate(cols["total_rate_khz"]):
            ax.text(i, r, f"{r:.1f}\n", ha="center", va="bottom", fontsize=14)
        ax.set_xticks(x, names)
        ax.minorticks_off()
        ax.set_ylabel("total L1 rate [kHz]")
        ax.set_xlabel("prescale column (red: default)")
        label(ax, right)
        return save(fig, out_dir, "prescale_columns", dict(cols), title="Total rate per prescale column",
                    section="Prescale columns")  # fmt: skip
