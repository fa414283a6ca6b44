"""Branch-free (SIMD-friendly) cast kernels, one per quantization or overflow mode.

A cast runs as a rounding pass (or a shift) and, when the value range can leave the type,
an overflow pass. Splitting by mode keeps every loop free of mode branches, so LLVM
vectorises it. Valid for ``|v| <= 2^62`` and ``1 <= d <= 62`` (``round_far`` beyond).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

__all__ = ["FLOAT_ROUND", "INT_ROUND", "round_far", "saturate", "shl_saturate", "wrap_signed", "wrap_unsigned"]

_jit = nb.njit(cache=True, nogil=True, fastmath=False)
_EXACT = 2.0**52  # below this y ± 0.5 is exact; above, y is already an integer
_BIG = 2.0**62


# -- right shifts with rounding (1 <= d <= 62) ---------------------------------------------
@_jit
def _trn(v: np.ndarray, d: int, out: np.ndarray) -> None:
    for i in range(v.size):
        out[i] = v[i] >> d


@_jit
def _trn_zero(v: np.ndarray, d: int, out: np.ndarray) -> None:
    mask = (np.int64(1) << d) - 1
    for i in range(v.size):
        x = v[i]
        out[i] = (x >> d) + ((x < 0) & ((x & mask) != 0))


@_jit
def _rnd(v: np.ndarray, d: int, out: np.ndarray) -> None:
    half = np.int64(1) << (d - 1)
    for i in range(v.size):
        out[i] = (v[i] + half) >> d


@_jit
def _rnd_zero(v: np.ndarray, d: int, out: np.ndarray) -> None:
    half = np.int64(1) << (d - 1)
    for i in range(v.size):
        x = v[i]
        out[i] = (x + half - 1 + (x < 0)) >> d


@_jit
def _rnd_inf(v: np.ndarray, d: int, out: np.ndarray) -> None:
    half = np.int64(1) << (d - 1)
    for i in range(v.size):
        x = v[i]
        out[i] = (x + half - (x < 0)) >> d


@_jit
def _rnd_min_inf(v: np.ndarray, d: int, out: np.ndarray) -> None:
    half = np.int64(1) << (d - 1)
    for i in range(v.size):
        out[i] = (v[i] + half - 1) >> d


@_jit
def _rnd_conv(v: np.ndarray, d: int, out: np.ndarray) -> None:
    half = np.int64(1) << (d - 1)
    for i in range(v.size):
        x = v[i]
        out[i] = (x + half - 1 + ((x >> d) & 1)) >> d


INT_ROUND = (_trn, _trn_zero, _rnd, _rnd_zero, _rnd_inf, _rnd_min_inf, _rnd_conv)


@_jit
def round_far(v: np.ndarray, trn: bool, out: np.ndarray) -> None:
    """``d >= 63``: ``|v / 2^d| < 1/2``, so TRN gives -1 for negatives and every other mode 0."""
    for i in range(v.size):
        out[i] = -1 if (trn and v[i] < 0) else 0


# -- overflow (in place allowed: out may be v) ---------------------------------------------
@_jit
def wrap_signed(v: np.ndarray, width: int, out: np.ndarray) -> int:
    sh = 64 - width
    n = 0
    for i in range(v.size):
        x = v[i]
        y = (x << sh) >> sh
        n += y != x
        out[i] = y
    return n


@_jit
def wrap_unsigned(v: np.ndarray, width: int, out: np.ndarray) -> int:
    mask = (np.int64(1) << width) - 1
    n = 0
    for i in range(v.size):
        x = v[i]
        y = x & mask
        n += y != x
        out[i] = y
    return n


@_jit
def saturate(v: np.ndarray, lo: int, hi: int, zero: bool, out: np.ndarray) -> int:
    """Clamp to ``[lo, hi]`` (SAT, SAT_SYM), or replace out-of-range values by 0 (SAT_ZERO)."""
    n = 0
    for i in range(v.size):
        x = v[i]
        bad = (x < lo) | (x > hi)
        n += bad
        if zero:
            out[i] = 0 if bad else x
        else:
            out[i] = min(max(x, lo), hi)
    return n


@_jit
def shl_saturate(v: np.ndarray, k: int, lo: int, hi: int, zero: bool, out: np.ndarray) -> int:
    """``v · 2^k`` saturated without overflowing int64 (clamp first, then shift)."""
    hi_k = hi >> k
    lo_k = -((-lo) >> k)
    n = 0
    for i in range(v.size):
        x = v[i]
        bad = (x < lo_k) | (x > hi_k)
        n += bad
        y = min(max(x, lo_k), hi_k) << k
        if bad:
            y = 0 if zero else (hi if x > 0 else lo)
        out[i] = y
    return n


# -- float -> mantissa, finite |x · 2^F| < 2^62 (others flagged for the scalar path) -------
@nb.njit(inline="always", cache=True)
def _scaled(xi: float, scale: float) -> tuple[float, bool]:
    """``x · 2^F`` (the tiny ``x`` itself when that underflows to 0), and whether it is small."""
    y = xi * scale
    if y == 0.0:
        y = xi
    ok = abs(y) < _BIG
    return (y if ok else 0.0), ok


@_jit
def _f_trn(x: np.ndarray, scale: float, out: np.ndarray) -> int:
    n_bad = 0
    for i in range(x.size):
        y, ok = _scaled(np.float64(x[i]), scale)
        n_bad += not ok
        out[i] = np.int64(math.floor(y))
    return n_bad


@_jit
def _f_trn_zero(x: np.ndarray, scale: float, out: np.ndarray) -> int:
    n_bad = 0
    for i in range(x.size):
        y, ok = _scaled(np.float64(x[i]), scale)
        n_bad += not ok
        out[i] = np.int64(math.trunc(y))
    return n_bad


@_jit
def _f_rnd(x: np.ndarray, scale: float, out: np.ndarray) -> int:
    n_bad = 0
    for i in range(x.size):
        y, ok = _scaled(np.float64(x[i]), scale)
        n_bad += not ok
        r = math.floor(y + 0.5)
        out[i] = np.int64(y if abs(y) >= _EXACT else r)
    return n_bad


@_jit
def _f_rnd_zero(x: np.ndarray, scale: float, out: np.ndarray) -> int:
    n_bad = 0
    for i in range(x.size):
        y, ok = _scaled(np.float64(x[i]), scale)
        n_bad += not ok
        r = math.ceil(y - 0.5) if y >= 0 else math.floor(y + 0.5)
        out[i] = np.int64(y if abs(y) >= _EXACT else r)
    return n_bad


@_jit
def _f_rnd_inf(x: np.ndarray, scale: float, out: np.ndarray) -> int:
    n_bad = 0
    for i in range(x.size):
        y, ok = _scaled(np.float64(x[i]), scale)
        n_bad += not ok
        r = math.floor(y + 0.5) if y >= 0 else math.ceil(y - 0.5)
        out[i] = np.int64(y if abs(y) >= _EXACT else r)
    return n_bad


@_jit
def _f_rnd_min_inf(x: np.ndarray, scale: float, out: np.ndarray) -> int:
    n_bad = 0
    for i in range(x.size):
        y, ok = _scaled(np.float64(x[i]), scale)
        n_bad += not ok
        r = math.ceil(y - 0.5)
        out[i] = np.int64(y if abs(y) >= _EXACT else r)
    return n_bad


@_jit
def _f_rnd_conv(x: np.ndarray, scale: float, out: np.ndarray) -> int:
    n_bad = 0
    for i in range(x.size):
        y, ok = _scaled(np.float64(x[i]), scale)
        n_bad += not ok
        out[i] = np.int64(np.rint(y))
    return n_bad


FLOAT_ROUND = (_f_trn, _f_trn_zero, _f_rnd, _f_rnd_zero, _f_rnd_inf, _f_rnd_min_inf, _f_rnd_conv)
