"""The da4ml trace of engine models equals the engine, layer by layer and for every cast mode.

These run da4ml's own software interpreter of the traced program (no HDL simulator): the
Verilator check of the written Verilog is in ``test_firmware_rtl_sim.py``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointModel, FixedType
from emulator.fixedpoint.layers import Activation, BatchNorm, Conv, Dense, Lut, Op, Pad, Pool, Reshape
from emulator.fixedpoint.types import Overflow, Rounding
from firmware.errors import UnsupportedError
from firmware.rtl.trace import trace_model

pytest.importorskip("da4ml")

T_IN = FixedType(8, 3)
T_W = FixedType(6, 2)


def _inputs(t: FixedType, n_in: int, n: int = 4000, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = rng.integers(t.min_int, t.max_int, (n, n_in), endpoint=True)
    m[: n // 4] //= 8  # small values too: ties and zeros
    return m


def _model(*layers: Op) -> FixedPointModel:
    """The layer-by-layer engine (its numba kernels compile once per mode, not once per model)."""
    return FixedPointModel(layers[0].in_type, layers[0].in_shape, layers,
                           columnar=False)  # fmt: skip


def _check(model: FixedPointModel, n: int = 4000) -> None:
    m = _inputs(model.input_type, model.n_inputs, n)
    want = model.predict_mantissas(np.ldexp(m.astype(np.float64), -model.input_type.fractional))
    got = trace_model(model).predict_mantissas(m)
    bad = np.flatnonzero((got != want).any(axis=1))
    assert bad.size == 0, f"{bad.size} events differ, first {bad[0]}: engine {want[bad[0]]}, trace {got[bad[0]]}"


def _dense(name: str, n_in: int, n_out: int, t_in: FixedType, acc: FixedType, out: FixedType, seed: int = 2,
           weight_type: FixedType = T_W) -> Dense:  # fmt: skip
    rng = np.random.default_rng(seed)
    w = rng.integers(weight_type.min_int, weight_type.max_int, (n_in, n_out), endpoint=True)
    b = rng.integers(weight_type.min_int, weight_type.max_int, n_out, endpoint=True)
    return Dense(name, t_in, out, (n_in,), (n_out,), weight=w, bias=b, weight_type=weight_type, bias_type=weight_type,
                 accum_type=acc)  # fmt: skip


MODES = list(itertools.product(Rounding, Overflow, (True, False)))


@pytest.mark.parametrize(
    ("rounding", "overflow", "signed"), MODES, ids=[f"{r.value}-{o.value}-{'s' if s else 'u'}" for r, o, s in MODES]
)
def test_every_cast_mode_matches_the_engine(rounding: Rounding, overflow: Overflow, signed: bool) -> None:
    acc = FixedType(20, 9)
    out = FixedType(6, 3, signed=signed, rounding=rounding, overflow=overflow)  # drops bits and overflows
    d = _dense("d", 6, 4, T_IN, acc, acc)
    cast = Activation("cast", acc, out, (4,), (4,), function="linear")
    _check(_model(d, cast))


def test_dense_products_quantized_one_by_one_and_a_wrapping_accumulator() -> None:
    acc = FixedType(10, 5, rounding=Rounding.RND)  # fewer fractional bits than x·w: each product rounds, sums wrap
    d = _dense("d", 8, 3, T_IN, acc, FixedType(12, 6), weight_type=FixedType(8, 3))
    _check(_model(d))


def test_relu_max_batchnorm_and_reshape() -> None:
    acc = FixedType(18, 8)
    d = _dense("d", 5, 6, T_IN, acc, acc)
    relu6 = Activation("r6", acc, FixedType(8, 4, signed=False, rounding=Rounding.RND_CONV, overflow=Overflow.SAT),
                       (6,), (6,), function="relu_max", max_value=6)  # fmt: skip
    t = relu6.out_type
    bn = BatchNorm("bn", t, FixedType(10, 5, overflow=Overflow.SAT), (6,), (6,), scale=np.array([3, -5, 7]),
                   bias=np.array([1, -2, 4]), scale_type=FixedType(6, 2), bias_type=FixedType(6, 2))  # fmt: skip
    flat = Reshape("flat", bn.out_type, bn.out_type, (6,), (2, 3))
    _check(_model(d, relu6, bn, flat))


def test_conv_pad_and_max_pool() -> None:
    rng = np.random.default_rng(5)
    acc = FixedType(18, 9)
    pad = Pad("pad", T_IN, T_IN, (4, 4, 2), (4, 6, 2), pads=(0, 0, 1, 1))
    conv = Conv("conv", T_IN, acc, (4, 6, 2), (2, 4, 3), weight=rng.integers(-32, 31, (18, 3), endpoint=True),
                bias=rng.integers(-32, 31, 3, endpoint=True), weight_type=T_W, bias_type=T_W, accum_type=acc,
                kernel=(3, 3), stride=(1, 1), pads=(0, 0, 0, 0))  # fmt: skip
    pool = Pool("pool", acc, FixedType(10, 6, overflow=Overflow.SAT), (2, 4, 3), (1, 2, 3), op="max",
                accum_type=acc, pool=(2, 2), stride=(2, 2))  # fmt: skip
    _check(_model(pad, conv, pool), n=1500)


@pytest.mark.parametrize(("function", "size"), [("sigmoid", 1024), ("tanh", 600)])
def test_table_activations(function: str, size: int) -> None:
    t_in = FixedType(16, 6)
    r = 16 if function == "sigmoid" else 8
    x = (np.arange(size) - size / 2) * r / size
    real = 1 / (1 + np.exp(-x)) if function == "sigmoid" else np.tanh(x)
    table_t = FixedType(18, 8)
    table = np.array([table_t.quantize(float(v)) for v in real], np.int64)
    lut = Lut("act", t_in, FixedType(12, 2, rounding=Rounding.RND), (3,), (3,), function=function, table=table,
              table_type=table_t)  # fmt: skip
    _check(_model(lut))


@pytest.mark.parametrize(
    "layer",
    [
        Pool("avg", T_IN, T_IN, (4, 1), (2, 1), op="average", accum_type=FixedType(12, 5), pool=(1, 2),
             stride=(1, 2)),
        _dense("sat", 6, 2, T_IN, FixedType(8, 3, overflow=Overflow.SAT), FixedType(8, 3)),
    ],
    ids=["average-pool", "saturating-accumulator"],
)  # fmt: skip
def test_what_has_no_rtl_form_is_named(layer: Op) -> None:
    model = _model(layer)
    with pytest.raises(UnsupportedError, match=repr(layer.name)):
        trace_model(model)
