"""Bit-exact replay of hls4ml fixed-point networks, vectorised over events.

hls4ml ``ModelGraph`` objects (io_parallel) and project directories (io_parallel or io_stream).

>>> from emulator.fixedpoint import FixedType, cast_float
>>> cast_float([0.3, -0.3], FixedType.parse("ap_fixed<6,2,AP_RND,AP_SAT>")).tolist()
[5, -5]
"""

from __future__ import annotations

from emulator.fixedpoint._graph_parts import GraphInput, Node
from emulator.fixedpoint.audit import OverflowReport, SiteCount
from emulator.fixedpoint.cast import CastCount, cast_fixed, cast_float, to_float
from emulator.fixedpoint.engine import FixedPointModel
from emulator.fixedpoint.errors import FixedPointError, UnsupportedLayerError
from emulator.fixedpoint.graph import FixedPointGraph
from emulator.fixedpoint.layers import LayerCost
from emulator.fixedpoint.types import FixedType, Overflow, Rounding

__all__ = [
    "CastCount",
    "FixedPointError",
    "FixedPointGraph",
    "FixedPointModel",
    "FixedType",
    "GraphInput",
    "LayerCost",
    "Node",
    "Overflow",
    "OverflowReport",
    "Rounding",
    "SiteCount",
    "UnsupportedLayerError",
    "cast_fixed",
    "cast_float",
    "to_float",
]
