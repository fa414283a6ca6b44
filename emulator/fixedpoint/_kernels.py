"""Scalar numba helpers: one-value rounding and overflow, and the exact float cast.

Modes are the integer codes of :class:`~emulator.fixedpoint.types.Rounding` and
:class:`~emulator.fixedpoint.types.Overflow`. These serve the rare paths (saturating
accumulators, non-floor product rounding, NaN/±inf/huge inputs); the common casts run
in :mod:`emulator.fixedpoint._vkernels`. Every mantissa satisfies ``|m| <= 2^62``.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__ = ["cast_float_kernel", "overflow", "round_shift"]

TRN, TRN_ZERO, RND, RND_ZERO, RND_INF, RND_MIN_INF, RND_CONV = range(7)
WRAP, SAT, SAT_ZERO, SAT_SYM = range(4)
_BIG = 2.0**62


@nb.njit(inline="always", cache=False)
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


@nb.njit(inline="always", cache=False)
def round_shift(v: int, d: int, q: int) -> int:
    """``v / 2^d`` rounded with mode ``q`` (``d > 0``)."""
    if d > 63:
        d = 63
    fl = v >> d
    if q == TRN:
        return fl
    rem = v - (fl << d)
    half = 1 << (d - 1)
    return fl + _increment(fl < 0, (fl & 1) == 1, rem > half, rem == half, rem != 0, q)


@nb.njit(inline="always", cache=False)
def overflow(r: int, lo: int, hi: int, width: int, signed: bool, o: int) -> tuple[int, int]:
    """Bring a quantized mantissa into ``[lo, hi]`` with mode ``o``; returns (value, overflowed)."""
    if lo <= r <= hi:
        return r, 0
    if o == WRAP:
        m = r & ((1 << width) - 1)
        if signed and m > hi:
            m -= 1 << width
        return m, 1
    if o == SAT_ZERO:
        return 0, 1
    return (hi if r > hi else lo), 1


@nb.njit(inline="always", cache=False)
def _cast_huge(x: float, frac: int, lo: int, hi: int, width: int, signed: bool, o: int) -> tuple[int, int]:
    """``|x · 2^frac| >= 2^62``: an integer multiple of 2^9; wrap exactly or saturate by sign."""
    if o != WRAP:
        return overflow(hi + 1 if x > 0 else lo - 1, lo, hi, width, signed, o)
    m, e = math.frexp(x)
    k = e - 53 + frac
    mant = int(m * 9007199254740992.0)  # m · 2^53, exact
    if k >= 64:
        return 0, 1
    return overflow(mant << k, lo, hi, width, signed, o)


@nb.njit(cache=False, nogil=True)
def cast_float_kernel(
    x: np.ndarray, out: np.ndarray, frac: int, q: int, lo: int, hi: int, width: int, signed: bool, o: int
) -> tuple[int, int]:
    """``ap_fixed_base(double)`` over a flat float array; returns (overflowed, non-finite) counts."""
    scale = math.ldexp(1.0, frac)
    n_ovf = 0
    n_bad = 0
    for i in range(x.size):
        xi = float(x[i])
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
        v = math.floor(y)
        inexact = y != v
        mid = v + 0.5  # exact whenever y has a fraction (then |v| < 2^52)
        above, tie = inexact and y > mid, inexact and y == mid
        if y == 0.0 and xi != 0.0:  # the scaling underflowed: a tiny non-zero remainder
            v = -1 if xi < 0 else 0
            above, tie, inexact = xi < 0, False, True
        inc = _increment(v < 0, (v & 1) == 1, above, tie, inexact, q)
        r, f = overflow(v + inc, lo, hi, width, signed, o)
        out[i] = r
        n_ovf += f
    return n_ovf, n_bad
