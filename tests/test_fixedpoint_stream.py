"""io_stream hls4ml projects read from their C++ text, against the project compiled with g++.

Two projects that hls4ml 1.3 writes here (``write()`` only; l1emu's own g++ build runs them,
both compiled at once):

* ``image`` (Vitis): Conv2D with the encoded implementation, ReLU, batch norm, 2x2 average
  pooling whose ``accum_t`` saturates (the stream kernel sums in ``nnet::reduce``'s tree), a
  ``same`` Conv2D (hls4ml puts a zero-padding layer in front) with the Resource strategy, a
  ``clone_stream`` feeding a 70 % pruned Resource dense (RF 2) + tanh + stable softmax head and a global
  max pooling head;
* ``tracks`` (Vivado, two inputs): Conv1D, average and global average pooling, sigmoid, a
  reshape (``repack_stream``) and a Dense on the (width, channels) tensor (a stream pointwise
  convolution) with a latency softmax per row, add, concatenate, an argmax softmax head and
  a head that is also cloned.

Inputs include NaN, ±inf, huge, tiny and exact ties; 20 000 events each.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointGraph, UnsupportedLayerError
from emulator.fixedpoint import _hls4ml_compat as compat
from emulator.fixedpoint.csim import ProjectLibrary

pytestmark = [pytest.mark.hls4ml, pytest.mark.tensorflow]

N_EVENTS = 20_000
Tune = Callable[[dict[str, Any]], None]


@dataclass
class Project:
    root: Path
    inputs: list[np.ndarray]
    want: list[np.ndarray]  # the compiled project's outputs


def _run_compiled(root: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    return ProjectLibrary.build(root).predict(inputs)  # g++, then the C++ (ctypes releases the GIL)


def _inputs(rng: np.random.Generator, shape: tuple[int, ...], frac: int = 10, scale: float = 2.0) -> np.ndarray:
    x = rng.normal(0, scale, (N_EVENTS, *shape))
    flat = x.reshape(N_EVENTS, -1)
    flat[5000:10000] = (np.round(rng.normal(0, scale, flat[5000:10000].shape) * 2**frac) + 0.5) / 2**frac
    specials = [np.nan, np.inf, -np.inf, 1e30, -1e30, 1e-300, -1e-300, -0.0]
    flat[: len(specials), 0] = specials
    flat[10:400] *= 40  # far out of range
    return x.astype(np.float32)


def _randomize(model: Any, rng: np.random.Generator) -> None:
    for layer in model.layers:
        weights = layer.get_weights()
        if "batchnormalization" in type(layer).__name__.lower():
            gamma, beta, mean, var = weights
            layer.set_weights([rng.uniform(0.5, 2, gamma.shape), rng.normal(0, 0.5, beta.shape),
                               rng.normal(0, 0.5, mean.shape), rng.uniform(0.3, 2, var.shape)])  # fmt: skip
        elif weights:
            layer.set_weights([rng.normal(0, 0.5, w.shape) for w in weights])


def _image(rng: np.random.Generator) -> tuple[Any, Tune]:
    from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu
    from tf_keras import Input, Model, layers

    q = quantized_bits(8, 2, alpha=1)
    inp = Input((8, 8, 2), name="img")
    x = QConv2D(3, 3, kernel_quantizer=q, bias_quantizer=q, name="c1")(inp)
    x = layers.BatchNormalization(name="bn")(QActivation(quantized_relu(8, 3), name="r1")(x))
    x = layers.AveragePooling2D(2, name="ap")(x)
    x = QConv2D(3, 3, padding="same", kernel_quantizer=q, bias_quantizer=q, name="c2")(x)
    x = layers.Activation("relu", name="r2")(x)
    d = layers.Activation("tanh", name="th")(QDense(6, kernel_quantizer=q, bias_quantizer=q, name="d1")(
        layers.Flatten(name="fl")(x)))  # fmt: skip
    cls = layers.Activation("softmax", name="cls")(QDense(3, kernel_quantizer=q, bias_quantizer=q, name="d2")(d))
    model = Model(inp, [cls, layers.GlobalMaxPooling2D(name="gmp")(x)])
    _randomize(model, rng)
    w, bias = model.get_layer("d1").get_weights()
    w[rng.random(w.shape) < 0.7] = 0.0  # pruned
    model.get_layer("d1").set_weights([w, bias])

    def tune(cfg: dict[str, Any]) -> None:
        names = cfg["LayerName"]
        names["c1"]["ConvImplementation"] = "Encoded"
        names["ap"]["Precision"]["accum"] = "fixed<9,4,RND,SAT>"  # four cells of up to 8: saturates
        names["c2"]["Strategy"] = "Resource"
        names["d1"].update({"Strategy": "Resource", "ReuseFactor": 2})
        names["cls"]["Implementation"] = "stable"

    return model, tune


def _tracks(rng: np.random.Generator) -> tuple[Any, Tune]:
    from qkeras import QActivation, QConv1D, QDense, quantized_bits, quantized_relu
    from tf_keras import Input, Model, layers

    q = quantized_bits(8, 2, alpha=1)
    a, b = Input((16, 3), name="trk"), Input((6,), name="glob")
    x = QActivation(quantized_relu(8, 3), name="r1")(QConv1D(4, 3, kernel_quantizer=q, bias_quantizer=q, name="c1")(a))
    x = layers.AveragePooling1D(2, name="ap")(x)
    x = layers.Activation("sigmoid", name="sg")(QConv1D(4, 3, strides=2, kernel_quantizer=q, bias_quantizer=q,
                                                        name="c2")(x))  # fmt: skip
    regrouped = layers.Reshape((6, 2), name="rs")(x)  # packs of 4 values become packs of 2: repack_stream
    rows = layers.Activation("softmax", name="rows")(QDense(5, kernel_quantizer=q, bias_quantizer=q, name="pw")(
        regrouped))  # fmt: skip
    db = QDense(4, kernel_quantizer=q, bias_quantizer=q, name="db")(b)
    s = layers.Add(name="add")([layers.GlobalAveragePooling1D(name="gap")(x), db])
    c = layers.Concatenate(name="cat")([s, db])
    am = layers.Activation("softmax", name="am")(QDense(3, kernel_quantizer=q, bias_quantizer=q, name="d2")(c))
    model = Model([a, b], [rows, am, s])
    _randomize(model, rng)

    def tune(cfg: dict[str, Any]) -> None:
        cfg["LayerName"]["rows"]["Implementation"] = "latency"
        cfg["LayerName"]["am"]["Implementation"] = "argmax"
        cfg["LayerName"]["db"]["Strategy"] = "Resource"

    return model, tune


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Project]:
    pytest.importorskip("hls4ml")
    compat.import_qkeras()
    root = tmp_path_factory.mktemp("hls4ml_stream")
    rng = np.random.default_rng(23)
    written = {}
    for name, build, backend in (("image", _image, "Vitis"), ("tracks", _tracks, "Vivado")):
        model, tune = build(rng)
        cfg = compat.config_from_keras_model(model, granularity="name", backend=backend)
        tune(cfg)
        hls = compat.convert_from_keras_model(model, hls_config=cfg, output_dir=str(root / name), backend=backend,
                                              io_type="io_stream")  # fmt: skip
        hls.write()
        shapes = [tuple(int(d) for d in i.shape[1:]) for i in model.inputs]
        written[name] = (root / name, [_inputs(rng, shape) for shape in shapes])
    with ThreadPoolExecutor(2) as pool:
        wants = dict(zip(written, pool.map(lambda r: _run_compiled(*r), written.values()), strict=True))
    return {name: Project(path, xs, wants[name]) for name, (path, xs) in written.items()}


@pytest.mark.parametrize("name", ["image", "tracks"])
def test_stream_project_equals_its_compiled_library(projects: dict[str, Project], name: str) -> None:
    project = projects[name]
    graph = FixedPointGraph.from_hls4ml_project(project.root)
    assert graph.source["io_type"] == "io_stream"
    assert [i.shape for i in graph.inputs] == [x.shape[1:] for x in project.inputs]
    want = project.want
    got = graph.predict(project.inputs)
    got = got if isinstance(got, list) else [got]
    assert len(got) == len(want)
    for head, (g, w) in enumerate(zip(got, want, strict=True)):
        differ = np.flatnonzero((g.reshape(w.shape) != w).any(axis=1))
        assert differ.size == 0, f"{name} head {head}: {differ.size} of {len(w)} events differ, first {differ[:5]}"


def test_stream_layers_as_read(projects: dict[str, Project]) -> None:
    """What the reader made of the stream kernels (the arithmetic the test above checks)."""
    image = FixedPointGraph.from_hls4ml_project(projects["image"].root)
    ops = {n.op.name: n.op for n in image.nodes}
    assert image.outputs == ("cls", "gmp")
    assert ops["ap"].stream  # type: ignore[attr-defined]
    assert ops["ap"].accum_type.overflow.value == "SAT"  # type: ignore[attr-defined]
    assert any(n.op.kind == "pad" for n in image.nodes)  # 'same' becomes a zero-padding layer
    tracks = FixedPointGraph.from_hls4ml_project(projects["tracks"].root)
    rows = next(n.op for n in tracks.nodes if n.op.name == "rows")
    assert (rows.n_outer, rows.n_inner) == (6, 1)  # type: ignore[attr-defined]  # one softmax per pack (pixel)
    assert [i.name for i in tracks.inputs] == ["trk", "glob"]
    top = (projects["tracks"].root / "firmware" / "myproject.cpp").read_text()
    assert "nnet::repack_stream<" in top
    assert "nnet::clone_stream<" in top


def test_stream_errors_name_the_layer(projects: dict[str, Project], tmp_path: Path) -> None:
    copy = tmp_path / "edited"
    shutil.copytree(projects["tracks"].root / "firmware", copy / "firmware",
                    ignore=shutil.ignore_patterns("*.so", "ap_types", "nnet_utils"))  # fmt: skip
    top = copy / "firmware" / "myproject.cpp"
    text = top.read_text()
    assert "nnet::sigmoid<" in text
    top.write_text(text.replace("nnet::sigmoid<", "nnet::hard_sigmoid<"))
    with pytest.raises(UnsupportedLayerError, match=r"layer 'sg'.*nnet::hard_sigmoid"):
        FixedPointGraph.from_hls4ml_project(copy)
    top.write_text(text.replace("nnet::clone_stream<", "nnet::broadcast_stream<", 1))
    with pytest.raises(UnsupportedLayerError, match=r"nnet::broadcast_stream"):
        FixedPointGraph.from_hls4ml_project(copy)


def test_stream_project_imports_as_a_model(
    projects: dict[str, Project], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``l1emu model import DIR``: the saved engine model (stream pooling included) replays the project."""
    from emulator.models.imported import PROJECT_DIR
    from l1emu.cli import main

    project = projects["image"]
    assert main(["model", "import", str(project.root), "--out", str(tmp_path / "image")]) == 0
    assert "myproject" in capsys.readouterr().out  # the import's summary
    assert main(["model", "inspect", str(tmp_path / "image"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["source"]["io_type"] == "io_stream"
    assert (tmp_path / "image" / PROJECT_DIR / "firmware" / "myproject.cpp").is_file()
    got = FixedPointGraph.load(tmp_path / "image").predict(project.inputs)
    for g, w in zip(got, project.want, strict=True):
        assert np.array_equal(g.reshape(w.shape), w)
