"""Bit-exactness against hls4ml's C simulation (``compile()`` with g++, then ``predict()``).

Six projects, built and compiled once per session (two at a time): QKeras MLPs with wide
and with narrow (wrapping) accumulators, a grid of quantization/overflow modes on a plain
Keras model, a CICADA-like QConv2D student, and conv/pool/BN/tanh/sigmoid/softmax nets.
Every model sees NaN, ±inf, huge, tiny and exactly-halfway inputs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointModel, UnsupportedLayerError
from emulator.fixedpoint import _hls4ml_compat as compat

pytestmark = [pytest.mark.hls4ml, pytest.mark.tensorflow]

N_EVENTS = 3000


@dataclass
class Case:
    name: str
    keras: Any
    hls: Any
    inputs: np.ndarray


def _randomize(model: Any, rng: np.random.Generator, scale: float = 0.5) -> None:
    for layer in model.layers:
        weights = layer.get_weights()
        if "batch_normalization" in type(layer).__name__.lower() or layer.name.startswith("bn"):
            gamma, beta, mean, var = weights
            layer.set_weights([rng.uniform(0.5, 2, gamma.shape), rng.normal(0, 0.5, beta.shape),
                               rng.normal(0, 0.5, mean.shape), rng.uniform(0.3, 2, var.shape)])  # fmt: skip
        elif weights:
            layer.set_weights([rng.normal(0, scale, w.shape) for w in weights])


def _inputs(rng: np.random.Generator, shape: tuple[int, ...], frac: int, scale: float) -> np.ndarray:
    """Plain values, exact ties of the input LSB, and NaN/±inf/huge/tiny in the first events."""
    x = rng.normal(0, scale, (N_EVENTS, *shape))
    flat = x.reshape(N_EVENTS, -1)
    ties = (np.round(rng.normal(0, scale, flat[1000:2000].shape) * 2**frac) + 0.5) / 2**frac
    flat[1000:2000] = ties
    specials = [np.nan, np.inf, -np.inf, 1e30, -1e30, 1e-300, -1e-300, -0.0]
    flat[: len(specials), 0] = specials
    flat[10:20] *= 40  # far out of range
    return x


def _qkeras_mlp(rng: np.random.Generator, n_out: int) -> Any:
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu
    from tf_keras import Input, Model

    inp = Input((57,), name="x")
    x = QDense(32, kernel_quantizer=quantized_bits(6, 2, alpha=1), bias_quantizer=quantized_bits(6, 2, alpha=1),
               name="d1")(inp)  # fmt: skip
    x = QActivation(quantized_relu(8, 3), name="r1")(x)
    x = QDense(16, kernel_quantizer=quantized_bits(6, 2, alpha=1), bias_quantizer=quantized_bits(6, 2, alpha=1),
               name="d2")(x)  # fmt: skip
    x = QActivation(quantized_relu(10, 4), name="r2")(x)
    x = QDense(n_out, kernel_quantizer=quantized_bits(8, 3, alpha=1), bias_quantizer=quantized_bits(8, 3, alpha=1),
               name="d3")(x)  # fmt: skip
    model = Model(inp, x)
    _randomize(model, rng)
    return model


def _modes_mlp(rng: np.random.Generator) -> Any:
    from tf_keras import Input, Model, layers

    inp = Input((12,), name="x")
    x = layers.Dense(9, name="d1")(inp)
    x = layers.Activation("relu", name="r1")(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Dense(6, name="d2")(x)
    x = layers.Activation("relu", name="r2")(x)
    x = layers.Dense(3, name="d3")(x)
    model = Model(inp, x)
    _randomize(model, rng, scale=0.8)
    return model


_MODES = {
    "x": {"result": "fixed<10,4,RND,SAT_ZERO>"},
    "d1": {"weight": "fixed<8,2,RND_CONV,SAT>", "bias": "fixed<8,3,RND_INF,WRAP>", "accum": "fixed<11,4,RND,SAT>",
           "result": "fixed<12,4,RND_MIN_INF,SAT_SYM>"},
    "r1": {"result": "ufixed<9,3,RND_ZERO,SAT>"},
    "bn": {"scale": "fixed<10,3,RND,SAT>", "bias": "fixed<10,4,TRN_ZERO,WRAP>", "result": "fixed<12,5,RND_CONV,SAT>"},
    "d2": {"weight": "fixed<7,1,TRN_ZERO,WRAP>", "bias": "fixed<6,-1>", "accum": "fixed<14,6,TRN_ZERO,SAT_SYM>",
           "result": "fixed<10,12,RND_CONV,WRAP>"},
    "r2": {"result": "ufixed<8,12,RND,SAT>"},
    "d3": {"weight": "ufixed<8,3,RND,SAT>", "bias": "fixed<8,3>", "accum": "fixed<9,10,RND_INF,SAT_ZERO>",
           "result": "fixed<16,6,RND,WRAP>"},
}  # fmt: skip


def _cicada_student(rng: np.random.Generator) -> Any:
    from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu
    from tf_keras import Input, Model, layers

    inp = Input((18, 14, 1), name="regions")
    x = QConv2D(4, (2, 2), strides=(2, 2), kernel_quantizer=quantized_bits(8, 1, alpha=1),
                bias_quantizer=quantized_bits(8, 3, alpha=1), name="conv")(inp)  # fmt: skip
    x = QActivation(quantized_relu(8, 4), name="r1")(x)
    x = layers.Flatten(name="flat")(x)
    x = QDense(16, kernel_quantizer=quantized_bits(8, 1, alpha=1), bias_quantizer=quantized_bits(8, 3, alpha=1),
               name="d1")(x)  # fmt: skip
    x = QActivation(quantized_relu(10, 6), name="r2")(x)
    x = QDense(1, kernel_quantizer=quantized_bits(12, 4, alpha=1), bias_quantizer=quantized_bits(12, 4, alpha=1),
               name="score")(x)  # fmt: skip
    model = Model(inp, x)
    _randomize(model, rng, scale=0.4)
    return model


def _conv_pool_net(rng: np.random.Generator) -> Any:
    from tf_keras import Input, Model, layers

    inp = Input((12, 10, 2), name="img")
    x = layers.Conv2D(3, (3, 3), padding="same", name="conv1")(inp)
    x = layers.Activation("relu", name="r1")(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.MaxPooling2D((2, 2), name="mp")(x)
    x = layers.Conv2D(2, (2, 2), name="conv2")(x)
    x = layers.AveragePooling2D((2, 2), padding="same", name="ap")(x)
    x = layers.Flatten(name="flat")(x)
    x = layers.Dense(8, activation="tanh", name="d1")(x)
    x = layers.Dense(5, activation="sigmoid", name="d2")(x)
    x = layers.Dense(4, name="d3")(x)
    x = layers.Activation("softmax", name="sm")(x)
    model = Model(inp, x)
    _randomize(model, rng)
    return model


def _lut_sweep_net(rng: np.random.Generator) -> Any:
    """Dense layers whose tanh/sigmoid inputs sweep the whole table, then a latency softmax."""
    from qkeras import QActivation, QDense, quantized_bits
    from tf_keras import Input, Model, layers

    inp = Input((4,), name="x")
    x = layers.Dense(16, activation="tanh", name="d1")(inp)
    x = layers.Dense(16, activation="sigmoid", name="d2")(x)
    x = QDense(5, kernel_quantizer=quantized_bits(8, 2, alpha=1), name="d3")(x)
    x = QActivation("quantized_relu(6, 2)", name="r3")(x)
    x = layers.Dense(4, name="d4")(x)
    x = layers.Activation("softmax", name="sm")(x)
    model = Model(inp, x)
    _randomize(model, rng, scale=1.5)
    return model


def _convert(model: Any, out_dir: Path, backend: str, tune: Callable[[dict[str, Any]], None]) -> Any:
    cfg = compat.config_from_keras_model(model, granularity="name", backend=backend)
    tune(cfg)
    return compat.convert_from_keras_model(
        model, hls_config=cfg, output_dir=str(out_dir), backend=backend, io_type="io_parallel"
    )


def _trap(cfg: dict[str, Any]) -> None:
    """No per-layer precision set: every 'auto' falls back to the model default ap_fixed<16,6>."""
    for layer in cfg["LayerName"].values():
        layer["Precision"] = {k: ("fixed<16,6>" if v == "auto" else v) for k, v in layer["Precision"].items()}
    cfg["LayerName"]["d2"]["ReuseFactor"] = 4


def _modes(cfg: dict[str, Any]) -> None:
    for name, precision in _MODES.items():
        cfg["LayerName"][name]["Precision"].update(precision)


def _softmax(impl: str) -> Callable[[dict[str, Any]], None]:
    def tune(cfg: dict[str, Any]) -> None:
        cfg["LayerName"]["sm"]["Implementation"] = impl
        names = cfg["LayerName"]
        if "conv1" in names:  # 'auto' grows to 75 bits by d1, beyond int64 mantissas
            names["ap"]["Precision"]["result"] = "fixed<20,8,RND,SAT>"
            names["d1"]["Precision"].update({"accum": "fixed<40,16>", "result": "fixed<24,10>"})

    return tune


@pytest.fixture(scope="session")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    """Six converted and compiled projects (about a minute on two cores)."""
    pytest.importorskip("hls4ml")
    compat.import_qkeras()
    root = tmp_path_factory.mktemp("hls4ml")
    rng = np.random.default_rng(2024)
    same: Callable[[dict[str, Any]], None] = lambda cfg: None  # noqa: E731
    specs = [
        ("qkeras_auto", _qkeras_mlp(rng, 13), "Vitis", same, (57,), 10, 3.0),
        ("qkeras_narrow", _qkeras_mlp(rng, 3), "Vivado", _trap, (57,), 10, 3.0),
        ("modes", _modes_mlp(rng), "Vitis", _modes, (12,), 6, 2.0),
        ("cicada", _cicada_student(rng), "Vivado", same, (18, 14, 1), 10, 2.0),
        ("conv_pool", _conv_pool_net(rng), "Vivado", _softmax("stable"), (12, 10, 2), 10, 2.0),
        ("lut_sweep", _lut_sweep_net(rng), "Vitis", _softmax("latency"), (4,), 10, 3.0),
    ]
    built = {}
    for name, model, backend, tune, shape, frac, scale in specs:
        hls = _convert(model, root / name, backend, tune)
        built[name] = Case(name, model, hls, _inputs(rng, shape, frac, scale))
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda c: c.hls.compile(), built.values()))
    return built


@pytest.mark.parametrize("name", ["qkeras_auto", "qkeras_narrow", "modes", "cicada", "conv_pool", "lut_sweep"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("columnar", [True, False], ids=["columnar", "layers"])
def test_predict_is_bit_exact(cases: dict[str, Case], name: str, dtype: type, columnar: bool) -> None:
    case = cases[name]
    x = np.ascontiguousarray(case.inputs, dtype=dtype)
    want = case.hls.predict(x)
    engine = dataclasses.replace(FixedPointModel.from_hls4ml(case.hls), columnar=columnar)
    got = engine.predict(x)
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    differ = np.flatnonzero((got != want).reshape(len(x), -1).any(axis=1))
    assert differ.size == 0, f"{name}: {differ.size} events differ, first {differ[:5]}"
    one = x[5:6]
    assert np.array_equal(FixedPointModel.from_hls4ml(case.hls).predict(one), case.hls.predict(one))


def test_engine_plans_are_exercised(cases: dict[str, Case]) -> None:
    """The grid reaches every accumulation plan and the narrow accumulators really overflow;
    the columnar plan runs the MLPs, the mode grid and the CICADA student whole and leads the others."""
    columnar = {name: FixedPointModel.from_hls4ml(case.hls).plan for name, case in cases.items()}
    assert columnar == {
        "qkeras_auto": "columnar float32",
        "qkeras_narrow": "columnar float32",
        "modes": "columnar float32",  # saturating accumulators and batch normalisation too
        "cicada": "columnar float32",
        "conv_pool": "columnar float64 up to 'bn', then layers",  # 'auto' types beyond 2^24; then pooling
        "lut_sweep": "columnar float64 up to 'd1', then layers",
    }
    plans = {
        (name, op.name): getattr(op, "plan", None)
        for name, case in cases.items()
        for op in FixedPointModel.from_hls4ml(case.hls).layers
    }
    assert {"blas", "wrap", "sat"} <= set(plans.values())
    narrow = FixedPointModel.from_hls4ml(cases["qkeras_narrow"].hls)
    report = narrow.audit(cases["qkeras_narrow"].inputs)
    assert report.by_layer()["d1"] > 0
    kinds = {op.kind for case in cases.values() for op in FixedPointModel.from_hls4ml(case.hls).layers}
    assert kinds == {"dense", "conv", "activation", "reshape", "batchnorm", "pool", "lut", "softmax"}


def test_saved_model_replays_without_hls4ml(cases: dict[str, Case], tmp_path: Path) -> None:
    case = cases["cicada"]
    path = FixedPointModel.from_hls4ml(case.hls).save(tmp_path / "cicada")
    replay = FixedPointModel.load(path)
    assert np.array_equal(replay.predict(case.inputs), case.hls.predict(case.inputs))
    assert replay.source["backend"] == "Vivado"


def test_latency_description_follows_the_config(cases: dict[str, Case]) -> None:
    costs = {c.name: c for c in FixedPointModel.from_hls4ml(cases["qkeras_narrow"].hls).costs()}
    assert costs["d2"].reuse_factor == 4
    assert costs["d2"].multipliers == math.ceil(costs["d2"].multiplications / 4)
    cicada = {c.name: c for c in FixedPointModel.from_hls4ml(cases["cicada"].hls).costs()}
    assert cicada["conv"].multiplications <= 4 * 4 * 63


def test_unsupported_layers_are_named(tmp_path: Path) -> None:
    compat.import_qkeras()
    from tf_keras import Input, Model, layers

    inp = Input((6,), name="x")
    x = layers.Dense(4, name="d1")(inp)
    x = layers.LeakyReLU(name="leaky")(x)
    model = Model(inp, x)
    hls = _convert(model, tmp_path / "leaky", "Vivado", lambda cfg: None)
    with pytest.raises(UnsupportedLayerError, match="'leaky'"):
        FixedPointModel.from_hls4ml(hls)
    stream = compat.convert_from_keras_model(model, output_dir=str(tmp_path / "s"), backend="Vivado",
                                             io_type="io_stream")  # fmt: skip
    with pytest.raises(UnsupportedLayerError, match="io_stream"):
        FixedPointModel.from_hls4ml(stream)
