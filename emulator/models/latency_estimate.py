"""Latency estimate of an hls4ml io_parallel Latency-strategy model from its layer costs.

Per dense/conv layer: ``reuse_factor`` passes of one multiplier level (2.5 ns) and an
adder tree of depth ⌈log2 fan-in⌉ (0.6 ns per level), rounded up to whole cycles at the
stage clock; every activation, table look-up, batch-norm and pool adds one cycle; reshapes
are free. The numbers are typical of UltraScale+ DSP/LUT delays, not a synthesis result.

>>> import numpy as np
>>> from emulator.fixedpoint import FixedPointModel, FixedType
>>> from emulator.fixedpoint.layers import Dense
>>> t = FixedType(16, 6)
>>> d = Dense("d", t, t, (57,), (32,), weight=np.ones((57, 32), np.int64), bias=np.zeros(32, np.int64),
...           weight_type=t, bias_type=t, accum_type=t)
>>> model_latency_cycles(FixedPointModel(t, (57,), (d,)), 240.0)
2
"""

from __future__ import annotations

import math

from emulator.fixedpoint import FixedPointGraph, FixedPointModel, LayerCost
from emulator.fixedpoint.layers import Op

__all__ = ["ADD_LEVEL_NS", "MULT_NS", "adder_tree_cycles", "graph_latency_cycles", "model_latency_cycles"]

MULT_NS = 2.5
ADD_LEVEL_NS = 0.6
_ONE_CYCLE = frozenset({"activation", "lut", "softmax", "batchnorm", "pool", "step"})


def _cycles(ns: float, clock_mhz: float) -> int:
    return max(1, math.ceil(ns * clock_mhz / 1000.0 - 1e-9))


def adder_tree_cycles(fan_in: int, clock_mhz: float, *, multiply: bool = True) -> int:
    """Cycles of (a multiplier level and) an adder tree over ``fan_in`` terms."""
    ns = (MULT_NS if multiply else 0.0) + ADD_LEVEL_NS * math.ceil(math.log2(max(fan_in, 2)))
    return _cycles(ns, clock_mhz)


def _op_cycles(op: Op, cost: LayerCost, clock_mhz: float) -> int:
    if cost.kind in ("dense", "conv"):
        outputs = math.prod(op.out_shape)
        fan_in = math.ceil(cost.multiplications / max(outputs, 1))
        return cost.reuse_factor * adder_tree_cycles(fan_in, clock_mhz)
    if cost.kind == "merge":
        return int(getattr(op, "op", "") != "concatenate")
    return int(cost.kind in _ONE_CYCLE)


def model_latency_cycles(model: FixedPointModel, clock_mhz: float) -> int:
    """Estimated pipeline depth of ``model`` in cycles at ``clock_mhz``."""
    return sum(_op_cycles(op, cost, clock_mhz) for op, cost in zip(model.layers, model.costs(), strict=True))


def graph_latency_cycles(graph: FixedPointGraph, clock_mhz: float) -> int:
    """The longest path, in cycles, from any input to any head of ``graph``."""
    ready = {i.name: 0 for i in graph.inputs}
    for node, cost in zip(graph.nodes, graph.costs(), strict=True):
        start = max(ready[t] for t in node.inputs)
        ready[node.output] = start + _op_cycles(node.op, cost, clock_mhz)
    return max(ready[o] for o in graph.outputs)
