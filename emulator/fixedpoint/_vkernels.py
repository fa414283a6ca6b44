"""Branch-free (SIMD-friendly) cast kernels: one rounding primitive per mode, one pass per cast.

A cast is ``overflow(round(v))`` in a single loop. The rounding primitive is passed as a
first-class numba function, so every (rounding, source kind) pair compiles to its own
loop with no mode branches inside; the overflow handling is chosen once per call
(``mode`` 0: none needed, 1: wrap, 2: saturate). Valid for ``|v| <= 2^62`` and shifts
``1 <= d <= 62`` (callers handle wider shifts).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numba as nb
import numpy as np

__all__ = [
    "FLOAT_ROUND",
    "INT_ROUND",
    "NO_CHECK",
    "SATURATE",
    "WRAP",
    "cast_float_pass",
    "cast_int_pass",
    "round_far",
    "round_fn",
    "shl_saturate",
]

NO_CHECK, WRAP, SATURATE = 0, 1, 2
_inline = nb.njit(inline="always", cache=False)
_jit = nb.njit(cache=False, nogil=True)
_BIG = 2.0**62


# -- rounding of v / 2^d for int64 v (half = 2^(d-1), low = 2^d - 1) ----------------------
@_inline
def _i_trn(v: int, d: int, half: int, low: int) -> int:
    return v >> d


@_inline
def _i_trn_zero(v: int, d: int, half: int, low: int) -> int:
    return (v >> d) + ((v < 0) & ((v & low) != 0))


@_inline
def _i_rnd(v: int, d: int, half: int, low: int) -> int:
    return (v + half) >> d


@_inline
def _i_rnd_zero(v: int, d: int, half: int, low: int) -> int:
    return (v + half - 1 + (v < 0)) >> d


@_inline
def _i_rnd_inf(v: int, d: int, half: int, low: int) -> int:
    return (v + half - (v < 0)) >> d


@_inline
def _i_rnd_min_inf(v: int, d: int, half: int, low: int) -> int:
    return (v + half - 1) >> d


@_inline
def _i_rnd_conv(v: int, d: int, half: int, low: int) -> int:
    return (v + half - 1 + ((v >> d) & 1)) >> d


@_inline
def _i_none(v: int, d: int, half: int, low: int) -> int:
    return v << d  # d here is a left shift (exact: the caller checked the range)


INT_ROUND = (_i_trn, _i_trn_zero, _i_rnd, _i_rnd_zero, _i_rnd_inf, _i_rnd_min_inf, _i_rnd_conv, _i_none)


# -- rounding of y = x · 2^F for finite |y| < 2^62 (exact below 2^52, integer above) -------
# One set of primitives for every float type: the float64 casts here and the columnar plan.
@cache
def round_fn(q: int, dtype: type) -> Any:
    """Rounding of an exact ``y`` to an integer-valued float, mode code ``q`` (``Rounding.code``).

    Round-to-nearest works on ``|y|``, whose fraction ``|y| - floor(|y|)`` is exact
    (``floor(y + 0.5)`` is not); results are never ``-0.0``.
    """
    half, zero, one = dtype(0.5), dtype(0.0), dtype(1.0)

    def nearest(tie_up_pos: bool, tie_up_neg: bool) -> Any:
        def fn(y: Any) -> Any:
            a = abs(y)
            t = np.floor(a)
            g = a - t
            neg = y < zero
            r = t + (one if (g > half or (g == half and (tie_up_neg if neg else tie_up_pos))) else zero)
            return zero - r if neg else r

        return _inline(fn)

    fns: tuple[Callable[[Any], Any], ...] = (
        _inline(lambda y: np.floor(y) + zero),  # TRN (+0: no -0.0)
        _inline(lambda y: np.trunc(y) + zero),  # TRN_ZERO
        nearest(True, False),  # RND: ties toward +inf
        nearest(False, False),  # RND_ZERO
        nearest(True, True),  # RND_INF
        nearest(False, True),  # RND_MIN_INF: ties toward -inf
        _inline(lambda y: np.rint(y) + zero),  # RND_CONV: ties to even
    )
    return fns[q]


FLOAT_ROUND = tuple(round_fn(q, np.float64) for q in range(7))


# -- one pass: optional ReLU, rounding, overflow ------------------------------------------
@_inline
def _finish(r: int, mode: int, lo: int, hi: int, sh: int, mask: int, zero: bool) -> tuple[int, int]:
    if mode == WRAP:
        y = ((r << sh) >> sh) & mask
    else:
        y = min(max(r, lo), hi)
        if zero and y != r:
            y = 0
    return y, y != r


@_jit
def cast_int_pass(
    rnd: Any,
    v: np.ndarray,
    d: int,
    out: np.ndarray,
    relu: bool,
    mode: int,
    lo: int,
    hi: int,
    sh: int,
    mask: int,
    zero: bool,
) -> int:
    """``out = overflow(round(relu ? max(v, 0) : v))``; returns the number of overflowed values.

    WRAP: ``((r << sh) >> sh) & mask`` (signed: ``sh = 64 - W``, ``mask = -1``; unsigned:
    ``sh = 0``, ``mask = 2^W - 1``). Saturation: clamp to ``[lo, hi]``, or 0 when ``zero``.
    """
    half = 1 << max(d - 1, 0)
    low = (1 << d) - 1
    n = 0
    if mode == NO_CHECK:
        for i in range(v.size):
            x = max(v[i], 0) if relu else v[i]
            out[i] = rnd(x, d, half, low)
        return 0
    for i in range(v.size):
        x = max(v[i], 0) if relu else v[i]
        y, bad = _finish(rnd(x, d, half, low), mode, lo, hi, sh, mask, zero)
        out[i] = y
        n += bad
    return n


@_jit
def cast_float_pass(
    rnd: Any,
    x: np.ndarray,
    scale: float,
    out: np.ndarray,
    relu: bool,
    mode: int,
    lo: int,
    hi: int,
    sh: int,
    mask: int,
    zero: bool,
) -> tuple[int, int]:
    """``out = overflow(round(x · scale))`` for finite ``|x · scale| < 2^62``; returns
    (overflowed, n_bad) where the n_bad others (NaN, ±inf, huge) are left at 0 for the caller.
    ``relu`` clips negative inputs to 0 first (for exact float64 mantissas)."""
    n = 0
    n_bad = 0
    for i in range(x.size):
        xi = max(float(x[i]), 0.0) if relu else float(x[i])
        y = xi * scale
        if y == 0.0:
            y = xi  # the scaling underflowed: round the tiny value itself
        ok = abs(y) < _BIG
        n_bad += not ok
        r = int(rnd(y if ok else 0.0))
        if mode == NO_CHECK:
            out[i] = r
        else:
            yy, bad = _finish(r, mode, lo, hi, sh, mask, zero)
            out[i] = yy
            n += bad
    return n, n_bad


@_jit
def round_far(v: np.ndarray, trn: bool, out: np.ndarray) -> None:
    """``d >= 63``: ``|v / 2^d| < 1/2``, so TRN gives -1 for negatives and every other mode 0."""
    for i in range(v.size):
        out[i] = -1 if (trn and v[i] < 0) else 0


@_jit
def shl_saturate(v: np.ndarray, k: int, lo: int, hi: int, zero: bool, relu: bool, out: np.ndarray) -> int:
    """``v · 2^k`` (``k <= 63``) saturated without overflowing int64: clamp first, then shift."""
    hi_k = hi >> k
    lo_k = -((-lo) >> k)
    n = 0
    for i in range(v.size):
        x = max(v[i], 0) if relu else v[i]
        bad = (x < lo_k) | (x > hi_k)
        n += bad
        y = min(max(x, lo_k), hi_k) << k
        if bad:
            y = 0 if zero else (hi if x > 0 else lo)
        out[i] = y
    return n
