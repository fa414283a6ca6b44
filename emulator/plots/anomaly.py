"""Anomaly scores: distributions (zero bias vs signals), rate vs threshold, signal efficiency vs rate."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mplhep as hep
import numpy as np

from emulator.plots._style import PlotFile, figure, label, save, style

__all__ = ["plot_anomaly"]


def _distributions(col: str, study: Mapping[str, Any], out_dir: Path) -> PlotFile:
    with style():
        fig, ax = figure()
        for name, h in study["distributions"].items():
            hep.histplot(np.asarray(h["density"]), np.asarray(h["edges"]), yerr=np.asarray(h["density_err"]),
                         ax=ax, label=name)  # fmt: skip
        ax.set_yscale("log")
        ax.set_xlabel(col)
        ax.set_ylabel("events (normalised)")
        ax.legend(fontsize=16)
        label(ax)
        return save(fig, out_dir, f"{col}_distributions", dict(study["distributions"]),
                    title=f"{col}: distributions", section="Anomaly detection")  # fmt: skip


def _rate(col: str, study: Mapping[str, Any], out_dir: Path) -> PlotFile:
    with style():
        fig, ax = figure()
        rate = np.asarray(study["rate_khz"])
        ax.plot(study["thresholds"], np.where(rate > 0, rate, np.nan), marker=".")
        for op in study["operating_points"]:
            if op["threshold"] is not None:
                ax.axvline(op["threshold"], color="grey", ls=":", lw=1)
                ax.text(op["threshold"], op["target_khz"], f" {op['target_khz']:g} kHz", fontsize=12)
        ax.set_yscale("log")
        ax.set_xlabel(f"{col} threshold")
        ax.set_ylabel("zero-bias rate [kHz]")
        label(ax)
        data = {k: study[k] for k in ("thresholds", "rate_khz", "operating_points")}
        return save(fig, out_dir, f"{col}_rate", data, title=f"{col}: rate vs threshold",
                    section="Anomaly detection")  # fmt: skip


def _efficiency(col: str, study: Mapping[str, Any], out_dir: Path) -> PlotFile:
    with style():
        fig, ax = figure()
        rate = np.asarray(study["rate_khz"])
        ok = rate > 0
        for name, eff in study["efficiency"].items():
            ax.plot(rate[ok], np.asarray(eff)[ok], label=name)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("zero-bias rate [kHz]")
        ax.set_ylabel("signal efficiency")
        ax.legend(fontsize=16)
        label(ax)
        data = {k: study[k] for k in ("thresholds", "rate_khz", "efficiency", "operating_points")}
        return save(fig, out_dir, f"{col}_efficiency", data, title=f"{col}: signal efficiency vs rate",
                    section="Anomaly detection")  # fmt: skip


def plot_anomaly(col: str, study: Mapping[str, Any], out_dir: Path) -> list[PlotFile]:
    """The three plots of one score column (efficiency only when there are signals).

    >>> import tempfile
    >>> from emulator.studies import Sample, anomaly_study
    >>> n = 1000
    >>> zb = Sample("zb", ("A",), np.zeros((n, 1), bool), np.ones(n), np.zeros(n),
    ...             {"score_axo": np.linspace(0, 10, n)})
    >>> study = anomaly_study(zb, [], crossing_rate_khz=1000.0)
    >>> [p.name for p in plot_anomaly("score_axo", study["score_axo"], Path(tempfile.mkdtemp()))]
    ['score_axo_distributions', 'score_axo_rate']
    """
    plots = [_distributions(col, study, out_dir), _rate(col, study, out_dir)]
    if study["efficiency"]:
        plots.append(_efficiency(col, study, out_dir))
    return plots
