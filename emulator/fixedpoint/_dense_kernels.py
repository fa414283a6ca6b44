"""Numba kernels of ``nnet::dense_latency`` on feature-major blocks (features × events).

Each product ``x·w`` is cast to ``accum_t`` on its own (quantized by ``s = F_x + F_w - F_acc``
bits with the accumulator's rounding mode), then summed onto the bias. ``dense_wrap`` keeps
exact int64 sums (the caller wraps once at the end: modular arithmetic makes that identical
to wrapping at every ``+=``); ``dense_sat`` saturates every product and every ``+=`` in the
firmware's order (inputs ``i = 0 … n_in-1``).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from emulator.fixedpoint._kernels import TRN, overflow, round_shift

__all__ = ["count_product_overflow", "dense_sat", "dense_wrap"]


@nb.njit(cache=True, nogil=True)
def dense_wrap(x: np.ndarray, w: np.ndarray, bias: np.ndarray, s: int, q: int, out: np.ndarray) -> None:
    """``out[j] = bias[j] + Σ_i quant(x[i]·w[i, j])`` (exact int64; ``s <= 0``: w pre-shifted)."""
    n_in, n_ev = x.shape
    n_out = w.shape[1]
    for j in range(n_out):
        acc = out[j]
        b = bias[j]
        for e in range(n_ev):
            acc[e] = b
        for i in range(n_in):
            wij = w[i, j]
            if wij == 0:
                continue
            xi = x[i]
            if s <= 0:
                for e in range(n_ev):
                    acc[e] += xi[e] * wij
            elif q == TRN:
                for e in range(n_ev):
                    acc[e] += (xi[e] * wij) >> s
            else:
                for e in range(n_ev):
                    acc[e] += round_shift(xi[e] * wij, s, q)


@nb.njit(cache=True, nogil=True)
def dense_sat(
    x: np.ndarray,
    w: np.ndarray,
    bias: np.ndarray,
    s: int,
    q: int,
    lo: int,
    hi: int,
    width: int,
    signed: bool,
    o: int,
    out: np.ndarray,
) -> tuple[int, int]:
    """Saturating accumulation in firmware order; returns (products, outputs) that overflowed."""
    n_in, n_ev = x.shape
    n_out = w.shape[1]
    n_prod = 0
    n_acc = 0
    hit = np.zeros(n_ev, np.bool_)
    for j in range(n_out):
        acc = out[j]
        b = bias[j]
        for e in range(n_ev):
            acc[e] = b
            hit[e] = False
        for i in range(n_in):
            wij = w[i, j]
            xi = x[i]
            for e in range(n_ev):
                p = xi[e] * wij
                if s > 0:
                    p = round_shift(p, s, q)
                p, f1 = overflow(p, lo, hi, width, signed, o)
                a, f2 = overflow(acc[e] + p, lo, hi, width, signed, o)
                acc[e] = a
                n_prod += f1
                if f2:
                    hit[e] = True
        for e in range(n_ev):
            if hit[e]:
                n_acc += 1
    return n_prod, n_acc


@nb.njit(cache=True, nogil=True)
def count_product_overflow(x: np.ndarray, w: np.ndarray, s: int, q: int, lo: int, hi: int) -> int:
    """How many products, cast to ``accum_t`` on their own, fall outside ``[lo, hi]``."""
    n_in, n_ev = x.shape
    n_out = w.shape[1]
    n = 0
    for i in range(n_in):
        xi = x[i]
        for j in range(n_out):
            wij = w[i, j]
            for e in range(n_ev):
                p = xi[e] * wij
                if s > 0:
                    p = round_shift(p, s, q)
                if p < lo or p > hi:
                    n += 1
    return n
