"""Efficiency turn-on of one seed against a generator-level quantity."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from emulator.plots._style import PlotFile, figure, label, save, style
from emulator.studies.turnon import erf_turnon

__all__ = ["plot_turnon"]


def plot_turnon(seed: str, sample: str, quantity: str, t: Mapping[str, Any], out_dir: Path) -> PlotFile:
    """Efficiency with Clopper–Pearson errors, the erf fit and the 50 % / 95 % points.

    >>> import tempfile
    >>> from emulator.studies import turnon
    >>> x = np.linspace(0, 100, 5000)
    >>> t = turnon(x, x > 30, np.linspace(0, 100, 21))
    >>> plot_turnon("SingleMu18", "sig", "gen_mu_pt", t, Path(tempfile.mkdtemp())).name
    'turnon_SingleMu18_sig'
    """
    x = np.asarray(t["centres"])
    with style():
        fig, ax = figure()
        half = np.diff(np.asarray(t["edges"])) / 2
        ax.errorbar(x, t["efficiency"], xerr=half, yerr=[t["err_low"], t["err_high"]], fmt="o", ms=5,
                    label=f"{seed} on {sample}")  # fmt: skip
        fit = t["fit"]
        if fit is not None:
            xs = np.linspace(t["edges"][0], t["edges"][-1], 300)
            ax.plot(xs, erf_turnon(xs, fit["plateau"], fit["x50"], fit["sigma"]), ls="--",
                    label=f"erf fit: plateau {fit['plateau']:.3f}")  # fmt: skip
            pts = t["points"]["fit"]
            for q, key in ((0.5, "x50"), (0.95, "x95")):
                ax.axvline(pts[key], color="grey", ls=":", lw=1.5)
                ax.text(pts[key], 0.05 + 0.1 * (q > 0.9), f" {int(q * 100)}%: {pts[key]:.1f}", fontsize=14)
        ax.set_ylim(0, 1.1)
        ax.set_xlabel(f"{quantity} [GeV]")
        ax.set_ylabel("efficiency (before prescale)")
        ax.legend(loc="lower right", fontsize=16)
        label(ax, sample)
        return save(fig, out_dir, f"turnon_{seed}_{sample}", {"seed": seed, "sample": sample, "quantity": quantity,
                    **t}, title=f"{seed} turn-on vs {quantity} ({sample})", section="Turn-ons")  # fmt: skip
