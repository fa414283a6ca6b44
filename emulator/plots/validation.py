"""Figures of ``l1emu validate``: dN/dη, ⟨μ⟩ ↔ luminosity, turn-ons and rates versus ⟨μ⟩.

Each takes the plain data of :mod:`emulator.studies.validation` and writes ``NAME.png`` with
``NAME.json`` beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from emulator.plots._style import PlotFile, figure, save, style

__all__ = ["plot_cms_ratios", "plot_dndeta", "plot_lumi", "plot_rate_curves", "plot_rate_vs_mu", "plot_turn_ons"]

_SECTION = "validation"


def plot_dndeta(d: Mapping[str, Any], out_dir: Path) -> PlotFile:
    """Pythia's charged-hadron dN/dη at 13 TeV against the CMS point at |η| < 0.5."""
    edges = np.asarray(d["edges"])
    with style():
        fig, ax = figure()
        ax.stairs(d["histogram"], edges, label="Pythia 8 (Monash), 13 TeV, inelastic")
        ax.errorbar([0.0], [d["cms"]], yerr=[d["cms_err"]], xerr=[0.5], fmt="ko", label="CMS, |η| < 0.5")
        ax.set(xlabel="η", ylabel="dN$_{ch}$/dη (charged hadrons)", ylim=(0, 8))
        ax.legend()
        return save(fig, out_dir, "dndeta", d, title="dN/dη at 13 TeV", section=_SECTION)


def plot_lumi(d: Mapping[str, Any], out_dir: Path) -> PlotFile:
    """Luminosity of each ⟨μ⟩ (2544 colliding bunches)."""
    table = d["mu_to_lumi_cm2s"]
    with style():
        fig, ax = figure()
        ax.plot([float(m) for m in table], [v / 1e34 for v in table.values()], "o-")
        ax.set(xlabel=r"$\langle\mu\rangle$", ylabel="L [10$^{34}$ cm$^{-2}$ s$^{-1}$] (2544 bunches)")
        return save(fig, out_dir, "mu_vs_lumi", d, title="⟨μ⟩ and luminosity", section=_SECTION)


def plot_turn_ons(curves: Mapping[str, Mapping[str, Any]], xlabels: Mapping[str, str], out_dir: Path) -> PlotFile:
    """One panel per seed: L1 efficiency against the leading generator-level object's pT."""
    with style():
        fig, axes = plt.subplots(1, len(curves), figsize=(7 * len(curves), 6), squeeze=False)
        for ax, (seed, t) in zip(axes[0], curves.items(), strict=True):
            e = np.asarray(t["edges"])
            ax.errorbar(0.5 * (e[1:] + e[:-1]), t["eff"], yerr=t["err"], fmt="o")
            ax.set(xlabel=xlabels[seed], ylabel="L1 efficiency", ylim=(0, 1.1), title=seed)
        return save(fig, out_dir, "turn_ons", dict(curves), title="turn-ons", section=_SECTION)


def plot_rate_vs_mu(d: Mapping[str, Any], out_dir: Path) -> PlotFile:
    """The menu's total rate (default prescales) and a few seeds' rates against ⟨μ⟩."""
    with style():
        fig, ax = figure()
        ax.errorbar(d["mu"], d["total_rate_khz"], yerr=d["total_rate_err_khz"], fmt="o-",
                    label="total (default prescales)")  # fmt: skip
        for name, rates in d["seeds"].items():
            ax.plot(d["mu"], rates, "s--", label=name)
        ax.set(xlabel=r"$\langle\mu\rangle$", ylabel="L1 rate [kHz]", yscale="log")
        ax.legend()
        return save(fig, out_dir, "rates_vs_mu", d, title="rates versus ⟨μ⟩", section=_SECTION)


def plot_rate_curves(curves: Mapping[str, Mapping[str, Any]], out_dir: Path) -> PlotFile:
    """Rate versus threshold per object type (zero bias), with the CMS point of its seed."""
    n = len(curves)
    cols = 4
    rows = (n + cols - 1) // cols
    with style():
        fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 5 * rows), squeeze=False)
        for ax, (name, c) in zip(axes.flat, curves.items(), strict=False):
            rate = np.asarray(c["rate_khz"])
            shown = rate > 0
            ax.errorbar(np.asarray(c["thresholds"])[shown], rate[shown], yerr=np.asarray(c["rate_err_khz"])[shown],
                        fmt="o-", ms=3, label="l1emu")
            if c.get("cms_seed"):
                cms, err = c["cms_rate_khz"]
                ax.errorbar([c["cms_threshold"]], [cms], yerr=[err], fmt="k*", ms=12, label=c["cms_seed"] + " (CMS)")
                ax.legend(fontsize=10)
            ax.set(xlabel="threshold [GeV]", ylabel="rate [kHz]", yscale="log", title=name)
        for ax in list(axes.flat)[n:]:
            ax.set_axis_off()
        fig.tight_layout()
        return save(fig, out_dir, "rate_vs_threshold", dict(curves), title="rate versus threshold", section=_SECTION)


def plot_cms_ratios(comparison: Mapping[str, Mapping[str, Any]], goal: float, out_dir: Path) -> PlotFile:
    """l1emu / CMS zero-bias rate per seed, with the ×goal band."""
    names = list(comparison)
    with style():
        fig, ax = figure()
        y = np.arange(len(names))
        ax.errorbar([comparison[n]["ratio"] for n in names], y, xerr=[comparison[n]["ratio_err"] for n in names],
                    fmt="o")
        ax.axvspan(1 / goal, goal, color="g", alpha=0.15, label=f"within ×{goal:g}")
        ax.axvline(1.0, color="k", lw=1)
        ax.set_yticks(y, names, fontsize=10)
        ax.set(xscale="log", xlabel="l1emu / CMS rate")
        ax.legend()
        return save(fig, out_dir, "cms_ratios", dict(comparison), title="rates against CMS", section=_SECTION)
