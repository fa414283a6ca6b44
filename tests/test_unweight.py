"""Unweighting a weighted sample by accept–reject: nature's frequencies, reproducibly."""

from __future__ import annotations

import numpy as np
import pytest

from streams.errors import SourceError
from streams.event import EventBatch
from streams.unweight import unweight


def _batch(w: np.ndarray) -> EventBatch:
    return EventBatch.empty(len(w)).with_columns(weight=w.astype(np.float32),
                                                 pileup=np.arange(len(w), dtype=np.float32))


def test_kept_events_follow_the_weights() -> None:
    w = np.tile([0.01, 1.0, 4.0], 100_000)
    out = unweight(_batch(w), seed=3)
    kind = out["pileup"].astype(np.int64) % 3  # which weight each kept event had
    counts = np.bincount(kind, minlength=3)
    expected = 100_000 * np.array([0.01, 1.0, 4.0]) / 4.0
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))  # binomial, 5 σ
    assert (out["weight"] == 1).all()
    assert np.array_equal(unweight(_batch(w), seed=3)["pileup"], out["pileup"])  # seeded


def test_equal_weights_pass_through_and_bad_weights_are_refused() -> None:
    b = _batch(np.full(10, 2.5))
    assert unweight(b, seed=0) is b
    with pytest.raises(SourceError, match="finite"):
        unweight(_batch(np.array([1.0, np.nan])), seed=0)
