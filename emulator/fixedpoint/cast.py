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
    NO_CHECK,
    SATURATE,
    WRAP,
    cast_float_pass,
    cast_int_pass,
    round_far,
    shl_saturate,
)
from emulator.fixedpoint.types import FixedType, Overflow, Rounding

__all__ = [
    "CastCount",
    "cast_fixed",
    "cast_float",
    "fixed_cast",
    "float_cast",
    "may_overflow",
    "to_float",
]

_DOUBLE_EXACT_BITS = 53
_BIG = 2.0**62
_MAX_SHIFT = 62
_SHIFT_LEFT = 7  # index of the exact left shift in INT_ROUND


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


def _overflow_args(t: FixedType, check: bool) -> tuple[int, int, int, int, int, bool]:
    if not check:
        return NO_CHECK, 0, 0, 0, -1, False
    if t.overflow is Overflow.WRAP:
        sh, mask = (64 - t.width, -1) if t.signed else (0, (1 << t.width) - 1)
        return WRAP, 0, 0, sh, mask, False
    return SATURATE, t.sat_min_int, t.max_int, 0, -1, t.overflow is Overflow.SAT_ZERO


def fixed_cast(
    m: np.ndarray,
    frac: int,
    t: FixedType,
    *,
    check: bool = True,
    relu: bool = False,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """``(mantissas, n_overflowed)`` of ``t(v)``, ``v = m · 2^-frac`` (``max(v, 0)`` with ``relu``).

    ``check=False`` skips overflow handling: only when :func:`may_overflow` said it cannot
    happen. The result may be ``m`` itself (an identity cast); ``out`` (int64, C-contiguous,
    ``m``'s size) receives it otherwise.
    """
    shape = np.shape(m)
    flat = np.ascontiguousarray(m, dtype=np.int64).reshape(-1)
    d = frac - t.fractional
    if d == 0 and not check and not relu:
        return flat.reshape(shape), 0
    out = np.empty_like(flat) if out is None else out.reshape(-1)
    mode, lo, hi, sh, mask, zero = _overflow_args(t, check)
    if d > _MAX_SHIFT:
        round_far(np.maximum(flat, 0) if relu else flat, t.rounding is Rounding.TRN, out)
        n = cast_int_pass(INT_ROUND[_SHIFT_LEFT], out, 0, out, False, mode, lo, hi, sh, mask, zero)
    elif d > 0:
        n = cast_int_pass(INT_ROUND[t.rounding.code], flat, d, out, relu, mode, lo, hi, sh, mask, zero)
    elif mode == SATURATE:
        n = shl_saturate(flat, min(-d, 63), lo, hi, zero, relu, out)
    elif -d >= 64:  # WRAP keeps the low W bits: all zero
        out[:] = 0
        n = int(np.count_nonzero(np.maximum(flat, 0) if relu else flat))
    else:
        n = cast_int_pass(INT_ROUND[_SHIFT_LEFT], flat, -d, out, relu, mode, lo, hi, sh, mask, zero)
    return out.reshape(shape), int(n)


def float_cast(
    x: np.ndarray, t: FixedType, *, frac: int = 0, out: np.ndarray | None = None, relu: bool = False
) -> tuple[np.ndarray, int, int]:
    """``(mantissas, n_overflowed, n_nonfinite)`` of ``t(x · 2^-frac)`` for float ``x``.

    ``frac`` lets exact float64 mantissas (e.g. a float64 accumulator) be cast directly;
    ``relu`` clips negatives first. ``out`` may be int64 or float64 (exact mantissas).
    """
    shape = np.shape(x)
    flat = np.ascontiguousarray(x).reshape(-1)
    if flat.dtype not in (np.float32, np.float64):
        flat = flat.astype(np.float64)
    out = np.empty(flat.size, np.int64) if out is None else out.reshape(-1)
    scale = math.ldexp(1.0, t.fractional - frac)
    mode, lo, hi, sh, mask, zero = _overflow_args(t, True)
    rnd = FLOAT_ROUND[t.rounding.code]
    n_ovf, n_bad = cast_float_pass(rnd, flat, scale, out, relu, mode, lo, hi, sh, mask, zero)
    n_nonfinite = 0
    if n_bad:  # NaN, ±inf and |x · 2^F| >= 2^62: the exact scalar path
        with np.errstate(over="ignore", invalid="ignore"):
            bad = np.flatnonzero(~(np.abs(flat.astype(np.float64) * scale) < _BIG))
        sub = np.ascontiguousarray(flat[bad], dtype=np.float64) * math.ldexp(1.0, -frac)
        if relu:
            sub = np.maximum(sub, 0.0)
        fixed = np.empty(bad.size, np.int64)
        q, o = t.rounding.code, t.overflow.code
        lo, hi = t.sat_min_int, t.max_int
        n_big, n_nonfinite = cast_float_kernel(sub, fixed, t.fractional, q, lo, hi, t.width, t.signed, o)
        out[bad] = fixed
        n_ovf += n_big
    return out.reshape(shape), int(n_ovf), int(n_nonfinite)


def cast_fixed(m: np.ndarray, frac: int, t: FixedType, *, counts: list[CastCount] | None = None) -> np.ndarray:
    """Mantissas of ``t(v)`` for ``v = m · 2^-frac`` (``m`` int64, ``|m| <= 2^62``)."""
    out, n_ovf = fixed_cast(m, frac, t)
    if counts is not None:
        counts.append(CastCount(out.size, n_ovf))
    return out


def cast_float(x: ArrayLike, t: FixedType, *, counts: list[CastCount] | None = None) -> np.ndarray:
    """Mantissas of ``t(x)`` for float ``x`` (as ``ap_fixed_base(double)``, NaN/±inf included)."""
    out, n_ovf, n_bad = float_cast(np.asarray(x), t)
    if counts is not None:
        counts.append(CastCount(out.size, n_ovf, n_bad))
    return out


def to_float(m: np.ndarray, t: FixedType, dtype: DTypeLike = np.float64) -> np.ndarray:
    """``to_double()`` / ``to_float()`` of mantissas: round-half-even of the exact value."""
    dt = np.dtype(dtype)
    work = np.float64 if t.width <= _DOUBLE_EXACT_BITS else dt  # exact, then one rounding
    scaled: np.ndarray = np.ldexp(np.asarray(m, np.int64).astype(work), -t.fractional)
    return scaled.astype(dt)
