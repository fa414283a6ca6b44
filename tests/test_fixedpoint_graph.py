"""Multi-input, multi-head networks and power-of-two weights against hls4ml's C simulation.

Four projects, converted and compiled once per module (two at a time): a DeepSets-like jet
tagger ((16, 8) constituents, input batch norm, pointwise Dense (one with the Resource
strategy, one 60 % pruned), global average pooling, a classification and a regression head), a QConv1D net
with two heads (the second convolution with the Resource strategy), a three-input net of
merges (add, subtract, multiply, average, maximum, minimum, concatenate), global max
pooling and a softmax of a (6, 5) tensor (flat in hls4ml; per row in an edited project), and
a QKeras MLP with ``quantized_po2`` weights (hls4ml 1.3 cannot write those under numpy 2
without l1emu's workaround). Inputs include NaN, ±inf, huge, tiny and ties.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointGraph, FixedPointModel, UnsupportedLayerError
from emulator.fixedpoint import _hls4ml_compat as compat

pytestmark = [pytest.mark.hls4ml, pytest.mark.tensorflow]

N_EVENTS = 4000


@dataclass
class Case:
    name: str
    hls: Any
    inputs: list[np.ndarray]
    many: list[np.ndarray]  # 20 000 events for the project reader


def _randomize(model: Any, rng: np.random.Generator, scale: float = 0.5) -> None:
    for layer in model.layers:
        weights = layer.get_weights()
        if "batchnormalization" in type(layer).__name__.lower():
            gamma, beta, mean, var = weights
            layer.set_weights([rng.uniform(0.5, 2, gamma.shape), rng.normal(0, 0.5, beta.shape),
                               rng.normal(0, 0.5, mean.shape), rng.uniform(0.3, 2, var.shape)])  # fmt: skip
        elif weights and "po2" not in layer.name:
            layer.set_weights([rng.normal(0, scale, w.shape) for w in weights])


def _inputs(rng: np.random.Generator, shape: tuple[int, ...], frac: int, scale: float, n: int = N_EVENTS) -> np.ndarray:
    """Plain values, exact ties of the input LSB, and NaN/±inf/huge/tiny in the first events."""
    x = rng.normal(0, scale, (n, *shape))
    flat = x.reshape(n, -1)
    flat[1000:2000] = (np.round(rng.normal(0, scale, flat[1000:2000].shape) * 2**frac) + 0.5) / 2**frac
    specials = [np.nan, np.inf, -np.inf, 1e30, -1e30, 1e-300, -1e-300, -0.0]
    flat[: len(specials), 0] = specials
    flat[10:40] *= 40  # far out of range
    return x


def _qdense(n: int, name: str, bits: int = 8, integer: int = 2) -> Any:
    from qkeras import QDense, quantized_bits

    q = quantized_bits(bits, integer, alpha=1)
    return QDense(n, kernel_quantizer=q, bias_quantizer=q, name=name)


def _deepsets(rng: np.random.Generator) -> Any:
    from qkeras import QActivation, quantized_relu
    from tf_keras import Input, Model, layers

    inp = Input((16, 8), name="constituents")
    x = layers.BatchNormalization(name="bn_in")(inp)
    x = QActivation(quantized_relu(8, 3), name="r1")(_qdense(16, "phi1")(x))
    x = QActivation(quantized_relu(8, 3), name="r2")(_qdense(8, "phi2")(x))
    x = layers.GlobalAveragePooling1D(name="gap")(x)
    h = QActivation(quantized_relu(8, 3), name="r3")(_qdense(8, "rho")(x))
    cls = layers.Activation("softmax", name="cls")(_qdense(5, "cls_logits")(h))
    reg = _qdense(1, "pt", bits=10, integer=4)(h)
    model = Model(inp, [cls, reg])
    _randomize(model, rng)
    _prune(model.get_layer("phi2"), rng, 0.6)
    return model


def _prune(layer: Any, rng: np.random.Generator, fraction: float) -> None:
    """Zero ``fraction`` of the kernel, as magnitude pruning leaves it (hls4ml counts them in ``n_zeros``)."""
    w, b = layer.get_weights()
    w[rng.random(w.shape) < fraction] = 0.0
    layer.set_weights([w, b])


def _conv1d(rng: np.random.Generator) -> Any:
    from qkeras import QActivation, QConv1D, quantized_bits, quantized_relu
    from tf_keras import Input, Model, layers

    q = quantized_bits(8, 1, alpha=1)
    inp = Input((24, 4), name="tracks")
    x = QConv1D(8, 3, padding="same", kernel_quantizer=q, bias_quantizer=q, name="conv1")(inp)
    x = QActivation(quantized_relu(8, 3), name="r1")(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.MaxPooling1D(2, name="mp")(x)
    x = QConv1D(4, 3, strides=2, kernel_quantizer=q, bias_quantizer=q, name="conv2")(x)
    x = QActivation(quantized_relu(8, 3), name="r2")(x)
    x = layers.Flatten(name="flat")(x)
    cls = layers.Activation("softmax", name="cls")(_qdense(3, "cls_logits")(x))
    reg = _qdense(2, "reg", bits=12, integer=5)(x)
    model = Model(inp, [cls, reg])
    _randomize(model, rng, scale=0.4)
    return model


def _merges(rng: np.random.Generator) -> Any:
    from tf_keras import Input, Model, layers

    a, b, c = Input((6, 4), name="a"), Input((4,), name="b"), Input((4,), name="c")
    pooled = layers.GlobalMaxPooling1D(name="gmp")(a)
    db = layers.Dense(4, name="db")(b)
    parts = [
        layers.Add(name="add")([pooled, db]),
        layers.Subtract(name="sub")([db, c]),
        layers.Multiply(name="mul")([pooled, c]),
        layers.Average(name="avg")([db, c]),
        layers.Maximum(name="max")([pooled, c]),
        layers.Minimum(name="min")([db, pooled]),
    ]
    x = layers.Concatenate(name="cat1")(parts[:2])
    x = layers.Concatenate(name="cat2")([x, parts[2]])
    y = layers.Concatenate(name="cat3")([parts[3], parts[4]])
    y = layers.Concatenate(name="cat4")([y, parts[5]])
    z = layers.BatchNormalization(name="bn")(layers.Concatenate(name="cat5")([x, y]))
    out = layers.Activation("softmax", name="sm")(layers.Dense(3, name="d_out")(z))
    per_row = layers.Activation("softmax", name="sm_rows")(layers.Dense(5, name="d_rows")(a))  # (6, 5)
    model = Model([a, b, c], [out, z, per_row])
    _randomize(model, rng, scale=0.7)
    return model


def _po2(rng: np.random.Generator) -> Any:
    """Power-of-two, then binary (``weight_binary``: ±1 from one bit), then ternary weights."""
    from qkeras import QActivation, QDense, binary, quantized_bits, quantized_po2, quantized_relu, ternary
    from tf_keras import Input, Model

    inp = Input((10,), name="x")
    kw = {"kernel_quantizer": quantized_po2(4), "bias_quantizer": quantized_bits(8, 3, alpha=1)}
    x = QActivation(quantized_relu(8, 3), name="r1")(QDense(12, name="po2_d1", **kw)(inp))
    x = QDense(3, name="po2_d2", **kw)(x)
    bias = quantized_bits(8, 3, alpha=1)
    x = QActivation(quantized_relu(8, 3), name="r2")(QDense(6, kernel_quantizer=binary(alpha=1),
                                                           bias_quantizer=bias, name="bin_d")(x))  # fmt: skip
    x = QDense(3, kernel_quantizer=ternary(alpha=1), bias_quantizer=bias, name="ter_d")(x)
    model = Model(inp, x)
    for layer in model.layers:
        if layer.get_weights():
            w, bias = layer.get_weights()
            po2 = np.where(rng.random(w.shape) < 0.5, -1, 1) * 2.0 ** rng.integers(-6, 2, w.shape)
            layer.set_weights([po2, rng.normal(0, 0.5, bias.shape)])
    return model


def _narrow(cfg: dict[str, Any]) -> None:
    """A narrow wrapping accumulator on the regression head, a Resource-strategy dense, stable softmax."""
    cfg["LayerName"]["pt"]["Precision"].update({"accum": "fixed<12,4>", "result": "fixed<12,4>"})
    cfg["LayerName"]["cls"]["Implementation"] = "stable"
    cfg["LayerName"]["rho"].update({"Strategy": "Resource", "ReuseFactor": 2})
    cfg["LayerName"]["phi1"]["Strategy"] = "Resource"  # a pointwise convolution in hls4ml


def _conv_cfg(cfg: dict[str, Any]) -> None:
    """A latency softmax; the second convolution with the Resource strategy (weights written transposed)."""
    cfg["LayerName"]["cls"]["Implementation"] = "latency"
    cfg["LayerName"]["conv2"].update({"Strategy": "Resource", "ReuseFactor": 2})


def _merge_cfg(cfg: dict[str, Any]) -> None:
    names = cfg["LayerName"]
    names["sm"]["Implementation"] = "argmax"
    for name in ("a", "b", "c"):
        names[name]["Precision"]["result"] = "fixed<12,4,RND,SAT>"
    names["mul"]["Precision"]["result"] = "fixed<14,5,RND_CONV,SAT>"
    names["avg"]["Precision"]["result"] = "fixed<10,3,RND,WRAP>"
    names["bn"]["Precision"].update({"scale": "fixed<12,4>", "bias": "fixed<12,4>", "result": "fixed<20,8>"})
    names["d_out"]["Precision"].update({"accum": "fixed<30,12>", "result": "fixed<16,6>"})
    names["d_rows"]["Precision"].update({"accum": "fixed<24,10>", "result": "fixed<12,5>"})


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    pytest.importorskip("hls4ml")
    compat.import_qkeras()
    root = tmp_path_factory.mktemp("hls4ml_graph")
    rng = np.random.default_rng(22)
    same: Callable[[dict[str, Any]], None] = lambda cfg: None  # noqa: E731
    specs = [
        ("deepsets", _deepsets(rng), "Vitis", _narrow, [((16, 8), 10, 2.0)]),
        ("conv1d", _conv1d(rng), "Vivado", _conv_cfg, [((24, 4), 10, 2.0)]),
        ("merges", _merges(rng), "Vitis", _merge_cfg, [((6, 4), 8, 2.0), ((4,), 8, 2.0), ((4,), 8, 2.0)]),
        ("po2", _po2(rng), "Vivado", same, [((10,), 10, 2.0)]),
    ]
    built = {}
    for name, model, backend, tune, shapes in specs:
        cfg = compat.config_from_keras_model(model, granularity="name", backend=backend)
        tune(cfg)
        hls = compat.convert_from_keras_model(model, hls_config=cfg, output_dir=str(root / name), backend=backend,
                                              io_type="io_parallel")  # fmt: skip
        xs = [_inputs(rng, shape, frac, scale) for shape, frac, scale in shapes]
        many = [_inputs(rng, shape, frac, scale, n=20_000) for shape, frac, scale in shapes]
        built[name] = Case(name, hls, xs, many)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda c: c.hls.compile(), built.values()))
    return built


def _as_list(y: Any) -> list[np.ndarray]:
    return list(y) if isinstance(y, list) else [y]


@pytest.mark.parametrize("name", ["deepsets", "conv1d", "merges", "po2"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("columnar", [True, False], ids=["columnar", "layers"])
def test_graph_is_bit_exact(cases: dict[str, Case], name: str, dtype: type, columnar: bool) -> None:
    case = cases[name]
    xs = [np.ascontiguousarray(x, dtype=dtype) for x in case.inputs]
    want = _as_list(case.hls.predict(xs if len(xs) > 1 else xs[0]))
    graph = dataclasses.replace(FixedPointGraph.from_hls4ml(case.hls), columnar=columnar)
    got = _as_list(graph.predict(xs))
    assert len(got) == len(want)
    for head, (g, w) in enumerate(zip(got, want, strict=True)):
        w = w.reshape(len(xs[0]), -1)
        assert g.dtype == w.dtype
        differ = np.flatnonzero((g != w).any(axis=1))
        assert differ.size == 0, f"{name} head {head}: {differ.size} of {len(w)} events differ, first {differ[:5]}"


def test_heads_and_kinds(cases: dict[str, Case]) -> None:
    graphs = {name: FixedPointGraph.from_hls4ml(case.hls) for name, case in cases.items()}
    assert graphs["deepsets"].outputs == ("cls", "pt_linear")  # hls4ml's linear activation after the head
    assert [i.name for i in graphs["merges"].inputs] == ["a", "b", "c"]
    kinds = {n.op.kind for g in graphs.values() for n in g.nodes}
    assert {"merge", "conv", "pool", "batchnorm", "softmax", "dense"} <= kinds
    ops = {n.op.op for n in graphs["merges"].nodes if n.op.kind == "merge"}  # type: ignore[attr-defined]
    assert ops == {"add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"}
    rows = next(n.op for n in graphs["merges"].nodes if n.op.name == "sm_rows")
    assert (rows.n_outer, rows.n_inner) == (1, 1)  # type: ignore[attr-defined]  # hls4ml: one softmax of 30
    po2 = FixedPointModel.from_hls4ml(cases["po2"].hls)  # a chain: the FixedPointModel path works too
    x = cases["po2"].inputs[0]
    assert np.array_equal(po2.predict(x), cases["po2"].hls.predict(x))
    assert graphs["po2"].as_model().plan.startswith("columnar")
    summary = graphs["deepsets"].summary()
    assert "output cls: ap_fixed<16,6> x (5,)" in summary
    assert "gap" in summary
    assert "pointwise" in summary or "conv (1, 1)" in summary


def test_saved_graph_replays_without_hls4ml(cases: dict[str, Case], tmp_path: Path) -> None:
    case = cases["merges"]
    path = FixedPointGraph.from_hls4ml(case.hls).save(tmp_path / "merges")
    replay = FixedPointGraph.load(path)
    for got, want in zip(_as_list(replay.predict(case.inputs)), case.hls.predict(case.inputs), strict=True):
        assert np.array_equal(got, want.reshape(got.shape))


def test_chain_model_names_the_graph_class(cases: dict[str, Case]) -> None:
    with pytest.raises(UnsupportedLayerError, match="FixedPointGraph"):
        FixedPointModel.from_hls4ml(cases["deepsets"].hls)


@pytest.mark.parametrize("name", ["deepsets", "conv1d", "merges", "po2"])
def test_project_directory_equals_its_compiled_library(cases: dict[str, Case], name: str) -> None:
    """The directory hls4ml wrote (and compiled with g++), read back from its C++ text alone."""
    case = cases[name]
    project = Path(case.hls.config.get_output_dir())
    graph = FixedPointGraph.from_hls4ml_project(project)
    assert graph.source["top"] == "myproject"
    assert graph.outputs == FixedPointGraph.from_hls4ml(case.hls).outputs  # heads named after their layers
    xs = [np.ascontiguousarray(x, dtype=np.float32) for x in case.many]
    want = _as_list(case.hls.predict(xs if len(xs) > 1 else xs[0]))
    got = _as_list(graph.predict(xs))
    for head, (g, w) in enumerate(zip(got, want, strict=True)):
        differ = np.flatnonzero((g != w.reshape(g.shape)).any(axis=1))
        assert differ.size == 0, f"{name} head {head}: {differ.size} of {len(g)} events differ"
    if name == "po2":
        chain = FixedPointModel.from_hls4ml_project(project)
        assert np.array_equal(chain.predict(xs[0]), want[0])


def test_project_errors_name_the_layer(cases: dict[str, Case], tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "edited"
    shutil.copytree(Path(cases["conv1d"].hls.config.get_output_dir()) / "firmware", copy / "firmware",
                    ignore=shutil.ignore_patterns("*.so", "ap_types", "nnet_utils"))  # fmt: skip
    top = copy / "firmware" / "myproject.cpp"
    top.write_text(top.read_text().replace("nnet::relu<conv1_result_t", "nnet::leaky_relu<conv1_result_t"))
    with pytest.raises(UnsupportedLayerError, match=r"layer 'r1'.*leaky_relu"):
        FixedPointGraph.from_hls4ml_project(copy)


def test_project_compiled_with_gxx_directly(cases: dict[str, Case]) -> None:
    """l1emu's own g++ build of the project (no hls4ml bridge) equals the engine on 20 000 events."""
    from emulator.fixedpoint.csim import ProjectLibrary

    case = cases["merges"]
    project = Path(case.hls.config.get_output_dir())
    library = ProjectLibrary.build(project)
    graph = FixedPointGraph.from_hls4ml_project(project)
    want = library.predict(case.many)
    for head, (g, w) in enumerate(zip(_as_list(graph.predict(case.many)), want, strict=True)):
        differ = np.flatnonzero((g != w).any(axis=1))
        assert differ.size == 0, f"head {head}: {differ.size} of {len(g)} events differ"


def test_project_sizes_given_as_macros(cases: dict[str, Case], tmp_path: Path) -> None:
    """hls4ml 0.8 spells sizes as ``#define N_INPUT_1_1 10`` macros in defines.h."""
    import shutil

    original = Path(cases["po2"].hls.config.get_output_dir())
    copy = tmp_path / "macros"
    shutil.copytree(original / "firmware", copy / "firmware", ignore=shutil.ignore_patterns("*.so"))
    fw = copy / "firmware"
    defines = (fw / "defines.h").read_text().replace("#define DEFINES_H_", "#define DEFINES_H_\n#define N_INPUT_1_1 10")
    (fw / "defines.h").write_text(defines)
    for name, old, new in (("myproject.cpp", "input_t x[10]", "input_t x[N_INPUT_1_1]"),
                           ("myproject.h", "input_t x[10]", "input_t x[N_INPUT_1_1]"),
                           ("parameters.h", "n_in = 10;", "n_in = N_INPUT_1_1;")):  # fmt: skip
        text = (fw / name).read_text()
        assert old in text
        (fw / name).write_text(text.replace(old, new))
    x = cases["po2"].many[0]
    got = FixedPointGraph.from_hls4ml_project(copy).predict(x)
    assert np.array_equal(got, FixedPointGraph.from_hls4ml_project(original).predict(x))


def test_multidim_softmax_project(cases: dict[str, Case], tmp_path: Path) -> None:
    """``nnet::softmax_multidim`` (one softmax per row of the (6, 5) head), edited into a copy of
    the merges project, compiled with g++ and read back: equal on 20 000 events."""
    import re
    import shutil

    from emulator.fixedpoint.csim import ProjectLibrary

    copy = tmp_path / "multidim"
    shutil.copytree(Path(cases["merges"].hls.config.get_output_dir()) / "firmware", copy / "firmware",
                    ignore=shutil.ignore_patterns("*.so"))  # fmt: skip
    fw = copy / "firmware"
    top = (fw / "myproject.cpp").read_text()
    call = re.search(r"nnet::softmax<(\w+), (\w+), (\w+)>\((\w+), (\w+)\); // sm_rows", top)
    assert call is not None
    (fw / "myproject.cpp").write_text(
        top.replace("nnet::softmax<" + call.group(1), "nnet::softmax_multidim<" + call.group(1))
    )
    params = (fw / "parameters.h").read_text()
    block = params[params.index(f"struct {call.group(3)} ") :]
    edited = block.replace("n_slice = 30;", "n_slice = 5;", 1).replace("n_outer = 1;", "n_outer = 6;", 1)
    (fw / "parameters.h").write_text(params.replace(block, edited))
    graph = FixedPointGraph.from_hls4ml_project(copy)
    rows = next(n.op for n in graph.nodes if n.op.name == "sm_rows")
    assert (rows.n_outer, rows.n_inner) == (6, 1)  # type: ignore[attr-defined]
    want = ProjectLibrary.build(copy).predict(cases["merges"].many)
    got = _as_list(graph.predict(cases["merges"].many))
    for head, (g, w) in enumerate(zip(got, want, strict=True)):
        differ = np.flatnonzero((g != w).any(axis=1))
        assert differ.size == 0, f"head {head}: {differ.size} of {len(g)} events differ"
