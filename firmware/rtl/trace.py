"""An engine model (``.fxp``) as a da4ml traced program: the same integer arithmetic, as logic.

Each layer of :class:`~emulator.fixedpoint.FixedPointModel` is rebuilt from its stored
mantissas and types (not from Keras), so the hardware is checked against what the emulator
runs. Values are traced flat (channels last), exactly as the engine holds them. Dense and
convolution sums are exact constant-matrix products (da4ml's distributed arithmetic), then
cast like ``accum_t``/``result_t``; every rounding and overflow mode goes through
:func:`firmware.rtl._cast.cast_var`. The sigmoid/tanh table is a ROM addressed by the index
the engine computes.

>>> import numpy as np
>>> from emulator.fixedpoint import FixedPointModel, FixedType
>>> from emulator.fixedpoint.layers import Activation, Dense
>>> t_in, t_w, t_acc = FixedType(8, 3), FixedType(6, 2), FixedType(16, 6)
>>> dense = Dense("d1", t_in, t_acc, (2,), (1,), weight=np.array([[8], [-4]]), bias=np.array([1]),
...               weight_type=t_w, bias_type=t_w, accum_type=t_acc)
>>> relu = Activation("r1", t_acc, FixedType.parse("ap_ufixed<6,3,AP_RND_CONV,AP_SAT>"), (1,), (1,),
...                   function="relu")
>>> traced = trace_model(FixedPointModel(t_in, (2,), (dense, relu)))
>>> traced.predict_mantissas(np.array([[48, 8], [-32, 0]])).tolist()
[[6], [0]]
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from emulator.fixedpoint import FixedPointModel, FixedType
from emulator.fixedpoint._dense import conv_index
from emulator.fixedpoint._pool import pool_index
from emulator.fixedpoint.layers import Activation, BatchNorm, Conv, Dense, Lut, Op, Pad, Pool, Reshape
from emulator.fixedpoint.types import Rounding
from firmware.errors import FirmwareError, UnsupportedError
from firmware.rtl._cast import cast_var, kif

__all__ = ["TracedModel", "trace_model"]

log = logging.getLogger(__name__)

_RANGE = {"sigmoid": 16, "tanh": 8}  # the engine's table ranges (nnet::sigmoid / nnet::tanh)
Vars = np.ndarray  # flat object array of da4ml FixedVariable


def _da4ml() -> Any:
    try:
        import da4ml.trace as trace
    except ImportError as exc:
        msg = "RTL generation needs da4ml: pip install 'l1emu[rtl]'"
        raise FirmwareError(msg) from exc
    return trace


@dataclass(frozen=True)
class TracedModel:
    """A model's da4ml combinational program and the fixed-point types at its ends."""

    name: str
    comb: Any  # da4ml.types.CombLogic
    input_type: FixedType
    output_type: FixedType
    n_inputs: int
    n_outputs: int

    def predict_mantissas(self, m: np.ndarray) -> np.ndarray:
        """da4ml's software run of the program: input mantissas in, output mantissas out (int64)."""
        x = np.ldexp(np.asarray(m, np.float64).reshape(-1, self.n_inputs), -self.input_type.fractional)
        y = np.asarray(self.comb.predict(x, n_threads=1), np.float64).reshape(-1, self.n_outputs)
        return np.rint(np.ldexp(y, self.output_type.fractional)).astype(np.int64)


def _real(m: np.ndarray, t: FixedType) -> np.ndarray:
    """Exact float64 values of mantissas of ``t`` (they are at most 62 bits wide; weights far less)."""
    return np.ldexp(np.asarray(m, np.float64), -t.fractional)


def _const(m: int, t: FixedType) -> Decimal:
    return Decimal(int(m)) * Decimal(2) ** -t.fractional


def _cast_all(x: Vars, t: FixedType) -> Vars:
    return np.array([cast_var(v, t) for v in x], dtype=object)


def _products(rows: Vars, op: Dense) -> Vars:
    """``(n_rows, n_out)`` ``accum_t`` sums ``Σ (accum_t)(x·w) + (accum_t) b`` of ``rows`` ``(n_rows, k)``."""
    trace = _da4ml()
    a = op.accum_type
    w = _real(op.weight, op.weight_type)
    scale = Fraction(2) ** -op.bias_type.fractional
    bias = [_const(a.quantize(int(b) * scale), a) for b in op.bias]
    s = op.in_type.fractional + op.weight_type.fractional - a.fractional
    if s <= 0:  # every product exact in accum_t: one constant-matrix product per row
        acc = np.asarray((trace.FixedVariableArray(rows) @ w)._vars, dtype=object).reshape(rows.shape[0], -1)
    else:  # each product quantized to accum_t on its own, as nnet::dense_latency does
        q = FixedType(62, 62 - a.fractional, signed=True, rounding=a.rounding)  # rounding only, never overflows
        acc = np.empty((rows.shape[0], w.shape[1]), dtype=object)
        for r in range(rows.shape[0]):
            for j in range(w.shape[1]):
                terms = [cast_var(rows[r, i] * Decimal(float(w[i, j])), q) for i in np.flatnonzero(w[:, j])]
                acc[r, j] = sum(terms[1:], terms[0]) if terms else 0.0
    out = np.empty(acc.shape, dtype=object)
    lo, hi = _const(a.sat_min_int, a), _const(a.max_int, a)
    for r in range(acc.shape[0]):
        for j in range(acc.shape[1]):
            v = acc[r, j] + bias[j]
            if not hasattr(v, "quantize"):  # no input reaches this output: a constant
                v = trace.FixedVariable.from_const(Decimal(v), hwconf=rows.flat[0].hwconf)
            if (v.low < lo or v.high > hi) and a.overflow.value != "WRAP":
                msg = (f"layer {op.name!r}: accum_t {a} saturates in firmware order (the engine's 'sat' plan); "
                       "an RTL form of a saturating accumulator that can overflow is not implemented")  # fmt: skip
                raise UnsupportedError(msg)
            out[r, j] = cast_var(v, a)
    return out


def _dense(op: Op, x: Vars) -> Vars:
    assert isinstance(op, Dense)
    if isinstance(op, Conv):
        h, w, c = op.in_shape if len(op.in_shape) == 3 else (1, *op.in_shape)
        idx = conv_index((h, w, c), op.kernel, op.stride, op.pads)
        zero = _zero_like(x)
        padded = np.append(x, zero)
        rows = padded[np.where(idx < 0, len(x), idx)]
    else:
        rows = x.reshape(1, -1)
    acc = _products(rows, op)
    return _cast_all(acc.reshape(-1), op.out_type)


def _zero_like(x: Vars) -> Any:
    return _da4ml().FixedVariable.from_const(Decimal(0), hwconf=x.flat[0].hwconf)


def _activation(op: Op, x: Vars) -> Vars:
    assert isinstance(op, Activation)
    if op.function == "linear":
        return _cast_all(x, op.out_type)
    cap = Decimal(op.max_value)
    out = []
    for v in x:
        r = v.relu()
        if op.function == "relu_max":
            r = r.min_of(cap)
        out.append(cast_var(r, op.out_type))
    return np.array(out, dtype=object)


def _batchnorm(op: Op, x: Vars) -> Vars:
    assert isinstance(op, BatchNorm)
    n = len(op.scale)
    out = []
    for j, v in enumerate(x):
        s, b = _const(op.scale[j % n], op.scale_type), _const(op.bias[j % n], op.bias_type)
        out.append(cast_var(v * s + b, op.out_type))
    return np.array(out, dtype=object)


def _pad(op: Op, x: Vars) -> Vars:
    assert isinstance(op, Pad)
    h, w, c = op.in_shape if len(op.in_shape) == 3 else (1, *op.in_shape)
    top, bottom, left, right = op.pads
    r, cc, ch = np.meshgrid(np.arange(h + top + bottom), np.arange(w + left + right), np.arange(c), indexing="ij")
    row, col = r - top, cc - left
    inside = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    idx = np.where(inside, (row * w + col) * c + ch, len(x)).reshape(-1)
    return np.append(x, _zero_like(x))[idx]


def _pool(op: Op, x: Vars) -> Vars:
    assert isinstance(op, Pool)
    if op.op != "max":
        msg = f"layer {op.name!r}: average pooling (a division by the window count) has no RTL form here"
        raise UnsupportedError(msg)
    t = op.in_type
    shape = op.in_shape if len(op.in_shape) == 3 else (1, *op.in_shape)
    idx = pool_index((shape[0], shape[1], shape[2]), op.pool, op.stride, op.pads)
    pad_m = t.min_int if t.signed else 1 << (t.width - 1)  # what the engine's padding reads
    pad = _da4ml().FixedVariable.from_const(_const(pad_m, t), hwconf=x.flat[0].hwconf)
    padded = np.append(x, pad)
    out = []
    for window in np.where(idx < 0, len(x), idx):
        vs = [padded[i] for i in window]
        top = vs[0]
        for v in vs[1:]:
            top = top.max_of(v)
        out.append(cast_var(cast_var(top, op.accum_type), op.out_type))
    return np.array(out, dtype=object)


def _lut(op: Op, x: Vars) -> Vars:
    """``table[clip(int(trunc(x·N/R)) + N/2, 0, N-1)]`` cast to ``res_T``, as a ROM per input."""
    assert isinstance(op, Lut)
    n, r = len(op.table), _RANGE[op.function]
    trn_zero = FixedType(62, 62, signed=True, rounding=Rounding.TRN_ZERO)  # trunc toward zero to an integer
    int32 = FixedType(32, 32, signed=True)  # the C++ int conversion: low 32 bits
    index_t = FixedType(max(n - 1, 1).bit_length(), max(n - 1, 1).bit_length(), signed=False)
    t_scale = Fraction(2) ** -op.table_type.fractional
    out_m = [op.out_type.quantize(int(m) * t_scale) for m in op.table]
    values = _real(np.array(out_m, np.int64), op.out_type)
    result = []
    for v in x:
        q = cast_var(cast_var(v * (Decimal(n) / Decimal(r)), trn_zero), int32) + Decimal((r // 2 * n) // r)
        idx = q.max_of(Decimal(0)).min_of(Decimal(n - 1))
        idx = cast_var(idx, index_t)
        lo, hi, step = int(idx.low), int(idx.high), int(idx.step) if idx.step >= 1 else 1
        result.append(idx.lookup(values[lo : hi + 1 : step]))
    return np.array(result, dtype=object)


def _reshape(op: Op, x: Vars) -> Vars:
    return x


_LAYERS: dict[type, Callable[[Op, Vars], Vars]] = {
    Dense: _dense,
    Conv: _dense,
    Activation: _activation,
    BatchNorm: _batchnorm,
    Reshape: _reshape,
    Pad: _pad,
    Pool: _pool,
    Lut: _lut,
}


def trace_model(model: FixedPointModel) -> TracedModel:
    """Trace every layer of ``model`` into one da4ml combinational program (inputs: ``input_type`` mantissas)."""
    trace = _da4ml()
    k, i, f = kif(model.input_type)
    n = model.n_inputs
    inp = trace.FixedVariableArray.from_kif(np.full(n, k), np.full(n, i), np.full(n, f), hwconf=(1, -1, -1))
    x: Vars = np.asarray(inp._vars, dtype=object).reshape(-1)
    for op in model.layers:
        handler = _LAYERS.get(type(op))
        if handler is None:
            msg = f"model {model.name!r}: layer {op.name!r} ({op.kind}) has no RTL form (supported: "
            msg += ", ".join(sorted({str(getattr(c, "kind", c.__name__)) for c in _LAYERS})) + ")"
            raise UnsupportedError(msg)
        x = handler(op, x)
        log.debug("%s: traced %s (%d outputs)", model.name, op.name, len(x))
    for j, v in enumerate(x):
        if not hasattr(v, "quantize"):
            x[j] = trace.FixedVariable.from_const(Decimal(v), hwconf=inp._vars.flat[0].hwconf)
    out = trace.FixedVariableArray(x, hwconf=(1, -1, -1))
    comb = trace.comb_trace(inp, out)
    return TracedModel(model.name, comb, model.input_type, model.output_type, n, model.n_outputs)
