"""Numba kernels of the casts: float → mantissa and mantissa → mantissa, with overflow counts.

Modes are the integer codes of :class:`~emulator.fixedpoint.types.Rounding` and
:class:`~emulator.fixedpoint.types.Overflow`. Every mantissa handled here satisfies
``|m| <= 2^62`` (enforced when a model is built), so shifts up to 63 stay exact.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__ = ["cast_float_kernel", "cast_int_kernel", "overflow", "round_shift", "shift_left"]

TRN, TRN_ZERO, RND, RND_ZERO, RND_INF, RND_MIN_INF, RND_CONV = range(7)
WRAP, SAT, SAT_ZERO, SAT_SYM = range(4)
_BIG = 2.0**62


@nb.njit(inline="always", cache=True)
def _increment(neg: bool, odd: bool, above: bool, tie: bool, inexact: bool, q: int) -> int:
    """Whether rounding adds one to the floor (``above``/``tie``: remainder vs. one half)."""
    if q == TRN:
        return 0
    if q == TRN_ZERO:
        return 1 if (neg and inexact) else 0
    if q == RND:
        return 1 if (above or tie) else 0
    if q == RND_ZERO:
        return 1 if (above or (tie and neg)) else 0
    if q == RND_INF:
        return 1 if (above or (tie and not neg)) else 0
    if q == RND_MIN_INF:
        return 1 if above else 0
    return 1 if (above or (tie and odd)) else 0  # RND_CONV


@nb.njit(inline="always", cache=True)
def round_shift(v: int, d: int, q: int) -> int:
    """``v / 2^d`` rounded with mode ``q`` (``d > 0``)."""
    if d > 63:
        d = 63
    fl = v >> d
    if q == TRN:
        return fl
    rem = v - (fl << d)
    half = np.int64(1) << (d - 1)
    return fl + _increment(fl < 0, (fl & 1) == 1, rem > half, rem == half, rem != 0, q)


@nb.njit(inline="always", cache=True)
def overflow(r: int, lo: int, hi: int, width: int, signed: bool, o: int) -> tuple[int, int]:
    """Bring a quantized mantissa into ``[lo, hi]`` with mode ``o``; returns (value, overflowed)."""
    if lo <= r <= hi:
        return r, 0
    if o == WRAP:
        m = r & ((np.int64(1) << width) - 1)
        if signed and m > hi:
            m -= np.int64(1) << width
        return m, 1
    if o == SAT_ZERO:
        return 0, 1
    return (hi if r > hi else lo), 1


@nb.njit(inline="always", cache=True)
def shift_left(v: int, k: int, lo: int, hi: int, width: int, signed: bool, o: int) -> tuple[int, int]:
    """``v · 2^k`` (``k >= 0``) into ``[lo, hi]`` with overflow mode ``o``, without int64 overflow."""
    if v == 0:
        return 0, 0
    if o == WRAP:
        if k >= 64:
            return 0, 1
        return overflow(v << k, lo, hi, width, signed, o)
    if k >= 63 or v > (hi >> k) or v < -((-lo) >> k):
        return overflow(hi + 1 if v > 0 else lo - 1, lo, hi, width, signed, o)
    return v << k, 0


@nb.njit(inline="always", cache=True)
def cast_int_one(v: int, d: int, q: int, lo: int, hi: int, width: int, signed: bool, o: int) -> tuple[int, int]:
    """Cast one mantissa with ``d = F_src - F_dst`` fractional bits to drop."""
    if d > 0:
        return overflow(round_shift(v, d, q), lo, hi, width, signed, o)
    return shift_left(v, -d, lo, hi, width, signed, o)


@nb.njit(cache=True, nogil=True)
def cast_int_kernel(
    v: np.ndarray, out: np.ndarray, d: int, q: int, lo: int, hi: int, width: int, signed: bool, o: int
) -> int:
    """Cast a flat int64 array into ``out``; returns the number of overflowed values."""
    n_ovf = 0
    for i in range(v.size):
        r, f = cast_int_one(v[i], d, q, lo, hi, width, signed, o)
        out[i] = r
        n_ovf += f
    return n_ovf


@nb.njit(inline="always", cache=True)
def _cast_huge(x: float, frac: int, lo: int, hi: int, width: int, signed: bool, o: int) -> tuple[int, int]:
    """``|x · 2^frac| >= 2^62``: an integer multiple of 2^9; wrap exactly or saturate by sign."""
    if o != WRAP:
        return overflow(hi + 1 if x > 0 else lo - 1, lo, hi, width, signed, o)
    m, e = math.frexp(x)
    k = e - 53 + frac
    mant = np.int64(m * 9007199254740992.0)  # m · 2^53, exact
    if k >= 64:
        return 0, 1
    return overflow(mant << k, lo, hi, width, signed, o)


@nb.njit(cache=True, nogil=True)
def cast_float_kernel(
    x: np.ndarray, out: np.ndarray, frac: int, q: int, lo: int, hi: int, width: int, signed: bool, o: int
) -> tuple[int, int]:
    """``ap_fixed_base(double)`` over a flat float array; returns (overflowed, non-finite) counts."""
    scale = math.ldexp(1.0, frac)
    n_ovf = 0
    n_bad = 0
    for i in range(x.size):
        xi = np.float64(x[i])
        if not math.isfinite(xi):
            n_bad += 1
            if o == WRAP:
                out[i] = 0
            else:
                neg = math.copysign(1.0, xi) < 0
                r, f = overflow(lo - 1 if neg else hi + 1, lo, hi, width, signed, o)
                out[i] = r
            n_ovf += 1
            continue
        y = xi * scale
        if abs(y) >= _BIG:
            r, f = _cast_huge(xi, frac, lo, hi, width, signed, o)
            out[i] = r
            n_ovf += f
            continue
        fl = math.floor(y)
        inexact = y != fl
        mid = fl + 0.5  # exact whenever y has a fraction (then |fl| < 2^52)
        above, tie = inexact and y > mid, inexact and y == mid
        if y == 0.0 and xi != 0.0:  # the scaling underflowed: a tiny non-zero remainder
            fl = -1.0 if xi < 0 else 0.0
            above, tie, inexact = xi < 0, False, True
        v = np.int64(fl)
        inc = _increment(v < 0, (v & 1) == 1, above, tie, inexact, q)
        r, f = overflow(v + inc, lo, hi, width, signed, o)
        out[i] = r
        n_ovf += f
    return n_ovf, n_bad
