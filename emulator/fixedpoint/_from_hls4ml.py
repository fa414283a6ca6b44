"""Read an hls4ml ``ModelGraph`` (after conversion, before or after ``compile()``) into ops.

Every type is taken from the graph as the writer emits it (``input_t``, ``weight_t``,
``bias_t``, ``accum_t``, ``result_t``, ``table_t`` …). Weights are read the way the C
simulation reads them: the decimal strings hls4ml writes, parsed as doubles and cast to
``weight_t``. hls4ml is imported lazily, here only.

The reader returns the graph's parts (:class:`HlsGraph`), not a model: it does not import
:mod:`emulator.fixedpoint.engine`, whose :meth:`FixedPointModel.from_hls4ml` assembles them,
so the dependency runs one way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emulator.fixedpoint import _tables
from emulator.fixedpoint._base import Op
from emulator.fixedpoint._po2 import po2_weights
from emulator.fixedpoint.errors import FixedPointError, UnsupportedLayerError
from emulator.fixedpoint.layers import Activation, BatchNorm, Conv, Dense, Lut, Pad, Pool, Reshape, Softmax
from emulator.fixedpoint.types import FixedType, Overflow, Rounding

__all__ = ["HlsGraph", "check_config", "fixed_type", "read_graph"]

_BACKENDS = ("vivado", "vitis")


def _unsupported(layer: Any, why: str) -> UnsupportedLayerError:
    msg = f"hls4ml layer {layer.name!r} ({type(layer).__name__}, {layer.class_name}): {why}"
    return UnsupportedLayerError(msg)


def fixed_type(precision: Any, *, where: str, allow_int: bool = False) -> FixedType:
    """The :class:`FixedType` of an hls4ml precision (ap_int only where values are integers)."""
    from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType

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
    if allow_int and isinstance(precision, IntegerPrecisionType):
        return FixedType(precision.width, precision.width, signed=bool(precision.signed))
    msg = f"{where}: type {precision} ({type(precision).__name__}) is not an ap_fixed/ap_ufixed type"
    raise UnsupportedLayerError(msg)


def _weights(layer: Any, name: str) -> tuple[np.ndarray, FixedType]:
    """Mantissas of a weight array as the C simulation loads it (decimal text -> double -> cast)."""
    var = layer.get_weights(name)
    if getattr(var, "weight_class", "") == "ExponentWeightVariable" and name in ("weight", "scale"):
        x_type = fixed_type(layer.get_input_variable().type.precision, where=f"layer {layer.name!r} input")
        return po2_weights(layer, name, x_type)
    if getattr(var, "weight_class", "WeightVariable") not in ("WeightVariable", "StaticWeightVariable"):
        raise _unsupported(layer, f"{var.weight_class} weights ({name}) are not supported")
    from hls4ml.model.types import XnorPrecisionType

    if isinstance(var.type.precision, XnorPrecisionType):  # weight_binary: bit 0 is -1, bit 1 is +1
        bits = np.array([int(float(text)) for text in var], dtype=np.int64)
        return (2 * bits - 1).reshape(var.data.shape), FixedType(2, 2)
    t = fixed_type(var.type.precision, where=f"layer {layer.name!r} {name}_t", allow_int=True)
    values = [t.quantize(float(text)) for text in var]
    return np.array(values, dtype=np.int64).reshape(var.data.shape), t


def _io(layer: Any) -> dict[str, Any]:
    inp, out = layer.get_input_variable(), layer.get_output_variable()
    where = f"layer {layer.name!r}"
    return {
        "name": layer.name,
        "in_type": fixed_type(inp.type.precision, where=f"{where} input"),
        "out_type": fixed_type(out.type.precision, where=f"{where} result_t"),
        "in_shape": tuple(int(s) for s in inp.shape),
        "out_shape": tuple(int(s) for s in out.shape),
    }


def _attr_type(layer: Any, attr: str) -> FixedType:
    return fixed_type(layer.get_attr(attr).precision, where=f"layer {layer.name!r} {attr}")


def _check_product(layer: Any, weight: str) -> None:
    product = layer.model.config.backend.product_type(
        layer.get_input_variable().type.precision, layer.get_weights(weight).type.precision
    )
    if product not in ("mult", "weight_ternary", "weight_exponential", "weight_binary"):
        raise _unsupported(layer, f"product type {product!r} (binary data) is not supported")


def _dense_fields(layer: Any) -> dict[str, Any]:
    strategy = str(layer.get_attr("strategy", "latency")).lower()
    if strategy not in ("latency", "resource"):
        raise _unsupported(layer, f"strategy {strategy!r} is not supported (Latency, or Resource)")
    _check_product(layer, "weight")
    w, wt = _weights(layer, "weight")
    b, bt = _weights(layer, "bias")
    if layer.get_attr("_weights_transposed", False):
        w = np.moveaxis(w, 0, -1)  # resource strategy stores (n_out, ...) first
    fields = {**_io(layer), "bias": b.reshape(-1), "weight_type": wt, "bias_type": bt}
    fields["accum_type"] = _attr_type(layer, "accum_t")
    fields["reuse_factor"] = int(layer.get_attr("reuse_factor", 1))
    fields["weight"] = w.reshape(-1, b.size)
    return fields


def _dense(layer: Any) -> Op:
    if layer.get_attr("n_in") != math.prod(layer.get_input_variable().shape):
        raise _unsupported(layer, "Dense on a multi-dimensional input is not supported")
    op = Dense(**_dense_fields(layer))
    _require_order_free(layer, op)
    return op


def _require_order_free(layer: Any, op: Dense) -> None:
    if str(layer.get_attr("strategy", "latency")).lower() == "resource" and op.plan == "sat":
        raise _unsupported(layer, "Resource strategy with a saturating accumulator that can overflow")


def _conv(layer: Any) -> Op:
    if layer.get_attr("data_format", "channels_last") != "channels_last":
        raise _unsupported(layer, "only channels_last is supported")
    two_d = layer.get_attr("filt_height") is not None
    if max(layer.get_attr("dilation_height", 1), layer.get_attr("dilation_width", 1)) != 1:
        raise _unsupported(layer, "dilated convolutions are not supported")
    g = layer.get_attr
    kernel = (g("filt_height"), g("filt_width")) if two_d else (1, g("filt_width"))
    stride = (g("stride_height"), g("stride_width")) if two_d else (1, g("stride_width"))
    pads = (g("pad_top"), g("pad_bottom")) if two_d else (0, 0)
    op = Conv(**_dense_fields(layer), kernel=kernel, stride=stride, pads=(*pads, g("pad_left"), g("pad_right")))
    _require_order_free(layer, op)
    return op


def _pool(layer: Any) -> Op:
    from hls4ml.model.layers import GlobalPooling1D, GlobalPooling2D, Pooling2D

    if layer.get_attr("data_format", "channels_last") != "channels_last":
        raise _unsupported(layer, "only channels_last is supported")
    g = layer.get_attr
    op = str(g("pool_op")).lower()
    io = _io(layer)
    shape = io["in_shape"] if len(io["in_shape"]) == 3 else (1, *io["in_shape"])
    common = {**io, "op": op, "accum_type": _attr_type(layer, "accum_t")}
    if isinstance(layer, GlobalPooling1D | GlobalPooling2D):
        return Pool(**common, pool=(shape[0], shape[1]), stride=(shape[0], shape[1]))
    if isinstance(layer, Pooling2D):
        pool, stride = (g("pool_height"), g("pool_width")), (g("stride_height"), g("stride_width"))
        pads = (g("pad_top"), g("pad_bottom"), g("pad_left"), g("pad_right"))
    else:
        pool, stride, pads = (1, g("pool_width")), (1, g("stride_width")), (0, 0, g("pad_left"), g("pad_right"))
    return Pool(**common, pool=pool, stride=stride, pads=pads, count_pad=bool(g("count_pad", False)))


def _activation(layer: Any) -> Op:
    act = str(layer.get_attr("activation")).lower()
    io = _io(layer)
    if act in ("linear", "relu"):
        return Activation(**io, function=act)
    if act in ("relu6", "relu1"):
        return Activation(**io, function="relu_max", max_value=int(act[4:]))
    if act in ("sigmoid", "tanh"):
        size, table_t = int(layer.get_attr("table_size")), _attr_type(layer, "table_t")
        make = _tables.sigmoid_table if act == "sigmoid" else _tables.tanh_table
        return Lut(**io, function=act, table=make(size, table_t), table_type=table_t)
    raise _unsupported(layer, f"activation {act!r} is not supported")


def _softmax(layer: Any) -> Op:
    g = layer.get_attr
    io = _io(layer)
    impl = str(g("implementation", "stable")).lower()
    table_size = int(g("table_size", 1024))
    exp_size, inv_size = int(g("exp_table_size", table_size)), int(g("inv_table_size", table_size))
    exp_t, inv_t = _attr_type(layer, "exp_table_t"), _attr_type(layer, "inv_table_t")
    inv_inp = exp_t if g("inv_inp_t").name == "model_default_t" else _attr_type(layer, "inv_inp_t")
    addr = io["in_type"]
    norm = FixedType(1, 0)
    if impl == "stable":
        if "inp_norm_t" in layer.attributes:
            norm = _attr_type(layer, "inp_norm_t")
        else:  # as hls4ml's softmax config template derives it
            t = io["in_type"]
            norm = FixedType(t.width - t.signed, t.integer - t.signed, signed=False)
            if t.signed:
                exp_size = min(inv_size, 2**norm.width)
        addr = norm
    if impl not in ("latency", "stable", "argmax"):
        raise _unsupported(layer, f"softmax implementation {impl!r} is not supported")
    scale = float(np.float32(g("exp_scale", 1.0)))
    exp_table = _tables.exp_table(exp_size, addr, exp_t, scale, negative=impl == "stable")
    return Softmax(
        **io,
        implementation=impl,
        exp_table=exp_table,
        inv_table=_tables.inv_table(inv_size, inv_inp, _attr_type(layer, "inv_table_t")),
        exp_table_type=exp_t,
        inv_table_type=inv_t,
        accum_type=_attr_type(layer, "accum_t"),
        inv_inp_type=inv_inp,
        inp_norm_type=norm,
        n_outer=int(g("n_outer", 1)),
        n_inner=int(g("n_inner", 1)),
    )


def _batchnorm(layer: Any) -> Op:
    _check_product(layer, "scale")
    s, st = _weights(layer, "scale")
    b, bt = _weights(layer, "bias")
    return BatchNorm(**_io(layer), scale=s.reshape(-1), bias=b.reshape(-1), scale_type=st, bias_type=bt)


def _padding(layer: Any) -> Op:
    g = layer.get_attr
    two_d = g("pad_top") is not None
    pads = (g("pad_top"), g("pad_bottom")) if two_d else (0, 0)
    return Pad(**_io(layer), pads=(*pads, g("pad_left"), g("pad_right")))


def _builders() -> list[tuple[tuple[type, ...], Callable[[Any], Op] | str]]:
    from hls4ml.model import layers as hl

    unsupported: tuple[type, ...] = (hl.HardActivation, hl.ParametrizedActivation, hl.PReLU, hl.TernaryTanh)
    return [
        ((hl.DepthwiseConv1D, hl.DepthwiseConv2D, hl.Conv2DBatchnorm), "depthwise/folded convolutions"),
        ((hl.SeparableConv1D, hl.SeparableConv2D), "separable convolutions"),
        ((hl.Conv1D, hl.Conv2D), _conv),
        ((hl.Dense,), _dense),
        ((hl.Softmax,), _softmax),
        (unsupported, "this activation"),
        ((hl.Activation,), _activation),
        ((hl.BatchNormalization,), _batchnorm),
        ((hl.Pooling1D, hl.Pooling2D, hl.GlobalPooling1D, hl.GlobalPooling2D), _pool),
        ((hl.ZeroPadding1D, hl.ZeroPadding2D), _padding),
        ((hl.Reshape,), lambda layer: Reshape(**_io(layer))),
    ]


def _convert(layer: Any, builders: list[tuple[tuple[type, ...], Callable[[Any], Op] | str]]) -> Op:
    for classes, make in builders:
        if isinstance(layer, classes):
            if isinstance(make, str):
                raise _unsupported(layer, f"{make} are not supported")
            return make(layer)
    raise _unsupported(layer, "this layer type is not supported")


@dataclass(frozen=True, slots=True)
class HlsGraph:
    """What a :class:`~emulator.fixedpoint.FixedPointModel` is built from: input type and shape, ops, provenance."""

    input_type: FixedType
    input_shape: tuple[int, ...]
    layers: tuple[Op, ...]
    name: str
    source: dict[str, Any] = field(default_factory=dict)


def check_config(hls_model: Any) -> dict[str, Any]:
    """The provenance of a supported model (Vivado/Vitis, io_parallel), else UnsupportedLayerError."""
    from hls4ml import __version__ as hls4ml_version

    config = hls_model.config
    backend = str(config.backend.name)
    io_type = str(config.get_config_value("IOType"))
    if backend.lower() not in _BACKENDS or io_type != "io_parallel":
        msg = f"hls4ml model: backend {backend} with {io_type} (supported: Vivado/Vitis, io_parallel)"
        if io_type == "io_stream":
            msg += "; an io_stream project is read from its directory: write() it, then from_hls4ml_project(DIR)"
        raise UnsupportedLayerError(msg)
    return {"hls4ml": hls4ml_version, "backend": backend, "io_type": io_type}


def read_graph(hls_model: Any) -> HlsGraph:
    """The parts of a one-chain model equal, bit for bit, to ``hls_model.predict``."""
    from hls4ml.model.layers import Input

    source = check_config(hls_model)
    config = hls_model.config
    if len(hls_model.inputs) != 1 or len(hls_model.outputs) != 1:
        msg = (
            f"hls4ml model: {len(hls_model.inputs)} inputs, {len(hls_model.outputs)} outputs: "
            "FixedPointModel is one chain; use emulator.fixedpoint.FixedPointGraph.from_hls4ml"
        )
        raise UnsupportedLayerError(msg)
    layers = list(hls_model.get_layers())
    first = layers[0]
    if not isinstance(first, Input):
        raise _unsupported(first, "the first layer must be the input")
    builders = _builders()
    ops: list[Op] = []
    previous = first.name
    for layer in layers[1:]:
        if list(layer.inputs) != [previous]:
            why = f"inputs {list(layer.inputs)}: FixedPointModel is one chain; use FixedPointGraph.from_hls4ml"
            raise _unsupported(layer, why)
        ops.append(_convert(layer, builders))
        previous = layer.outputs[0]
    out_var = first.get_output_variable()
    return HlsGraph(
        fixed_type(out_var.type.precision, where=f"input {first.name!r}"),
        tuple(int(s) for s in out_var.shape),
        tuple(ops),
        name=str(config.get_project_name()),
        source=source,
    )
