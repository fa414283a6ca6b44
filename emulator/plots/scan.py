"""Rate against threshold of one scanned seed: band of ±1σ, the menu's point, the target rate."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from emulator.plots._style import PlotFile, figure, label, save, style

__all__ = ["plot_scan"]


def _curve(ax: Any, x: np.ndarray, rate: list[float], err: list[float], *, text: str, dashed: bool) -> None:
    r, e = np.asarray(rate), np.asarray(err)
    line = ax.plot(x, r, ls="--" if dashed else "-", marker="" if dashed else "o", ms=4, label=text)[0]
    ax.fill_between(x, np.maximum(r - e, 0), r + e, color=line.get_color(), alpha=0.25, lw=0)


def plot_scan(scan: Mapping[str, Any], out_dir: Path, *, right: str = "") -> PlotFile:
    """Write ``scan_<seed>_<param>.png`` (+ JSON) for one entry of a scan result.

    >>> import tempfile
    >>> s = {"seed": "S", "param": "pt", "unit": "GeV", "cut": "c", "prescale": 1, "thresholds": [1, 2],
    ...      "rate_khz": [2.0, 1.0], "rate_err_khz": [0.1, 0.1], "rate_raw_khz": [2.0, 1.0],
    ...      "rate_raw_err_khz": [0.1, 0.1], "menu": {"threshold": 2, "rate_khz": 1.0, "rate_err_khz": 0.1}}
    >>> plot_scan(s, Path(tempfile.mkdtemp())).png.name
    'scan_S_pt.png'
    """
    x = np.asarray(scan["thresholds"], np.float64)
    p = scan["prescale"]
    with style():
        fig, ax = figure()
        post = "rate" if p == 1 else f"rate after prescale {p}"
        _curve(ax, x, scan["rate_khz"], scan["rate_err_khz"], text=post, dashed=False)
        if p != 1:
            _curve(ax, x, scan["rate_raw_khz"], scan["rate_raw_err_khz"], text="before prescale", dashed=True)
        m = scan["menu"]
        ax.errorbar([m["threshold"]], [m["rate_khz"]], yerr=[m["rate_err_khz"]], fmt="s", color="black", ms=9,
                    label=f"menu: {m['threshold']:g} {scan['unit']} -> {m['rate_khz']:.3g} kHz")  # fmt: skip
        target = scan.get("target")
        if target:
            ax.axhline(target["target_khz"], color="tab:red", ls=":", label=f"target {target['target_khz']:g} kHz")
            if target["threshold"] is not None:
                ax.axvline(target["threshold"], color="tab:red", ls=":")
        if max(scan["rate_raw_khz"] + scan["rate_khz"], default=0) > 0:
            ax.set_yscale("log")
        unit = f" [{scan['unit']}]" if scan["unit"] else ""
        ax.set_xlabel(f"{scan['seed']} {scan['param']} threshold{unit}")
        ax.set_ylabel("rate [kHz]")
        ax.legend(title=scan["cut"], fontsize=16, title_fontsize=14)
        label(ax, right)
        name = f"scan_{scan['seed']}_{scan['param']}".replace("[", "").replace("]", "")
        return save(fig, out_dir, name, dict(scan), title=f"{scan['seed']}: rate vs {scan['param']} threshold",
                    section="Rate vs threshold")  # fmt: skip
