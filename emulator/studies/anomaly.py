"""Anomaly-trigger operating points: score distributions, rate vs score threshold, efficiency vs rate.

Scores are per-event columns named ``score_<model>`` (e.g. ``score_axol1tl``,
``score_cicada``), added by the models' stages. The zero-bias sample sets the rate
(``Σw(score ≥ t) / Σw × n_bunches × f_rev``); each signal sample gives the
efficiency at the same thresholds. Operating points are the lowest thresholds whose
zero-bias rate is at most each target rate.

>>> import numpy as np
>>> zb = np.arange(1000.0); sig = np.arange(500.0, 1500.0)
>>> op = operating_points(zb, np.ones(1000), {"S": (sig, np.ones(1000))}, np.array([900.0, 990.0]),
...                       crossing_rate_khz=1000.0, targets_khz=(10.0,))
>>> op[0]["threshold"], op[0]["efficiency"]["S"]
(990.0, 0.51)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import boost_histogram as bh
import numpy as np

from emulator.studies.sample import Sample

__all__ = ["anomaly_study", "fraction_above", "operating_points", "score_columns", "score_histogram"]

SCORE_PREFIX = "score_"


def score_columns(samples: Iterable[Sample]) -> list[str]:
    """Score columns present in every given sample, sorted."""
    sets = [{c for c in s.columns if c.startswith(SCORE_PREFIX)} for s in samples]
    return sorted(set.intersection(*sets)) if sets else []


def fraction_above(scores: np.ndarray, weight: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Weighted fraction of events with ``score ≥ t`` for each threshold (NaN scores never pass)."""
    s = np.where(np.isnan(scores), -np.inf, np.asarray(scores, np.float64))
    order = np.argsort(-s, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(np.asarray(weight, np.float64)[order])])
    n = np.searchsorted(-s[order], -np.asarray(thresholds, np.float64), side="right")
    total = cum[-1]
    return np.asarray(cum[n] / total) if total > 0 else np.zeros(len(thresholds))


def score_histogram(scores: np.ndarray, weight: np.ndarray, edges: Sequence[float] | np.ndarray) -> dict[str, Any]:
    """Normalised score distribution (unit area) with under/overflow counted in the end bins."""
    h = bh.Histogram(bh.axis.Variable(list(edges)), storage=bh.storage.Weight())
    clipped = np.clip(np.nan_to_num(scores, nan=edges[0]), edges[0], np.nextafter(edges[-1], -np.inf))
    h.fill(clipped, weight=weight)
    v = h.view()
    total = float(v["value"].sum())
    norm = total * np.diff(np.asarray(edges, np.float64)) if total > 0 else np.ones(len(edges) - 1)
    return {"edges": list(map(float, edges)), "density": (v["value"] / norm).tolist(),
            "density_err": (np.sqrt(v["variance"]) / norm).tolist(), "events": len(scores)}  # fmt: skip


def operating_points(
    zb: np.ndarray, zb_w: np.ndarray, signals: Mapping[str, tuple[np.ndarray, np.ndarray]],
    thresholds: np.ndarray, *, crossing_rate_khz: float, targets_khz: Sequence[float],
) -> list[dict[str, Any]]:  # fmt: skip
    """For each target rate: the lowest threshold meeting it and the signal efficiencies there."""
    rate = fraction_above(zb, zb_w, thresholds) * crossing_rate_khz
    out: list[dict[str, Any]] = []
    for target in targets_khz:
        ok = np.flatnonzero(rate <= target)
        if ok.size == 0:
            out.append({"target_khz": float(target), "threshold": None, "rate_khz": None, "efficiency": {}})
            continue
        t = thresholds[ok[:1]]
        eff = {name: float(fraction_above(s, w, t)[0]) for name, (s, w) in signals.items()}
        out.append({"target_khz": float(target), "threshold": float(t[0]), "rate_khz": float(rate[ok[0]]),
                    "efficiency": eff})  # fmt: skip
    return out


def _thresholds(zb: np.ndarray, n: int) -> np.ndarray:
    """Thresholds at zero-bias quantiles (dense in the tail where the rate is small), unique, increasing."""
    finite = zb[np.isfinite(zb)]
    if finite.size == 0:
        return np.zeros(1)
    q = 1.0 - np.geomspace(1.0, 1.0 / max(finite.size, 2), n)
    return np.unique(np.quantile(finite, np.clip(q, 0.0, 1.0), method="inverted_cdf"))


def anomaly_study(
    zero_bias: Sample, signals: Sequence[Sample], *, crossing_rate_khz: float,
    targets_khz: Sequence[float] = (1.0, 2.0, 5.0, 10.0), bins: int = 50, points: int = 200,
) -> dict[str, Any]:  # fmt: skip
    """Per score column: distributions, zero-bias rate vs threshold, efficiency vs rate, operating points."""
    out: dict[str, Any] = {}
    for col in score_columns([zero_bias, *signals]):
        zb = zero_bias.columns[col].astype(np.float64)
        sig = {s.name: (s.columns[col].astype(np.float64), s.weight) for s in signals}
        everything = np.concatenate([zb, *(v for v, _ in sig.values())])
        lo, hi = float(np.nanmin(everything)), float(np.nanmax(everything))
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
        thr = _thresholds(zb, points)
        out[col] = {
            "distributions": {zero_bias.name: score_histogram(zb, zero_bias.weight, edges),
                              **{n: score_histogram(v, w, edges) for n, (v, w) in sig.items()}},
            "thresholds": thr.tolist(),
            "rate_khz": (fraction_above(zb, zero_bias.weight, thr) * crossing_rate_khz).tolist(),
            "efficiency": {n: fraction_above(v, w, thr).tolist() for n, (v, w) in sig.items()},
            "operating_points": operating_points(zb, zero_bias.weight, sig, thr, crossing_rate_khz=crossing_rate_khz,
                                                 targets_khz=targets_khz),
        }  # fmt: skip
    return out
