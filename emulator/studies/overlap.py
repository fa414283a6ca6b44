"""Seed overlaps and pure rates from a replay report.

``fraction[i][j]`` is the share of seed *i*'s (post-prescale) events in which seed *j*
also fired — row-normalised, so the diagonal is 1 for every seed that fired.
The pure rate of a seed counts events where it alone fired: the rate the menu
loses if the seed is removed.

>>> rep = {"seeds": {"A": {"rate_khz": 2.0, "pure_rate_khz": 1.0}, "B": {"rate_khz": 1.0, "pure_rate_khz": 0.0}},
...        "overlap": {"seeds": ["A", "B"], "counts": [[4, 2], [2, 2]]}}
>>> overlap_study(rep)["fraction"]
[[1.0, 0.5], [1.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["overlap_study"]


def overlap_study(report: Mapping[str, Any]) -> dict[str, Any]:
    """Overlap counts and fractions, rates, pure rates and pure fractions, in menu order."""
    seeds = list(report["overlap"]["seeds"])
    counts = np.asarray(report["overlap"]["counts"], np.float64).reshape(len(seeds), len(seeds))
    diag = np.diag(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(diag[:, None] > 0, counts / diag[:, None], 0.0)
    rates = np.array([report["seeds"][s]["rate_khz"] for s in seeds])
    pure = np.array([report["seeds"][s]["pure_rate_khz"] for s in seeds])
    with np.errstate(invalid="ignore", divide="ignore"):
        pure_frac = np.where(rates > 0, pure / rates, 0.0)
    return {"seeds": seeds, "counts": counts.astype(np.int64).tolist(), "fraction": frac.tolist(),
            "rate_khz": rates.tolist(), "pure_rate_khz": pure.tolist(),
            "pure_fraction": pure_frac.tolist()}  # fmt: skip
