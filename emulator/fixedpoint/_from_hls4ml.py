"""Read an hls4ml ``ModelGraph`` (after conversion, before or after ``compile()``) into ops.

Every type is taken from the graph as the writer emits it (``input_t``, ``weight_t``,
``bias_t``, ``accum_t``, ``result_t``, ``table_t`` …). Weights are read the way the C
simulation reads them: the decimal strings hls4ml writes, parsed as doubles and cast to
``weight_t`` (:mod:`emulator.fixedpoint._hls4ml_layer`). hls4ml is imported lazily.

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
from emulator.fixedpoint._binary import binary_tanh, normalize_tanh, ternary_tanh
from emulator.fixedpoint._dense import depthwise_weights
from emulator.fixedpoint._hls4ml_layer import (
    attr_type,
    dense_fields,
    fixed_type,
    is_uint1,
    layer_io,
    product_of,
    read_weights,
    require_order_free,
    unsupported,
)
from emulator.fixedpoint._softmax_legacy import ACTIV_TABLE_T, SoftmaxLegacy
from emulator.fixedpoint.errors import FixedPointError, UnsupportedLayerError
from emulator.fixedpoint.layers import Activation, BatchNorm, Conv, Dense, Lut, Pad, Pool, Reshape, Softmax
from emulator.fixedpoint.types import FixedType

__all__ = ["HlsGraph", "builders", "check_config", "convert", "read_graph"]

_BACKENDS = ("vivado", "vitis")


def _dense(layer: Any) -> Op:
    n_in = layer.get_attr("n_in")
    if n_in != math.prod(layer.get_input_variable().shape):
        raise unsupported(layer, "Dense on a multi-dimensional input is not supported")
    return _build(layer, Dense, dense_fields(layer, n_in=n_in))


def _build(layer: Any, make: type[Dense], fields: dict[str, Any]) -> Dense:
    try:
        op = make(**fields)
    except UnsupportedLayerError:
        raise
    except FixedPointError as exc:  # e.g. binary products into an accumulator that saturates
        raise unsupported(layer, str(exc)) from exc
    require_order_free(layer, op)
    return op


def _conv(layer: Any) -> Op:
    from hls4ml.model.layers import DepthwiseConv1D, DepthwiseConv2D

    if layer.get_attr("data_format", "channels_last") != "channels_last":
        raise unsupported(layer, "only channels_last is supported")
    two_d = layer.get_attr("filt_height") is not None
    if max(layer.get_attr("dilation_height", 1), layer.get_attr("dilation_width", 1)) != 1:
        raise unsupported(layer, "dilated convolutions are not supported")
    g = layer.get_attr
    depthwise = isinstance(layer, DepthwiseConv1D | DepthwiseConv2D)
    if depthwise and str(g("strategy", "latency")).lower() != "latency":
        raise unsupported(layer, "Resource strategy for a depthwise convolution (hls4ml's kernel asserts)")
    if depthwise and (g("depth_multiplier", 1) != 1 or g("n_filt") != g("n_chan")):
        raise unsupported(layer, f"depth multiplier {g('depth_multiplier')} (hls4ml's kernel asserts 1)")
    kernel = (g("filt_height"), g("filt_width")) if two_d else (1, g("filt_width"))
    stride = (g("stride_height"), g("stride_width")) if two_d else (1, g("stride_width"))
    pads = (g("pad_top"), g("pad_bottom")) if two_d else (0, 0)
    fields = dense_fields(layer, n_in=kernel[0] * kernel[1] * g("n_chan"))
    if depthwise:
        fields["weight"] = depthwise_weights(fields["weight"])
    fields |= {"kernel": kernel, "stride": stride, "pads": (*pads, g("pad_left"), g("pad_right"))}
    return _build(layer, Conv, fields)


def _pool(layer: Any) -> Op:
    from hls4ml.model.layers import GlobalPooling1D, GlobalPooling2D, Pooling2D

    if layer.get_attr("data_format", "channels_last") != "channels_last":
        raise unsupported(layer, "only channels_last is supported")
    g = layer.get_attr
    op = str(g("pool_op")).lower()
    io = layer_io(layer)
    shape = io["in_shape"] if len(io["in_shape"]) == 3 else (1, *io["in_shape"])
    common = {**io, "op": op, "accum_type": attr_type(layer, "accum_t")}
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
    io = layer_io(layer)
    if act in ("linear", "relu"):
        return Activation(**io, function=act)
    if act in ("relu6", "relu1"):
        return Activation(**io, function="relu_max", max_value=int(act[4:]))
    if act in ("binary_tanh", "ternary_tanh"):
        if act == "ternary_tanh":
            if layer.get_attr("function_cpp") is None:
                why = "hls4ml writes no C++ for a ternary activation with threshold 0.5 after a non-BN layer"
                raise unsupported(layer, why)
            return ternary_tanh(io["name"], io["in_type"], io["out_type"], io["in_shape"])
        uint1 = is_uint1(layer.get_output_variable().type.precision)
        return binary_tanh(io["name"], io["in_type"], io["out_type"], io["in_shape"], uint1=uint1)
    if act in ("sigmoid", "tanh"):
        size, table_t = int(layer.get_attr("table_size")), attr_type(layer, "table_t")
        make = _tables.sigmoid_table if act == "sigmoid" else _tables.tanh_table
        return Lut(**io, function=act, table=make(size, table_t), table_type=table_t)
    raise unsupported(layer, f"activation {act!r} is not supported")


def _softmax(layer: Any) -> Op:
    g = layer.get_attr
    io = layer_io(layer)
    impl = str(g("implementation", "stable")).lower()
    if impl == "legacy":
        if int(g("n_inner", 1)) != 1:
            raise unsupported(layer, "a legacy softmax over an axis other than the last")
        exp_size, inv_size = int(g("exp_table_size", 1024)), int(g("inv_table_size", 1024))
        return SoftmaxLegacy(**io, exp_table=_tables.legacy_exp_table(exp_size, ACTIV_TABLE_T),
                             inv_table=_tables.legacy_inv_table(inv_size, ACTIV_TABLE_T), table_type=ACTIV_TABLE_T,
                             n_outer=int(g("n_outer", 1)))  # fmt: skip
    table_size = int(g("table_size", 1024))
    exp_size, inv_size = int(g("exp_table_size", table_size)), int(g("inv_table_size", table_size))
    exp_t, inv_t = attr_type(layer, "exp_table_t"), attr_type(layer, "inv_table_t")
    inv_inp = exp_t if g("inv_inp_t").name == "model_default_t" else attr_type(layer, "inv_inp_t")
    addr = io["in_type"]
    norm = FixedType(1, 0)
    if impl == "stable":
        if "inp_norm_t" in layer.attributes:
            norm = attr_type(layer, "inp_norm_t")
        else:  # as hls4ml's softmax config template derives it
            t = io["in_type"]
            norm = FixedType(t.width - t.signed, t.integer - t.signed, signed=False)
            if t.signed:
                exp_size = min(inv_size, 2**norm.width)
        addr = norm
    if impl not in ("latency", "stable", "argmax"):
        raise unsupported(layer, f"softmax implementation {impl!r} is not supported")
    scale = float(np.float32(g("exp_scale", 1.0)))
    exp_table = _tables.exp_table(exp_size, addr, exp_t, scale, negative=impl == "stable")
    return Softmax(
        **io,
        implementation=impl,
        exp_table=exp_table,
        inv_table=_tables.inv_table(inv_size, inv_inp, attr_type(layer, "inv_table_t")),
        exp_table_type=exp_t,
        inv_table_type=inv_t,
        accum_type=attr_type(layer, "accum_t"),
        inv_inp_type=inv_inp,
        inp_norm_type=norm,
        n_outer=int(g("n_outer", 1)),
        n_inner=int(g("n_inner", 1)),
    )


def _batchnorm(layer: Any) -> Op:
    if product_of(layer, "scale") != "mult":
        raise unsupported(layer, "batch normalisation of binary (ap_uint<1>) data is not supported")
    s, st = read_weights(layer, "scale")
    b, bt = read_weights(layer, "bias")
    return BatchNorm(**layer_io(layer), scale=s.reshape(-1), bias=b.reshape(-1), scale_type=st, bias_type=bt)


def _batchnorm_sign(layer: Any) -> Op:
    """hls4ml's ``BatchNormalizationQuantizedTanh``: a batch norm folded into binary/ternary thresholds."""
    io = layer_io(layer)
    if layer.get_attr("quantize") == 2:
        t, _ = read_weights(layer, "threshold")
        return normalize_tanh(io["name"], io["in_type"], io["in_shape"], t.reshape(-1), None)
    hi, _ = read_weights(layer, "threshold_hi")
    lo, _ = read_weights(layer, "threshold_lo")
    return normalize_tanh(io["name"], io["in_type"], io["in_shape"], hi.reshape(-1), lo.reshape(-1))


def _padding(layer: Any) -> Op:
    g = layer.get_attr
    two_d = g("pad_top") is not None
    pads = (g("pad_top"), g("pad_bottom")) if two_d else (0, 0)
    return Pad(**layer_io(layer), pads=(*pads, g("pad_left"), g("pad_right")))


def builders() -> list[tuple[tuple[type, ...], Callable[[Any], Op] | str]]:
    """Which reader builds which hls4ml layer class (first match), or why it is refused."""
    from hls4ml.backends.fpga.fpga_layers import BatchNormalizationQuantizedTanh
    from hls4ml.model import layers as hl

    refused: tuple[type, ...] = (hl.HardActivation, hl.ParametrizedActivation, hl.PReLU)
    return [
        ((hl.Conv2DBatchnorm,), "folded convolutions (QConv2DBatchnorm)"),
        ((hl.SeparableConv1D, hl.SeparableConv2D), "separable convolutions not split by hls4ml"),
        ((hl.Conv1D, hl.Conv2D), _conv),  # depthwise convolutions too
        ((hl.Dense,), _dense),
        ((hl.Softmax,), _softmax),
        (refused, "this activation"),
        ((hl.Activation,), _activation),  # TernaryTanh too
        ((BatchNormalizationQuantizedTanh,), _batchnorm_sign),
        ((hl.BatchNormalization,), _batchnorm),
        ((hl.Pooling1D, hl.Pooling2D, hl.GlobalPooling1D, hl.GlobalPooling2D), _pool),
        ((hl.ZeroPadding1D, hl.ZeroPadding2D), _padding),
        ((hl.Reshape,), lambda layer: Reshape(**layer_io(layer))),
    ]


def convert(layer: Any, builders: list[tuple[tuple[type, ...], Callable[[Any], Op] | str]]) -> Op:
    for classes, make in builders:
        if isinstance(layer, classes):
            if isinstance(make, str):
                raise unsupported(layer, f"{make} are not supported")
            return make(layer)
    raise unsupported(layer, "this layer type is not supported")


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
        raise unsupported(first, "the first layer must be the input")
    table = builders()
    ops: list[Op] = []
    previous = first.name
    for layer in layers[1:]:
        if list(layer.inputs) != [previous]:
            why = f"inputs {list(layer.inputs)}: FixedPointModel is one chain; use FixedPointGraph.from_hls4ml"
            raise unsupported(layer, why)
        ops.append(convert(layer, table))
        previous = layer.outputs[0]
    out_var = first.get_output_variable()
    return HlsGraph(
        fixed_type(out_var.type.precision, where=f"input {first.name!r}"),
        tuple(int(s) for s in out_var.shape),
        tuple(ops),
        name=str(config.get_project_name()),
        source=source,
    )
