"""Read any io_parallel hls4ml ``ModelGraph`` (several inputs, heads, merges) into graph nodes.

The per-layer readers are those of :mod:`emulator.fixedpoint._from_hls4ml`; this module adds
the two-input layers and keeps the wiring (which tensors each layer reads and writes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.fixedpoint._base import Op
from emulator.fixedpoint._from_hls4ml import builders, check_config, convert
from emulator.fixedpoint._graph_parts import GraphInput, HlsDag, Node
from emulator.fixedpoint._hls4ml_layer import fixed_type, layer_io, unsupported
from emulator.fixedpoint._merge import MERGE_OPS, Merge

__all__ = ["read_dag"]


def _second(layer: Any) -> dict[str, Any]:
    var = layer.get_input_variable(layer.inputs[1])
    t = fixed_type(var.type.precision, where=f"layer {layer.name!r} second input")
    return {"in_type2": t, "in_shape2": tuple(int(s) for s in var.shape)}


def _merge(layer: Any) -> Op:
    op = str(layer.get_attr("op")).lower()
    if op not in MERGE_OPS:
        raise unsupported(layer, f"merge operation {op!r} is not supported (supported: {', '.join(MERGE_OPS)})")
    return Merge(**layer_io(layer), op=op, **_second(layer))


def _concatenate(layer: Any) -> Op:
    axis = int(layer.get_attr("axis", -1))
    return Merge(**layer_io(layer), op="concatenate", axis=axis - 1 if axis > 0 else axis, **_second(layer))


def _dag_builders() -> list[tuple[tuple[type, ...], Callable[[Any], Op] | str]]:
    from hls4ml.model import layers as hl

    return [
        ((hl.Concatenate,), _concatenate),
        ((hl.Dot, hl.MatMul), "dot products and matrix products of two tensors"),
        ((hl.Merge,), _merge),
        *builders(),
    ]


def read_dag(hls_model: Any) -> HlsDag:
    """Inputs, nodes and outputs equal, bit for bit, to ``hls_model.predict``."""
    from hls4ml.model.layers import Input
    from hls4ml.model.layers import Merge as HlsMerge

    source = check_config(hls_model)
    table = _dag_builders()
    inputs: dict[str, GraphInput] = {}
    nodes: list[Node] = []
    for layer in hls_model.get_layers():
        if len(layer.outputs) != 1:
            raise unsupported(layer, f"{len(layer.outputs)} outputs (one per layer supported)")
        if isinstance(layer, Input):
            var = layer.get_output_variable()
            t = fixed_type(var.type.precision, where=f"input {layer.name!r}")
            inputs[layer.outputs[0]] = GraphInput(layer.outputs[0], t, tuple(int(s) for s in var.shape))
            continue
        n_in = 2 if isinstance(layer, HlsMerge) else 1
        if len(layer.inputs) != n_in:
            raise unsupported(layer, f"reads {list(layer.inputs)}, the engine's op takes {n_in} input(s)")
        nodes.append(Node(convert(layer, table), tuple(layer.inputs), layer.outputs[0]))
    order = [str(name) for name in hls_model.inputs]
    if sorted(order) != sorted(inputs):
        msg = f"hls4ml model: inputs {order} do not match its input layers {sorted(inputs)}"
        raise _unsupported_model(msg)
    return HlsDag(
        tuple(inputs[n] for n in order),
        tuple(nodes),
        tuple(str(o) for o in hls_model.outputs),
        name=str(hls_model.config.get_project_name()),
        source=source,
    )


def _unsupported_model(msg: str) -> Exception:
    from emulator.fixedpoint.errors import UnsupportedLayerError

    return UnsupportedLayerError(msg)
