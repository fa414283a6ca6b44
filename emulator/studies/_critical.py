"""Per-event critical values: the largest hardware threshold at which a condition still passes.

Every scanned cut is a lower bound (``hwPt ≥ t``, ``sum ≥ t``, ``score ≥ t``), so a
condition's decision is monotone in ``t``: it passes at ``t`` exactly when
``t ≤ c`` for the event's critical value ``c`` (``-inf``: it never passes). With ``c``
per event, a whole rate-vs-threshold curve is one comparison against all
thresholds, with no re-evaluation per threshold.

* one leg, no pair cuts: ``c`` = the highest hwPt among objects that pass the leg's other cuts;
* several legs or pair cuts: a bitwise search over the 11-bit hwPt, each step one
  evaluation of the condition with a per-event threshold on the scanned legs;
* sums: the sum itself when it is within the condition's maximum; scores: the score.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

import numpy as np

from emulator.errors import StageError
from emulator.menu import BatchEvaluator
from emulator.menu.hardware import HwLeg, HwObjects, HwScore, HwSum
from streams.event import EventBatch
from streams.schema import COLLECTIONS

__all__ = ["SCANNED", "critical_objects", "critical_score", "critical_sum"]

#: ``pt_min`` marking a scanned leg (real legs have ``pt_min ≥ 1``).
SCANNED: Final = -1
_NSLOT: Final = 12


def _padded_pt(batch: EventBatch, collection: str) -> np.ndarray:
    coll = COLLECTIONS[collection]
    out = np.zeros((len(batch), _NSLOT), np.int32)
    out[:, : coll.size] = batch[coll.column("pt")]
    return out


class _ThresholdEvaluator(BatchEvaluator):
    """Evaluator whose scanned legs cut at a per-event threshold ``hwPt ≥ thresholds[e]``."""

    def __init__(self, batch: EventBatch, thresholds: np.ndarray) -> None:
        super().__init__(batch)
        self.thresholds = thresholds
        self._pts: dict[str, np.ndarray] = {}

    def leg(self, leg: HwLeg) -> np.ndarray:
        if leg.pt_min != SCANNED:
            return super().leg(leg)
        pt = self._pts.get(leg.collection)
        if pt is None:
            pt = self._pts[leg.collection] = _padded_pt(self.batch, leg.collection)
        return np.asarray(super().leg(replace(leg, pt_min=1)) & (pt >= self.thresholds[:, None]))


def _single_leg(batch: EventBatch, leg: HwLeg) -> np.ndarray:
    """Highest hwPt among the objects passing the leg's other cuts."""
    mask = BatchEvaluator(batch).leg(replace(leg, pt_min=1))
    best = np.where(mask, _padded_pt(batch, leg.collection), 0).max(axis=1)
    return np.where(best > 0, best.astype(np.float64), -np.inf)


def critical_objects(batch: EventBatch, cond: HwObjects, scanned: tuple[int, ...]) -> np.ndarray:
    """Critical hwPt (float64, N) of an object condition whose legs ``scanned`` share one threshold."""
    if len(cond.legs) == 1 and not cond.correlations:
        return _single_leg(batch, cond.legs[0])
    legs = tuple(replace(leg, pt_min=SCANNED) if i in scanned else leg for i, leg in enumerate(cond.legs))
    probe = HwObjects(legs, cond.correlations)
    n = len(batch)
    out = np.full(n, -np.inf)
    idx = np.flatnonzero(_ThresholdEvaluator(batch, np.ones(n, np.int64)).condition(probe))
    if idx.size == 0:
        return out
    sub = batch.select(idx)
    top = max(int(_padded_pt(sub, cond.legs[i].collection).max()) for i in scanned)
    c = np.zeros(idx.size, np.int64)
    for bit in reversed(range(max(top, 1).bit_length())):  # passes at 1 ⇒ ends ≥ 1
        cand = c | (1 << bit)
        c = np.where(_ThresholdEvaluator(sub, cand).condition(probe), cand, c)
    out[idx] = c
    return out


def critical_sum(batch: EventBatch, cond: HwSum) -> np.ndarray:
    """Critical minimum of a sum window: the sum itself if it is ≤ the window's maximum."""
    et = batch[cond.sum].astype(np.int64)
    return np.where(et <= cond.max, et.astype(np.float64), -np.inf)


def critical_score(batch: EventBatch, cond: HwScore) -> np.ndarray:
    """Critical minimum of a score cut: the score (NaN never passes)."""
    if cond.column not in batch:
        msg = f"score column {cond.column!r} is not in the batch (columns: {sorted(batch)})"
        raise StageError(msg)
    col = batch[cond.column]
    if col.ndim != 1 or col.dtype.kind not in "iuf":
        msg = f"score column {cond.column!r} must be a numeric (N,) column, got {col.dtype}{col.shape}"
        raise StageError(msg)
    c = col.astype(np.float64)
    return np.where(np.isnan(c), -np.inf, c)
