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

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from emulator.fixedpoint._kernels import cast_float_kernel, cast_int_kernel
from emulator.fixedpoint.types import FixedType

__all__ = ["CastCount", "cast_fixed", "cast_float", "to_float"]

_DOUBLE_EXACT_BITS = 53


@dataclass(frozen=True, slots=True)
class CastCount:
    """How many of ``values`` a cast changed by overflow (and how many inputs were NaN/±inf)."""

    values: int
    overflowed: int
    nonfinite: int = 0


def _args(t: FixedType) -> tuple[int, int, int, int, bool, int]:
    return (t.rounding.code, t.sat_min_int, t.max_int, t.width, t.signed, t.overflow.code)


def cast_float(x: ArrayLike, t: FixedType, *, counts: list[CastCount] | None = None) -> np.ndarray:
    """Mantissas of ``t(x)`` for float ``x`` (as ``ap_fixed_base(double)``, NaN/±inf included)."""
    arr = np.asarray(x)
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    flat = np.ascontiguousarray(arr).reshape(-1)
    out = np.empty(flat.size, np.int64)
    q, lo, hi, w, s, o = _args(t)
    n_ovf, n_bad = cast_float_kernel(flat, out, t.fractional, q, lo, hi, w, s, o)
    if counts is not None:
        counts.append(CastCount(flat.size, int(n_ovf), int(n_bad)))
    return out.reshape(arr.shape)


def cast_fixed(
    m: np.ndarray, frac: int, t: FixedType, *, counts: list[CastCount] | None = None
) -> np.ndarray:
    """Mantissas of ``t(v)`` for ``v = m · 2^-frac`` (``m`` int64, ``|m| <= 2^62``)."""
    flat = np.ascontiguousarray(m, dtype=np.int64).reshape(-1)
    out = np.empty(flat.size, np.int64)
    q, lo, hi, w, s, o = _args(t)
    n_ovf = cast_int_kernel(flat, out, frac - t.fractional, q, lo, hi, w, s, o)
    if counts is not None:
        counts.append(CastCount(flat.size, int(n_ovf)))
    return out.reshape(np.shape(m))


def to_float(m: np.ndarray, t: FixedType, dtype: DTypeLike = np.float64) -> np.ndarray:
    """``to_double()`` / ``to_float()`` of mantissas: round-half-even of the exact value."""
    dt = np.dtype(dtype)
    if t.width <= _DOUBLE_EXACT_BITS:
        exact = np.ldexp(np.asarray(m, np.int64).astype(np.float64), -t.fractional)
        return exact.astype(dt)
    return np.ldexp(np.asarray(m, np.int64).astype(dt), -t.fractional).astype(dt)
