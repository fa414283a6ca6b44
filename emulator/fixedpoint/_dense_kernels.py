"""Numba kernels of ``nnet::dense_latency`` on event-major blocks ``(n_events, n_in)``.

Each product ``x·w`` is cast to ``accum_t`` on its own (quantized by ``s = F_x + F_w - F_acc``
bits with the accumulator's rounding mode), then added to the bias. ``dense_wrap`` keeps
exact int64 sums (the caller wraps once at the end: modular arithmetic makes that identical
to wrapping at every ``+=``); ``dense_sat`` saturates every product and every ``+=`` in the
firmware's order (inputs ``i = 0 … n_in-1``). Zero inputs are skipped: their products are 0
in every mode.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from emulator.fixedpoint._kernels import TRN, overflow, round_shift

__all__ = ["count_product_overflow", "dense_sat", "dense_wrap", "dense_wrap_narrow"]


@nb.njit(cache=False, nogil=True)
def dense_wrap(x: np.ndarray, w: np.ndarray, bias: np.ndarray, s: int, q: int, out: np.ndarray) -> None:
    """``out[e, j] = bias[j] + Σ_i quant(x[e, i]·w[i, j])`` in exact int64 (``s > 0``)."""
    n_ev, n_in = x.shape
    n_out = w.shape[1]
    for e in range(n_ev):
        acc = out[e]
        for j in range(n_out):
            acc[j] = bias[j]
        for i in range(n_in):
            xi = x[e, i]
            if xi == 0:
                continue
            wr = w[i]
            if q == TRN:
                for j in range(n_out):
                    acc[j] += (xi * wr[j]) >> s
            else:
                for j in range(n_out):
                    acc[j] += round_shift(xi * wr[j], s, q)


@nb.njit(cache=False, nogil=True)
def dense_wrap_narrow(x: np.ndarray, wt: np.ndarray, bias: np.ndarray, s: int, q: int, out: np.ndarray) -> None:
    """:func:`dense_wrap` for few outputs: ``wt`` is ``(n_out, n_in)``, the loop runs over inputs."""
    n_ev, n_in = x.shape
    n_out = wt.shape[0]
    for e in range(n_ev):
        xr = x[e]
        for j in range(n_out):
            wr = wt[j]
            acc = bias[j]
            if q == TRN:
                for i in range(n_in):
                    acc += (xr[i] * wr[i]) >> s
            else:
                for i in range(n_in):
                    acc += round_shift(xr[i] * wr[i], s, q)
            out[e, j] = acc


@nb.njit(cache=False, nogil=True)
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
    """Saturating accumulation in firmware order; returns (products, outputs) that overflowed.

    ``s <= 0`` means the weights are already aligned to ``accum_t`` (no quantization).
    """
    n_ev, n_in = x.shape
    n_out = w.shape[1]
    n_prod = 0
    n_acc = 0
    hit = np.zeros(n_out, np.bool_)
    for e in range(n_ev):
        acc = out[e]
        for j in range(n_out):
            acc[j] = bias[j]
            hit[j] = False
        for i in range(n_in):
            xi = x[e, i]
            wr = w[i]
            for j in range(n_out):
                p = xi * wr[j]
                if s > 0:
                    p = round_shift(p, s, q)
                p, f1 = overflow(p, lo, hi, width, signed, o)
                a, f2 = overflow(acc[j] + p, lo, hi, width, signed, o)
                acc[j] = a
                n_prod += f1
                if f2:
                    hit[j] = True
        for j in range(n_out):
            n_acc += hit[j]
    return n_prod, n_acc


@nb.njit(cache=False, nogil=True)
def count_product_overflow(x: np.ndarray, w: np.ndarray, s: int, q: int, lo: int, hi: int) -> int:
    """How many products, cast to ``accum_t`` on their own, fall outside ``[lo, hi]``."""
    n_ev, n_in = x.shape
    n_out = w.shape[1]
    n = 0
    for e in range(n_ev):
        for i in range(n_in):
            xi = x[e, i]
            wr = w[i]
            for j in range(n_out):
                p = xi * wr[j]
                if s > 0:
                    p = round_shift(p, s, q)
                n += (p < lo) | (p > hi)
    return n
