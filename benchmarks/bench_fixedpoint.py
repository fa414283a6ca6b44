"""Fixed-point engine vs hls4ml C simulation vs onnxruntime (float), measured in one run.

``encoder``: AXOL1TL-sized, the QKeras encoder 57 -> 32 -> 16 -> 13 (quantized ReLUs,
6-bit weights, ~75 % of the first layer pruned), run on zero-padded, pT-ordered-like
inputs. Two hls4ml configurations: ``auto`` (hls4ml infers wide accumulators) and
``default`` (the model-wide ap_fixed<16,6> everywhere: narrow accumulators that wrap).

``multihead``: the DeepSets-like two-head jet tagger (``bench_fixedpoint_multihead.py``):
the engine (:class:`FixedPointGraph`), ``hls_model.predict``, the project's top function
in a C loop (:class:`ProjectLibrary`) and the float network in onnxruntime.

Reports events/s (best of several repetitions: the machine is shared) and the ratios
engine / C-sim and engine / onnxruntime, and checks the engine against the C-sim.

    .venv/bin/python benchmarks/bench_fixedpoint.py [--model both] [--events 2000000] [--csim-events 20000]
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

from emulator.fixedpoint import FixedPointModel
from emulator.fixedpoint import _hls4ml_compat as compat

SIZES = (57, 32, 16, 13)



def build_keras(seed: int) -> Any:
    """The AXOL1TL-like QKeras encoder with random weights, first layer 75 % pruned."""
    compat.import_qkeras()
    from qkeras import QActivation, QDense, quantized_bits, quantized_relu
    from tf_keras import Input, Model

    rng = np.random.default_rng(seed)
    x = inp = Input((SIZES[0],), name="x")
    for k, n in enumerate(SIZES[1:], start=1):
        q = quantized_bits(6, 2, alpha=1)
        x = QDense(n, kernel_quantizer=q, bias_quantizer=q, name=f"d{k}")(x)
        if k < len(SIZES) - 1:
            x = QActivation(quantized_relu(8, 3), name=f"r{k}")(x)
    model = Model(inp, x)
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            w = rng.normal(0, 0.4, weights[0].shape)
            if layer.name == "d1":
                w[rng.random(w.shape) < 0.75] = 0.0
            layer.set_weights([w, rng.normal(0, 0.2, weights[1].shape)])
    return model


def build_hls(model: Any, out_dir: Path, precision: str) -> Any:
    cfg = compat.config_from_keras_model(model, granularity="name", backend="Vitis")
    if precision == "default":
        for layer in cfg["LayerName"].values():
            layer["Precision"] = {k: ("fixed<16,6>" if v == "auto" else v) for k, v in layer["Precision"].items()}
    hls = compat.convert_from_keras_model(
        model, hls_config=cfg, output_dir=str(out_dir), backend="Vitis", io_type="io_parallel"
    )
    hls.compile()
    return hls


def build_onnx(model: Any, threads: int) -> Any:
    """The float network (same Keras weights) as an onnxruntime session built with onnx.helper."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, prev = [], [], "x"
    dense = [layer for layer in model.layers if layer.get_weights()]
    for k, layer in enumerate(dense):
        w, b = (np.asarray(a, np.float32) for a in layer.get_weights())
        inits += [numpy_helper.from_array(w, f"w{k}"), numpy_helper.from_array(b, f"b{k}")]
        nodes.append(helper.make_node("MatMul", [prev, f"w{k}"], [f"m{k}"]))
        nodes.append(helper.make_node("Add", [f"m{k}", f"b{k}"], [f"a{k}"]))
        prev = f"a{k}"
        if k < len(dense) - 1:
            nodes.append(helper.make_node("Relu", [prev], [f"r{k}"]))
            prev = f"r{k}"
    graph = helper.make_graph(
        nodes,
        "encoder",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, SIZES[0]])],
        [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [None, SIZES[-1]])],
        inits,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8  # what this onnxruntime reads
    onnx.checker.check_model(proto)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])


def make_events(n: int, seed: int) -> np.ndarray:
    """Zero-padded inputs: a variable number of objects per event, the rest zeros."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 3, (n, SIZES[0])).astype(np.float32)
    n_obj = rng.integers(3, SIZES[0], n)
    x[np.arange(SIZES[0])[None, :] >= n_obj[:, None]] = 0.0
    return x


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=("encoder", "multihead", "both"), default="both")
    ap.add_argument("--events", type=int, default=2_000_000, help="events for the engine and onnxruntime")
    ap.add_argument("--multihead-events", type=int, default=200_000, help="engine/onnxruntime events, multihead")
    ap.add_argument("--csim-events", type=int, default=20_000, help="events for the (slow) C simulation")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="threads for the multi-threaded rows")
    args = ap.parse_args()
    if args.model in ("encoder", "both"):
        encoder(args)
    if args.model in ("multihead", "both"):
        from bench_fixedpoint_multihead import multihead  # this folder (the script's sys.path[0])

        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
        print()
        multihead(n_events=args.multihead_events, csim_events=args.csim_events, reps=args.reps)


def encoder(args: argparse.Namespace) -> None:
    """The AXOL1TL-sized encoder in two accumulator configurations."""
    keras_model = build_keras(seed=7)
    x = make_events(args.events, seed=1)
    x_csim = np.ascontiguousarray(x[: args.csim_events])
    sessions = {1: build_onnx(keras_model, 1), args.threads: build_onnx(keras_model, args.threads)}
    ort_rate = {t: args.events / best_of(lambda s=s: s.run(None, {"x": x}), args.reps) for t, s in sessions.items()}
    print(f"onnxruntime float: {ort_rate[1] / 1e6:.2f} M ev/s (1 thread), "
          f"{ort_rate[args.threads] / 1e6:.2f} M ev/s ({args.threads} threads)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for precision in ("auto", "default"):
            hls = build_hls(keras_model, Path(tmp) / precision, precision)
            engine = FixedPointModel.from_hls4ml(hls)
            csim_s = best_of(lambda h=hls: h.predict(x_csim), 2)
            same = np.array_equal(engine.predict(x_csim), hls.predict(x_csim))
            engine.predict(x[:10_000])  # load the numba kernels
            t1 = best_of(lambda e=engine: e.predict(x), args.reps)
            tn = best_of(lambda e=engine: e.predict(x, threads=args.threads), args.reps)
            csim = args.csim_events / csim_s
            e1, en = args.events / t1, args.events / tn
            print(f"\n[{precision}] {engine.summary()}")
            print(f"  bit-exact vs C-sim on {args.csim_events} events: {same}")
            print(f"  hls4ml C-sim      {csim / 1e3:8.1f} k ev/s")
            print(f"  engine, 1 thread  {e1 / 1e6:8.2f} M ev/s   x{e1 / csim:6.0f} C-sim   "
                  f"x{e1 / ort_rate[1]:.2f} ORT(1)")  # fmt: skip
            print(f"  engine, {args.threads} threads {en / 1e6:8.2f} M ev/s   x{en / csim:6.0f} C-sim   "
                  f"x{en / ort_rate[args.threads]:.2f} ORT({args.threads})")  # fmt: skip


if __name__ == "__main__":
    main()
