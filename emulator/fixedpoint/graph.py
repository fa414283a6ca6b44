"""``FixedPointGraph``: an hls4ml io_parallel network with several inputs, outputs (heads) and merges.

A :class:`~emulator.fixedpoint.FixedPointModel` is one chain; a graph is a list of nodes in
topological order, each an op reading named tensors. The chain that leaves each input (up to
its first branch or merge) runs as a :class:`FixedPointModel` (columnar plan where the layers
allow), the rest layer by layer over blocks of events.

>>> import numpy as np
>>> from emulator.fixedpoint import FixedType
>>> from emulator.fixedpoint.layers import Activation, Merge
>>> t = FixedType(8, 4)
>>> relu = Activation("r", t, t, (2,), (2,), function="relu")
>>> add = Merge("sum", t, FixedType(10, 6), (2,), (2,), op="add", in_type2=t, in_shape2=(2,))
>>> g = FixedPointGraph((GraphInput("x", t, (2,)),), (Node(relu, ("x",), "r"), Node(add, ("x", "r"), "sum")),
...                     ("r", "sum"))
>>> [y.tolist() for y in g.predict(np.array([[1.5, -2.0]]))]
[[[1.5, 0.0]], [[3.0, -2.0]]]
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emulator.fixedpoint._base import LayerCost, Run, Scratch, op_from_spec, single_threaded_blas
from emulator.fixedpoint._graph_parts import GraphInput, Node
from emulator.fixedpoint._merge import Merge
from emulator.fixedpoint.cast import float_cast, to_float
from emulator.fixedpoint.engine import FixedPointModel
from emulator.fixedpoint.errors import FixedPointError
from emulator.fixedpoint.types import FixedType

__all__ = ["FixedPointGraph", "GraphInput", "Node"]

FORMAT = "l1emu-fixedpoint-graph"
VERSION = 1
_JSON, _NPZ = "model.json", "arrays.npz"


@dataclass(frozen=True, slots=True)
class _Lead:
    """The chain leaving one input, run as a :class:`FixedPointModel`."""

    model: FixedPointModel
    output: str  # the tensor it ends on
    n_nodes: int


@dataclass(frozen=True, eq=False)
class FixedPointGraph:
    """Inputs, nodes in topological order and the output tensors (heads), in hls4ml's order."""

    inputs: tuple[GraphInput, ...]
    nodes: tuple[Node, ...]
    outputs: tuple[str, ...]
    name: str = "model"
    source: dict[str, Any] = field(default_factory=dict)
    block_size: int = 4096
    columnar: bool = True
    _types: dict[str, tuple[FixedType, tuple[int, ...]]] = field(init=False, repr=False)
    _leads: dict[str, _Lead] = field(init=False, repr=False)
    _rest: tuple[Node, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        known = {i.name: (i.type, i.shape) for i in self.inputs}
        for node in self.nodes:
            op = node.op
            wants = [(op.in_type, op.in_shape)]
            if isinstance(op, Merge):
                wants.append((op.in_type2, op.in_shape2))
            if len(node.inputs) != len(wants):
                msg = f"model {self.name!r}: node {op.name!r} reads {list(node.inputs)}, needs {len(wants)} input(s)"
                raise FixedPointError(msg)
            for tensor, (t, shape) in zip(node.inputs, wants, strict=True):
                have = known.get(tensor)
                if have is None or have[0] != t or math.prod(have[1]) != math.prod(shape):
                    msg = f"model {self.name!r}: node {op.name!r} expects {t} x {shape} from {tensor!r}, gets {have}"
                    raise FixedPointError(msg)
            known[node.output] = (op.out_type, op.out_shape)
        missing = [o for o in self.outputs if o not in known]
        if missing or not self.outputs:
            msg = f"model {self.name!r}: outputs {missing or '[]'} are not produced by any node"
            raise FixedPointError(msg)
        object.__setattr__(self, "_types", known)
        leads = {i.name: lead for i in self.inputs if (lead := self._lead(i)) is not None}
        used = {id(n) for lead in leads.values() for n in self._chain(lead)}
        object.__setattr__(self, "_leads", leads)
        object.__setattr__(self, "_rest", tuple(n for n in self.nodes if id(n) not in used))

    def _lead(self, inp: GraphInput) -> _Lead | None:
        tensor, ops = inp.name, []
        while tensor not in self.outputs:
            readers = [n for n in self.nodes if tensor in n.inputs]
            if len(readers) != 1 or isinstance(readers[0].op, Merge):
                break
            ops.append(readers[0].op)
            tensor = readers[0].output
        if not ops:
            return None
        model = FixedPointModel(inp.type, inp.shape, tuple(ops), name=f"{self.name}:{inp.name}", columnar=self.columnar,
                                block_size=self.block_size)  # fmt: skip
        return _Lead(model, tensor, len(ops))

    def _chain(self, lead: _Lead) -> list[Node]:
        ids = {id(op) for op in lead.model.layers}
        return [n for n in self.nodes if id(n.op) in ids]

    # -- shape and type -------------------------------------------------------
    def output_type(self, name: str) -> FixedType:
        return self._types[name][0]

    def output_shape(self, name: str) -> tuple[int, ...]:
        return self._types[name][1]

    @property
    def plan(self) -> str:
        parts = [f"{name}: {lead.model.plan} ({lead.n_nodes} layers)" for name, lead in self._leads.items()]
        parts.append(f"{len(self._rest)} layers by blocks")
        return "; ".join(parts)

    # -- inference ------------------------------------------------------------
    def predict(self, X: np.ndarray | Sequence[np.ndarray]) -> np.ndarray | list[np.ndarray]:
        """What ``hls_model.predict(X)`` returns: one array per output (a list when there are
        several), float32 for float32 input, else float64, each ``(n, n_values)``."""
        xs = self._prepare(X)
        dtype = xs[0].dtype
        ms = self.predict_mantissas(xs)
        ys = [to_float(m, self.output_type(o), dtype) for m, o in zip(ms, self.outputs, strict=True)]
        return ys[0] if len(ys) == 1 else ys

    def predict_mantissas(self, X: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each output as int64 mantissas ``(n, n_values)`` of its type."""
        xs = self._prepare(X)
        n = xs[0].shape[0]
        starts: dict[str, np.ndarray] = {}
        with single_threaded_blas():
            for inp, x in zip(self.inputs, xs, strict=True):
                lead = self._leads.get(inp.name)
                if lead is not None:
                    starts[lead.output] = lead.model.predict_mantissas(x)
                else:
                    starts[inp.name] = float_cast(x, inp.type)[0]
            outs = [np.empty((n, math.prod(self.output_shape(o))), np.int64) for o in self.outputs]
            run = Run(None, Scratch())
            for b0 in range(0, n, self.block_size):
                env = {k: v[b0 : b0 + self.block_size] for k, v in starts.items()}
                for node in self._rest:
                    args = [_ints(env[t]) for t in node.inputs]
                    op = node.op
                    y = op.forward2(args[0], args[1], run) if isinstance(op, Merge) else op.forward(args[0], run)
                    env[node.output] = y
                for out, o in zip(outs, self.outputs, strict=True):
                    out[b0 : b0 + self.block_size] = _ints(env[o])
        return outs

    def _prepare(self, X: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
        xs = [X] if isinstance(X, np.ndarray) else list(X)
        if len(xs) != len(self.inputs):
            msg = f"model {self.name!r}: {len(xs)} input arrays for {len(self.inputs)} inputs"
            raise FixedPointError(msg)
        out = []
        for inp, x in zip(self.inputs, xs, strict=True):
            arr = np.asarray(x)
            if arr.dtype not in (np.float32, np.float64):
                arr = arr.astype(np.float64)
            if arr.ndim < 2 or math.prod(arr.shape[1:]) != inp.size:
                msg = (
                    f"model {self.name!r}: input {inp.name!r} of shape {arr.shape} does not hold events of {inp.shape}"
                )
                raise FixedPointError(msg)
            out.append(np.ascontiguousarray(arr.reshape(arr.shape[0], inp.size)))
        if len({x.shape[0] for x in out}) != 1:
            msg = f"model {self.name!r}: inputs hold different numbers of events {[x.shape[0] for x in out]}"
            raise FixedPointError(msg)
        return out

    # -- description ----------------------------------------------------------
    def costs(self) -> tuple[LayerCost, ...]:
        return tuple(n.op.cost() for n in self.nodes)

    def summary(self) -> str:
        lines = [f"{self.name}: " + ", ".join(f"input {i.name} {i.type} x {i.shape}" for i in self.inputs)]
        lines.append(f"  plan: {self.plan}")
        lines += [f"  {n.op.name:<20} <- {', '.join(n.inputs):<20} {n.op.describe()}" for n in self.nodes]
        lines += [f"  output {o}: {self.output_type(o)} x {self.output_shape(o)}" for o in self.outputs]
        return "\n".join(lines)

    def as_model(self) -> FixedPointModel:
        """The same network as a :class:`FixedPointModel` (one input, one output, a chain)."""
        if len(self.inputs) == 1 and len(self.outputs) == 1 and not self._rest:
            lead = self._leads.get(self.inputs[0].name)
            if lead is not None and lead.output == self.outputs[0]:
                return FixedPointModel(lead.model.input_type, lead.model.input_shape, lead.model.layers,
                                       name=self.name, source=self.source)  # fmt: skip
        msg = f"model {self.name!r}: {len(self.inputs)} inputs, {len(self.outputs)} outputs, not one chain"
        raise FixedPointError(msg)

    # -- construction and storage ---------------------------------------------
    @classmethod
    def from_hls4ml(cls, hls_model: Any) -> FixedPointGraph:
        """Build from an hls4ml ``ModelGraph`` (Vivado/Vitis backend, io_parallel), any topology."""
        from emulator.fixedpoint._hls4ml_dag import read_dag

        dag = read_dag(hls_model)
        return cls(dag.inputs, dag.nodes, dag.outputs, name=dag.name, source=dag.source)

    @classmethod
    def from_hls4ml_project(cls, path: str | Path) -> FixedPointGraph:
        """Build from a project directory hls4ml wrote (``firmware/``: the top function,
        ``parameters.h``, ``defines.h``, ``weights/``), without hls4ml or a compiler;
        io_parallel or io_stream, Latency or Resource strategy.

        >>> FixedPointGraph.from_hls4ml_project("/nonexistent")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        streams.errors.UnsupportedLayerError: /nonexistent: not an hls4ml project directory ...
        """
        from emulator.fixedpoint._project import read_project

        dag = read_project(path)
        return cls(dag.inputs, dag.nodes, dag.outputs, name=dag.name, source=dag.source)

    @classmethod
    def from_model(cls, model: FixedPointModel, *, input_name: str = "input") -> FixedPointGraph:
        nodes, tensor = [], input_name
        for op in model.layers:
            nodes.append(Node(op, (tensor,), op.name))
            tensor = op.name
        return cls((GraphInput(input_name, model.input_type, model.input_shape),), tuple(nodes), (tensor,),
                   name=model.name, source=model.source)  # fmt: skip

    def save(self, path: str | Path) -> Path:
        """Write ``path/model.json`` (structure, types) and ``path/arrays.npz`` (integer arrays)."""
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        specs: list[dict[str, Any]] = []
        arrays: dict[str, Any] = {}
        for i, node in enumerate(self.nodes):
            spec, arrs = node.op.to_spec()
            specs.append({**spec, "inputs": list(node.inputs), "output": node.output})
            arrays.update({f"L{i}.{k}": np.asarray(v) for k, v in arrs.items()})
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "inputs": [{"name": i.name, "type": str(i.type), "shape": list(i.shape)} for i in self.inputs],
            "outputs": list(self.outputs),
            "source": self.source,
            "layers": specs,
        }
        (root / _JSON).write_text(json.dumps(doc, indent=1) + "\n")
        np.savez_compressed(root / _NPZ, **arrays)
        return root

    @classmethod
    def load(cls, path: str | Path) -> FixedPointGraph:
        """Read a graph written by :meth:`save`, or a chain written by :meth:`FixedPointModel.save`."""
        root = Path(path)
        try:
            doc = json.loads((root / _JSON).read_text())
            if doc.get("format") != FORMAT:
                return cls.from_model(FixedPointModel.load(root))
            with np.load(root / _NPZ, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as exc:
            msg = f"{root}: cannot read a fixed-point model ({exc})"
            raise FixedPointError(msg) from exc
        if doc.get("version") != VERSION:
            msg = f"{root / _JSON}: not a {FORMAT} v{VERSION} file (version {doc.get('version')!r})"
            raise FixedPointError(msg)
        nodes = []
        for i, spec in enumerate(doc["layers"]):
            prefix = f"L{i}."
            arrs = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            body = {k: v for k, v in spec.items() if k not in ("inputs", "output")}
            op = op_from_spec(body, arrs, where=f"{root / _JSON}: layers[{i}]")
            nodes.append(Node(op, tuple(spec["inputs"]), spec["output"]))
        inputs = tuple(GraphInput(d["name"], FixedType.parse(d["type"]), tuple(d["shape"])) for d in doc["inputs"])
        return cls(inputs, tuple(nodes), tuple(doc["outputs"]), name=doc.get("name", "model"),
                   source=doc.get("source", {}))  # fmt: skip


def _ints(m: np.ndarray) -> np.ndarray:
    return m if m.dtype == np.int64 else m.astype(np.int64)
