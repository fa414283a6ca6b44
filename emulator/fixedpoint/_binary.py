"""Binary and ternary activations: each value compared with one or two thresholds, a constant out.

hls4ml 1.3 writes QKeras' ``binary``/``ternary`` activations as one of

* ``nnet::binary_tanh``: ``x >= 0 ? 1 : -1`` as ``ap_int<2>``, cast to ``res_T`` (to 0/1
  when ``res_T`` is ``ap_uint<1>``);
* ``nnet::ternary_tanh`` (threshold 0.5): ``y = (data_T)(2·x)`` (wrapping or saturating in
  the input type), then ``y > 1 ? 1 : y > -1 ? 0 : -1``;
* ``nnet::normalize_binary_tanh`` (a batch normalisation folded into the sign):
  ``x >= t[k] ? 1 : 0`` as ``ap_uint<1>`` (hls4ml's ``XnorPrecisionType``: bit 0 means −1);
* ``nnet::normalize_ternary_tanh``: ``x > hi[k] ? 1 : x <= lo[k] ? -1 : 0`` as ``ap_int<2>``;
  ``k`` = feature, or channel when the thresholds are per channel.

:class:`Step` holds all four: ``above if x > hi[k] else below if x <= lo[k] else between``.

>>> from emulator.fixedpoint._base import Run, Scratch
>>> sign = binary_tanh("s", FixedType(8, 3), int_type(2), (3,))
>>> sign.forward(np.array([[-1, 0, 5]]), Run(None, Scratch())).tolist()
[[-1, 1, 1]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from emulator.fixedpoint._base import LayerCost, Op, Run, register_op
from emulator.fixedpoint.errors import FixedPointError
from emulator.fixedpoint.types import FixedType, int_type

__all__ = ["XNOR", "Step", "binary_tanh", "normalize_tanh", "ternary_tanh"]

XNOR = int_type(1, signed=False)  # hls4ml's XnorPrecisionType: ap_uint<1>, bit 0 stands for -1


@register_op
@dataclass(frozen=True, eq=False)
class Step(Op):
    """``levels[0] if x > hi[k] else levels[2] if x <= lo[k] else levels[1]`` (``k = feature % len(hi)``);
    ``double``: ``x`` is first ``(in_type)(2·x)``."""

    kind = "step"
    hi: np.ndarray  # mantissas of in_type
    lo: np.ndarray
    levels: tuple[int, int, int]  # out_type mantissas: above hi, between, at or below lo
    double: bool = False
    _hi: np.ndarray = field(init=False, repr=False)
    _lo: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        hi, lo = np.asarray(self.hi, np.int64), np.asarray(self.lo, np.int64)
        reps = self.n_in // max(hi.size, 1)
        if hi.size != lo.size or reps * hi.size != self.n_in or self.n_in != self.n_out:
            msg = f"layer {self.name!r}: {hi.size}/{lo.size} thresholds for {self.n_in} -> {self.n_out} values"
            raise FixedPointError(msg)
        for level in self.levels:
            if not self.out_type.min_int <= level <= self.out_type.max_int:
                msg = f"layer {self.name!r}: output level {level} outside {self.out_type}"
                raise FixedPointError(msg)
        object.__setattr__(self, "_hi", np.tile(hi, reps))
        object.__setattr__(self, "_lo", np.tile(lo, reps))

    def forward(self, x: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        if self.double:
            twice = run.buf(self, "double", x.shape)
            np.multiply(x, 2, out=twice)
            x = self._cast(twice, self.in_type.fractional, self.in_type, run, "double")
        out = run.buf(self, "result", x.shape)
        above, between, below = self.levels
        out.fill(between)
        out[x <= self._lo] = below
        out[x > self._hi] = above
        return out

    def cost(self) -> LayerCost:
        return LayerCost(self.name, self.kind, 0)

    def describe(self) -> str:
        n = len(np.asarray(self.hi))
        return f"step{' (2x)' if self.double else ''}: {n} thresholds, levels {self.levels}, out {self.out_type}"


def binary_tanh(
    name: str, in_type: FixedType, out_type: FixedType, shape: tuple[int, ...], *, uint1: bool = False
) -> Step:
    """``nnet::binary_tanh``: ``x >= 0`` -> ``(res_T) 1``, else ``(res_T) -1``, or 0 when ``res_T`` is the
    C++ type ``ap_uint<1>`` (``uint1``; an ``ap_ufixed<1,1>`` wraps -1 to 1 instead)."""
    minus = 0 if uint1 else out_type.quantize(-1)
    levels = (out_type.quantize(1), minus, minus)
    return Step(name, in_type, out_type, shape, shape, hi=np.array([-1]), lo=np.array([-1]), levels=levels)


def ternary_tanh(
    name: str, in_type: FixedType, out_type: FixedType, shape: tuple[int, ...], *, double: bool = True
) -> Step:
    """``nnet::ternary_tanh``: ``y = (data_T)(2·x)``; ``y > 1`` -> 1, ``y > -1`` -> 0, else -1
    (the io_stream kernel compares ``y = x``: ``double=False``)."""
    scale = Fraction(2) ** in_type.fractional  # y > 1 <=> m > 2^F; y <= -1 <=> m <= -2^F
    hi, lo = np.array([math.floor(scale)]), np.array([math.floor(-scale)])
    levels = (out_type.quantize(1), out_type.quantize(0), out_type.quantize(-1))
    return Step(name, in_type, out_type, shape, shape, hi=hi, lo=lo, levels=levels, double=double)


def normalize_tanh(name: str, in_type: FixedType, shape: tuple[int, ...], t: np.ndarray, lo: np.ndarray | None) -> Step:
    """``normalize_binary_tanh`` (thresholds ``t``: ``x >= t`` -> bit 1, ``ap_uint<1>``) or, with ``lo``,
    ``normalize_ternary_tanh`` (``t`` the upper thresholds; ``ap_int<2>``)."""
    t = np.asarray(t, np.int64)
    if lo is None:
        return Step(name, in_type, XNOR, shape, shape, hi=t - 1, lo=t - 1, levels=(1, 0, 0))
    return Step(name, in_type, int_type(2), shape, shape, hi=t, lo=np.asarray(lo, np.int64), levels=(1, 0, -1))
