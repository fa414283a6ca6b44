"""Look-up tables of hls4ml's activations, computed as the C simulation computes them.

The C++ fills these tables in single precision with the C library (``expf``, ``tanhf``), so
this module calls the same libm functions through ctypes and rounds every intermediate
to float32 where the C++ does. Only model building needs this; saved models store tables.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache

import numpy as np

from emulator.fixedpoint.cast import to_float
from emulator.fixedpoint.errors import FixedPointError
from emulator.fixedpoint.types import FixedType

__all__ = [
    "ceillog2",
    "exp_table",
    "index_value",
    "inv_table",
    "legacy_exp_table",
    "legacy_inv_table",
    "sigmoid_table",
    "tanh_table",
]


def ceillog2(x: int) -> int:
    """``nnet::ceillog2``: address bits of a table (1 for sizes up to 2)."""
    return 1 if x <= 2 else 1 + ceillog2((x + 1) // 2)


@cache
def _libm(name: str) -> Callable[[float], float]:
    path = ctypes.util.find_library("m")
    if path is None:
        msg = "the C math library (libm) is not available to build activation tables"
        raise FixedPointError(msg)
    fn = getattr(ctypes.CDLL(path), name)
    fn.restype = ctypes.c_float
    fn.argtypes = [ctypes.c_float]
    return fn  # type: ignore[no-any-return]


def _f32(v: float) -> float:
    return float(np.float32(v))


def _quantize_floats(values: list[float], t: FixedType) -> np.ndarray:
    return np.array([t.quantize(v) for v in values], dtype=np.int64)


def sigmoid_table(size: int, table_t: FixedType) -> np.ndarray:
    """``init_sigmoid_table``: ``1.0 / (1 + expf(-x))`` on x in [-8, 8)."""
    expf = _libm("expf")
    vals = []
    for i in range(size):
        x = _f32(2 * 8.0 * (i - size / 2.0) / size)
        denom = float(np.float32(1) + np.float32(expf(-x)))
        vals.append(_f32(1.0 / denom))
    return _quantize_floats(vals, table_t)


def tanh_table(size: int, table_t: FixedType) -> np.ndarray:
    """``init_tanh_table``: ``tanhf(x)`` on x in [-4, 4)."""
    tanhf = _libm("tanhf")
    return _quantize_floats([tanhf(_f32(2 * 4.0 * (i - size / 2.0) / size)) for i in range(size)], table_t)


def index_value(i: int, size: int, addr_t: FixedType) -> float:
    """``softmax_real_val_from_idx``: the value whose top address bits are ``i``, as float32."""
    shift = addr_t.width - ceillog2(size)
    raw = i << shift
    if addr_t.signed and raw >> (addr_t.width - 1):
        raw -= 1 << addr_t.width
    return float(to_float(np.array([raw]), addr_t, np.float32)[0])


def exp_table(size: int, addr_t: FixedType, table_t: FixedType, exp_scale: float, *, negative: bool) -> np.ndarray:
    """``init_exp_table``: ``expf(±x · exp_scale)`` at every table address."""
    expf = _libm("expf")
    vals = []
    for i in range(size):
        x = float(np.float32(index_value(i, size, addr_t)) * np.float32(exp_scale))
        vals.append(expf(-x if negative else x))
    return _quantize_floats(vals, table_t)


def inv_table(size: int, addr_t: FixedType, table_t: FixedType) -> np.ndarray:
    """``init_invert_table``: ``1 / x`` in float32 (``x = 0`` gives +inf, cast like any double)."""
    vals = []
    for i in range(size):
        x = index_value(i, size, addr_t)
        vals.append(float(np.float32(1.0) / np.float32(x)) if x != 0 else float("inf"))
    return _quantize_floats(vals, table_t)


def legacy_exp_table(size: int, table_t: FixedType) -> np.ndarray:
    """``init_exp_table_legacy``: ``expf(x)`` on x in [-8, 8) (x computed in double, stored as float)."""
    expf = _libm("expf")
    return _quantize_floats([expf(_f32(2 * 8.0 * (i - size / 2.0) / size)) for i in range(size)], table_t)


def legacy_inv_table(size: int, table_t: FixedType) -> np.ndarray:
    """``init_invert_table_legacy``: ``1.0 / x`` in double for x = float(64 i / size) > 0, else 0."""
    return _quantize_floats([1.0 / x if (x := _f32(64.0 * i / size)) > 0 else 0.0 for i in range(size)], table_t)
