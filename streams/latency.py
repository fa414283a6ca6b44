"""Latency bookkeeping: weighted percentiles of per-batch times.

>>> rec = LatencyRecorder()
>>> rec.add(0.001, 3); rec.add(0.002, 1)
>>> rec.summary_us()["p50"]
1000.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LatencyRecorder", "weighted_percentiles"]

_QUANTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0}


def weighted_percentiles(values: np.ndarray, weights: np.ndarray, qs: list[float]) -> list[float]:
    """Percentiles (0–100) of ``values`` with integer-like ``weights`` (inverted CDF)."""
    if values.size == 0:
        return [0.0 for _ in qs]
    order = np.argsort(values, kind="stable")
    v, cw = values[order], np.cumsum(weights[order])
    total = cw[-1]
    return [float(v[min(np.searchsorted(cw, q / 100.0 * total, side="left"), v.size - 1)]) for q in qs]


@dataclass
class LatencyRecorder:
    """Collects (seconds, events) samples; summarises in µs."""

    _values: list[float] = field(default_factory=list)
    _weights: list[int] = field(default_factory=list)

    def add(self, seconds: float, events: int) -> None:
        self._values.append(seconds)
        self._weights.append(events)

    def __len__(self) -> int:
        return len(self._values)

    def summary_us(self) -> dict[str, Any]:
        v = np.asarray(self._values, np.float64) * 1e6
        w = np.asarray(self._weights, np.float64)
        p = weighted_percentiles(v, w, list(_QUANTILES.values()))
        out: dict[str, Any] = dict(zip(_QUANTILES, p, strict=True))
        out["max"] = float(v.max()) if v.size else 0.0
        out["hist"] = _log_histogram(v, w)
        out["mean"] = float((v * w).sum() / w.sum()) if v.size else 0.0
        out["samples"] = float(v.size)
        return out


def _log_histogram(values_us: np.ndarray, weights: np.ndarray) -> dict[str, list[float]]:
    """Event-weighted histogram on fixed log-spaced edges (0.1 µs … 100 s, 10 bins a decade)."""
    edges = np.logspace(-1, 8, 91)
    counts, _ = np.histogram(np.clip(values_us, edges[0], edges[-1]), bins=edges, weights=weights)
    return {"edges_us": edges.tolist(), "counts": counts.tolist()}
