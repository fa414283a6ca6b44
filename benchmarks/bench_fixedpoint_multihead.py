"""Multi-head model: engine (FixedPointGraph) vs hls4ml C simulation vs g++ loop vs onnxruntime.

The network is the DeepSets-like jet tagger of the tests: (16, 8) constituents, input batch
norm, two pointwise Dense layers, global average pooling, a classification head (softmax)
and a regression head. Four ways to run it, timed in one run (best of several repetitions):
the engine, ``hls_model.predict`` (one C++ call per event from Python), the project's top
function compiled by :class:`emulator.fixedpoint.csim.ProjectLibrary` (a C loop over events)
and the float network (same weights, unquantized) in onnxruntime on one thread. The first
two are checked against the engine bit for bit, onnxruntime against a numpy float forward.
``benchmarks/bench_fixedpoint.py`` runs this after the encoder.

    .venv/bin/python benchmarks/bench_fixedpoint_multihead.py [--events 200000] [--csim-events 20000]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from _timing import best_of  # this folder (the script's sys.path[0])

from emulator.fixedpoint import FixedPointGraph
from emulator.fixedpoint import _hls4ml_compat as compat
from emulator.fixedpoint.csim import ProjectLibrary

log = logging.getLogger("bench_fixedpoint_multihead")



def build_keras(seed: int) -> Any:
    compat.import_qkeras()
    from qkeras import QActivation, QDense, quantized_bits
    from tf_keras import Input, Model, layers

    def dense(n: int, name: str) -> Any:
        q = quantized_bits(8, 2, alpha=1)
        return QDense(n, kernel_quantizer=q, bias_quantizer=q, name=name)

    inp = Input((16, 8), name="constituents")
    x = layers.BatchNormalization(name="bn_in")(inp)
    x = QActivation("quantized_relu(8, 3)", name="r1")(dense(32, "phi1")(x))
    x = QActivation("quantized_relu(8, 3)", name="r2")(dense(16, "phi2")(x))
    x = layers.GlobalAveragePooling1D(name="gap")(x)
    h = QActivation("quantized_relu(8, 3)", name="r3")(dense(16, "rho")(x))
    model = Model(inp, [layers.Activation("softmax", name="cls")(dense(5, "logits")(h)), dense(1, "pt")(h)])
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.get_weights() and layer.name != "bn_in":
            layer.set_weights([rng.normal(0, 0.5, w.shape) for w in layer.get_weights()])
    return model


def _float_layers(model: Any) -> dict[str, list[np.ndarray]]:
    return {layer.name: [np.asarray(w, np.float32) for w in layer.get_weights()] for layer in model.layers}


def float_forward(model: Any, x: np.ndarray) -> list[np.ndarray]:
    """The float network in numpy (BN in inference form, unquantized weights): onnxruntime's check."""
    w = _float_layers(model)
    gamma, beta, mean, var = w["bn_in"]
    scale = gamma / np.sqrt(var + 1e-3)
    h = x * scale + (beta - mean * scale)
    h = np.maximum(h @ w["phi1"][0] + w["phi1"][1], 0)
    h = np.maximum(h @ w["phi2"][0] + w["phi2"][1], 0).mean(axis=1)
    h = np.maximum(h @ w["rho"][0] + w["rho"][1], 0)
    z = h @ w["logits"][0] + w["logits"][1]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return [e / e.sum(axis=1, keepdims=True), h @ w["pt"][0] + w["pt"][1]]


def build_onnx(model: Any, threads: int = 1) -> Any:
    """The same float network as an onnxruntime session built with onnx.helper."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    w = _float_layers(model)
    gamma, beta, mean, var = w["bn_in"]
    scale = gamma / np.sqrt(var + 1e-3)
    consts = {"bn_s": scale, "bn_b": beta - mean * scale}
    for name in ("phi1", "phi2", "rho", "logits", "pt"):
        consts[f"{name}_w"], consts[f"{name}_b"] = w[name]
    inits = [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in consts.items()]
    node = helper.make_node
    nodes = [node("Mul", ["x", "bn_s"], ["s"]), node("Add", ["s", "bn_b"], ["bn"])]
    prev = "bn"
    for name in ("phi1", "phi2", "rho"):
        nodes += [node("MatMul", [prev, f"{name}_w"], [f"{name}_m"]),
                  node("Add", [f"{name}_m", f"{name}_b"], [f"{name}_a"]),
                  node("Relu", [f"{name}_a"], [f"{name}_r"])]  # fmt: skip
        prev = f"{name}_r"
        if name == "phi2":
            nodes.append(node("ReduceMean", [prev], ["gap"], axes=[1], keepdims=0))
            prev = "gap"
    nodes += [node("MatMul", [prev, "logits_w"], ["lm"]), node("Add", ["lm", "logits_b"], ["la"]),
              node("Softmax", ["la"], ["cls"], axis=1),
              node("MatMul", [prev, "pt_w"], ["pm"]), node("Add", ["pm", "pt_b"], ["pt"])]  # fmt: skip
    graph = helper.make_graph(
        nodes, "deepsets", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 16, 8])],
        [helper.make_tensor_value_info("cls", TensorProto.FLOAT, [None, 5]),
         helper.make_tensor_value_info("pt", TensorProto.FLOAT, [None, 1])], inits)  # fmt: skip
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])


def multihead(*, n_events: int, csim_events: int, reps: int) -> dict[str, float]:
    """Events/s of each way to run the two-head tagger, measured in one run (logged, and returned)."""
    with tempfile.TemporaryDirectory() as tmp:
        model = build_keras(1)
        cfg = compat.config_from_keras_model(model, granularity="name", backend="Vitis")
        hls = compat.convert_from_keras_model(model, hls_config=cfg, output_dir=str(Path(tmp) / "prj"),
                                              backend="Vitis", io_type="io_parallel")  # fmt: skip
        hls.compile()
        graph = FixedPointGraph.from_hls4ml(hls)
        library = ProjectLibrary.build(Path(tmp) / "prj", opt="-O2")
        session = build_onnx(model, threads=1)
        x = np.random.default_rng(2).normal(0, 2, (n_events, 16, 8)).astype(np.float32)
        small = x[:csim_events]
        got = graph.predict(x)
        assert isinstance(got, list)
        want = hls.predict(small)
        direct = library.predict(small)
        for g, w, d in zip(got, want, direct, strict=True):
            n = len(small)
            assert np.array_equal(g[:n], w.reshape(g[:n].shape)), "engine differs from hls4ml C-sim"
            assert np.array_equal(g[:n].astype(np.float64), d), "engine differs from the g++ library"
        for o, f in zip(session.run(None, {"x": x[:1000]}), float_forward(model, x[:1000]), strict=True):
            assert np.allclose(o, f, rtol=1e-4, atol=1e-4), "onnxruntime differs from the float network"
        t_engine = best_of(lambda: graph.predict(x), reps) / len(x)
        t_ort = best_of(lambda: session.run(None, {"x": x}), reps) / len(x)
        t_csim = best_of(lambda: hls.predict(small), 1) / len(small)
        t_lib = best_of(lambda: library.predict(small), reps) / len(small)
    log.info("DeepSets two-head, %d events (C-sim %d): bit-exact; plan %s", len(x), len(small), graph.plan)
    log.info("  engine (1 thread)      %10.0f ev/s", 1 / t_engine)
    log.info("  hls4ml C-sim           %10.0f ev/s  (engine x%.0f)", 1 / t_csim, t_csim / t_engine)
    log.info("  g++ library loop       %10.0f ev/s  (engine x%.1f)", 1 / t_lib, t_lib / t_engine)
    log.info("  onnxruntime float (1)  %10.0f ev/s  (engine x%.2f)", 1 / t_ort, t_ort / t_engine)
    return {"engine": 1 / t_engine, "csim": 1 / t_csim, "gxx_loop": 1 / t_lib, "onnxruntime": 1 / t_ort}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--csim-events", type=int, default=20_000)
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    multihead(n_events=args.events, csim_events=args.csim_events, reps=args.reps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
