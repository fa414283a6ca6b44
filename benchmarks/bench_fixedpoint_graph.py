"""Multi-head model: engine (FixedPointGraph) vs hls4ml C simulation vs the project compiled by l1emu.

The network is the DeepSets-like jet tagger of the tests: (16, 8) constituents, input batch
norm, two pointwise Dense layers, global average pooling, a classification head (softmax)
and a regression head. Three ways to run it, timed in one run (best of several repetitions):
the engine, ``hls_model.predict`` (one C++ call per event from Python) and the project's top
function compiled by :class:`emulator.fixedpoint.csim.ProjectLibrary` (a C loop over events).
Every way is checked against the engine.

    .venv/bin/python benchmarks/bench_fixedpoint_graph.py [--events 200000] [--csim-events 20000]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from emulator.fixedpoint import FixedPointGraph
from emulator.fixedpoint import _hls4ml_compat as compat
from emulator.fixedpoint.csim import ProjectLibrary

log = logging.getLogger("bench_fixedpoint_graph")


def _best(fn: Callable[[], object], reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=200_000)
    p.add_argument("--csim-events", type=int, default=20_000)
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    with tempfile.TemporaryDirectory() as tmp:
        model = build_keras(1)
        cfg = compat.config_from_keras_model(model, granularity="name", backend="Vitis")
        hls = compat.convert_from_keras_model(model, hls_config=cfg, output_dir=str(Path(tmp) / "prj"),
                                              backend="Vitis", io_type="io_parallel")  # fmt: skip
        hls.compile()
        graph = FixedPointGraph.from_hls4ml(hls)
        library = ProjectLibrary.build(Path(tmp) / "prj", opt="-O2")
        x = np.random.default_rng(2).normal(0, 2, (args.events, 16, 8)).astype(np.float32)
        small = x[: args.csim_events]
        got = graph.predict(x)
        assert isinstance(got, list)
        want = hls.predict(small)
        direct = library.predict(small)
        for g, w, d in zip(got, want, direct, strict=True):
            n = len(small)
            assert np.array_equal(g[:n], w.reshape(g[:n].shape)), "engine differs from hls4ml C-sim"
            assert np.array_equal(g[:n].astype(np.float64), d), "engine differs from the g++ library"
        t_engine = _best(lambda: graph.predict(x), args.reps) / len(x)
        t_csim = _best(lambda: hls.predict(small), 1) / len(small)
        t_lib = _best(lambda: library.predict(small), args.reps) / len(small)
    log.info("DeepSets two-head, %d events (C-sim %d): bit-exact", len(x), len(small))
    log.info("  engine            %10.0f ev/s", 1 / t_engine)
    log.info("  hls4ml C-sim      %10.0f ev/s  (engine x%.0f)", 1 / t_csim, t_csim / t_engine)
    log.info("  g++ library loop  %10.0f ev/s  (engine x%.1f)", 1 / t_lib, t_lib / t_engine)
    log.info("  plan: %s", graph.plan)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
