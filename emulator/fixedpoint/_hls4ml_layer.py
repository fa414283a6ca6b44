"""What every reader of an hls4ml ``ModelGraph`` layer needs: types, weights, products, errors.

Every type is taken from the graph as the writer emits it (``input_t``, ``weight_t``,
``bias_t``, ``accum_t``, ``result_t`` …). Weights are read the way the C simulation reads
them: the decimal strings hls4ml writes, parsed as doubles and cast to ``weight_t``. hls4ml
is imported lazily, here and in the readers only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emulator.fixedpoint._binary import XNOR
from emulator.fixedpoint._dense import PRODUCTS
from emulator.fixedpoint._po2 import po2_weights
from emulator.fixedpoint.errors import FixedPointError, UnsupportedLayerError
from emulator.fixedpoint.types import FixedType, Overflow, Rounding, int_type

__all__ = [
    "attr_type",
    "dense_fields",
    "fixed_type",
    "is_uint1",
    "layer_io",
    "product_of",
    "read_weights",
    "require_order_free",
    "unsupported",
]


def unsupported(layer: Any, why: str) -> UnsupportedLayerError:
    """The error for ``layer``: its name, class and what is not supported."""
    msg = f"hls4ml layer {layer.name!r} ({type(layer).__name__}, {layer.class_name}): {why}"
    return UnsupportedLayerError(msg)


def fixed_type(precision: Any, *, where: str, allow_int: bool = False) -> FixedType:
    """The :class:`FixedType` of an hls4ml precision (``ap_int``/``ap_uint`` where ``allow_int``)."""
    from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType, XnorPrecisionType

    if isinstance(precision, FixedPrecisionType):
        if precision.saturation_bits:
            msg = f"{where}: {precision} uses {precision.saturation_bits} saturation bits (only 0 supported)"
            raise UnsupportedLayerError(msg)
        try:
            return FixedType(
                precision.width,
                precision.integer,
                signed=bool(precision.signed),
                rounding=Rounding(precision.rounding_mode.name),
                overflow=Overflow(precision.saturation_mode.name),
            )
        except FixedPointError as exc:
            msg = f"{where}: {exc}"
            raise UnsupportedLayerError(msg) from exc
    if allow_int and isinstance(precision, XnorPrecisionType):
        return XNOR
    if allow_int and isinstance(precision, IntegerPrecisionType):
        return int_type(precision.width, signed=bool(precision.signed))
    msg = f"{where}: type {precision} ({type(precision).__name__}) is not an ap_fixed/ap_ufixed type"
    raise UnsupportedLayerError(msg)


def is_uint1(precision: Any) -> bool:
    """Whether hls4ml writes ``precision`` as the C++ type ``ap_uint<1>`` (Xnor bits included)."""
    from hls4ml.model.types import IntegerPrecisionType, XnorPrecisionType

    return isinstance(precision, XnorPrecisionType) or (
        isinstance(precision, IntegerPrecisionType) and precision.width == 1 and not precision.signed
    )


def read_weights(layer: Any, name: str) -> tuple[np.ndarray, FixedType]:
    """Mantissas of a weight array as the C simulation loads it (decimal text -> double -> cast)."""
    var = layer.get_weights(name)
    if getattr(var, "weight_class", "") == "ExponentWeightVariable" and name in ("weight", "scale"):
        x_type = fixed_type(layer.get_input_variable().type.precision, where=f"layer {layer.name!r} input")
        return po2_weights(layer, name, x_type)
    if getattr(var, "weight_class", "WeightVariable") not in ("WeightVariable", "StaticWeightVariable"):
        raise unsupported(layer, f"{var.weight_class} weights ({name}) are not supported")
    from hls4ml.model.types import XnorPrecisionType

    if isinstance(var.type.precision, XnorPrecisionType):  # weight_binary: bit 0 is -1, bit 1 is +1
        bits = np.array([int(float(text)) for text in var], dtype=np.int64)
        return (2 * bits - 1).reshape(var.data.shape), int_type(2)
    t = fixed_type(var.type.precision, where=f"layer {layer.name!r} {name}_t", allow_int=True)
    values = [t.quantize(float(text)) for text in var]
    return np.array(values, dtype=np.int64).reshape(var.data.shape), t


def layer_io(layer: Any) -> dict[str, Any]:
    """Name, input/output types and shapes of a one-input layer."""
    inp, out = layer.get_input_variable(), layer.get_output_variable()
    where = f"layer {layer.name!r}"
    return {
        "name": layer.name,
        "in_type": fixed_type(inp.type.precision, where=f"{where} input", allow_int=True),
        "out_type": fixed_type(out.type.precision, where=f"{where} result_t", allow_int=True),
        "in_shape": tuple(int(s) for s in inp.shape),
        "out_shape": tuple(int(s) for s in out.shape),
    }


def attr_type(layer: Any, attr: str) -> FixedType:
    return fixed_type(layer.get_attr(attr).precision, where=f"layer {layer.name!r} {attr}")


def product_of(layer: Any, weight: str) -> str:
    """hls4ml's product for the layer's data and ``weight``: ``mult`` (ternary, binary and
    power-of-two weights read as ordinary ones), ``data_binary`` or ``both_binary``."""
    product = layer.model.config.backend.product_type(
        layer.get_input_variable().type.precision, layer.get_weights(weight).type.precision
    )
    if product in ("mult", "weight_ternary", "weight_exponential", "weight_binary"):
        return "mult"
    if product not in PRODUCTS:
        raise unsupported(layer, f"product type {product!r} is not supported")
    return str(product)


def dense_fields(layer: Any, *, n_in: int) -> dict[str, Any]:
    """The :class:`~emulator.fixedpoint.layers.Dense` fields of a dense or convolution layer
    (``n_in``: the products per output, which hls4ml's ``ap_uint<1>`` cast subtracts)."""
    strategy = str(layer.get_attr("strategy", "latency")).lower()
    if strategy not in ("latency", "resource"):
        raise unsupported(layer, f"strategy {strategy!r} is not supported (Latency, or Resource)")
    product = product_of(layer, "weight")
    w, wt = read_weights(layer, "weight")
    b, bt = read_weights(layer, "bias")
    if layer.get_attr("_weights_transposed", False):
        w = np.moveaxis(w, 0, -1)  # resource strategy stores (n_out, ...) first
    fields = {**layer_io(layer), "bias": b.reshape(-1), "weight_type": wt, "bias_type": bt}
    fields["accum_type"] = attr_type(layer, "accum_t")
    fields["reuse_factor"] = int(layer.get_attr("reuse_factor", 1))
    fields["weight"] = w.reshape(-1, b.size)
    fields["product"] = product
    data_t, weight_t = layer.get_input_variable().type.precision, layer.get_weights("weight").type.precision
    fields["xnor_n"] = n_in if is_uint1(data_t) and is_uint1(weight_t) else 0
    return fields


def require_order_free(layer: Any, op: Any) -> None:
    """Refuse a Resource layer whose saturating accumulator can overflow (its order differs)."""
    if str(layer.get_attr("strategy", "latency")).lower() == "resource" and op.plan == "sat":
        raise unsupported(layer, "Resource strategy with a saturating accumulator that can overflow")
