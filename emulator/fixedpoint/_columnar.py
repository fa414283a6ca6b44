"""The columnar plan: a whole dense network compiled into one numba loop over event blocks.

The layer-by-layer path (:meth:`Op.forward`) holds a block as ``(n_events, n_features)``
int64 mantissas. For the networks trigger models are made of (dense layers, ReLUs, linear
casts, reshapes) this plan instead holds ``(n_features, n_events)`` mantissas as exact
floats, so each weight becomes one vector multiply-add over a row of events, zero weights
(pruning) cost nothing, and float32 doubles the lanes of int64:

* at build time it bounds every mantissa, product and partial sum from the types and the
  weights, and picks float32 when all stay below ``2^24`` (float64 below ``2^52``); it
  covers dense layers and convolutions (a convolution is a dense layer over its windows),
  batch normalisation, linear/ReLU casts and reshapes; from the first layer it cannot run
  (tables, softmax, pooling, wider values) the layer-by-layer path takes over;
* the products of a layer are grouped per output (padded with zero weights to multiples of
  four); products that need rounding (``s > 0``) are rounded one by one with the
  accumulator's mode, as ``nnet::dense_latency`` does; a saturating ``accum_t`` saturates
  each product and each addition in the firmware's input order;
* casts (wrap/saturate, every rounding mode, ReLU) are exact float arithmetic;
* the steps are written out as the source of one function (like hls4ml writes C++) that
  loops over small blocks of events, so every row stays in cache and Python is out of the
  loop. Only kernel names and numbers enter the source; functions are cached by source.

Results are bit-identical to the layer-by-layer path; the tests compare both on random
networks and both against hls4ml's C simulation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numba as nb
import numpy as np

from emulator.fixedpoint import _columnar_kernels as ck
from emulator.fixedpoint._base import Op
from emulator.fixedpoint._dense import Conv, Dense
from emulator.fixedpoint._elementwise import Activation, BatchNorm, Reshape
from emulator.fixedpoint._kernels import cast_float_kernel
from emulator.fixedpoint.types import FixedType, Overflow

__all__ = ["ColumnarPlan", "build_columnar"]

_LIMITS = ((np.float32, 24), (np.float64, 52))  # integer mantissas exact below 2^bits
_INPUT_LIMIT = 2.0**52  # the input cast runs in float64
BLOCK = 256  # events per block: every row of every layer stays in L1/L2


class _UnsupportedError(Exception):
    """This network (or this float width) cannot run columnar."""


def _type_bound(t: FixedType) -> int:
    return max(-t.min_int, t.max_int)


def _overflow_args(t: FixedType, check: bool) -> tuple[int, bool, tuple[float, float, float, float]]:
    """(mode, zero on saturation, (lo, hi, mod, off)) of a cast to ``t`` (see ``overflow_fn``)."""
    if not check:
        return ck.NO_CHECK, False, (0.0, 0.0, 1.0, 0.0)
    if t.overflow is Overflow.WRAP:
        off = float(2 ** (t.width - 1)) if t.signed else 0.0
        return ck.WRAP, False, (0.0, 0.0, float(2**t.width), off)
    zero = t.overflow is Overflow.SAT_ZERO
    return ck.SATURATE, zero, (float(t.sat_min_int), float(t.max_int), 1.0, 0.0)


class _Builder:
    """Bounds every value on the way through the layers and writes the loop body.

    Raises :class:`_UnsupportedError` when a layer or a value range rules this float type out.
    """

    def __init__(self, dtype: type, bits: int, n_in: int) -> None:
        self.dtype = dtype
        self.dt = f"np.{np.dtype(dtype).name}"
        self.limit = 1 << bits
        self.lines: list[str] = []
        self.buffers: list[int] = [n_in]  # features of buffer v0, v1, ...
        self.arrays: list[np.ndarray] = []
        self.kernels: dict[str, Any] = {}
        self.cur = 0  # the buffer holding the current layer's mantissas
        self.pending: list[ck.CastSpec] = []  # casts not yet emitted (fused into one pass)

    def check(self, magnitude: int) -> None:
        if magnitude >= self.limit:
            raise _UnsupportedError

    def num(self, value: float) -> str:
        return f"{self.dt}({float(value)!r})"

    def kernel(self, name: str, fn: Any) -> str:
        self.kernels[name] = fn
        return name

    def new_buffer(self, n_features: int) -> int:
        self.buffers.append(n_features)
        return len(self.buffers) - 1

    def array(self, a: np.ndarray) -> str:
        self.arrays.append(np.ascontiguousarray(a))
        return f"a{len(self.arrays) - 1}"

    def cast(self, frac: int, bound: int, t: FixedType, *, check: bool, relu: bool) -> int:
        """Cast mantissas at ``frac`` bits (``|m| <= bound``) to ``t``; returns the new bound."""
        d = frac - t.fractional
        if not -60 <= d <= 60:
            raise _UnsupportedError
        scaled = bound >> d if d > 0 else bound << -d
        mode, zero, (lo, hi, mod, off) = _overflow_args(t, check)
        wraps = mode == ck.WRAP
        self.check(scaled + 2 + (1 << t.width if wraps else 0))
        out_bound = _type_bound(t) if wraps else min(scaled + 1, _type_bound(t))  # |clamp(r)| <= |r|
        if d == 0 and not check and not relu:
            return out_bound
        spec = (t.rounding.code, mode, zero, relu, math.ldexp(1.0, -d), lo, hi, mod, off)
        self.pending.append(spec)
        return out_bound

    def flush(self) -> None:
        """Emit the pending casts as one fused element-wise pass."""
        if not self.pending:
            return
        specs, self.pending = tuple(self.pending), []
        name = self.kernel(f"cast{len(self.kernels)}", ck.cast_kernel(specs, self.dtype))
        src, dst = self.cur, self.new_buffer(self.buffers[self.cur])
        self.lines.append(f"{name}(v{src}, v{dst})")
        self.cur = dst

    def dense(self, op: Dense, bound: int) -> int:
        w, bias = _conv_as_dense(op) if isinstance(op, Conv) else (op._w, op._bias_acc)  # aligned to accum_t
        s, a = op._s, op.accum_type
        if bound.bit_length() + int(np.abs(w).max(initial=0)).bit_length() > 60:
            raise _UnsupportedError
        prod = bound * np.abs(w)
        self.check(int(prod.max(initial=0)) + (1 << s if s else 0))
        per_product = (prod >> s) + (prod > 0) if s else prod
        acc_bound = int((per_product.sum(axis=0) + np.abs(bias)).max(initial=0))
        if op.plan == "sat":  # every product and partial sum saturates: they stay in accum_t's range
            acc_bound = min(acc_bound, _type_bound(a))
            self.check(_type_bound(a) + int(per_product.max(initial=0)))
        self.check(acc_bound)
        self.flush()
        ptr, idx, vals = _grouped(w)
        vals_f: np.ndarray = (vals.astype(np.float64) * math.ldexp(1.0, -s)).astype(self.dtype)
        q = a.rounding.code if s else None
        n_in, n_out = w.shape
        src, dst = self.cur, self.new_buffer(n_out)
        args = ", ".join(self.array(v) for v in (ptr, idx, vals_f, bias.astype(self.dtype)))
        if op.plan == "sat":
            zero = a.overflow is Overflow.SAT_ZERO
            name = self.kernel(f"dense_sat_{q}_{int(zero)}", ck.dense_sat_kernel(q, zero, self.dtype))
            args += f", {self.num(a.sat_min_int)}, {self.num(a.max_int)}"
        else:
            name = self.kernel(f"dense_{q}", ck.dense_kernel(q, self.dtype))
        self.lines.append(f"{name}(v{src}.reshape(({n_in}, nb)), {args}, v{dst}.reshape(({n_out}, nb)))")
        self.cur = dst
        if op._acc_ovf and op.plan != "sat":  # a wrapping accumulator: wrap once, modular sums agree
            acc_bound = self.cast(a.fractional, acc_bound, a, check=True, relu=False)
        return self.cast(a.fractional, acc_bound, op.out_type, check=op._res_check, relu=False)

    def batchnorm(self, op: BatchNorm, bound: int) -> int:
        s_max, b_max = int(np.abs(op._s).max(initial=0)), int(np.abs(op._b).max(initial=0))
        if bound.bit_length() + s_max.bit_length() > 60:
            raise _UnsupportedError
        total = bound * s_max + b_max
        self.check(total)
        self.flush()
        src, dst = self.cur, self.new_buffer(op.n_in)
        n = op.n_in
        arrays = ", ".join(self.array(v.astype(self.dtype)) for v in (op._s, op._b))
        name = self.kernel("scale_rows", ck.scale_rows)
        self.lines.append(f"{name}(v{src}.reshape(({n}, nb)), {arrays}, v{dst}.reshape(({n}, nb)))")
        self.cur = dst
        return self.cast(op._frac, total, op.out_type, check=op._check, relu=False)

    def activation(self, op: Activation, bound: int) -> int:
        t_in = op.in_type
        if op.function == "relu_max":
            self.flush()  # the cap compares this layer's own input
        before = self.cur
        out = self.cast(t_in.fractional, bound, op.out_type, check=op._check, relu=op.function != "linear")
        if op.function != "relu_max":
            return out
        self.flush()
        if self.cur == before:  # an identity cast: the cap needs a copy to write into
            dst = self.new_buffer(self.buffers[before])
            self.lines.append(f"{self.kernel('copy_flat', ck.copy_flat)}(v{before}, v{dst})")
            self.cur = dst
        f_in = t_in.fractional
        cap_in = op.max_value << f_in if f_in >= 0 else op.max_value >> -f_in
        cap_out = op.out_type.quantize(op.max_value)
        self.check(abs(cap_in))
        cap = self.kernel("cap", ck.cap)
        self.lines.append(f"{cap}(v{before}, {self.num(cap_in)}, {self.num(cap_out)}, v{self.cur})")
        return max(out, abs(cap_out))

    def source(self, input_type: FixedType) -> str:
        self.flush()
        t = input_type
        mode, zero, (lo, hi, mod, off) = _overflow_args(t, True)
        self.kernel("inp", ck.input_kernel(t.rounding.code, mode, zero))
        self.kernel("transpose", ck.transpose)
        self.kernel("exact_input", cast_float_kernel)
        self.kernel("columns_out", ck.columns_out)
        n_in, n_out = self.buffers[0], self.buffers[self.cur]
        args = "".join(f", a{i}" for i in range(len(self.arrays)))
        exact = ", ".join(map(str, (t.fractional, t.rounding.code, t.sat_min_int, t.max_int, t.width, t.signed,
                                    t.overflow.code)))  # fmt: skip
        cast_in = ", ".join(repr(v) for v in (math.ldexp(1.0, t.fractional), lo, hi, mod, off, _INPUT_LIMIT))
        head = [
            f"def run(x, out, scale, bs{args}):",
            "    n = x.shape[0]",
            f"    raw = np.empty({n_in} * bs, x.dtype)",
            f"    fixed = np.empty({n_in} * bs, np.int64)",
            *(f"    b{i} = np.empty({f} * bs, {self.dt})" for i, f in enumerate(self.buffers)),
            "    for e0 in range(0, n, bs):",
            "        nb = min(bs, n - e0)",
            f"        r = raw[: {n_in} * nb]",
            f"        transpose(x[e0 : e0 + nb], r.reshape(({n_in}, nb)))",
            *(f"        v{i} = b{i}[: {f} * nb]" for i, f in enumerate(self.buffers)),
            f"        if inp(r, {cast_in}, v0):",
            f"            exact_input(r, fixed[: {n_in} * nb], {exact})",
            f"            copy_flat(fixed[: {n_in} * nb], v0)",
        ]
        self.kernel("copy_flat", ck.copy_flat)
        body = [f"        {line}" for line in self.lines]
        tail = [f"        columns_out(v{self.cur}.reshape(({n_out}, nb)), out[e0 : e0 + nb], scale)"]
        return "\n".join([*head, *body, *tail]) + "\n"


def _conv_as_dense(op: Conv) -> tuple[np.ndarray, np.ndarray]:
    """A convolution as the dense layer it is: ``(n_in, n_pixels · n_filters)`` weights, each
    output pixel reading its own window (padding reads nothing), and the biases per output."""
    n_pix, k = op._idx.shape
    n_filt = op._w.shape[1]
    full = np.zeros((op.n_in, n_pix * n_filt), np.int64)
    for p in range(n_pix):
        for kk in range(k):
            i = op._idx[p, kk]
            if i < op.n_in:
                full[i, p * n_filt : (p + 1) * n_filt] = op._w[kk]
    return full, np.tile(op._bias_acc, n_pix)


def _grouped(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-zero weights per output column, in input order, padded to multiples of four."""
    ptr, idx, vals = [0], [], []
    for j in range(w.shape[1]):
        nz = np.flatnonzero(w[:, j])
        pad = -len(nz) % 4
        idx += [*nz.tolist(), *([0] * pad)]
        vals += [*w[nz, j].tolist(), *([0] * pad)]
        ptr.append(len(idx))
    return np.array(ptr, np.int64), np.array(idx, np.int64), np.array(vals, np.int64)


@cache
def _compile(source: str, kernels: tuple[tuple[str, Any], ...]) -> Callable[..., None]:
    """The njit function of a generated source (same structure -> same compiled function)."""
    namespace: dict[str, Any] = {"np": np, **dict(kernels)}
    exec(compile(source, "<l1emu columnar plan>", "exec"), namespace)  # our own source: names and numbers
    fn: Callable[..., None] = nb.njit(cache=False, nogil=True)(namespace["run"])
    return fn


@dataclass(frozen=True, eq=False)
class ColumnarPlan:
    """The first ``n_layers`` layers of a network compiled to one numba loop (see
    :func:`build_columnar`); ``n_outputs`` mantissas per event come out."""

    dtype: type
    n_layers: int
    n_outputs: int
    source: str
    kernels: tuple[tuple[str, Any], ...]
    arrays: tuple[np.ndarray, ...]

    def run(self, x: np.ndarray, out: np.ndarray, scale: float = 1.0, block: int = BLOCK) -> None:
        """Event-major float inputs ``(n, n_in)`` -> ``out`` ``(n, n_outputs)``: int64 output
        mantissas (``scale`` 1), or their values ``m · scale`` rounded once to a float ``out``."""
        _compile(self.source, self.kernels)(x, out, scale, block, *self.arrays)


def build_columnar(input_type: FixedType, layers: Sequence[Op]) -> ColumnarPlan | None:
    """The columnar plan of the longest leading run of layers it supports (float32 when that
    reaches as far as float64), or None when it cannot even start."""
    if not layers:
        return None
    best: tuple[int, _Builder] | None = None
    for dtype, bits in _LIMITS:
        builder = _Builder(dtype, bits, layers[0].n_in)
        n_done = 0
        try:
            builder.check(_type_bound(input_type) + (1 << input_type.width))
            bound = _type_bound(input_type)
            for op in layers:
                bound = _step(builder, op, bound)
                n_done += 1
        except _UnsupportedError:
            pass
        if n_done and (best is None or n_done > best[0]):
            # a layer that failed half-way may have left steps behind: rebuild up to it
            whole = n_done == len(layers)
            best = (n_done, builder if whole else _prefix(dtype, bits, input_type, layers[:n_done]))
        if best is not None and best[0] == len(layers):
            break  # float32 runs the whole network: no need to try float64
    if best is None:
        return None
    n_done, builder = best
    source = builder.source(input_type)
    kernels = tuple(sorted(builder.kernels.items()))
    n_out = math.prod(layers[n_done - 1].out_shape)
    return ColumnarPlan(builder.dtype, n_done, n_out, source, kernels, tuple(builder.arrays))


def _prefix(dtype: type, bits: int, input_type: FixedType, layers: Sequence[Op]) -> _Builder:
    """A fresh builder over layers known to be supported (a failed layer may have left steps)."""
    builder = _Builder(dtype, bits, layers[0].n_in)
    bound = _type_bound(input_type)
    for op in layers:
        bound = _step(builder, op, bound)
    return builder


def _step(builder: _Builder, op: Op, bound: int) -> int:
    if isinstance(op, Reshape):
        return bound
    if isinstance(op, Activation):
        return builder.activation(op, bound)
    if isinstance(op, Dense):
        return builder.dense(op, bound)
    if isinstance(op, BatchNorm):
        return builder.batchnorm(op, bound)
    raise _UnsupportedError
