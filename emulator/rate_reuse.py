"""Pool reuse in rate errors: crossings that share a hard pool event are one cluster.

Premixing reuses pool events, so two crossings holding the same hard event (the
``hard_event`` column, :data:`streams.schema.HARD_EVENT`) are not independent. For a seed,
the cluster-robust variance of Σw(fired) sums the weights per hard event first:

    V = Σ_{fired, no hard event} w² + Σ_{hard events e} (Σ_{fired crossings holding e} w)²,

which is ≥ Σw² and equals it when no event is reused. Reported per seed: the Kish effective
number of events n_eff = (Σw)² / Σw², the independent events n_indep = (Σw)² / V, and the
reuse factor V / Σw² (1: no reuse; k: the error is √k times the naive one).

>>> import numpy as np
>>> r = ReuseStats(1)
>>> r.update(np.array([[1], [1], [1]], bool), np.ones(3), np.array([7, 7, -1]))
>>> v, n = r.variance()
>>> v.tolist(), n.tolist()
([5.0], [1])
"""

from __future__ import annotations

import numpy as np

from emulator._rates_kernel import reuse_pairs
from streams.event import EventBatch
from streams.schema import HARD_EVENT

__all__ = ["ReuseStats", "hard_events"]

_COMPACT_AT = 1 << 20  # buffered (seed, event) pairs before they are summed


class ReuseStats:
    """Per-seed weight sums per hard event, kept as sorted (seed, event) keys."""

    def __init__(self, n_seeds: int) -> None:
        self.n_seeds = n_seeds
        self.w2_free = np.zeros(n_seeds)  # Σw² of fired crossings without a hard event
        self._keys: np.ndarray = np.zeros(0, np.int64)
        self._sums: np.ndarray = np.zeros(0)
        self._buf_keys: list[np.ndarray] = []
        self._buf_w: list[np.ndarray] = []
        self._buffered = 0

    def update(self, fired: np.ndarray, weight: np.ndarray, cluster: np.ndarray | None) -> None:
        """Account a batch: ``fired`` (N, S) bool, ``weight`` (N,), ``cluster`` (N,) int (−1: none)."""
        w = np.ascontiguousarray(weight, np.float64)
        c = np.full(len(w), -1, np.int64) if cluster is None else np.ascontiguousarray(cluster, np.int64)
        keys, wts = reuse_pairs(fired, w, c, self.w2_free)
        if len(keys):
            self._buf_keys.append(keys)
            self._buf_w.append(wts)
            self._buffered += len(keys)
            if self._buffered >= _COMPACT_AT:
                self._compact()

    def _compact(self) -> None:
        if not self._buf_keys:
            return
        keys = np.concatenate([self._keys, *self._buf_keys])
        w = np.concatenate([self._sums, *self._buf_w])
        self._keys, inv = np.unique(keys, return_inverse=True)
        self._sums = np.bincount(inv.reshape(-1), weights=w, minlength=len(self._keys))
        self._buf_keys, self._buf_w, self._buffered = [], [], 0

    def variance(self) -> tuple[np.ndarray, np.ndarray]:
        """Per seed: the cluster-robust variance V of Σw(fired), and the distinct hard events."""
        self._compact()
        seed = (self._keys >> 32).astype(np.int64)
        v = self.w2_free + np.bincount(seed, weights=self._sums**2, minlength=self.n_seeds)
        return v, np.bincount(seed, minlength=self.n_seeds)


def hard_events(batch: EventBatch) -> np.ndarray | None:
    """The batch's ``hard_event`` column when its source wrote one, else None."""
    return batch.columns.get(HARD_EVENT)
