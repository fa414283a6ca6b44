"""``l1emu firmware`` for imported models (the chain's ``model`` algorithms, ``l1emu model import``).

An imported model already carries its hls4ml project (``<model>/hls4ml_project/``, written by
hls4ml at import or copied from the user's project directory). Its stage entry copies that
project to ``DIR/<stage>/<algorithm>/`` (the part and clock set in ``project.tcl`` where the
project has one), writes the testbench events the chain fed the model and the engine's heads
as expected values (``tb_data/inputs.dat``, ``expected.dat`` and hls4ml's own
``tb_input_features.dat``, ``tb_output_predictions.dat``), compiles the top function with g++
and compares its C simulation with the engine on those events. Latency is the longest path of
the graph (the chain's own estimate); resources are the per-layer estimate summed.

>>> is_imported_model("/nonexistent")
False
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from emulator.fixedpoint import FixedPointError, FixedPointGraph, FixedPointModel, FixedType
from emulator.fixedpoint._dense import Conv, Dense
from emulator.models.imported import PROJECT_DIR
from emulator.models.latency_estimate import graph_latency_cycles
from firmware.budget import estimate
from firmware.csynth import find_csynth, parse_csynth
from firmware.errors import FirmwareError
from firmware.guardrails import accumulator_warnings, overflow_counts
from firmware.hls_project import compare_outputs

__all__ = ["imported_entry", "is_imported_model", "write_imported_project"]

log = logging.getLogger(__name__)
_TB_FILES = (("inputs.dat", "tb_input_features.dat"), ("expected.dat", "tb_output_predictions.dat"))


def is_imported_model(path: str | Path) -> bool:
    """Whether ``path`` is a model directory written by ``l1emu model import``."""
    root = Path(path)
    return (root / "model.json").is_file() and (root / PROJECT_DIR / "firmware").is_dir()


def _one_layer(op: Any) -> FixedPointModel:
    return FixedPointModel(op.in_type, op.in_shape, (op,), name=op.name, columnar=False)


def _estimate(graph: FixedPointGraph, clock_mhz: float) -> dict[str, Any]:
    """The graph's longest path in cycles and the per-layer resource estimate summed (plus I/O registers)."""
    layers = [estimate(_one_layer(n.op), clock_mhz=clock_mhz).layers[0] for n in graph.nodes]
    io_ff = sum(i.size * i.type.width for i in graph.inputs)
    io_ff += sum(int(np.prod(graph.output_shape(o))) * graph.output_type(o).width for o in graph.outputs)
    resources = {
        "DSP": sum(x.dsp for x in layers),
        "LUT": sum(x.lut for x in layers),
        "FF": sum(x.ff for x in layers) + io_ff,
        "BRAM_18K": sum(x.bram_18k for x in layers),
    }
    return {"latency_cycles": graph_latency_cycles(graph, clock_mhz), "resources": resources, "clock_mhz": clock_mhz,
            "source": "estimate", "layers": [asdict(x) for x in layers]}  # fmt: skip


def _precisions(graph: FixedPointGraph) -> dict[str, dict[str, str]]:
    out = {i.name: {"result": str(i.type)} for i in graph.inputs}
    for node in graph.nodes:
        types = {k.removesuffix("_type"): str(v) for k, v in vars(node.op).items() if isinstance(v, FixedType)}
        types["result"] = types.pop("out")
        types.pop("in", None)
        out[node.op.name] = types
    return out


def _set_part_and_clock(directory: Path, part: str, clock_mhz: float) -> bool:
    tcl = directory / "project.tcl"
    if not tcl.is_file():
        return False
    text = tcl.read_text()
    text = re.sub(r'^set part ".*"$', f'set part "{part}"', text, flags=re.M)
    text = re.sub(r"^set clock_period .*$", f"set clock_period {round(1000.0 / clock_mhz, 3)}", text, flags=re.M)
    tcl.write_text(text)
    return True


def write_imported_project(model_dir: Path, x: np.ndarray, directory: Path, *, part: str, clock_mhz: float) -> Path:
    """Copy the model's hls4ml project to ``directory`` and write its testbench data; the expected heads."""
    source = model_dir / PROJECT_DIR
    if directory.exists():
        shutil.rmtree(directory)
    shutil.copytree(source, directory, ignore=shutil.ignore_patterns("*.so", "*.o", "tb_data"))
    _set_part_and_clock(directory, part, clock_mhz)
    tb = directory / "tb_data"
    tb.mkdir(parents=True, exist_ok=True)
    return tb


def imported_entry(
    name: str, model_dir: Path, x: np.ndarray, directory: Path, *, part: str, clock_mhz: float, budget: int | None
) -> dict[str, Any]:
    """The stage-report entry of one imported model: project, testbench data, C-sim vs the engine."""
    from emulator.fixedpoint.csim import ProjectLibrary

    if not is_imported_model(model_dir):
        msg = (
            f"model {name!r}: {model_dir} has no {PROJECT_DIR}/firmware (an engine model alone); "
            "import it with `l1emu model import` to get the hls4ml project the firmware is made from"
        )
        raise FirmwareError(msg)
    try:
        graph = FixedPointGraph.load(model_dir)
    except FixedPointError as exc:
        msg = f"model {name!r}: {model_dir}: {exc}"
        raise FirmwareError(msg) from exc
    if len(graph.inputs) != 1:
        msg = f"model {name!r}: {len(graph.inputs)} inputs; a chain's model algorithm feeds one"
        raise FirmwareError(msg)
    events = np.ascontiguousarray(np.asarray(x, np.float64).reshape(-1, graph.inputs[0].size))
    got = graph.predict(events)
    heads = got if isinstance(got, list) else [got]
    expected = np.concatenate([h.reshape(len(events), -1) for h in heads], axis=1)
    tb = write_imported_project(model_dir, events, directory, part=part, clock_mhz=clock_mhz)
    for (ours, hls4ml), values in zip(_TB_FILES, (events, expected), strict=True):
        np.savetxt(tb / ours, values, fmt="%.17g")
        shutil.copyfile(tb / ours, tb / hls4ml)
    log.info("%s: compiling the imported project in %s", name, directory)
    try:
        library = ProjectLibrary.build(directory)
    except FixedPointError as exc:
        msg = f"model {name!r}: {directory}: {exc}"
        raise FirmwareError(msg) from exc
    csim = np.concatenate(library.predict(events), axis=1)
    check = compare_outputs(csim, expected)
    log.info("%s: C simulation vs engine: %d of %d events differ", name, check.mismatches, check.events)
    est = _estimate(graph, clock_mhz)
    synth_path = find_csynth(directory, directory.name) or find_csynth(directory, "*")
    synth = parse_csynth(synth_path) if synth_path is not None else None
    latency = synth.latency_cycles if synth else est["latency_cycles"]
    dense = [n.op for n in graph.nodes if isinstance(n.op, Dense | Conv)]
    warnings = [w for op in dense for w in accumulator_warnings(_one_layer(op))]
    try:
        overflows: dict[str, Any] | None = overflow_counts(graph.as_model().audit(events))
    except FixedPointError:  # several heads or branches: no single-chain audit
        overflows = None
    return {
        "name": name, "imported": True, "model": str(model_dir), "project": str(directory), "part": part,
        "clock_mhz": clock_mhz, "backend": str(graph.source.get("backend", "as imported")), "strategy": "as imported",
        "heads": list(graph.outputs), "precisions": _precisions(graph), "reuse_factors": {},
        "latency_cycles": latency, "resources": synth.resources if synth else est["resources"],
        "latency_source": "csynth" if synth else "estimate", "estimate": est,
        "synthesis": synth.as_dict() if synth else None, "budget_cycles": budget,
        "within_budget": None if budget is None else latency <= budget, "bit_exact": check.as_dict(),
        "accumulator_warnings": [w.as_dict() for w in warnings], "overflows": overflows,
    }  # fmt: skip
