"""One model -> one hls4ml project (io_parallel): write, compile with g++, C-sim vs the engine.

The project is built from the model's shipped files (``<name>.keras`` + ``<name>.hls4ml.json``,
see :mod:`emulator.models.export`) and checked against the engine model (``<name>.fxp``) that the
chain replays. ``tb_data/`` holds the testbench inputs and the ENGINE's outputs as expected values.
hls4ml (and TensorFlow) are imported only when a project is built.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emulator.fixedpoint import FixedPointModel, FixedType
from emulator.models.shipped import ShippedFiles
from firmware.errors import FirmwareError

__all__ = ["BitExact", "HlsProject", "ModelFiles", "ProjectOptions", "build_project", "compare_outputs"]

log = logging.getLogger(__name__)
_SHOW = 10


@dataclass(frozen=True, slots=True)
class ModelFiles(ShippedFiles):
    """The three shipped files of one model (layout: :class:`~emulator.models.shipped.ShippedFiles`), present."""

    @classmethod
    def locate(cls, ref: str | Path) -> ModelFiles:
        """From a stem (``configs/models/axol1tl``) or any one of the files; each must exist.

        >>> ModelFiles.locate("nowhere/axol1tl.fxp")
        Traceback (most recent call last):
        ...
        streams.errors.FirmwareError: model 'axol1tl': no nowhere/axol1tl.keras or nowhere/axol1tl.h5
        """
        files = cls.of(ref)
        h5 = files.keras.with_suffix(".h5")
        if not files.keras.exists():
            if not h5.exists():
                msg = f"model {files.name!r}: no {files.keras} or {h5}"
                raise FirmwareError(msg)
            files = dataclasses.replace(files, keras=h5)
        for path, what in ((files.hls4ml, "hls4ml config"), (files.fxp, "engine model")):
            if not path.exists():
                msg = f"model {files.name!r}: {what} {path} is missing"
                raise FirmwareError(msg)
        return files


@dataclass(frozen=True, slots=True)
class ProjectOptions:
    """Backend, part and clock of the project; reuse/strategy override the model's hls4ml config."""

    backend: str | None = None  # None: the one the model was converted with
    part: str = "xcvu9p-flga2104-2L-e"
    clock_mhz: float = 240.0
    reuse_factor: int | None = None
    strategy: str | None = None


@dataclass(frozen=True, slots=True)
class BitExact:
    """C simulation against the engine: events compared, events that differ, the first of them."""

    events: int
    mismatches: int
    first: tuple[tuple[int, float], ...] = ()  # (event, max |Δ| over outputs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "mismatches": self.mismatches,
            "first": [{"event": e, "max_abs_diff": d} for e, d in self.first],
        }


@dataclass(frozen=True, slots=True)
class HlsProject:
    """A written and compiled project, the graph it holds, and its bit-exactness result."""

    name: str
    directory: Path
    backend: str
    strategy: str
    model: FixedPointModel  # rebuilt from the project's own graph (types, reuse factors)
    bit_exact: BitExact
    precisions: dict[str, dict[str, str]] = field(default_factory=dict)


def compare_outputs(got: np.ndarray, want: np.ndarray) -> BitExact:
    """Exact comparison per event (NaN equals NaN); lists the first differing events.

    >>> compare_outputs(np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [2.5], [3.0]])).first
    ((1, 0.5),)
    """
    n = want.shape[0]
    a, b = np.asarray(got, np.float64).reshape(n, -1), np.asarray(want, np.float64).reshape(n, -1)
    if a.shape != b.shape:
        msg = f"C simulation returned {a.shape} outputs, the engine {b.shape}"
        raise FirmwareError(msg)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    bad = np.flatnonzero(~same.all(axis=1))
    diff = np.nan_to_num(np.abs(a - b), nan=np.inf)
    first = tuple((int(e), float(diff[e].max())) for e in bad[:_SHOW])
    return BitExact(n, int(bad.size), first)


def _hls_config(doc: dict[str, Any], opts: ProjectOptions) -> tuple[dict[str, Any], str]:
    cfg = copy.deepcopy(doc["hls_config"])
    model = cfg.setdefault("Model", {})
    if opts.reuse_factor is not None:
        model["ReuseFactor"] = opts.reuse_factor
        for layer in cfg.get("LayerName", {}).values():
            if "ReuseFactor" in layer:
                layer["ReuseFactor"] = opts.reuse_factor
    if opts.strategy is not None:
        model["Strategy"] = opts.strategy
    return cfg, str(model.get("Strategy", doc.get("strategy", "Latency")))


def precisions(model: FixedPointModel) -> dict[str, dict[str, str]]:
    """Every layer's fixed-point types (``result``, ``weight``, ``bias``, ``accum`` …) as C++ text."""
    out = {"input": {"result": str(model.input_type)}}
    for op in model.layers:
        types = {k.removesuffix("_type"): str(v) for k, v in vars(op).items() if isinstance(v, FixedType)}
        types["result"] = types.pop("out")
        types.pop("in", None)
        out[op.name] = types
    return out


def _project_name(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    return ident if ident[:1].isalpha() else f"m_{ident}"


def build_project(files: ModelFiles, inputs: np.ndarray, out_dir: str | Path, opts: ProjectOptions) -> HlsProject:
    """Write the hls4ml project of ``files`` into ``out_dir``, compile it, compare C-sim with the engine.

    ``inputs`` are the testbench events ``(N, *input_shape)``, float as the engine receives them.
    """
    from emulator.fixedpoint import _hls4ml_compat as compat
    from emulator.models.export import load_keras, read_hls4ml_doc

    engine = FixedPointModel.load(files.fxp)
    x = np.ascontiguousarray(np.asarray(inputs).reshape(-1, *engine.input_shape))
    expected = engine.predict(x).reshape(len(x), -1)
    root = Path(out_dir)
    tb = root / "tb_data"
    tb.mkdir(parents=True, exist_ok=True)
    # hls4ml's own .npy -> .dat conversion prints float32 with 8 digits, which rounds exact
    # fixed-point values (0.205078125 -> 0.20507812); write exact decimals and let it copy them.
    np.savetxt(tb / "inputs.dat", x.reshape(len(x), -1).astype(np.float64), fmt="%.17g")
    np.savetxt(tb / "expected.dat", expected.astype(np.float64), fmt="%.17g")
    doc = read_hls4ml_doc(files.hls4ml)
    cfg, strategy = _hls_config(doc, opts)
    backend = opts.backend or str(doc.get("backend", "Vitis"))
    hls = compat.convert_from_keras_model(
        load_keras(files.keras), hls_config=cfg, output_dir=str(root), project_name=_project_name(files.name),
        backend=backend, part=opts.part, clock_period=round(1000.0 / opts.clock_mhz, 3), io_type="io_parallel",
        input_data_tb=str(tb / "inputs.dat"), output_data_tb=str(tb / "expected.dat"),
    )  # fmt: skip
    hls.write()
    log.info("%s: compiling the hls4ml project in %s", files.name, root)
    hls.compile()
    got = hls.predict(np.ascontiguousarray(x.reshape(len(x), -1)))
    graph = FixedPointModel.from_hls4ml(hls)
    graph = FixedPointModel(graph.input_type, graph.input_shape, graph.layers, name=files.name, source=graph.source)
    check = compare_outputs(got, expected)
    log.info("%s: C simulation vs engine: %d of %d events differ", files.name, check.mismatches, check.events)
    return HlsProject(files.name, root, backend, strategy, graph, check, precisions(graph))
