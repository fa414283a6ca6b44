"""Numba kernels of :class:`emulator.rates.RateAccumulator`: one pass over a batch's events.

:func:`accumulate` applies the prescales (each seed's pass counter, in event order) and adds
every per-seed, overlap and pileup-bin sum of the batch in one loop over events; the float sums
are kept per batch and added once, so no BLAS call (and no thread pool) is involved.
:func:`reuse_pairs` lists the (seed, hard event) pairs of fired crossings for
:class:`emulator.rate_reuse.ReuseStats`. Integer results equal the numpy formulation exactly;
float sums equal it up to summation order.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["accumulate", "reuse_pairs"]


@numba.njit(cache=True, nogil=True)
def accumulate(
    raw: np.ndarray, w: np.ndarray, pu_bin: np.ndarray, prescales: np.ndarray, counters: np.ndarray,
    fired: np.ndarray, l1a: np.ndarray, counts: np.ndarray, seed_w: np.ndarray, overlap: np.ndarray,
    raw_w: np.ndarray, pu_i: np.ndarray, pu_f: np.ndarray, pu_seed_w: np.ndarray, pu_seed_w2: np.ndarray,
) -> None:
    """One batch into the accumulator's arrays (all updated in place).

    ``raw`` (N, S) uint8/bool, ``w`` (N,) float64, ``pu_bin`` (N,) int64 (−1: outside the
    edges), ``prescales`` (S,) int64 in hundredths (see ``emulator.rates``), ``counters`` (S,) int64
    passes; outputs ``fired`` (N, S) bool and ``l1a``
    (N,) bool; ``counts`` (3, S) int64: fired, raw, pure; ``seed_w`` (4, S): Σw, Σw² fired and
    pure; ``overlap`` (S, S) int64; ``raw_w`` (2, S); ``pu_i`` (nb,) events per bin; ``pu_f``
    (2, nb): Σw and Σw(accepted) per bin; ``pu_seed_w`` (nb, S); ``pu_seed_w2`` (nb, S + 1).
    """
    n, s = raw.shape
    idx = np.empty(s, np.int64)
    for i in range(n):
        wi = w[i]
        w2 = wi * wi
        b = pu_bin[i]
        k = 0
        for j in range(s):
            f = False
            if raw[i, j]:
                counts[1, j] += 1
                raw_w[0, j] += wi
                raw_w[1, j] += w2
                p = prescales[j]  # hundredths; the uGT counter started one pass before it fires
                c = counters[j]
                f = p > 0 and (p - 100 + 100 * (c + 1)) // p > (p - 100 + 100 * c) // p
                counters[j] = c + 1
            fired[i, j] = f
            if f:
                idx[k] = j
                k += 1
        l1a[i] = k > 0
        if b >= 0:
            pu_i[b] += 1
            pu_f[0, b] += wi
        if k == 0:
            continue
        if b >= 0:
            pu_f[1, b] += wi
            pu_seed_w2[b, s] += w2
        for a in range(k):
            j = idx[a]
            counts[0, j] += 1
            seed_w[0, j] += wi
            seed_w[1, j] += w2
            if b >= 0:
                pu_seed_w[b, j] += wi
                pu_seed_w2[b, j] += w2
            for c in range(k):
                overlap[j, idx[c]] += 1
        if k == 1:
            j = idx[0]
            counts[2, j] += 1
            seed_w[2, j] += wi
            seed_w[3, j] += w2


@numba.njit(cache=True, nogil=True)
def reuse_pairs(
    fired: np.ndarray, w: np.ndarray, cluster: np.ndarray, w2_free: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Keys ``seed << 32 | hard event`` and weights of the fired crossings holding a hard event
    (``cluster`` ≥ 0); the others' w² go to ``w2_free`` (S,), in place."""
    n, s = fired.shape
    m = 0
    for i in range(n):
        if cluster[i] >= 0:
            for j in range(s):
                if fired[i, j]:
                    m += 1
    keys = np.empty(m, np.int64)
    wts = np.empty(m, np.float64)
    m = 0
    for i in range(n):
        c = cluster[i]
        for j in range(s):
            if fired[i, j]:
                if c >= 0:
                    keys[m] = (np.int64(j) << 32) | c
                    wts[m] = w[i]
                    m += 1
                else:
                    w2_free[j] += w[i] * w[i]
    return keys, wts
