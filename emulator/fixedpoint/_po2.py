"""Power-of-two weights (QKeras ``quantized_po2``): hls4ml's ``weight_exponential`` product.

The C++ stores each weight as ``{sign, exponent}`` and computes ``r_T y = (r_T) x << exponent``
(``r_T = ap_fixed<2(We+Wx), We+Wx>``), negated for negative weights, then casts it to
``accum_t``. Where that shift is exact (no bit leaves ``r_T``) the product is ``x · ±2^e``,
so the weights become ordinary mantissas ``±2^(e+F)`` of a fixed type with ``F = -min(e)``
fractional bits and the dense plans apply unchanged; otherwise the layer is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emulator.fixedpoint.errors import UnsupportedLayerError
from emulator.fixedpoint.types import FixedType

__all__ = ["po2_mantissas", "po2_weights"]


def po2_weights(layer: Any, name: str, x_type: FixedType) -> tuple[np.ndarray, FixedType]:
    """Mantissas and type of the exponent weights ``name`` of an hls4ml ``layer`` fed by ``x_type``."""
    var = layer.get_weights(name)
    where = f"hls4ml layer {layer.name!r} ({layer.class_name}) {name}"
    data = np.asarray(var.data, np.float64)
    if not np.all(np.isfinite(data)) or np.any(data == 0):
        msg = f"{where}: power-of-two weights must be nonzero and finite"
        raise UnsupportedLayerError(msg)
    exponent = np.log2(np.abs(data)).astype(np.int64)  # as hls4ml writes them
    if not np.array_equal(np.ldexp(1.0, exponent), np.abs(data)):
        msg = f"{where}: weights are not powers of two"
        raise UnsupportedLayerError(msg)
    return po2_mantissas(data > 0, exponent, int(var.type.precision.width), x_type, where=where)


def po2_mantissas(
    positive: np.ndarray, exponent: np.ndarray, exponent_width: int, x_type: FixedType, *, where: str
) -> tuple[np.ndarray, FixedType]:
    """Weights ``±2^exponent`` (signs, ``int<exponent_width>`` exponents) as mantissas and their type."""
    we = exponent_width
    exponent = np.asarray(exponent, np.int64)
    e_lo, e_hi = int(exponent.min()), int(exponent.max())
    if e_lo < -(1 << (we - 1)) or e_hi >= 1 << (we - 1):
        msg = f"{where}: exponents {e_lo}..{e_hi} do not fit its int<{we}>"
        raise UnsupportedLayerError(msg)
    f_r = we + x_type.width  # r_T: width 2·f_r, f_r integer and f_r fractional bits
    x_hi = max(abs(x_type.min_int), x_type.max_int)
    exact = x_type.fractional - min(e_lo, 0) <= f_r and x_type.fractional <= f_r
    fits = x_hi << max(e_hi + f_r - x_type.fractional, 0) < 1 << (2 * f_r - 1)
    if not (exact and fits):
        msg = f"{where}: the shift x << e leaves r_T for exponents {e_lo}..{e_hi} and input {x_type}"
        raise UnsupportedLayerError(msg)
    frac = max(-e_lo, 0)
    mantissa = np.where(positive, 1, -1) * (np.int64(1) << (exponent + frac))
    width = max(e_hi + frac, 0) + 2
    return mantissa.astype(np.int64), FixedType(width, width - frac)
