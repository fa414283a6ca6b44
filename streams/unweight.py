"""Unweighted events from a weighted sample: accept each event with probability w / max w.

Testbenches and anything that needs events as nature makes them (not as importance
sampling over-samples them) take an unweighted subsample of a stitched sample. The kept
events get weight 1; the draw is seeded, so the subsample is reproducible.

>>> import numpy as np
>>> b = EventBatch.empty(4).with_columns(weight=np.array([1.0, 0.0, 1.0, 0.0], np.float32))
>>> u = unweight(b, seed=1)
>>> len(u), u["weight"].tolist()
(2, [1.0, 1.0])
"""

from __future__ import annotations

import numpy as np

from streams.errors import SourceError
from streams.event import EventBatch

__all__ = ["unweight"]


def unweight(batch: EventBatch, *, seed: int) -> EventBatch:
    """The events kept by accept–reject on ``weight`` (the batch itself when all weights are equal)."""
    w = np.asarray(batch["weight"], np.float64)
    if len(w) == 0 or np.all(w == w[0]):
        return batch
    if not np.isfinite(w).all() or (w < 0).any():
        msg = f"events {batch.meta.first}..: weights must be finite and >= 0 to unweight"
        raise SourceError(msg)
    keep = np.random.default_rng(seed).random(len(w)) * w.max() < w
    out = batch.select(np.flatnonzero(keep))
    return out.with_columns(weight=np.ones(len(out), batch["weight"].dtype))
