"""Element-wise layers: linear/ReLU activations, batch normalisation, reshapes.

* ``linear``: ``res = (res_T) x``; ``relu``: ``x > 0 ? (res_T) x : 0`` (QKeras
  ``quantized_relu`` is this with an ``ap_ufixed<…, AP_RND_CONV, AP_SAT>`` result);
  ``relu_max`` (ReLU6 …): ``x < 0 ? 0 : x > MAX ? (res_T) MAX : (res_T) x``.
* batch normalisation (and QKeras' ``ApplyAlpha``): ``res = (res_T)(x·scale + bias)``
  with an exact product and sum, per feature (or per channel, channels last).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emulator.fixedpoint._base import LayerCost, Op, Run, register_op
from emulator.fixedpoint.cast import may_overflow
from emulator.fixedpoint.errors import FixedPointError
from emulator.fixedpoint.types import FixedType

__all__ = ["Activation", "BatchNorm", "Reshape"]

_ACTIVATIONS = ("linear", "relu", "relu_max")


@register_op
@dataclass(frozen=True, eq=False)
class Activation(Op):
    """``nnet::linear`` / ``nnet::relu`` / ``nnet::relu_max`` (``max_value`` an integer)."""

    kind = "activation"
    accepts_float = True
    function: str
    max_value: int = 0
    _check: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.function not in _ACTIVATIONS:
            msg = f"layer {self.name!r}: activation {self.function!r} is not one of {_ACTIVATIONS}"
            raise FixedPointError(msg)
        self._check_bits("the ReLU maximum", abs(self.max_value) << max(self.in_type.fractional, 0))
        t = self.in_type
        lo = t.min_int if self.function == "linear" else 0
        object.__setattr__(self, "_check", may_overflow(lo, t.max_int, t.fractional, self.out_type))

    def forward(self, x: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        f_in = self.in_type.fractional
        if self.function == "linear":
            return self._cast(x, f_in, self.out_type, run, "result", check=self._check, float_out=float_out)
        y = self._cast(x, f_in, self.out_type, run, "result", check=self._check, relu=True, float_out=float_out)
        if self.function == "relu_max":
            cap_in = self.max_value << f_in if f_in >= 0 else self.max_value >> -f_in
            y[x > cap_in] = self.out_type.quantize(self.max_value)
        return y

    def describe(self) -> str:
        return f"{self.function}: out {self.out_type}"


@register_op
@dataclass(frozen=True, eq=False)
class BatchNorm(Op):
    """``nnet::normalize``: ``(res_T)(x·scale[k] + bias[k])``, ``k = feature % len(scale)``."""

    kind = "batchnorm"
    scale: np.ndarray  # mantissas of scale_type
    bias: np.ndarray  # mantissas of bias_type
    scale_type: FixedType
    bias_type: FixedType
    _frac: int = field(init=False, repr=False)
    _s: np.ndarray = field(init=False, repr=False)
    _b: np.ndarray = field(init=False, repr=False)
    _check: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        f_prod = self.in_type.fractional + self.scale_type.fractional
        f_bias = self.bias_type.fractional
        frac = max(f_prod, f_bias)
        x_hi = max(abs(self.in_type.min_int), self.in_type.max_int)
        s_max = int(np.abs(self.scale).max(initial=0))
        b_max = int(np.abs(self.bias).max(initial=0))
        self._check_bits("x·scale + bias", ((x_hi * s_max) << (frac - f_prod)) + (b_max << (frac - f_bias)))
        reps = self.n_in // len(self.scale)
        if reps * len(self.scale) != self.n_in:
            msg = f"layer {self.name!r}: {len(self.scale)} scales do not divide {self.n_in} features"
            raise FixedPointError(msg)
        s = np.tile(np.asarray(self.scale, np.int64) << (frac - f_prod), reps)
        b = np.tile(np.asarray(self.bias, np.int64) << (frac - f_bias), reps)
        prods = np.outer([self.in_type.min_int, self.in_type.max_int], s) + b
        object.__setattr__(self, "_check", may_overflow(int(prods.min()), int(prods.max()), frac, self.out_type))
        object.__setattr__(self, "_frac", frac)
        object.__setattr__(self, "_s", s)
        object.__setattr__(self, "_b", b)

    def forward(self, x: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        tmp = run.buf(self, "sum", x.shape)
        np.multiply(x, self._s, out=tmp)
        tmp += self._b
        return self._cast(tmp, self._frac, self.out_type, run, "result", check=self._check)

    def cost(self) -> LayerCost:
        return LayerCost(self.name, self.kind, self.n_in)

    def describe(self) -> str:
        return f"batchnorm: scale {self.scale_type}, bias {self.bias_type}, out {self.out_type}"


@register_op
@dataclass(frozen=True, eq=False)
class Reshape(Op):
    """Flatten / Reshape: a new shape for the same values (io_parallel, channels last)."""

    kind = "reshape"

    def __post_init__(self) -> None:
        if self.n_in != self.n_out or self.in_type != self.out_type:
            msg = f"layer {self.name!r}: a reshape must keep size and type ({self.in_type} -> {self.out_type})"
            raise FixedPointError(msg)

    def forward(self, x: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        return x
