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
from typing import Any, NoReturn

import numpy as np

from emulator.fixedpoint import _tables
from emulator.fixedpoint._base import Op
from emulator.fixedpoint._dense import Conv, Dense
from emulator.fixedpoint._elementwise import Activation, BatchNorm
from emulator.fixedpoint._graph_parts import GraphInput, HlsDag, Node
from emulator.fixedpoint._lut import Lut, Softmax
from emulator.fixedpoint._merge import Merge
from emulator.fixedpoint._po2 import po2_mantissas
from emulator.fixedpoint._pool import Pad, Pool
from emulator.fixedpoint._project_parse import Call, Config, Project, parse_project, read_weight_text
from emulator.fixedpoint._quantize import Quantize
from emulator.fixedpoint.errors import FixedPointError, UnsupportedLayerError
from emulator.fixedpoint.types import FixedType, Overflow, Rounding

__all__ = ["read_project"]

_MERGES = {"add", "subtract", "multiply", "average", "maximum", "minimum"}
_INT = re.compile(r"^ap_(u?)int<\s*(\d+)\s*>$")


class _Layer:
    """One call with its config, resolving types and weights and naming itself in errors."""

    def __init__(self, project: Project, call: Call) -> None:
        self.project, self.call = project, call
        self.config: Config = project.configs.get(call.template[-1]) or self.fail(f"config {call.template[-1]} missing")

    def fail(self, why: str) -> NoReturn:
        msg = f"{self.project.root}: layer {self.call.layer!r} (nnet::{self.call.function}): {why}"
        raise UnsupportedLayerError(msg)

    def type(self, name: str) -> FixedType:
        text = self.project.resolve(name, self.config)
        m = _INT.match(text)
        try:
            if m:
                return FixedType(int(m.group(2)), int(m.group(2)), signed=not m.group(1))
            return FixedType.parse(text)
        except FixedPointError as exc:
            msg = f"{self.project.root}: layer {self.call.layer!r}: type {name} = {text}: {exc}"
            raise UnsupportedLayerError(msg) from exc

    def get(self, key: str, default: int | None = None) -> int:
        value = self.config.ints.get(key, default)
        if value is None:
            self.fail(f"{self.config.name}::{key} is missing or not a number")
        return int(value)

    def value(self, key: str, default: str = "") -> str:
        return self.config.values.get(key, default).split("::")[-1].strip()

    def io(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...], n_in: int = 1) -> dict[str, Any]:
        t = self.call.template
        return {"name": self.call.layer, "in_type": self.type(t[0]), "out_type": self.type(t[n_in]),
                "in_shape": in_shape, "out_shape": out_shape}  # fmt: skip

    def weights(self, arg: int, type_name: str, x_type: FixedType) -> tuple[np.ndarray, FixedType]:
        array = self.call.args[arg]
        texts = read_weight_text(self.project, array)
        resolved = self.project.resolve(type_name, self.config)
        if resolved in self.project.structs:  # {sign, exponent} weights
            fields = self.project.structs[resolved]
            width = next((int(m.group(1)) for f in fields if (m := re.search(r"ap_int<\s*(\d+)\s*>\s*weight", f))), 0)
            pairs = np.array([[float(v) for v in t.split(",")] for t in texts])
            where = f"layer {self.call.layer!r} weights {array}"
            return po2_mantissas(pairs[:, 0] > 0, pairs[:, 1].astype(np.int64), width, x_type, where=where)
        if type_name == "weight_t" and self.product() == "weight_binary":  # bit 0 is -1, bit 1 is +1
            return 2 * np.array([int(float(v)) for v in texts], dtype=np.int64) - 1, FixedType(2, 2)
        t = self.type(type_name)
        return np.array([t.quantize(float(v)) for v in texts], dtype=np.int64), t

    def product(self) -> str:
        config = self.project.configs.get(self.config.types.get("mult_config", ""), self.config)
        product = config.usings.get("product", "mult")
        if product not in ("mult", "weight_ternary", "weight_exponential", "weight_binary"):
            self.fail(f"product {product!r} (binary data) is not supported")
        return product


def _dense_like(layer: _Layer, x_type: FixedType, n_out: int) -> dict[str, Any]:
    cfg = layer.config
    strategy = layer.value("strategy", "latency").lower()
    if strategy not in ("latency", "resource"):
        layer.fail(f"strategy {strategy!r} is not supported")
    layer.product()
    w, wt = layer.weights(2, "weight_t", x_type)
    b, bt = layer.weights(3, "bias_t", x_type)
    if strategy == "resource":  # written transposed: (n_out, n_in), a convolution's (n_filt, kh, kw, n_chan)
        if cfg.base not in ("dense_config", "conv1d_config", "conv2d_config"):
            layer.fail(f"Resource strategy for a {cfg.base} is not supported")
        w = w.reshape(n_out, -1).T
    return {"weight": w.reshape(-1, n_out), "bias": b, "weight_type": wt, "bias_type": bt,
            "accum_type": layer.type("accum_t"), "reuse_factor": layer.get("reuse_factor", 1)}  # fmt: skip


def _resource_order(layer: _Layer, op: Dense) -> Dense:
    """Resource kernels add the products in another order: only a saturating sum can tell."""
    if layer.value("strategy").lower() == "resource" and op.plan == "sat":
        layer.fail("Resource strategy with a saturating accumulator that can overflow")
    return op


def _dense(layer: _Layer) -> Op:
    n_in, n_out = layer.get("n_in"), layer.get("n_out")
    io = layer.io((n_in,), (n_out,))
    return _resource_order(layer, Dense(**io, **_dense_like(layer, io["in_type"], n_out)))


def _conv(layer: _Layer) -> Op:
    g = layer.get
    if g("dilation", 1) != 1 or g("dilation_height", 1) != 1 or g("dilation_width", 1) != 1:
        layer.fail("dilated convolutions are not supported")
    n_filt = g("n_filt")
    shapes: tuple[tuple[int, ...], tuple[int, ...]]
    if "2d" in layer.call.function:
        kernel, stride = (g("filt_height"), g("filt_width")), (g("stride_height"), g("stride_width"))
        pads = (g("pad_top"), g("pad_bottom"), g("pad_left"), g("pad_right"))
        shapes = (g("in_height"), g("in_width"), g("n_chan")), (g("out_height"), g("out_width"), n_filt)
    else:
        kernel, stride, pads = (1, g("filt_width")), (1, g("stride_width")), (0, 0, g("pad_left"), g("pad_right"))
        shapes = (g("in_width"), g("n_chan")), (g("out_width"), n_filt)
    io = layer.io(*shapes)
    conv = Conv(**io, **_dense_like(layer, io["in_type"], n_filt), kernel=kernel, stride=stride, pads=pads)
    return _resource_order(layer, conv)


def _pool(layer: _Layer) -> Op:
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


def _pad(layer: _Layer) -> Op:
    g = layer.get
    if layer.call.function.startswith("zeropad2d"):
        io = layer.io((g("in_height"), g("in_width"), g("n_chan")), (g("out_height"), g("out_width"), g("n_chan")))
        return Pad(**io, pads=(g("pad_top"), g("pad_bottom"), g("pad_left"), g("pad_right")))
    io = layer.io((g("in_width"), g("n_chan")), (g("out_width"), g("n_chan")))
    return Pad(**io, pads=(0, 0, g("pad_left"), g("pad_right")))


def _activation(layer: _Layer) -> Op:
    f, n = layer.call.function, layer.get("n_in")
    io = layer.io((n,), (n,))
    if f in ("linear", "relu"):
        return Activation(**io, function=f)
    if f in ("relu6", "relu1"):
        return Activation(**io, function="relu_max", max_value=int(f[4:]))
    size, table_t = layer.get("table_size"), layer.type("table_t")
    make = _tables.sigmoid_table if f == "sigmoid" else _tables.tanh_table
    return Lut(**io, function=f, table=make(size, table_t), table_type=table_t)


def _softmax(layer: _Layer) -> Op:
    n = layer.get("n_in")
    io = layer.io((n,), (n,))
    impl = layer.value("implementation", "stable").lower()
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


def _softmax_v0(layer: _Layer, io: dict[str, Any], impl: str) -> Op:
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


def _batchnorm(layer: _Layer) -> Op:
    n = layer.get("n_in")
    io = layer.io((n,), (n,))
    layer.product()
    s, st = layer.weights(2, "scale_t", io["in_type"])
    b, bt = layer.weights(3, "bias_t", io["in_type"])
    return BatchNorm(**io, scale=s, bias=b, scale_type=st, bias_type=bt)


def _merge(layer: _Layer) -> Op:
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


_BUILDERS: tuple[tuple[tuple[str, ...], Callable[[_Layer], Op]], ...] = (
    (("dense",), _dense),
    (("conv_1d_cl", "conv_2d_cl", "pointwise_conv_1d_cl", "pointwise_conv_2d_cl"), _conv),
    (("pooling1d_cl", "pooling2d_cl", "global_pooling1d_cl", "global_pooling2d_cl"), _pool),
    (("zeropad1d_cl", "zeropad2d_cl"), _pad),
    (("linear", "relu", "relu6", "relu1", "sigmoid", "tanh"), _activation),
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
            op = build(_Layer(project, call))
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
            inputs.append(GraphInput(p.name, _input_type(project, p.type), shape))
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
