"""Shared figure set-up (Agg backend, mplhep CMS-like style) and the PNG + JSON writer.

Every plot is saved as ``NAME.png`` with ``NAME.json`` beside it, holding every
number the plot shows, so scripts never have to read pixels.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import mplhep as hep
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["PlotFile", "figure", "json_safe", "label", "save", "style", "write_json"]

log = logging.getLogger(__name__)
_DPI = 72  # 10 × 10 in style figures -> 720 px PNGs


@dataclass(frozen=True, slots=True)
class PlotFile:
    """One written plot: its PNG and JSON paths, a title and a section of the report."""

    name: str
    png: Path
    data: Path
    title: str
    section: str


@contextmanager
def style() -> Iterator[None]:
    """The mplhep CMS-like style for the figures made and saved inside (global rcParams untouched)."""
    with plt.style.context(hep.style.CMS):
        yield


def figure(*, wide: bool = False) -> tuple[Figure, Axes]:
    """A new figure (``wide``: 14 × 9 in instead of 10 × 9); call inside :func:`style`."""
    fig, ax = plt.subplots(figsize=(14, 9) if wide else (10, 9))
    return fig, ax


def label(ax: Axes, right: str = "") -> None:
    """The experiment label: ``l1emu`` emulation, with ``right`` (sample, menu) on the right."""
    hep.label.exp_label(exp="l1emu", text="emulation", data=True, com=None, rlabel=right, ax=ax, fontsize=18)


def json_safe(obj: Any) -> Any:
    """Plain JSON values: NaN and ±inf become None (JSON has no such numbers)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(json_safe(data), indent=1, allow_nan=False) + "\n")


def save(fig: Figure, out_dir: Path, name: str, data: Any, *, title: str, section: str) -> PlotFile:
    """Write ``NAME.png`` and ``NAME.json`` (the plotted numbers) into ``out_dir``; closes the figure."""
    out_dir.mkdir(parents=True, exist_ok=True)
    png, js = out_dir / f"{name}.png", out_dir / f"{name}.json"
    fig.savefig(png, dpi=_DPI)
    plt.close(fig)
    write_json(js, {"title": title, "data": data})
    log.info("wrote %s", png)
    return PlotFile(name, png, js, title, section)
