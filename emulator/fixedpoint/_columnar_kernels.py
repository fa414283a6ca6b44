"""Numba kernels of the columnar plan: events in SIMD lanes, mantissas held as exact floats.

Blocks are feature-major ``(n_features, n_events)``. Every value is an integer mantissa
stored in float32 (or float64) whose magnitude the plan has bounded below ``2^24`` (``2^52``),
so products, sums, power-of-two scalings and the float rounding below are all exact.
Kernels are built per (rounding mode, overflow mode, ReLU, float type) by factories, so
each compiles to a branch-free loop in its own float type (no float64 promotion, no
indirect calls) that LLVM vectorises.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

import numba as nb
import numpy as np

from emulator.fixedpoint._vkernels import round_fn

__all__ = [
    "NO_CHECK",
    "SATURATE",
    "WRAP",
    "cap",
    "cast_kernel",
    "columns_out",
    "copy_flat",
    "dense_kernel",
    "dense_sat_kernel",
    "input_kernel",
    "scale_rows",
    "step_rows",
    "transpose",
]

NO_CHECK, WRAP, SATURATE = 0, 1, 2
_UNROLL = 4  # products per pass over an accumulator row (the plan pads with zero weights)
_TILE = 16  # events per tile of the transposing kernels
_inline = nb.njit(inline="always", cache=False)
_jit = nb.njit(cache=False, nogil=True)
Kernel = Any  # a numba dispatcher


def _jit_named(kernel: Any, *key: object) -> Kernel:
    """``_jit`` of a factory's kernel, its name carrying the factory's arguments.

    numba names compiled code by qualified name and a per-process counter. A cached plan's
    machine code calls its kernels by those names, so two plans cached by different processes
    and loaded into one could call each other's kernel (same name, other constants: wrong
    results). With the arguments in the name, kernels of the same name are the same code.
    """
    tag = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
    kernel.__qualname__ = f"{kernel.__qualname__}_{tag}"
    kernel.__name__ = f"{kernel.__name__}_{tag}"
    return _jit(kernel)


@cache
def overflow_fn(mode: int, zero_on_sat: bool, dtype: type) -> Kernel:
    """``f(r, lo, hi, mod, inv_mod, off)``: wrap into ``[-off, mod - off)`` or clamp to ``[lo, hi]``."""
    zero = dtype(0.0)
    if mode == WRAP:
        return _inline(lambda r, lo, hi, mod, inv_mod, off: r - mod * np.floor((r + off) * inv_mod))
    if mode == SATURATE and zero_on_sat:
        return _inline(lambda r, lo, hi, mod, inv_mod, off: zero if (r < lo or r > hi) else r)
    if mode == SATURATE:
        return _inline(lambda r, lo, hi, mod, inv_mod, off: min(max(r, lo), hi))
    return _inline(lambda r, lo, hi, mod, inv_mod, off: r)


CastSpec = tuple[int, int, bool, bool, float, float, float, float, float]
"""``(q, mode, zero_on_sat, relu, scale, lo, hi, mod, off)`` of one cast."""


@cache
def _stage(spec: CastSpec, dtype: type) -> Kernel:
    """One cast as an inline function of a value, its constants folded in."""
    q, mode, zero_on_sat, relu, *nums = spec
    rnd, ovf = round_fn(q, dtype), overflow_fn(mode, zero_on_sat, dtype)
    scale, lo, hi, mod, off = (dtype(v) for v in nums)
    inv_mod, zero = dtype(1.0) / mod, dtype(0.0)
    if relu:
        return _inline(lambda v: ovf(rnd(max(v, zero) * scale), lo, hi, mod, inv_mod, off))
    return _inline(lambda v: ovf(rnd(v * scale), lo, hi, mod, inv_mod, off))


def _compose(f: Kernel, g: Kernel) -> Kernel:
    return _inline(lambda v: g(f(v)))


@cache
def cast_kernel(specs: tuple[CastSpec, ...], dtype: type) -> Kernel:
    """``k(x, out)``: a chain of casts applied element-wise in one pass (flat arrays)."""
    fn = _stage(specs[0], dtype)
    for spec in specs[1:]:
        fn = _compose(fn, _stage(spec, dtype))

    def kernel(x: np.ndarray, out: np.ndarray) -> None:
        for i in range(x.size):
            out[i] = fn(x[i])

    return _jit_named(kernel, "cast", specs, dtype)


@cache
def input_kernel(q: int, mode: int, zero_on_sat: bool) -> Kernel:
    """``k(x, scale, lo, hi, mod, off, limit, out) -> n_bad``: the input cast in float64 (flat).

    Values this cannot do exactly (NaN, ±inf, ``|y| >= limit``, a scaling that underflowed)
    are counted and left for the caller's exact scalar path.
    """
    rnd, ovf = round_fn(q, np.float64), overflow_fn(mode, zero_on_sat, np.float64)

    def kernel(x: np.ndarray, scale: float, lo: float, hi: float, mod: float, off: float, limit: float,
               out: np.ndarray) -> int:  # fmt: skip
        inv_mod = 1.0 / mod
        n_ok = 0
        for i in range(x.size):
            xi = np.float64(x[i])
            y = xi * scale
            ok = (abs(y) < limit) & ((y != 0.0) | (xi == 0.0))
            n_ok += int(ok)
            out[i] = ovf(rnd(y if ok else 0.0), lo, hi, mod, inv_mod, off)
        return x.size - n_ok

    return _jit_named(kernel, "input", q, mode, zero_on_sat)


@_inline
def _start_row(out: np.ndarray, j: int, bias: Any, n: int) -> np.ndarray:
    """Output row ``j`` of a dense layer, every event's accumulator set to the bias."""
    acc: np.ndarray = out[j]
    for e in range(n):
        acc[e] = bias
    return acc


@cache
def dense_kernel(q: int | None, dtype: type) -> Kernel:
    """``k(x, ptr, idx, w, bias, out)``: ``out[j] = bias[j] + Σ_k round(w[k]·x[idx[k]])`` over
    ``k`` in ``ptr[j]:ptr[j+1]`` (multiples of four; ``q`` None: products need no rounding,
    else ``w`` carries the ``2^-s`` and each product is rounded on its own)."""
    rnd = round_fn(0 if q is None else q, dtype)
    exact = q is None

    def kernel(x: np.ndarray, ptr: np.ndarray, idx: np.ndarray, w: np.ndarray, bias: np.ndarray,
               out: np.ndarray) -> None:  # fmt: skip
        n = x.shape[1]
        for j in range(out.shape[0]):
            acc = _start_row(out, j, bias[j], n)
            for k in range(ptr[j], ptr[j + 1], _UNROLL):
                x0, x1, x2, x3 = x[idx[k]], x[idx[k + 1]], x[idx[k + 2]], x[idx[k + 3]]
                w0, w1, w2, w3 = w[k], w[k + 1], w[k + 2], w[k + 3]
                if exact:
                    for e in range(n):
                        acc[e] += (x0[e] * w0 + x1[e] * w1) + (x2[e] * w2 + x3[e] * w3)
                else:
                    for e in range(n):
                        acc[e] += (rnd(x0[e] * w0) + rnd(x1[e] * w1)) + (rnd(x2[e] * w2) + rnd(x3[e] * w3))

    return _jit_named(kernel, "dense", q, dtype)


@cache
def dense_sat_kernel(q: int | None, zero_on_sat: bool, dtype: type) -> Kernel:
    """``k(x, ptr, idx, w, bias, lo, hi, out)``: :func:`dense_kernel` for a saturating
    ``accum_t``: each product and each ``+=`` saturates, in the firmware's input order."""
    rnd = round_fn(0 if q is None else q, dtype)
    ovf = overflow_fn(SATURATE, zero_on_sat, dtype)
    exact = q is None
    one = dtype(1.0)

    def kernel(x: np.ndarray, ptr: np.ndarray, idx: np.ndarray, w: np.ndarray, bias: np.ndarray, lo: Any,
               hi: Any, out: np.ndarray) -> None:  # fmt: skip
        n = x.shape[1]
        for j in range(out.shape[0]):
            acc = _start_row(out, j, bias[j], n)
            for k in range(ptr[j], ptr[j + 1]):
                xr = x[idx[k]]
                wk = w[k]
                for e in range(n):
                    p = xr[e] * wk if exact else rnd(xr[e] * wk)
                    acc[e] = ovf(acc[e] + ovf(p, lo, hi, one, one, one), lo, hi, one, one, one)

    return _jit_named(kernel, "dense_sat", q, zero_on_sat, dtype)


@_jit
def scale_rows(x: np.ndarray, s: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """Batch normalisation: ``out[k] = x[k] · s[k] + b[k]`` (rows are features)."""
    n = x.shape[1]
    for k in range(x.shape[0]):
        sk, bk = s[k], b[k]
        xr, orow = x[k], out[k]
        for e in range(n):
            orow[e] = xr[e] * sk + bk


@_jit
def step_rows(x: np.ndarray, hi: np.ndarray, lo: np.ndarray, levels: np.ndarray, out: np.ndarray) -> None:
    """Binary/ternary activations: ``out[k] = levels[0] if x[k] > hi[k] else levels[2] if x[k] <= lo[k]
    else levels[1]`` (rows are features)."""
    above, between, below = levels[0], levels[1], levels[2]
    n = x.shape[1]
    for k in range(x.shape[0]):
        hk, lk = hi[k], lo[k]
        xr, orow = x[k], out[k]
        for e in range(n):
            v = xr[e]
            orow[e] = above if v > hk else (below if v <= lk else between)


@_jit
def transpose(a: np.ndarray, out: np.ndarray) -> None:
    """``out = a.T`` (2-D), one output row at a time."""
    r, c = a.shape
    for j in range(c):
        row = out[j]
        for i in range(r):
            row[i] = a[i, j]


@_jit
def copy_flat(a: np.ndarray, out: np.ndarray) -> None:
    """``out[:] = a`` with a numeric conversion (flat arrays)."""
    for i in range(a.size):
        out[i] = a[i]


@_jit
def cap(before: np.ndarray, cap_in: Any, cap_out: Any, out: np.ndarray) -> None:
    """``relu_max``: ``out[i] = cap_out`` where the layer's input ``before[i] > cap_in``."""
    for i in range(before.size):
        if before[i] > cap_in:
            out[i] = cap_out


@_jit
def columns_out(m: np.ndarray, out: np.ndarray, scale: float) -> None:
    """Feature-major mantissas ``(n_out, n)`` -> event-major ``out`` ``(n, n_out)``: int64
    mantissas (``scale`` 1), or their values ``m · scale`` rounded once to ``out``'s float type."""
    n_out, n = m.shape
    for e0 in range(0, n, _TILE):
        e1 = min(e0 + _TILE, n)
        for j in range(n_out):
            row = m[j]
            for e in range(e0, e1):
                out[e, j] = np.float64(row[e]) * scale + 0.0  # + 0.0: never -0.0
