"""Binary/ternary quantizers and depthwise/separable convolutions against hls4ml's C simulation.

One QKeras net with two inputs, converted twice (io_parallel with Vivado, io_stream with Vitis
and a Resource depthwise convolution, RF 3), both projects written and compiled with g++ at
once (l1emu's loop over the top function). Image branch: QDepthwiseConv2D (``same``) → batch
norm + ``binary`` (``normalize_binary_tanh``, per channel) → QConv2D on the bits
(``data_binary``: bit 0 is −1, padding too) → ``ternary`` (hls4ml inserts a scale and
``normalize_ternary_tanh``; ``binary_tanh`` in io_stream, where hls4ml 1.3's ternary after a
convolution does not compile) → QSeparableConv2D (split into depthwise + pointwise) → batch
norm + ``binary`` → QConv2D with ``binary`` kernel (``both_binary``: ``a == w`` counted into a
saturating accumulator, then hls4ml's ``ap_int(2·acc − n_in)`` cast) → Dense with ``binary``
kernel → ``binary_tanh`` → Dense with ``ternary`` kernel (wrapping accumulator) → ``ternary``
→ Dense. Sequence branch: QSeparableConv1D → ReLU → DepthwiseConv1D (stride 2) → batch norm +
``binary`` → Dense with ``binary`` kernel. The binary dense layer is a third head and, through
hls4ml's ``legacy`` softmax, a fourth (sharing these projects saves two compilations). Inputs
include NaN, ±inf, huge, tiny, ties and exact multiples.
"""

from __future__ import annotations

import dataclasses
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointError, FixedPointGraph, FixedType, UnsupportedLayerError
from emulator.fixedpoint import _hls4ml_compat as compat
from emulator.fixedpoint._base import Run, Scratch
from emulator.fixedpoint._binary import XNOR, Step, ternary_tanh
from emulator.fixedpoint._dense import Dense
from emulator.fixedpoint._softmax_legacy import SoftmaxLegacy
from emulator.fixedpoint._tables import ceillog2
from emulator.fixedpoint.types import int_type

N_EVENTS = 4000  # the C simulation of these nets runs ~3 k events/s
IO_TYPES = ("io_parallel", "io_stream")


@dataclass
class Project:
    hls: Any
    root: Path
    inputs: list[np.ndarray]
    want: list[np.ndarray]  # the C simulation's heads


def _inputs(rng: np.random.Generator, shape: tuple[int, ...], n: int = N_EVENTS) -> np.ndarray:
    """Plain values, exact ties of 2^-6, exact multiples (thresholds), NaN/±inf/huge/tiny."""
    x = rng.normal(0, 2.0, (n, *shape))
    flat = x.reshape(n, -1)
    flat[1000:2000] = (np.round(flat[1000:2000] * 64) + 0.5) / 64
    flat[2000:3000] = np.round(flat[2000:3000] * 64) / 64
    flat[:8, 0] = [np.nan, np.inf, -np.inf, 1e30, -1e30, 1e-300, -1e-300, -0.0]
    flat[10:40] *= 40  # far out of range
    return x


def _randomize(model: Any, rng: np.random.Generator) -> None:
    for layer in model.layers:
        weights = layer.get_weights()
        if "batchnormalization" in type(layer).__name__.lower():
            gamma, beta, mean, var = weights
            layer.set_weights([rng.uniform(0.5, 2, gamma.shape) * rng.choice([-1, 1], gamma.shape),
                               rng.normal(0, 0.5, beta.shape), rng.normal(0, 0.5, mean.shape),
                               rng.uniform(0.3, 2, var.shape)])  # fmt: skip
        elif weights:
            layer.set_weights([rng.normal(0, 0.5, w.shape) for w in weights])


def _net(rng: np.random.Generator, *, stream: bool) -> Any:
    from qkeras import (
        QActivation,
        QConv2D,
        QDense,
        QDepthwiseConv2D,
        QSeparableConv1D,
        QSeparableConv2D,
        binary,
        quantized_bits,
        quantized_relu,
        ternary,
    )
    from tf_keras import Input, Model, layers

    q = quantized_bits(8, 2, alpha=1)
    img = Input((6, 6, 3), name="img")
    x = QDepthwiseConv2D(3, padding="same", depthwise_quantizer=q, bias_quantizer=q, name="dw")(img)
    x = QActivation("binary", name="sign1")(layers.BatchNormalization(name="bn1")(x))
    x = QConv2D(4, 3, padding="same", kernel_quantizer=q, bias_quantizer=q, name="c_data_bin")(x)
    x = QActivation("binary_tanh" if stream else "ternary", name="ter1")(x)
    x = QSeparableConv2D(4, 2, depthwise_quantizer=q, pointwise_quantizer=q, bias_quantizer=q, name="sep")(x)
    x = QActivation("binary", name="sign2")(layers.BatchNormalization(name="bn2")(x))
    x = QConv2D(3, 2, kernel_quantizer=binary(alpha=1), bias_quantizer=q, name="c_both_bin")(x)
    wbin = QDense(8, kernel_quantizer=binary(alpha=1), bias_quantizer=q, name="d_wbin")(layers.Flatten(name="flat")(x))
    x = QActivation("binary_tanh", name="btanh")(wbin)
    x = QDense(6, kernel_quantizer=ternary(alpha=1), bias_quantizer=q, name="d_wter")(x)
    x = QDense(3, kernel_quantizer=q, bias_quantizer=q, name="out")(QActivation("ternary", name="ter2")(x))
    seq = Input((8, 4), name="seq")
    y = QSeparableConv1D(5, 3, depthwise_quantizer=q, pointwise_quantizer=q, bias_quantizer=q, name="sep1")(seq)
    y = layers.DepthwiseConv1D(2, strides=2, name="dw1")(QActivation(quantized_relu(6, 2), name="r1")(y))
    y = QActivation("binary", name="sign3")(layers.BatchNormalization(name="bn3")(y))
    y = QDense(4, kernel_quantizer=binary(alpha=1), bias_quantizer=q, name="d1_both")(layers.Flatten(name="fl1")(y))
    legacy = layers.Activation("softmax", name="sm_legacy")(wbin)
    model = Model([img, seq], [x, y, wbin, legacy])  # d_wbin: a finer view of the image branch
    _randomize(model, rng)
    return model


def _tune(cfg: dict[str, Any], *, stream: bool) -> None:
    names = cfg["LayerName"]
    results = {"dw": "fixed<12,4>", "c_data_bin": "fixed<12,8>", "c_both_bin": "fixed<8,5>", "d_wbin": "fixed<10,5>",
               "d_wter": "fixed<6,2>", "dw1": "fixed<14,6>"}  # fmt: skip
    accums = {"c_data_bin": "fixed<12,8,RND_CONV>", "c_both_bin": "fixed<6,4,TRN,SAT>", "d_wter": "fixed<7,3>"}
    for name, result in results.items():
        names[name]["Precision"].update({"accum": accums.get(name, result), "result": result})
        if f"{name}_linear" in names:  # the same type: hls4ml drops the linear layer
            names[f"{name}_linear"]["Precision"]["result"] = result
    names["dw1"]["Precision"].update({"weight": "fixed<8,2,RND,SAT>", "bias": "fixed<8,2>"})
    names["sm_legacy"]["Implementation"] = "legacy"
    if stream:
        names["dw"].update({"Strategy": "Resource", "ReuseFactor": 3})


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Project]:
    pytest.importorskip("hls4ml")
    compat.import_qkeras()
    from emulator.fixedpoint.csim import ProjectLibrary

    root = tmp_path_factory.mktemp("hls4ml_binary")
    built: dict[str, Project] = {}
    for io_type in IO_TYPES:
        stream = io_type == "io_stream"
        model = _net(np.random.default_rng(22), stream=stream)
        backend = "Vitis" if stream else "Vivado"
        cfg = compat.config_from_keras_model(model, granularity="name", backend=backend)
        _tune(cfg, stream=stream)
        hls = compat.convert_from_keras_model(model, hls_config=cfg, output_dir=str(root / io_type), backend=backend,
                                              io_type=io_type)  # fmt: skip
        hls.write()
        rng = np.random.default_rng(3)
        built[io_type] = Project(hls, root / io_type, [_inputs(rng, (6, 6, 3)), _inputs(rng, (8, 4))], [])
    # hls4ml 1.3: nnet_sepconv1d_latency.h has nnet_sepconv2d_latency.h's include guard, so a project
    # with 1D and 2D depthwise convolutions does not compile; rename it in these copies
    for project in built.values():
        guard = project.root / "firmware" / "nnet_utils" / "nnet_sepconv1d_latency.h"
        guard.write_text(guard.read_text().replace("CONV2D_LATENCY_H_", "CONV1D_LATENCY_H_"))

    def simulate(project: Project) -> list[np.ndarray]:
        return ProjectLibrary.build(project.root, opt="-Og").predict(project.inputs)

    with ThreadPoolExecutor(2) as pool:
        for project, want in zip(built.values(), pool.map(simulate, built.values()), strict=True):
            project.want = want
    return built


def _graph(project: Project, reader: str) -> FixedPointGraph:
    return (
        FixedPointGraph.from_hls4ml(project.hls)
        if reader == "graph"
        else FixedPointGraph.from_hls4ml_project(project.root)
    )


@pytest.mark.hls4ml
@pytest.mark.tensorflow
@pytest.mark.parametrize(("io_type", "reader"), [("io_parallel", "graph"), ("io_parallel", "project"),
                                                 ("io_stream", "project")])  # fmt: skip
@pytest.mark.parametrize("columnar", [True, False], ids=["columnar", "layers"])
def test_bit_exact_with_csim(projects: dict[str, Project], io_type: str, reader: str, columnar: bool) -> None:
    project = projects[io_type]
    graph = dataclasses.replace(_graph(project, reader), columnar=columnar)
    got = graph.predict(project.inputs)
    assert isinstance(got, list)
    for head, (g, w) in enumerate(zip(got, project.want, strict=True)):
        differ = np.flatnonzero((g != w).any(axis=1))
        assert differ.size == 0, f"{io_type} {reader} head {head}: {differ.size} of {len(w)} events differ"
        assert len(np.unique(w, axis=0)) > 20  # the heads are not stuck at a constant


@pytest.mark.hls4ml
@pytest.mark.tensorflow
def test_what_the_readers_build(projects: dict[str, Project], tmp_path: Path) -> None:
    parallel = _graph(projects["io_parallel"], "graph")
    ops = {n.op.name: n.op for n in parallel.nodes}
    assert sum(isinstance(op, Step) for op in ops.values()) == 6
    assert ops["bnbt_bn1"].out_type == XNOR
    assert (ops["c_data_bin"].product, ops["c_both_bin"].product) == ("data_binary", "both_binary")  # type: ignore[attr-defined]
    assert ops["c_both_bin"].xnor_n == 2 * 2 * 4  # type: ignore[attr-defined]
    dw = ops["dw"].weight.reshape(9, 3, 3)  # type: ignore[attr-defined]  # (window, channel in, channel out)
    assert np.count_nonzero(dw * (1 - np.eye(3, dtype=np.int64))) == 0  # block diagonal
    stream = {n.op.name: n.op for n in _graph(projects["io_stream"], "project").nodes}
    assert stream["c_data_bin"].product == "mult"  # type: ignore[attr-defined]  # the stream zero padding casts bits to ap_int<2>
    assert stream["dw"].reuse_factor == 3  # type: ignore[attr-defined]
    assert isinstance(ops["sm_legacy"], SoftmaxLegacy)
    assert isinstance(stream["sm_legacy"], SoftmaxLegacy)
    assert len(stream["sm_legacy"].inv_table) == 1024  # io_stream: table_size for both tables
    assert "columnar float32 up to 'bnbt_bn2'" in parallel.summary()  # steps and binary products run columnar
    path = parallel.save(tmp_path / "bnn")
    again = FixedPointGraph.load(path).predict([x[:2000] for x in projects["io_parallel"].inputs])
    for g, w in zip(again, projects["io_parallel"].want, strict=True):  # type: ignore[arg-type]
        assert np.array_equal(g, w[:2000])


@pytest.mark.hls4ml
@pytest.mark.tensorflow
def test_refused_by_name(projects: dict[str, Project], tmp_path: Path) -> None:
    from qkeras import QActivation, QDense, quantized_bits, ternary
    from tf_keras import Input, Model, layers

    q = quantized_bits(8, 2, alpha=1)
    inp = Input((4,), name="x")
    model = Model(inp, QActivation(ternary(threshold=0.5), name="t05")(QDense(3, kernel_quantizer=q, name="d")(inp)))
    hls = compat.convert_from_keras_model(model, output_dir=str(tmp_path / "t05"), backend="Vivado")
    with pytest.raises(UnsupportedLayerError, match=r"'t05'.*threshold 0\.5"):
        FixedPointGraph.from_hls4ml(hls)  # hls4ml 1.3 writes no C++ for it: its output is never computed
    img = Input((4, 4, 2), name="img")
    model = Model(img, layers.DepthwiseConv2D(2, depth_multiplier=2, name="dm2")(img))
    hls = compat.convert_from_keras_model(model, output_dir=str(tmp_path / "dm2"), backend="Vivado")
    with pytest.raises(UnsupportedLayerError, match=r"'dm2'.*depth multiplier 2"):
        FixedPointGraph.from_hls4ml(hls)
    copy = tmp_path / "edited"
    shutil.copytree(projects["io_parallel"].root / "firmware", copy / "firmware",
                    ignore=shutil.ignore_patterns("*.so", "ap_types", "nnet_utils"))  # fmt: skip
    params = copy / "firmware" / "parameters.h"
    text = params.read_text()
    start = text.index("struct config2 :")
    edited = text[start:].replace("strategy = nnet::latency", "strategy = nnet::resource", 1)
    params.write_text(text[:start] + edited)
    with pytest.raises(UnsupportedLayerError, match=r"layer 'dw'.*Resource strategy for an io_parallel depthwise"):
        FixedPointGraph.from_hls4ml_project(copy)  # hls4ml's kernel asserts


def _bits_dense(product: str, accum: str, weight: np.ndarray, **kw: Any) -> Dense:
    n_in, n_out = weight.shape
    wt = int_type(2) if product == "both_binary" else FixedType(8, 4)
    zeros, acc = np.zeros(n_out, np.int64), FixedType.parse(accum)
    return Dense("d", XNOR, FixedType(12, 6), (n_in,), (n_out,), weight=weight, bias=zeros, weight_type=wt,
                 bias_type=FixedType(4, 2), accum_type=acc, product=product, **kw)  # fmt: skip


def test_binary_products_without_hls4ml() -> None:
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, (500, 7))
    w = rng.integers(-40, 40, (7, 3))
    data_bin = _bits_dense("data_binary", "ap_fixed<12,10,AP_RND_CONV>", w)  # a == 0 ? -w : w, each rounded to 2^-2
    lsb = 2.0**-4
    want = np.zeros((500, 3))
    for i in range(7):
        p = np.where(bits[:, i : i + 1] == 0, -w[i], w[i]) * lsb
        want += np.round(p * 4) / 4  # RND_CONV of p (ties to even, as np.round)
    got = data_bin.forward(bits, Run(None, Scratch()))
    assert np.array_equal(got * 2.0**-6, want)
    ones = np.where(rng.random((7, 3)) < 0.5, -1, 1)
    both = _bits_dense("both_binary", "ap_fixed<16,6>", ones, xnor_n=7)  # ap_int<5>(2·Σ(a == w) − 7)
    matches = ((2 * bits[:, :, None] - 1) == ones[None]).sum(axis=1)
    assert np.array_equal(both.forward(bits, Run(None, Scratch())), (2 * matches - 7) << 6)
    with pytest.raises(FixedPointError, match=r"'d': data_binary products into a .*SAT.* that can overflow"):
        _bits_dense("data_binary", "ap_fixed<6,3,AP_TRN,AP_SAT>", w)
    assert [ceillog2(n) for n in (1, 2, 3, 4, 5, 8, 9, 16, 17)] == [1, 1, 2, 2, 3, 3, 4, 4, 5]  # nnet::ceillog2


def test_ternary_tanh_doubles_in_the_input_type() -> None:
    """``data_T datareg = 2 * x`` wraps: in ap_fixed<4,1>, 0.75 doubles to −0.5 (0, not 1), 0.5 to −1 (−1)."""
    op = ternary_tanh("t", FixedType(4, 1), int_type(2), (4,))
    x = np.array([[6, 4, 1, -6]])  # 0.75, 0.5, 0.125, -0.75
    assert op.forward(x, Run(None, Scratch())).tolist() == [[0, -1, 0, 0]]
    stream = ternary_tanh("t", FixedType(8, 3), int_type(2), (4,), double=False)  # io_stream: x > 1
    assert stream.forward(np.array([[33, 32, -32, -33]]), Run(None, Scratch())).tolist() == [[1, 0, -1, -1]]
