"""Rate against pileup: measured points, the fit and its extrapolation to the target ⟨μ⟩."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emulator.plots._style import PlotFile, figure, label, save, style
from emulator.studies.pileup import evaluate_fit

__all__ = ["plot_pileup"]


def _draw(ax: Any, mu: np.ndarray, series: Mapping[str, Any], x_fit: np.ndarray, name: str) -> None:
    pts = ax.errorbar(mu, series["rate_khz"], yerr=series["rate_err_khz"], fmt="o", ms=6, label=name)
    fit = series.get("fit")
    if fit is None:
        return
    color = pts.lines[0].get_color()
    ax.plot(x_fit, [evaluate_fit(fit, float(m))[0] for m in x_fit], color=color, ls="--")
    for e in series["extrapolation"]:
        ax.errorbar([e["mu"]], [e["rate_khz"]], yerr=[e["rate_err_khz"]], fmt="*", ms=14, color=color)


def plot_pileup(
    study: Mapping[str, Any], out_dir: Path, *, seeds: Sequence[str] = (), right: str = "", max_seeds: int = 8
) -> PlotFile:
    """Total rate (no ``seeds``) or the given seeds' rates vs ⟨μ⟩, with fits (dashed) and extrapolations (stars).

    Without ``seeds`` only the total menu rate is drawn; ``seeds`` beyond ``max_seeds`` are left out.

    >>> import tempfile
    >>> from emulator.studies import pileup_study
    >>> s = {"rate_khz": [1.0, 2.0, 3.5], "rate_err_khz": [0.1] * 3}
    >>> study = pileup_study({"mu": [40, 60, 80], "events": [9] * 3, "seeds": {"A": s}, "total": s})
    >>> plot_pileup(study, Path(tempfile.mkdtemp()), seeds=["A"]).name
    'pileup_seeds'
    """
    mu = np.asarray(study["mu"], np.float64)
    top = max([*study["mu"], *study["target_mu"]], default=1.0)
    x_fit = np.linspace(0.0, top * 1.05, 120)
    chosen = list(seeds)[:max_seeds]
    with style():
        fig, ax = figure(wide=bool(chosen))
        if chosen:
            for name in chosen:
                _draw(ax, mu, study["seeds"][name], x_fit, name)
        else:
            _draw(ax, mu, study["total"], x_fit, "total menu rate")
        ax.set_xlabel(r"pileup $\langle\mu\rangle$" if study.get("source") == "reports" else "pileup (bin centre)")
        ax.set_ylabel("rate [kHz]")
        ax.set_xlim(0, top * 1.05)
        ax.set_ylim(bottom=0)
        ax.legend(title=f"fit: {study['model']} (dashed), extrapolation (stars)", fontsize=14, title_fontsize=14,
                  ncols=2 if len(chosen) > 4 else 1)  # fmt: skip
        label(ax, right)
        data = {"model": study["model"], "mu": study["mu"], "target_mu": study["target_mu"],
                "series": {n: study["seeds"][n] for n in chosen} if chosen else {"total": study["total"]}}  # fmt: skip
        name = "pileup_seeds" if chosen else "pileup_total"
        title = "Seed rates vs pileup" if chosen else "Total menu rate vs pileup"
        return save(fig, out_dir, name, data, title=title, section="Rate vs pileup")
