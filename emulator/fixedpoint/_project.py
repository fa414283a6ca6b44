"""Build graph nodes from a parsed hls4ml project (see :mod:`emulator.fixedpoint._project_parse`).

One builder per ``nnet::`` kernel family; each reads its ``configN`` fields and the typedefs
the call names, and the weights as the C simulation loads them (decimal text -> double ->
``weight_t``). Anything else raises :class:`UnsupportedLayerError` naming the layer.

io_stream projects use the same kernels on packs of values (``nnet::array<T, N>``); where
the arithmetic differs the op is told (pooling casts every cell to ``accum_t`` first; a
softmax runs on each pack). ``clone_stream``/``repack_stream`` only move values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from emulator.fixedpoint import _tables
from emulator.fixedpoint._base import Op
from emulator.fixedpoint._binary import binary_tanh, normalize_tanh, ternary_tanh
from emulator.fixedpoint._elementwise import Activation, BatchNorm
from emulator.fixedpoint._graph_parts import GraphInput, HlsDag, Node
from emulator.fixedpoint._lut import Lut, Softmax
from emulator.fixedpoint._merge import Merge
from emulator.fixedpoint._pool import Pad, Pool
from emulator.fixedpoint._project_layer import ProjectLayer, conv, dense
from emulator.fixedpoint._project_parse import Call, Project, parse_project
from emulator.fixedpoint._quantize import Quantize
from emulator.fixedpoint._softmax_legacy import ACTIV_TABLE_T, SoftmaxLegacy
from emulator.fixedpoint.errors import FixedPointError, UnsupportedLayerError
from emulator.fixedpoint.types import FixedType, Overflow, Rounding, int_type

__all__ = ["read_project"]

_MERGES = {"add", "subtract", "multiply", "average", "maximum", "minimum"}


def _pool(layer: ProjectLayer) -> Op:
    g, f = layer.get, layer.call.function
    op = layer.value("pool_op").lower()
    stream = layer.project.io_type == "io_stream"
    common: dict[str, Any] = {"op": op, "accum_type": layer.type("accum_t"), "stream": stream}
    if f.startswith("global_pooling1d"):
        w = g("n_in")
        if stream and layer.project.pack(layer.call.template[0]) != g("n_filt"):
            layer.fail(f"io_stream global pooling of packs that are not one pixel ({g('n_filt')} channels)")
        return Pool(**layer.io((w, g("n_filt")), (g("n_filt"),)), **common, pool=(1, w), stride=(1, w))
    if f.startswith("global_pooling2d"):
        h, w = g("in_height"), g("in_width")
        if stream and layer.project.pack(layer.call.template[0]) != g("n_filt"):
            layer.fail(f"io_stream global pooling of packs that are not one pixel ({g('n_filt')} channels)")
        return Pool(**layer.io((h, w, g("n_filt")), (g("n_filt"),)), **common, pool=(h, w), stride=(h, w))
    count = bool(g("count_pad", 0))
    if f.startswith("pooling2d"):
        io = layer.io((g("in_height"), g("in_width"), g("n_filt")), (g("out_height"), g("out_width"), g("n_filt")))
        pads = (g("pad_top"), g("pad_bottom"), g("pad_left"), g("pad_right"))
        return Pool(**io, **common, pool=(g("pool_height"), g("pool_width")),
                    stride=(g("stride_height"), g("stride_width")), pads=pads, count_pad=count)  # fmt: skip
    io = layer.io((g("n_in"), g("n_filt")), (g("n_out"), g("n_filt")))
    return Pool(**io, **common, pool=(1, g("pool_width")), stride=(1, g("stride_width")),
                pads=(0, 0, g("pad_left"), g("pad_right")), count_pad=count)  # fmt: skip


def _pad(layer: ProjectLayer) -> Op:
    g = layer.get
    if layer.call.function.startswith("zeropad2d"):
        io = layer.io((g("in_height"), g("in_width"), g("n_chan")), (g("out_height"), g("out_width"), g("n_chan")))
        return Pad(**io, pads=(g("pad_top"), g("pad_bottom"), g("pad_left"), g("pad_right")))
    io = layer.io((g("in_width"), g("n_chan")), (g("out_width"), g("n_chan")))
    return Pad(**io, pads=(0, 0, g("pad_left"), g("pad_right")))


def _activation(layer: ProjectLayer) -> Op:
    f, n = layer.call.function, layer.get("n_in")
    io = layer.io((n,), (n,))
    if f == "binary_tanh":
        uint1 = layer.is_uint1(layer.call.template[1])
        return binary_tanh(io["name"], io["in_type"], io["out_type"], (n,), uint1=uint1)
    if f == "ternary_tanh":  # the io_stream kernel compares x itself with ±1, not 2x
        stream = layer.project.io_type == "io_stream"
        return ternary_tanh(io["name"], io["in_type"], io["out_type"], (n,), double=not stream)
    if f in ("linear", "relu"):
        return Activation(**io, function=f)
    if f in ("relu6", "relu1"):
        return Activation(**io, function="relu_max", max_value=int(f[4:]))
    size, table_t = layer.get("table_size"), layer.type("table_t")
    make = _tables.sigmoid_table if f == "sigmoid" else _tables.tanh_table
    return Lut(**io, function=f, table=make(size, table_t), table_type=table_t)


def _softmax(layer: ProjectLayer) -> Op:
    n = layer.get("n_in")
    io = layer.io((n,), (n,))
    impl = layer.value("implementation", "stable").lower()
    if impl == "legacy":
        return _softmax_legacy(layer, io)
    if impl not in ("latency", "stable", "argmax"):
        layer.fail(f"softmax implementation {impl!r} is not supported")
    if layer.project.io_type == "io_stream" and layer.get("axis", -1) != -1:
        layer.fail(f"axis = {layer.get('axis')}: hls4ml's stream softmax asserts axis == -1 (its C simulation aborts)")
    if "inv_inp_t" not in layer.config.types and "table_size" in layer.config.ints:
        return _softmax_v0(layer, io, impl)
    exp_t, inv_inp = layer.type("exp_table_t"), layer.type("inv_inp_t")
    norm = layer.type("inp_norm_t") if "inp_norm_t" in layer.config.types else FixedType(1, 0)
    addr = norm if impl == "stable" else io["in_type"]
    exp_size, inv_size = layer.get("exp_table_size"), layer.get("inv_table_size")
    n_outer, n_inner = layer.get("n_outer", 1), layer.get("n_inner", 1)
    if layer.project.io_type == "io_stream":  # nnet_activation_stream.h: one softmax per stream element
        pack = layer.project.pack(layer.call.template[0], layer.config)
        if n % pack or layer.call.function != "softmax":
            layer.fail(f"io_stream {layer.call.function} of {n} values in packs of {pack}")
        n_outer, n_inner = n // pack, 1
    scale = float(np.float32(float(layer.config.values.get("exp_scale", "1.0").rstrip("f"))))
    return Softmax(
        **io,
        implementation=impl,
        exp_table=_tables.exp_table(exp_size, addr, exp_t, scale, negative=impl == "stable"),
        inv_table=_tables.inv_table(inv_size, inv_inp, layer.type("inv_table_t")),
        exp_table_type=exp_t,
        inv_table_type=layer.type("inv_table_t"),
        accum_type=layer.type("accum_t"),
        inv_inp_type=inv_inp,
        inp_norm_type=norm,
        n_outer=n_outer,
        n_inner=n_inner,
    )


def _softmax_v0(layer: ProjectLayer, io: dict[str, Any], impl: str) -> Op:
    """hls4ml 0.8's softmax: one ``table_size``, ``exp_table_t`` sums and addresses the inverse
    table; ``stable`` normalises ``x − max`` in the input's format (``AP_RND, AP_SAT``)."""
    size, in_t = layer.get("table_size"), io["in_type"]
    exp_t, inv_t = layer.type("exp_table_t"), layer.type("inv_table_t")
    pack = layer.project.pack(layer.call.template[0], layer.config) if layer.project.io_type == "io_stream" else 0
    n_outer = io["in_shape"][0] // pack if pack else 1  # io_stream: one softmax per pack
    norm = FixedType(in_t.width, in_t.integer, signed=True, rounding=Rounding.RND, overflow=Overflow.SAT)
    return Softmax(**io, implementation="stable_v0" if impl == "stable" else impl,
                   exp_table=_tables.exp_table(size, in_t, exp_t, 1.0, negative=False),
                   inv_table=_tables.inv_table(size, exp_t, inv_t), exp_table_type=exp_t, inv_table_type=inv_t,
                   accum_type=exp_t, inv_inp_type=exp_t, inp_norm_type=norm, n_outer=n_outer)  # fmt: skip


def _softmax_legacy(layer: ProjectLayer, io: dict[str, Any]) -> Op:
    """``softmax_legacy``: ``activ_config``'s ``table_t`` unless the config names one; io_stream
    uses ``table_size`` for both tables and one softmax per pack."""
    table_t = layer.type("table_t") if "table_t" in layer.config.types else ACTIV_TABLE_T
    size = layer.get("table_size", 1024)
    n_outer = 1
    if layer.project.io_type == "io_stream":
        n_outer = io["in_shape"][0] // layer.project.pack(layer.call.template[0], layer.config)
        exp_size = inv_size = size
    else:
        exp_size, inv_size = layer.get("exp_table_size", size), layer.get("inv_table_size", size)
        if layer.get("n_inner", 1) != 1:
            layer.fail("a legacy softmax over an axis other than the last")
        n_outer = layer.get("n_outer", 1)
    return SoftmaxLegacy(**io, exp_table=_tables.legacy_exp_table(exp_size, table_t),
                         inv_table=_tables.legacy_inv_table(inv_size, table_t), table_type=table_t,
                         n_outer=n_outer)  # fmt: skip


def _batchnorm_sign(layer: ProjectLayer) -> Op:
    """``normalize_binary_tanh<data_T, config>(x, res, t)`` / ``normalize_ternary_tanh(x, res, hi, lo)``:
    thresholds of the input type, per feature (``n_filt == -1``) or per channel."""
    n, n_filt = layer.get("n_in"), layer.get("n_filt", -1)
    in_type = layer.type(layer.call.template[0])
    per = n if n_filt in (-1, 2**32 - 1) else n_filt
    if layer.project.io_type == "io_stream" and layer.project.pack(layer.call.template[0]) != per:
        pack = layer.project.pack(layer.call.template[0])
        layer.fail(f"io_stream packs of {pack} values, {per} thresholds: hls4ml's kernel writes packs of {per}")
    ternary = layer.call.function == "normalize_ternary_tanh"
    thresholds = [layer.weights(2 + k, layer.call.template[0], in_type)[0] for k in range(1 + ternary)]
    if any(t.size != per for t in thresholds):
        layer.fail(f"{thresholds[0].size} thresholds for {per} values")
    lo = thresholds[1] if ternary else None
    return normalize_tanh(layer.call.layer, in_type, (n,), thresholds[0], lo)


def _batchnorm(layer: ProjectLayer) -> Op:
    n = layer.get("n_in")
    io = layer.io((n,), (n,))
    if layer.product() in ("data_binary", "both_binary"):
        layer.fail("batch normalisation of binary (ap_uint<1>) data is not supported")
    s, st = layer.weights(2, "scale_t", io["in_type"])
    b, bt = layer.weights(3, "bias_t", io["in_type"])
    return BatchNorm(**io, scale=s, bias=b, scale_type=st, bias_type=bt)


def _merge(layer: ProjectLayer) -> Op:
    f, g = layer.call.function, layer.get
    if f in _MERGES:
        io = layer.io((g("n_elem1"),), (g("n_elem"),), n_in=2)
        return Merge(**io, op=f, in_type2=layer.type(layer.call.template[1]), in_shape2=(g("n_elem2"),))
    dims = int(f[len("concatenate")])
    s1 = tuple(g(f"n_elem1_{i}") for i in range(dims))
    s2 = tuple(g(f"n_elem2_{i}") for i in range(dims))
    axis = g("axis", -1)
    axis = axis - 1 if axis > 0 else axis
    ax = axis % dims
    out = (*s1[:ax], s1[ax] + s2[ax], *s1[ax + 1 :])
    io = layer.io(s1, out, n_in=2)
    return Merge(**io, op="concatenate", axis=axis, in_type2=layer.type(layer.call.template[1]), in_shape2=s2)


_BUILDERS: tuple[tuple[tuple[str, ...], Callable[[ProjectLayer], Op]], ...] = (
    (("dense",), dense),
    (("conv_1d_cl", "conv_2d_cl", "pointwise_conv_1d_cl", "pointwise_conv_2d_cl"), conv),
    (("depthwise_conv_1d_cl", "depthwise_conv_2d_cl"), conv),
    (("pooling1d_cl", "pooling2d_cl", "global_pooling1d_cl", "global_pooling2d_cl"), _pool),
    (("zeropad1d_cl", "zeropad2d_cl"), _pad),
    (("linear", "relu", "relu6", "relu1", "sigmoid", "tanh", "binary_tanh", "ternary_tanh"), _activation),
    (("normalize_binary_tanh", "normalize_ternary_tanh"), _batchnorm_sign),
    (("softmax", "softmax_multidim"), _softmax),
    (("normalize",), _batchnorm),
    ((*sorted(_MERGES), "concatenate1d", "concatenate2d", "concatenate3d"), _merge),
)


def _shape(size: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in size.split("*"))
    except ValueError:
        return (math.prod(int(p) for p in re.findall(r"\d+", size)),)


def read_project(root: str | Path) -> HlsDag:
    """Inputs, nodes and outputs of the project in ``root`` (the directory holding ``firmware/``)."""
    project = parse_project(root)
    nodes = []
    tensor: dict[str, str] = {}  # array -> the layer that writes it (tensors are named after layers)
    for call in project.calls:
        build = next((b for names, b in _BUILDERS if call.function in names), None)
        if call.function in _COPIES:
            node = _copy(project, call, tensor)
            nodes.extend([node] if node else [])
            continue
        if call.function in project.quantizers:
            op: Op = _quantizer(project, call)
        elif build is None:
            msg = f"{project.root}: layer {call.layer!r}: kernel nnet::{call.function} is not supported"
            raise UnsupportedLayerError(msg)
        else:
            op = build(ProjectLayer(project, call))
        n_in = 2 if isinstance(op, Merge) else 1
        reads = tuple(tensor.get(a, a) for a in (project.source(a) for a in call.args[:n_in]))
        tensor[project.source(call.args[n_in])] = op.name
        nodes.append(Node(op, reads, op.name))
    inputs, outputs = [], []
    for p in project.params:
        if p.name in tensor:
            outputs.append(tensor[p.name])
        else:
            shape = _shape(p.size) if p.size else _read_shape(project, p.name, nodes)
            t = _input_type(project, p.type)
            if t == int_type(t.width, signed=t.signed):
                msg = f"{project.root}: input {p.name} of integer type {t} (an ap_int cast from double)"
                raise UnsupportedLayerError(msg)
            inputs.append(GraphInput(p.name, t, shape))
    source = {"hls4ml_project": str(project.root), "top": project.name, "io_type": project.io_type}
    return HlsDag(tuple(inputs), tuple(nodes), tuple(outputs), name=project.name, source=source)


_COPIES = ("clone_stream", "repack_stream")


def _copy(project: Project, call: Call, tensor: dict[str, str]) -> Node | None:
    """``clone_stream<in_t, out_t, N>(in, out1, out2…)`` / ``repack_stream``: the outputs are the
    input (a ``linear`` cast when the element types differ)."""
    if len(call.template) != 3 or not call.template[2].isdigit():
        msg = f"{project.root}: layer {call.layer!r}: nnet::{call.function} with template {call.template}"
        raise UnsupportedLayerError(msg)
    src = project.source(call.args[0])
    read = tensor.get(src, src)
    in_t, out_t = (_input_type(project, t) for t in call.template[:2])
    node = None
    if in_t != out_t:
        n = int(call.template[2])
        node = Node(Activation(call.layer, in_t, out_t, (n,), (n,), function="linear"), (read,), call.layer)
        read = call.layer
    for out in call.args[1:]:
        tensor[project.source(out)] = read
    return node


def _read_shape(project: Project, name: str, nodes: list[Node]) -> tuple[int, ...]:
    """The per-event shape of io_stream input ``name``: what the first layer reading it expects."""
    for node in nodes:
        if name in node.inputs:
            second = len(node.inputs) == 2 and node.inputs[1] == name and isinstance(node.op, Merge)
            return node.op.in_shape2 if second else node.op.in_shape  # type: ignore[attr-defined]
    msg = f"{project.root}: top function {project.name}(): no layer reads the stream {name!r}"
    raise UnsupportedLayerError(msg)


def _quantizer(project: Project, call: Call) -> Quantize:
    """An HGQ2 per-element quantiser (``nnet::<layer><in_t, out_t>(in, out)`` from ``nnet_code_gen.h``)."""
    elements = project.quantizers[call.function]
    if len(call.template) != 2:  # <input_t, output_t>
        msg = f"{project.root}: layer {call.layer!r}: quantiser call with template {call.template}"
        raise UnsupportedLayerError(msg)
    types = tuple(sorted({e for e in elements if e is not None}))
    index = np.array([-1 if e is None else types.index(e) for e in elements], np.int64)
    in_t, out_t = (_input_type(project, t) for t in call.template)
    shape = (len(elements),)
    try:
        return Quantize(call.layer, in_t, out_t, shape, shape, types=types, index=index)
    except FixedPointError as exc:
        msg = f"{project.root}: layer {call.layer!r} (quantiser): {exc}"
        raise UnsupportedLayerError(msg) from exc


def _input_type(project: Project, name: str) -> FixedType:
    text = project.resolve(name)
    try:
        return FixedType.parse(text)
    except FixedPointError as exc:
        msg = f"{project.root}: input type {name} = {text}: {exc}"
        raise UnsupportedLayerError(msg) from exc
