"""The layer ops a :class:`~emulator.fixedpoint.FixedPointModel` chains (one per hls4ml layer).

>>> from emulator.fixedpoint.layers import OPS
>>> sorted(OPS)  # doctest: +NORMALIZE_WHITESPACE
['activation', 'batchnorm', 'conv', 'dense', 'lut', 'merge', 'pad', 'pool', 'quantize', 'reshape',
 'softmax', 'softmax_legacy', 'step']
"""

from __future__ import annotations

from emulator.fixedpoint._base import OPS, LayerCost, Op
from emulator.fixedpoint._binary import Step
from emulator.fixedpoint._dense import Conv, Dense
from emulator.fixedpoint._elementwise import Activation, BatchNorm, Reshape
from emulator.fixedpoint._lut import Lut, Softmax
from emulator.fixedpoint._merge import Merge
from emulator.fixedpoint._pool import Pad, Pool
from emulator.fixedpoint._quantize import Quantize
from emulator.fixedpoint._softmax_legacy import SoftmaxLegacy

__all__ = [
    "OPS",
    "Activation",
    "BatchNorm",
    "Conv",
    "Dense",
    "LayerCost",
    "Lut",
    "Merge",
    "Op",
    "Pad",
    "Pool",
    "Quantize",
    "Reshape",
    "Softmax",
    "SoftmaxLegacy",
    "Step",
]
