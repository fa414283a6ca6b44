"""Vectorised ``ap_fixed`` casts on numpy arrays of int64 mantissas.

>>> import numpy as np
>>> t = FixedType.parse("ap_fixed<8,3,AP_RND_CONV,AP_SAT>")
>>> m = cast_float(np.array([0.046875, -0.046875, 1e9, np.nan]), t)
>>> m.tolist(), to_float(m, t).tolist()
([2, -2, 127, 127], [0.0625, -0.0625, 3.96875, 3.96875])
>>> cast_fixed(np.array([37]), 4, FixedType(6, 6)).tolist()  # 37/16 -> floor
[2]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from emulator.fixedpoint._kernels import cast_float_kernel
from emulator.fixedpoint._vkernels import (
    FLOAT_ROUND,
    INT_ROUND,
    round_far,
    saturate,
    shl_saturate,
    wrap_signed,
    wrap_unsigned,
)
from emulator.fixedpoint.types import FixedType, Overflow, Rounding

__all__ = ["CastCount", "cast_fixed", "cast_float", "fixed_cast", "may_overflow", "to_float"]

_DOUBLE_EXACT_BITS = 53
_BIG = 2.0**62
_MAX_SHIFT = 62


@dataclass(frozen=True, slots=True)
class CastCount:
    """How many of ``values`` a cast changed by overflow (and how many inputs were NaN/±inf)."""

    values: int
    overflowed: int
    nonfinite: int = 0


def may_overflow(lo: int, hi: int, frac: int, t: FixedType) -> bool:
    """Whether casting mantissas in ``[lo, hi]`` (``frac`` fractional bits) to ``t`` can overflow."""
    d = frac - t.fractional
    if d > 0:
        lo, hi = lo >> d, (hi >> d) + 1  # rounding moves a value up by at most one LSB
    else:
        lo, hi = lo << -d, hi << -d
    return lo < t.sat_min_int or hi > t.max_int


def _overflow(r: np.ndarray, t: FixedType, out: np.ndarray) -> int:
    if t.overflow is Overflow.WRAP:
        return int(wrap_signed(r, t.width, out) if t.signed else wrap_unsigned(r, t.width, out))
    return int(saturate(r, t.sat_min_int, t.max_int, t.overflow is Overflow.SAT_ZERO, out))


def fixed_cast(m: np.ndarray, frac: int, t: FixedType, *, check: bool = True) -> tuple[np.ndarray, int]:
    """``(mantissas, n_overflowed)`` of ``t(m · 2^-frac)``; ``check=False`` skips the overflow
    pass (only when :func:`may_overflow` said it cannot happen). May return ``m`` itself."""
    flat = np.ascontiguousarray(m, dtype=np.int64).reshape(-1)
    d = frac - t.fractional
    if d > 0:
        r = np.empty_like(flat)
        if d <= _MAX_SHIFT:
            INT_ROUND[t.rounding.code](flat, d, r)
        else:
            round_far(flat, t.rounding is Rounding.TRN, r)
    elif d < 0 and check and t.overflow is not Overflow.WRAP:
        r = np.empty_like(flat)
        n = shl_saturate(flat, min(-d, 63), t.sat_min_int, t.max_int, t.overflow is Overflow.SAT_ZERO, r)
        return r.reshape(np.shape(m)), int(n)
    elif d < 0:
        r = flat << -d if -d < 64 else np.zeros_like(flat)
    else:
        r = flat
    if not check:
        return r.reshape(np.shape(m)), 0
    out = r if r is not flat else np.empty_like(flat)
    n_ovf = _overflow(r, t, out)
    return out.reshape(np.shape(m)), n_ovf


def cast_fixed(
    m: np.ndarray, frac: int, t: FixedType, *, counts: list[CastCount] | None = None
) -> np.ndarray:
    """Mantissas of ``t(v)`` for ``v = m · 2^-frac`` (``m`` int64, ``|m| <= 2^62``)."""
    out, n_ovf = fixed_cast(m, frac, t)
    if counts is not None:
        counts.append(CastCount(out.size, n_ovf))
    return out


def cast_float(x: ArrayLike, t: FixedType, *, counts: list[CastCount] | None = None) -> np.ndarray:
    """Mantissas of ``t(x)`` for float ``x`` (as ``ap_fixed_base(double)``, NaN/±inf included)."""
    arr = np.asarray(x)
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    flat = np.ascontiguousarray(arr).reshape(-1)
    out = np.empty(flat.size, np.int64)
    scale = math.ldexp(1.0, t.fractional)
    n_bad = FLOAT_ROUND[t.rounding.code](flat, scale, out)
    n_ovf = _overflow(out, t, out)
    n_nonfinite = 0
    if n_bad:  # NaN, ±inf and |x · 2^F| >= 2^62: the exact scalar path
        bad = np.flatnonzero(~(np.abs(flat * scale) < _BIG))
        fixed = np.empty(bad.size, np.int64)
        q, lo, hi = t.rounding.code, t.sat_min_int, t.max_int
        sub = np.ascontiguousarray(flat[bad])
        n_big, n_nonfinite = cast_float_kernel(sub, fixed, t.fractional, q, lo, hi, t.width, t.signed, t.overflow.code)
        out[bad] = fixed
        n_ovf += int(n_big)
    if counts is not None:
        counts.append(CastCount(flat.size, n_ovf, int(n_nonfinite)))
    return out.reshape(arr.shape)


def to_float(m: np.ndarray, t: FixedType, dtype: DTypeLike = np.float64) -> np.ndarray:
    """``to_double()`` / ``to_float()`` of mantissas: round-half-even of the exact value."""
    dt = np.dtype(dtype)
    if t.width <= _DOUBLE_EXACT_BITS:
        exact = np.ldexp(np.asarray(m, np.int64).astype(np.float64), -t.fractional)
        return exact.astype(dt)
    return np.ldexp(np.asarray(m, np.int64).astype(dt), -t.fractional).astype(dt)
