"""QONNX models through hls4ml's QONNX front end: the engine against hls4ml's C simulation.

The model is written with ``onnx.helper`` (Brevitas would downgrade setuptools here): ``Quant``
nodes on the input, weights, biases and the hidden activation, a ``MatMul`` + ``Add`` layer,
ReLU, a ``Gemm`` layer (hls4ml needs qonnx's Gemm -> MatMul) and two heads.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointGraph
from emulator.fixedpoint import _hls4ml_compat as compat

pytestmark = [pytest.mark.hls4ml]

N_EVENTS = 4000


def _qonnx_mlp(rng: np.random.Generator) -> Any:
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, value: Any) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value, np.float32), name))
        return name

    def quant(inp: str, out: str, scale: float, bits: int, signed: int = 1) -> str:
        args = [inp, const(f"{out}_scale", scale), const(f"{out}_zero", 0.0), const(f"{out}_bits", float(bits))]
        nodes.append(helper.make_node("Quant", args, [out], domain="qonnx.custom_op.general", signed=signed,
                                      narrow=0, rounding_mode="ROUND"))  # fmt: skip
        return out

    x = quant("x", "xq", 2.0**-4, 10)
    w1 = quant(const("w1", rng.normal(0, 0.5, (10, 16))), "w1q", 2.0**-3, 6)
    b1 = quant(const("b1", rng.normal(0, 0.5, 16)), "b1q", 2.0**-3, 8)
    nodes += [helper.make_node("MatMul", [x, w1], ["h1"]), helper.make_node("Add", ["h1", b1], ["h1b"]),
              helper.make_node("Relu", ["h1b"], ["r1"])]  # fmt: skip
    hidden = quant("r1", "hidden", 2.0**-3, 8, signed=0)
    w2 = quant(const("w2", rng.normal(0, 0.5, (16, 3))), "w2q", 2.0**-4, 8)
    b2 = quant(const("b2", rng.normal(0, 0.5, 3)), "b2q", 2.0**-4, 8)
    nodes.append(helper.make_node("Gemm", [hidden, w2, b2], ["y"]))
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3]),
               helper.make_tensor_value_info("hidden", TensorProto.FLOAT, [1, 16])]  # fmt: skip
    graph = helper.make_graph(nodes, "qmlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 10])],
                              outputs, inits)  # fmt: skip
    opsets = [helper.make_opsetid("", 13), helper.make_opsetid("qonnx.custom_op.general", 1)]
    return helper.make_model(graph, opset_imports=opsets)


@pytest.fixture(scope="module")
def qonnx_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, np.ndarray, Path]:
    pytest.importorskip("qonnx")
    pytest.importorskip("hls4ml")
    import onnx

    root = tmp_path_factory.mktemp("qonnx")
    rng = np.random.default_rng(7)
    model = _qonnx_mlp(rng)
    path = root / "qmlp.onnx"
    onnx.save(model, str(path))
    hls = compat.convert_from_qonnx(path, output_dir=root / "prj", backend="Vitis")
    hls.compile()
    x = rng.normal(0, 3, (N_EVENTS, 10))
    x[:8, 0] = [np.nan, np.inf, -np.inf, 1e30, -1e30, 1e-300, -1e-300, -0.0]
    x[1000:2000] = (np.round(x[1000:2000] * 16) + 0.5) / 16  # exact ties of the input LSB
    return hls, x, path


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("columnar", [True, False], ids=["columnar", "layers"])
def test_qonnx_two_heads_are_bit_exact(qonnx_case: tuple[Any, np.ndarray, Path], dtype: type, columnar: bool) -> None:
    hls, x, _ = qonnx_case
    xs = np.ascontiguousarray(x, dtype=dtype)
    want = hls.predict(xs)
    graph = dataclasses.replace(FixedPointGraph.from_hls4ml(hls), columnar=columnar)
    got = graph.predict(xs)
    assert isinstance(got, list)
    assert len(got) == len(want) == 2
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        assert int((g != w.reshape(g.shape)).any(axis=1).sum()) == 0


def test_import_command_reads_qonnx(qonnx_case: tuple[Any, np.ndarray, Path], tmp_path: Path) -> None:
    from emulator.models.imported import import_model

    hls, x, path = qonnx_case
    graph = import_model(path, tmp_path / "qmlp")
    assert (tmp_path / "qmlp" / "hls4ml_project" / "firmware" / "parameters.h").exists()
    for g, w in zip(FixedPointGraph.load(tmp_path / "qmlp").predict(x), hls.predict(x), strict=True):
        assert np.array_equal(g, w.reshape(g.shape))
    assert graph.source["qonnx"] == str(path)
