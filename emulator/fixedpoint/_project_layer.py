"""One ``nnet::`` call of a parsed hls4ml project, and the builders of the layers with weights.

:class:`ProjectLayer` resolves the call's types through its ``configN`` struct and the
typedefs, reads weights as the C simulation loads them (decimal text -> double ->
``weight_t``) and names the layer in every error. The dense, convolution and depthwise
convolution builders live here; :mod:`emulator.fixedpoint._project` has the others and the
wiring.
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

import numpy as np

from emulator.fixedpoint._base import Op
from emulator.fixedpoint._dense import PRODUCTS, Conv, Dense, depthwise_weights
from emulator.fixedpoint._po2 import po2_mantissas
from emulator.fixedpoint._project_parse import Call, Config, Project, read_weight_text
from emulator.fixedpoint.errors import FixedPointError, UnsupportedLayerError
from emulator.fixedpoint.types import FixedType, int_type

__all__ = ["ProjectLayer", "conv", "dense"]

_WEIGHT_PRODUCTS = ("mult", "weight_ternary", "weight_exponential", "weight_binary")


class ProjectLayer:
    """One call with its config, resolving types and weights and naming itself in errors."""

    def __init__(self, project: Project, call: Call) -> None:
        self.project, self.call = project, call
        self.config: Config = project.configs.get(call.template[-1]) or self.fail(f"config {call.template[-1]} missing")

    def fail(self, why: str) -> NoReturn:
        msg = f"{self.project.root}: layer {self.call.layer!r} (nnet::{self.call.function}): {why}"
        raise UnsupportedLayerError(msg)

    def type(self, name: str) -> FixedType:
        text = self.project.resolve(name, self.config)
        try:
            return FixedType.parse(text)
        except FixedPointError as exc:
            msg = f"{self.project.root}: layer {self.call.layer!r}: type {name} = {text}: {exc}"
            raise UnsupportedLayerError(msg) from exc

    def is_uint1(self, name: str) -> bool:
        """Whether type ``name`` is the C++ type ``ap_uint<1>`` (hls4ml's binary data)."""
        return re.sub(r"\s", "", self.project.resolve(name, self.config)) == "ap_uint<1>"

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
        if type_name == "weight_t" and self.product() in ("weight_binary", "both_binary"):  # bit 0 is -1
            return 2 * np.array([int(float(v)) for v in texts], dtype=np.int64) - 1, int_type(2)
        t = self.type(type_name)
        return np.array([t.quantize(float(v)) for v in texts], dtype=np.int64), t

    def mult_config(self) -> Config:
        return self.project.configs.get(self.config.types.get("mult_config", ""), self.config)

    def product(self) -> str:
        product = self.mult_config().usings.get("product", "mult")
        if product not in (*_WEIGHT_PRODUCTS, *PRODUCTS):
            self.fail(f"product {product!r} is not supported")
        return product


def _dense_like(layer: ProjectLayer, x_type: FixedType, n_out: int, *, depthwise: bool = False) -> dict[str, Any]:
    cfg = layer.config
    strategy = layer.value("strategy", "latency").lower()
    if strategy not in ("latency", "resource"):
        layer.fail(f"strategy {strategy!r} is not supported")
    product = layer.product()
    w, wt = layer.weights(2, "weight_t", x_type)
    b, bt = layer.weights(3, "bias_t", x_type)
    if depthwise:  # (kh, kw, n_chan) in every strategy (Resource's transpose keeps a depth multiplier of 1 in place)
        w = depthwise_weights(w.reshape(-1, n_out))
    elif strategy == "resource":  # written transposed: (n_out, n_in), a convolution's (n_filt, kh, kw, n_chan)
        if cfg.base not in ("dense_config", "conv1d_config", "conv2d_config"):
            layer.fail(f"Resource strategy for a {cfg.base} is not supported")
        w = w.reshape(n_out, -1).T
    uint1 = layer.is_uint1(layer.call.template[0]) and layer.is_uint1("weight_t")
    return {"weight": w.reshape(-1, n_out), "bias": b, "weight_type": wt, "bias_type": bt,
            "accum_type": layer.type("accum_t"), "reuse_factor": layer.get("reuse_factor", 1),
            "product": product if product in PRODUCTS else "mult",
            "xnor_n": layer.mult_config().ints.get("n_in", 0) if uint1 else 0}  # fmt: skip


def _resource_order(layer: ProjectLayer, op: Dense) -> Dense:
    """Resource kernels add the products in another order: only a saturating sum can tell."""
    if layer.value("strategy").lower() == "resource" and op.plan == "sat":
        layer.fail("Resource strategy with a saturating accumulator that can overflow")
    return op


def _build(layer: ProjectLayer, make: type[Dense], **fields: Any) -> Dense:
    try:
        return _resource_order(layer, make(**fields))
    except FixedPointError as exc:
        layer.fail(str(exc))


def dense(layer: ProjectLayer) -> Op:
    n_in, n_out = layer.get("n_in"), layer.get("n_out")
    io = layer.io((n_in,), (n_out,))
    return _build(layer, Dense, **io, **_dense_like(layer, io["in_type"], n_out))


def conv(layer: ProjectLayer) -> Op:
    """``conv_*``, ``pointwise_conv_*`` and ``depthwise_conv_*`` (a block-diagonal convolution)."""
    g = layer.get
    if g("dilation", 1) != 1 or g("dilation_height", 1) != 1 or g("dilation_width", 1) != 1:
        layer.fail("dilated convolutions are not supported")
    n_filt = g("n_filt")
    depthwise = layer.call.function.startswith("depthwise")
    if depthwise and n_filt != g("n_chan"):
        layer.fail(f"depth multiplier {n_filt // max(g('n_chan'), 1)} (hls4ml's kernel asserts n_filt == n_chan)")
    if depthwise and layer.project.io_type == "io_parallel" and layer.value("strategy", "latency").lower() != "latency":
        layer.fail("Resource strategy for an io_parallel depthwise convolution (hls4ml's kernel asserts)")
    shapes: tuple[tuple[int, ...], tuple[int, ...]]
    if "2d" in layer.call.function:
        kernel, stride = (g("filt_height"), g("filt_width")), (g("stride_height"), g("stride_width"))
        pads = (g("pad_top"), g("pad_bottom"), g("pad_left"), g("pad_right"))
        shapes = (g("in_height"), g("in_width"), g("n_chan")), (g("out_height"), g("out_width"), n_filt)
    else:
        kernel, stride, pads = (1, g("filt_width")), (1, g("stride_width")), (0, 0, g("pad_left"), g("pad_right"))
        shapes = (g("in_width"), g("n_chan")), (g("out_width"), n_filt)
    io = layer.io(*shapes)
    fields = _dense_like(layer, io["in_type"], n_filt, depthwise=depthwise)
    return _build(layer, Conv, **io, **fields, kernel=kernel, stride=stride, pads=pads)
