"""The parts a network graph is made of (inputs, nodes, a reader's result), apart from the runner.

The readers (:mod:`._hls4ml_dag`, :mod:`._project`) build these and the runners
(:class:`~emulator.fixedpoint.FixedPointGraph`, :class:`~emulator.fixedpoint.FixedPointModel`)
consume them, so no reader imports a runner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from emulator.fixedpoint._base import Op
from emulator.fixedpoint.errors import UnsupportedLayerError
from emulator.fixedpoint.types import FixedType

__all__ = ["GraphInput", "HlsDag", "Node"]


@dataclass(frozen=True, slots=True)
class GraphInput:
    """One input of the network: its name (hls4ml's input variable), type and per-event shape."""

    name: str
    type: FixedType
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True, slots=True)
class Node:
    """One op, the tensors it reads (two for a merge) and the tensor it writes."""

    op: Op
    inputs: tuple[str, ...]
    output: str


@dataclass(frozen=True, slots=True)
class HlsDag:
    """What a reader returns: inputs, nodes in topological order, outputs (heads), provenance."""

    inputs: tuple[GraphInput, ...]
    nodes: tuple[Node, ...]
    outputs: tuple[str, ...]
    name: str
    source: dict[str, Any] = field(default_factory=dict)

    def chain(self) -> tuple[Op, ...]:
        """The ops in order when the network is one chain from one input to one output."""
        tensor = self.inputs[0].name if len(self.inputs) == 1 else None
        for node in self.nodes:
            if tensor is None or node.inputs != (tensor,):
                break
            tensor = node.output
        else:
            if tensor is not None and self.outputs == (tensor,):
                return tuple(n.op for n in self.nodes)
        msg = (
            f"model {self.name!r}: {len(self.inputs)} input(s), {len(self.outputs)} output(s), not one chain; "
            "use emulator.fixedpoint.FixedPointGraph"
        )
        raise UnsupportedLayerError(msg)
