"""Training samples: whole sample files as one batch, and the jets the tagger trains on.

The model inputs themselves are run-time code, in :mod:`emulator.models.inputs`.

>>> from streams.event import EventBatch
>>> tagger_candidates(EventBatch.empty(2)).shape
(2, 12)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emulator.models.inputs import leading_in_window
from streams.event import EventBatch
from streams.schema import CALO_ETA_LSB, PT_LSB

__all__ = ["read_sample", "tagger_candidates"]


def tagger_candidates(batch: EventBatch, *, pt_min_gev: float = 20.0, eta_max: float = 2.3) -> np.ndarray:
    """Jets used for training: pT ≥ ``pt_min_gev``, |η| ≤ ``eta_max``, with an L1 τ in the window.

    The same selection applies to τ-enriched and QCD samples, so the label is the sample.
    """
    eta = batch["jet_eta"].astype(np.int64)
    pt = batch["jet_pt"].astype(np.int64)
    tau_pt, _ = leading_in_window(batch, "tau", eta, batch["jet_phi"].astype(np.int64))
    return (pt * PT_LSB >= pt_min_gev) & (np.abs(eta) * CALO_ETA_LSB <= eta_max) & (tau_pt > 0)


def read_sample(path: str | Path, *, limit: int | None = None, batch_size: int = 65536) -> EventBatch:
    """Every event of a sample file (or the first ``limit``) as one batch."""
    from streams.sources import open_source

    src = open_source(path, events=limit)
    return EventBatch.concat(src.batches(batch_size))
