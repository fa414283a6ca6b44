"""Bring your own model: import a Keras/QKeras or HGQ2 file, a QONNX model or an hls4ml project, inspect it.

An imported model is a directory: ``model.json`` + ``arrays.npz`` (the engine's
:class:`~emulator.fixedpoint.FixedPointGraph`, numpy only) and ``hls4ml_project/`` (the
project's ``firmware/`` C++, copied or written by hls4ml), which the self-check compiles with
g++ and compares with the engine.

>>> import_model("/nonexistent.tflite", "/tmp/x")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
streams.errors.UnsupportedLayerError: /nonexistent.tflite: ...
"""

from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from emulator.fixedpoint import FixedPointGraph, UnsupportedLayerError

__all__ = ["PROJECT_DIR", "format_inspection", "import_model", "inspect_model", "self_check"]

log = logging.getLogger(__name__)

PROJECT_DIR = "hls4ml_project"
_KERAS = (".keras", ".h5", ".hdf5")


def _from_keras(src: Path, project: Path, *, backend: str, precision: str | None) -> FixedPointGraph:
    from emulator.fixedpoint import _hls4ml_compat as compat
    from emulator.models.export import load_keras

    model = load_keras(src)
    cfg = compat.config_from_keras_model(model, granularity="name", backend=backend,
                                         **({"default_precision": precision} if precision else {}))  # fmt: skip
    hls = compat.convert_from_keras_model(model, hls_config=cfg, output_dir=str(project), backend=backend,
                                          io_type="io_parallel")  # fmt: skip
    hls.write()
    graph = FixedPointGraph.from_hls4ml(hls)
    return FixedPointGraph(graph.inputs, graph.nodes, graph.outputs, name=graph.name,
                           source={**graph.source, "keras": str(src)})  # fmt: skip


def _from_hgq2(src: Path, project: Path, *, backend: str) -> FixedPointGraph:
    from emulator.models.hgq2 import export_hgq2

    if project.exists():
        shutil.rmtree(project)
    summary = export_hgq2(src, project, backend=backend)
    graph = FixedPointGraph.from_hls4ml_project(project)
    source = {**graph.source, "hgq2": str(src), "keras_layers": summary.get("layers", [])}
    return FixedPointGraph(graph.inputs, graph.nodes, graph.outputs, name=graph.name, source=source)


def _from_qonnx(src: Path, project: Path, *, backend: str) -> FixedPointGraph:
    from emulator.fixedpoint import _hls4ml_compat as compat

    hls = compat.convert_from_qonnx(src, output_dir=project, backend=backend)
    hls.write()
    graph = FixedPointGraph.from_hls4ml(hls)
    return FixedPointGraph(graph.inputs, graph.nodes, graph.outputs, name=graph.name,
                           source={**graph.source, "qonnx": str(src)})  # fmt: skip


def import_model(
    src: str | Path, out: str | Path, *, backend: str = "Vitis", precision: str | None = None
) -> FixedPointGraph:
    """Import ``src`` (a ``.keras``/``.h5`` QKeras or Keras model, an HGQ2 ``.keras`` model, a QONNX
    ``.onnx`` model or an hls4ml project directory) into the model directory ``out``; unsupported
    layers raise naming the layer."""
    source, root = Path(src), Path(out)
    project = root / PROJECT_DIR
    if source.is_dir():
        graph = FixedPointGraph.from_hls4ml_project(source)
        if project.exists():
            shutil.rmtree(project)
        shutil.copytree(source / "firmware", project / "firmware", ignore=shutil.ignore_patterns("*.so", "*.o"))
    elif source.suffix.lower() in _KERAS:
        if not source.is_file():
            msg = f"{source}: no such model file"
            raise UnsupportedLayerError(msg)
        from emulator.models.hgq2 import is_hgq2_model

        if is_hgq2_model(source):
            graph = _from_hgq2(source, project, backend=backend)
        else:
            graph = _from_keras(source, project, backend=backend, precision=precision)
    elif source.suffix.lower() == ".onnx":
        if not source.is_file():
            msg = f"{source}: no such QONNX file"
            raise UnsupportedLayerError(msg)
        graph = _from_qonnx(source, project, backend=backend)
    else:
        msg = (
            f"{source}: not a Keras/QKeras/HGQ2 model ({', '.join(_KERAS)}), a QONNX model (.onnx) or an hls4ml "
            "project directory"
        )
        raise UnsupportedLayerError(msg)
    graph.save(root)
    log.info("imported %s -> %s (%d layers)", source, root, len(graph.nodes))
    return graph


def _check_inputs(graph: FixedPointGraph, n: int, seed: int) -> list[np.ndarray]:
    """Random values over each input's range, with exact ties, NaN/±inf and far-out values."""
    rng = np.random.default_rng(seed)
    xs = []
    for inp in graph.inputs:
        t = inp.type
        span = math.ldexp(1.0, t.integer - t.signed)
        x = rng.uniform(-span if t.signed else 0.0, span, (n, inp.size))
        x[n // 4 : n // 2] = (np.floor(x[n // 4 : n // 2] * 2**t.fractional) + 0.5) / 2**t.fractional
        specials = [np.nan, np.inf, -np.inf, 1e30, -1e30, 1e-300, -1e-300]
        x[: min(n, len(specials)), 0] = specials[: min(n, len(specials))]
        x[len(specials) : len(specials) + n // 50] *= 8
        xs.append(x)
    return xs


def self_check(path: str | Path, n_events: int, *, seed: int = 1) -> dict[str, Any]:
    """Compile the model's ``hls4ml_project`` with g++ and count events whose heads differ."""
    from emulator.fixedpoint.csim import ProjectLibrary

    root = Path(path)
    graph = FixedPointGraph.load(root)
    library = ProjectLibrary.build(root / PROJECT_DIR)
    xs = _check_inputs(graph, n_events, seed)
    want = library.predict(xs)
    got = graph.predict(xs)
    heads = got if isinstance(got, list) else [got]
    differ = {o: int((g != w).any(axis=1).sum()) for o, g, w in zip(graph.outputs, heads, want, strict=True)}
    return {"events": n_events, "mismatching_events": differ, "bit_exact": not any(differ.values())}


def inspect_model(path: str | Path, *, check_events: int = 0) -> dict[str, Any]:
    """Inputs, heads, layers (type, wiring, types), the plan and ops per event; with
    ``check_events`` the C-simulation self-check."""
    root = Path(path)
    graph = FixedPointGraph.load(root)
    costs = {c.name: c for c in graph.costs()}
    info: dict[str, Any] = {
        "name": graph.name,
        "path": str(root),
        "source": graph.source,
        "inputs": [{"name": i.name, "type": str(i.type), "shape": list(i.shape)} for i in graph.inputs],
        "outputs": [
            {"name": o, "type": str(graph.output_type(o)), "shape": list(graph.output_shape(o))} for o in graph.outputs
        ],
        "plan": graph.plan,
        "layers": [
            {
                "name": n.op.name,
                "kind": n.op.kind,
                "inputs": list(n.inputs),
                "description": n.op.describe(),
                "multiplications": costs[n.op.name].multiplications,
            }
            for n in graph.nodes
        ],
        "multiplications_per_event": sum(c.multiplications for c in costs.values()),
        "table_lookups_per_event": sum(c.table_lookups for c in costs.values()),
    }
    if check_events:
        info["self_check"] = self_check(root, check_events)
    return info


def format_inspection(info: dict[str, Any]) -> str:
    lines = [f"model {info['name']} ({info['path']})", f"  plan: {info['plan']}"]
    lines += [f"  input  {i['name']}: {i['type']} x {tuple(i['shape'])}" for i in info["inputs"]]
    lines += [f"  output {o['name']}: {o['type']} x {tuple(o['shape'])}" for o in info["outputs"]]
    lines += [f"  {layer['name']:<16} <- {', '.join(layer['inputs']):<24} {layer['description']}"
              for layer in info["layers"]]  # fmt: skip
    lines.append(f"  per event: {info['multiplications_per_event']} multiplications, "
                 f"{info['table_lookups_per_event']} table look-ups")  # fmt: skip
    check = info.get("self_check")
    if check:
        verdict = "bit-exact" if check["bit_exact"] else "MISMATCH"
        lines.append(f"  self-check vs C simulation (g++), {check['events']} events: {verdict} "
                     f"{check['mismatching_events']}")  # fmt: skip
    return "\n".join(lines)
