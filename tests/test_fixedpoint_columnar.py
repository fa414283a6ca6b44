"""The columnar plan against the layer-by-layer path: random networks, every mode, both floats.

The layer-by-layer path is itself checked against straight-line references and hls4ml's
C simulation; here the plan must reproduce it bit for bit, and the plan's choices (float
type, how far it reaches) must follow the value ranges.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from emulator.fixedpoint import FixedPointError, FixedPointModel, FixedType, Overflow, Rounding
from emulator.fixedpoint._columnar import _overflow_args
from emulator.fixedpoint._columnar_kernels import overflow_fn, round_fn
from emulator.fixedpoint._plan_cache import PLAN_CACHE_ENV
from emulator.fixedpoint.layers import Activation, BatchNorm, Conv, Dense, Lut, Op
from tests.test_fixedpoint_layers import mantissas, small_types
from tests.test_fixedpoint_reference import ref_overflow, ref_round

SPECIAL = [np.nan, np.inf, -np.inf, 1e30, -1e30, 1e-300, -1e-300, -0.0]


@pytest.fixture(autouse=True, scope="module")
def _plans_in_memory() -> Iterator[None]:
    """Random networks are new every run: compile them in memory, leave no files in the plan cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(PLAN_CACHE_ENV, "off")
        yield


@st.composite
def networks(draw: st.DrawFn) -> FixedPointModel:
    """1-3 dense layers (pruned weights, any rounding, wrapping or saturating accumulators),
    each followed by a linear/ReLU/ReLU6 cast to a random type."""
    t_in = draw(small_types(12))
    n = draw(st.integers(1, 10))
    t, layers = t_in, []
    for k in range(draw(st.integers(1, 3))):
        n_out = draw(st.integers(1, 9))
        t_w, t_b = draw(small_types(8)), draw(small_types(8))
        t_acc = draw(small_types(24, wrap_only=draw(st.booleans())))
        w = draw(mantissas(t_w, (n, n_out)))
        w[np.asarray(draw(st.lists(st.booleans(), min_size=w.size, max_size=w.size))).reshape(w.shape)] = 0
        try:
            dense = Dense(f"d{k}", t, t_acc, (n,), (n_out,), weight=w, bias=draw(mantissas(t_b, (n_out,))),
                          weight_type=t_w, bias_type=t_b, accum_type=t_acc)  # fmt: skip
        except FixedPointError:
            reject()
        fn = draw(st.sampled_from(["linear", "relu", "relu_max"]))
        t_out = draw(small_types(12))
        act = Activation(f"a{k}", t_acc, t_out, (n_out,), (n_out,), function=fn, max_value=6 if fn == "relu_max" else 0)
        layers += [dense, act]
        t, n = t_out, n_out
    return FixedPointModel(t_in, (layers[0].n_in,), tuple(layers), name="random")


def inputs(rng: np.random.Generator, model: FixedPointModel, n: int = 300) -> np.ndarray:
    """Spread over the input range, exact ties of its LSB and values just beside them, specials."""
    t = model.input_type
    lsb, span = math.ldexp(1.0, -t.fractional), math.ldexp(1.0, t.integer)
    x = rng.normal(0, span / 2, (n, model.n_inputs))
    ties = (rng.integers(-4, 4, x[100:200].shape) + 0.5) * lsb
    x[100:200] = ties
    x[200:250] = np.nextafter(ties[:50], np.where(rng.random(ties[:50].shape) < 0.5, -np.inf, np.inf))
    x[:8, 0] = SPECIAL
    return x


def layer_by_layer(model: FixedPointModel) -> FixedPointModel:
    return dataclasses.replace(model, columnar=False)


@given(networks(), st.integers(0, 2**32 - 1))
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_columnar_equals_layer_by_layer(model: FixedPointModel, seed: int) -> None:
    # five random networks per run (each compiles its own numba plan, ~9 s on CI): new ones every run
    x = inputs(np.random.default_rng(seed), model)
    ref = layer_by_layer(model)
    for dtype in (np.float32, np.float64):
        xd = x.astype(dtype)
        got, want = model.predict(xd), ref.predict(xd)
        assert got.dtype == want.dtype
        assert np.array_equal(got, want), f"{model.plan}\n{model.summary()}"
        assert not np.signbit(got[got == 0]).any()  # no -0.0 where hls4ml returns 0.0
    assert np.array_equal(model.predict_mantissas(x), ref.predict_mantissas(x))


def _dense(name: str, t_in: FixedType, t_acc: FixedType, w: np.ndarray) -> Dense:
    n_in, n_out = w.shape
    t_w = FixedType(6, 2)
    return Dense(name, t_in, t_acc, (n_in,), (n_out,), weight=w, bias=np.arange(n_out) - 1, weight_type=t_w,
                 bias_type=t_w, accum_type=t_acc)  # fmt: skip


def _relu(name: str, t_in: FixedType, n: int) -> Activation:
    t_out = FixedType(8, 3, signed=False, rounding=Rounding.RND_CONV, overflow=Overflow.SAT)
    return Activation(name, t_in, t_out, (n,), (n,), function="relu")


def _check(model: FixedPointModel, plan: str) -> None:
    assert model.plan == plan
    x = inputs(np.random.default_rng(5), model, 2000)
    assert np.array_equal(model.predict(x), layer_by_layer(model).predict(x))


def test_plan_picks_float32_float64_or_a_prefix() -> None:
    rng = np.random.default_rng(1)
    t_in = FixedType(12, 4)
    w = rng.integers(-31, 32, (20, 6))
    small = FixedType(24, 12)
    _check(FixedPointModel(t_in, (20,), (_dense("d", t_in, small, w), _relu("r", small, 6))), "columnar float32")
    wide_in = FixedType(30, 10)  # 30-bit inputs: beyond float32's exact integers
    _check(FixedPointModel(wide_in, (20,), (_dense("d", wide_in, FixedType(44, 20), w),)), "columnar float64")
    sat = FixedType(10, 4, overflow=Overflow.SAT)  # a saturating accumulator that does overflow
    head = _dense("d1", t_in, small, w)
    layers: tuple[Op, ...] = (head, _relu("r1", small, 6), _dense("d2", _relu("r1", small, 6).out_type, sat, w[:6]))
    assert layers[2].plan == "sat"  # type: ignore[attr-defined]
    _check(FixedPointModel(t_in, (20,), layers), "columnar float32")
    table = np.arange(64) * 2
    lut = Lut("sig", small, FixedType(16, 6), (6,), (6,), function="sigmoid", table=table, table_type=FixedType(18, 8))
    _check(FixedPointModel(t_in, (20,), (head, lut)), "columnar float32 up to 'd1', then layers")
    huge = FixedType(54, 27)  # beyond float64's exact integers: int64 layer by layer
    assert FixedPointModel(huge, (20,), (_dense("d", huge, FixedType(62, 31), w),)).plan == "layers"


@given(st.data(), st.sampled_from([(1, 1, 0, 0), (0, 1, 1, 2), (0, 0, 0, 0)]), st.sampled_from([(1, 1), (2, 2)]))
@settings(max_examples=8, deadline=None)
def test_convolutions_run_columnar(data: st.DataObject, pads: tuple[int, int, int, int],
                                   stride: tuple[int, int]) -> None:  # fmt: skip
    h, w, c, f, kh, kw = 5, 4, 2, 3, 2, 2
    t_in, t_w = FixedType(9, 4), FixedType(6, 2)
    t_acc = FixedType(14, 6, rounding=data.draw(st.sampled_from(list(Rounding))))
    out_h = (h + pads[0] + pads[1] - kh) // stride[0] + 1
    out_w = (w + pads[2] + pads[3] - kw) // stride[1] + 1
    conv = Conv("c", t_in, t_acc, (h, w, c), (out_h, out_w, f), weight=data.draw(mantissas(t_w, (kh * kw * c, f))),
                bias=data.draw(mantissas(t_w, (f,))), weight_type=t_w, bias_type=t_w, accum_type=t_acc,
                kernel=(kh, kw), stride=stride, pads=pads)  # fmt: skip
    model = FixedPointModel(t_in, (h, w, c), (conv, _relu("r", t_acc, conv.n_out)))
    assert model.plan == "columnar float32"
    x = inputs(np.random.default_rng(2), model)
    assert np.array_equal(model.predict(x.reshape(-1, h, w, c)), layer_by_layer(model).predict(x))


@given(st.data(), small_types(10), small_types(10), small_types(12))
@settings(max_examples=8, deadline=None)
def test_batchnorm_runs_columnar(data: st.DataObject, t_s: FixedType, t_b: FixedType, t_out: FixedType) -> None:
    t_in = FixedType(10, 4)
    scale, bias = data.draw(mantissas(t_s, (3,))), data.draw(mantissas(t_b, (3,)))
    bn = BatchNorm("bn", t_in, t_out, (2, 3), (2, 3), scale=scale, bias=bias, scale_type=t_s, bias_type=t_b)
    model = FixedPointModel(t_in, (2, 3), (bn,))
    assert model.plan.startswith("columnar")  # float64 when the alignment shifts grow the values
    x = inputs(np.random.default_rng(3), model)
    assert np.array_equal(model.predict(x), layer_by_layer(model).predict(x))


def test_blocks_threads_and_partial_blocks() -> None:
    rng = np.random.default_rng(4)
    t_in, acc = FixedType(12, 4), FixedType(10, 4)  # a narrow accumulator that wraps
    model = FixedPointModel(t_in, (57,), (_dense("d", t_in, acc, rng.integers(-31, 32, (57, 9))), _relu("r", acc, 9)))
    x = inputs(rng, model, 5003)
    want = layer_by_layer(model).predict(x)
    for block in (1, 7, 256, 10_000):
        assert np.array_equal(dataclasses.replace(model, block_size=block).predict(x), want)
    assert np.array_equal(model.predict(x, threads=3), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_inputs_take_the_exact_path(dtype: type) -> None:
    t_in = FixedType(10, 3, rounding=Rounding.RND, overflow=Overflow.SAT_SYM)
    model = FixedPointModel(t_in, (3,), (_dense("d", t_in, FixedType(20, 8), np.eye(3, dtype=np.int64) * 4),))
    x = np.array([[np.nan, np.inf, -np.inf], [1e30, -1e30, 0.3]], dtype)
    assert model.plan == "columnar float32"
    assert np.array_equal(model.predict(x), layer_by_layer(model).predict(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", list(Rounding))
def test_float_rounding_primitives(mode: Rounding, dtype: type) -> None:
    """Every multiple of 2^-s the plan can meet, ties and their neighbours included."""
    rnd = round_fn(mode.code, dtype)
    k = np.concatenate([np.arange(-300, 300), np.random.default_rng(0).integers(-(2**20), 2**20, 300)])
    for s in (0, 1, 2, 5):
        for v in k:
            y = dtype(math.ldexp(float(v), -s))
            got = rnd(y)
            assert got == ref_round(Fraction(int(v), 2**s), mode), (mode, int(v), s)
            assert not (got == 0 and math.copysign(1.0, float(got)) < 0)


@given(st.data(), small_types(16))
@settings(max_examples=60, deadline=None)
def test_float_overflow_primitives(data: st.DataObject, t: FixedType) -> None:
    mode, zero, (lo, hi, mod, off) = _overflow_args(t, True)
    ovf = overflow_fn(mode, zero, np.float64)
    for r in data.draw(st.lists(st.integers(-(2**20), 2**20), min_size=1, max_size=30)):
        assert ovf(float(r), lo, hi, mod, 1.0 / mod, off) == ref_overflow(r, t)
