"""``FixedPointModel``: an hls4ml io_parallel network replayed bit for bit in integer numpy/numba.

Build it once from an hls4ml ``ModelGraph`` (needs hls4ml), save it, and replay it anywhere
with numpy and numba only:

>>> import numpy as np
>>> from emulator.fixedpoint import FixedPointModel, FixedType
>>> from emulator.fixedpoint.layers import Activation, Dense
>>> t_in, t_w, t_acc = FixedType(8, 3), FixedType(6, 2), FixedType(16, 6)
>>> t_out = FixedType.parse("ap_ufixed<6,3,AP_RND_CONV,AP_SAT>")
>>> dense = Dense("d1", t_in, t_acc, (2,), (1,), weight=np.array([[8], [-4]]), bias=np.array([1]),
...               weight_type=t_w, bias_type=t_w, accum_type=t_acc)
>>> relu = Activation("r1", t_acc, t_out, (1,), (1,), function="relu")
>>> model = FixedPointModel(t_in, (2,), (dense, relu))
>>> model.predict(np.array([[1.5, 0.25], [-1.0, 0.0]], np.float32)).tolist()
[[0.75], [0.0]]
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from emulator.fixedpoint._base import LayerCost, Op, Run, Scratch, op_from_spec, single_threaded_blas
from emulator.fixedpoint._columnar import BLOCK as COLUMNAR_BLOCK
from emulator.fixedpoint._columnar import ColumnarPlan, build_columnar
from emulator.fixedpoint._dense import Dense
from emulator.fixedpoint._from_hls4ml import read_graph
from emulator.fixedpoint.audit import OverflowReport, Tally
from emulator.fixedpoint.cast import float_cast, to_float
from emulator.fixedpoint.errors import FixedPointError
from emulator.fixedpoint.types import FixedType

__all__ = ["FixedPointModel"]

FORMAT = "l1emu-fixedpoint"
VERSION = 1
_JSON, _NPZ = "model.json", "arrays.npz"


@dataclass(frozen=True, eq=False)
class FixedPointModel:
    """A chain of fixed-point layers behind an ``input_type`` cast of float inputs."""

    input_type: FixedType
    input_shape: tuple[int, ...]
    layers: tuple[Op, ...]
    name: str = "model"
    source: dict[str, Any] = field(default_factory=dict)  # provenance (hls4ml version, backend …)
    block_size: int = 4096  # events per block (layer by layer)
    columnar: bool = True  # use the columnar plan when the network allows it
    _local: threading.local = field(default_factory=threading.local, init=False, repr=False)
    _plan: ColumnarPlan | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        t, shape = self.input_type, self.input_shape
        for op in self.layers:
            if op.in_type != t or op.n_in != math.prod(shape):
                msg = (
                    f"model {self.name!r}: layer {op.name!r} expects {op.in_type} x {op.in_shape} "
                    f"but receives {t} x {shape}"
                )
                raise FixedPointError(msg)
            t, shape = op.out_type, op.out_shape
        if self.columnar and self.layers:
            object.__setattr__(self, "_plan", build_columnar(self.input_type, self.layers))

    @property
    def _uses_blas(self) -> bool:
        """Whether :meth:`predict` reaches a float GEMM (a dense or conv layer outside the
        columnar plan); limiting BLAS threads costs ~50 µs per call, so only then."""
        start = self._plan.n_layers if self._plan is not None else 0
        return any(isinstance(op, Dense) for op in self.layers[start:])

    # -- shape and type -------------------------------------------------------
    @property
    def output_type(self) -> FixedType:
        return self.layers[-1].out_type if self.layers else self.input_type

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].out_shape if self.layers else self.input_shape

    @property
    def plan(self) -> str:
        """How :meth:`predict` runs: ``columnar float32|float64`` or ``layers``."""
        if self._plan is None:
            return "layers"
        plan = f"columnar {np.dtype(self._plan.dtype).name}"
        rest = self.layers[self._plan.n_layers :]
        return plan if not rest else f"{plan} up to {self.layers[self._plan.n_layers - 1].name!r}, then layers"

    @property
    def n_inputs(self) -> int:
        return math.prod(self.input_shape)

    @property
    def n_outputs(self) -> int:
        return math.prod(self.output_shape)

    # -- inference ------------------------------------------------------------
    def predict(self, X: np.ndarray, *, threads: int = 1) -> np.ndarray:
        """What ``hls_model.predict(X)`` returns: float32 for float32 input, else float64,
        shape ``(n, n_outputs)``, or ``(n_outputs,)`` for a single event.

        ``threads > 1`` splits large batches over threads (the kernels release the GIL).
        """
        x, single = self._prepare(X)
        if self._plan is not None and self._plan.n_layers == len(self.layers):  # values straight from the plan
            y = np.empty((x.shape[0], self.n_outputs), x.dtype)
            self._split(x, y, threads, lambda xs, ys: self._columnar(xs, ys, self.output_type.lsb))
        else:
            y = to_float(self._run_threads(x, threads), self.output_type, x.dtype)
        return y[0] if single else y

    def predict_mantissas(self, X: np.ndarray, *, threads: int = 1) -> np.ndarray:
        """The output as int64 mantissas ``(n, n_outputs)`` of :attr:`output_type`."""
        x, _ = self._prepare(X)
        return self._run_threads(x, threads)

    def audit(self, X: np.ndarray) -> OverflowReport:
        """Per layer and cast site, how many values wrapped or saturated on this batch."""
        x, single = self._prepare(X)
        tally = Tally()
        with single_threaded_blas():
            y = to_float(self._run(x, tally), self.output_type, x.dtype)
        return tally.report(x.shape[0], y[0] if single else y)

    def _prepare(self, X: np.ndarray) -> tuple[np.ndarray, bool]:
        arr = np.asarray(X)
        if arr.dtype not in (np.float32, np.float64):
            if arr.dtype.kind not in "biuf":
                msg = f"model {self.name!r}: inputs must be numbers, not {arr.dtype}"
                raise FixedPointError(msg)
            arr = arr.astype(np.float64)
        n_in = self.n_inputs
        if arr.size == n_in:
            return np.ascontiguousarray(arr.reshape(1, n_in)), True
        if arr.ndim < 2 or math.prod(arr.shape[1:]) != n_in:
            msg = f"model {self.name!r}: input of shape {arr.shape} does not hold events of {self.input_shape}"
            raise FixedPointError(msg)
        return np.ascontiguousarray(arr.reshape(arr.shape[0], n_in)), False

    def _run_threads(self, x: np.ndarray, threads: int) -> np.ndarray:
        out = np.empty((x.shape[0], self.n_outputs), np.int64)
        self._split(x, out, threads, lambda xs, ys: self._run(xs, None, ys))
        return out

    def _split(
        self, x: np.ndarray, out: np.ndarray, threads: int, fn: Callable[[np.ndarray, np.ndarray], object]
    ) -> None:
        """``fn(x_part, out_part)`` over up to ``threads`` parts of at least one block each."""
        n = x.shape[0]
        n_chunks = min(max(threads, 1), math.ceil(n / self.block_size))
        with single_threaded_blas() if self._uses_blas else nullcontext():
            if n_chunks <= 1:
                fn(x, out)
                return
            bounds = np.linspace(0, n, n_chunks + 1).astype(int)
            with ThreadPoolExecutor(n_chunks) as pool:
                jobs = [pool.submit(fn, x[a:b], out[a:b]) for a, b in pairwise(bounds)]
                for job in jobs:
                    job.result()

    def _columnar(self, x: np.ndarray, out: np.ndarray, scale: float) -> None:
        assert self._plan is not None
        self._plan.run(x, out, scale, block=min(self.block_size, COLUMNAR_BLOCK))

    def _run(self, x: np.ndarray, tally: Tally | None, out: np.ndarray | None = None) -> np.ndarray:
        n = x.shape[0]
        out = np.empty((n, self.n_outputs), np.int64) if out is None else out
        plan = self._plan if tally is None else None
        if plan is not None and plan.n_layers == len(self.layers):
            self._columnar(x, out, 1.0)
            return out
        start, mid = 0, None
        if plan is not None:  # the leading layers columnar, the rest layer by layer
            start, mid = plan.n_layers, np.empty((n, plan.n_outputs), np.int64)
            self._columnar(x, mid, 1.0)
        run = Run(tally, self._scratch())
        wants = [op.float_input for op in self.layers[1:]] + [None] * bool(self.layers)
        first = (self.layers[0].float_input if self.layers else None) or np.int64
        for b0 in range(0, n, self.block_size):
            if mid is not None:
                m = mid[b0 : b0 + self.block_size]
            else:
                block = x[b0 : b0 + self.block_size]
                buf = run.scratch.get(("input", "input"), block.shape, first)
                m, n_ovf, n_bad = float_cast(block, self.input_type, out=buf)
                if tally is not None:
                    mode = self.input_type.overflow.value
                    tally.add("input", "input", mode, values=m.size, overflowed=n_ovf, nonfinite=n_bad)
            for op, float_out in zip(self.layers[start:], wants[start:], strict=True):
                if m.dtype != np.int64 and not op.accepts_float:
                    m = m.astype(np.int64)
                m = op.forward(m, run, float_out=float_out)
            out[b0 : b0 + self.block_size] = m
        return out

    def _scratch(self) -> Scratch:
        """This thread's work buffers (a model may serve several threads at once)."""
        local = self._local
        scratch: Scratch | None = getattr(local, "scratch", None)
        if scratch is None:
            scratch = local.scratch = Scratch()
        return scratch

    # -- description ----------------------------------------------------------
    def costs(self) -> tuple[LayerCost, ...]:
        """Per layer: multiplications per event, reuse factor, table look-ups (for budgets)."""
        return tuple(op.cost() for op in self.layers)

    def summary(self) -> str:
        lines = [f"{self.name}: input {self.input_type} x {self.input_shape}, {self.plan}"]
        lines += [f"  {op.name:<20} {op.describe()}" for op in self.layers]
        return "\n".join(lines)

    # -- construction and storage ---------------------------------------------
    @classmethod
    def from_hls4ml(cls, hls_model: Any) -> FixedPointModel:
        """Build from an hls4ml ``ModelGraph`` (Vivado/Vitis backend, io_parallel)."""
        graph = read_graph(hls_model)
        return cls(graph.input_type, graph.input_shape, graph.layers, name=graph.name, source=graph.source)

    @classmethod
    def from_hls4ml_project(cls, path: str | Path) -> FixedPointModel:
        """Build from a one-chain hls4ml project directory (see :meth:`FixedPointGraph.from_hls4ml_project`)."""
        from emulator.fixedpoint._project import read_project

        dag = read_project(path)
        inp = dag.inputs[0] if dag.inputs else None
        ops = dag.chain()
        assert inp is not None
        return cls(inp.type, inp.shape, ops, name=dag.name, source=dag.source)

    def save(self, path: str | Path) -> Path:
        """Write ``path/model.json`` (structure, types) and ``path/arrays.npz`` (integer arrays)."""
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        specs: list[dict[str, Any]] = []
        arrays: dict[str, Any] = {}
        for i, op in enumerate(self.layers):
            spec, arrs = op.to_spec()
            specs.append(spec)
            arrays.update({f"L{i}.{k}": np.asarray(v) for k, v in arrs.items()})
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "input_type": str(self.input_type),
            "input_shape": list(self.input_shape),
            "source": self.source,
            "layers": specs,
        }
        (root / _JSON).write_text(json.dumps(doc, indent=1) + "\n")
        np.savez_compressed(root / _NPZ, **arrays)
        return root

    @classmethod
    def load(cls, path: str | Path) -> FixedPointModel:
        """Read a model written by :meth:`save` (no pickle, no TensorFlow, no hls4ml)."""
        root = Path(path)
        try:
            doc = json.loads((root / _JSON).read_text())
            with np.load(root / _NPZ, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as exc:
            msg = f"{root}: cannot read a fixed-point model ({exc})"
            raise FixedPointError(msg) from exc
        if doc.get("format") != FORMAT or doc.get("version") != VERSION:
            msg = f"{root / _JSON}: not a {FORMAT} v{VERSION} file (format {doc.get('format')!r})"
            raise FixedPointError(msg)
        layers = []
        for i, spec in enumerate(doc["layers"]):
            prefix = f"L{i}."
            arrs = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            layers.append(op_from_spec(spec, arrs, where=f"{root / _JSON}: layers[{i}]"))
        return cls(
            FixedType.parse(doc["input_type"]),
            tuple(doc["input_shape"]),
            tuple(layers),
            name=doc.get("name", "model"),
            source=doc.get("source", {}),
        )
