"""Two-input layers (``nnet_merge.h``): add, subtract, multiply, average, maximum, minimum, concatenate.

The C++ computes ``data1[i % n1] op data2[i % n2]`` in the full precision of ``ap_fixed``
arithmetic (exact sums and products) and casts it to ``res_T``; ``average`` halves the exact
sum; ``concatenate`` casts each input to ``res_T`` and joins them along ``axis`` (of the
shape without the batch dimension).

>>> import numpy as np
>>> from emulator.fixedpoint.types import FixedType
>>> t = FixedType(8, 4)
>>> add = Merge("add", t, FixedType(9, 5), (2,), (2,), op="add", in_type2=t, in_shape2=(2,))
>>> add.forward2(np.array([[16, -8]]), np.array([[16, 1]]), None).tolist()
[[32, -7]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from emulator.fixedpoint._base import LayerCost, Op, Run, Scratch, register_op
from emulator.fixedpoint.errors import FixedPointError
from emulator.fixedpoint.types import FixedType

__all__ = ["MERGE_OPS", "Merge"]

MERGE_OPS = ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate")


@register_op
@dataclass(frozen=True, eq=False)
class Merge(Op):
    """``res = (res_T)(x1 op x2)``; ``in_type``/``in_shape`` describe the first input."""

    kind = "merge"
    op: str
    in_type2: FixedType
    in_shape2: tuple[int, ...]
    axis: int = -1  # concatenate: the axis of the per-event shape
    _frac: int = field(init=False, repr=False)
    _idx1: np.ndarray = field(init=False, repr=False)
    _idx2: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.op not in MERGE_OPS:
            msg = f"layer {self.name!r}: merge op {self.op!r} is not one of {MERGE_OPS}"
            raise FixedPointError(msg)
        f1, f2 = self.in_type.fractional, self.in_type2.fractional
        n1, n2 = self.n_in, math.prod(self.in_shape2)
        frac = f1 + f2 if self.op == "multiply" else max(f1, f2) + (self.op == "average")
        hi1 = max(abs(self.in_type.min_int), self.in_type.max_int)
        hi2 = max(abs(self.in_type2.min_int), self.in_type2.max_int)
        if self.op == "multiply":
            self._check_bits("a product", hi1 * hi2)
        elif self.op != "concatenate":
            self._check_bits("a sum", (hi1 << (max(f1, f2) - f1)) + (hi2 << (max(f1, f2) - f2)))
        if self.op == "concatenate":
            s1, s2 = self.in_shape, self.in_shape2
            ax = self.axis % len(s1)
            joined = (*s1[:ax], s1[ax] + s2[ax], *s1[ax + 1 :]) if len(s1) == len(s2) else ()
            if joined != self.out_shape or any(a != b for i, (a, b) in enumerate(zip(s1, s2, strict=True)) if i != ax):
                msg = f"layer {self.name!r}: {s1} and {s2} joined on axis {self.axis} do not give {self.out_shape}"
                raise FixedPointError(msg)
        elif self.n_out != max(n1, n2):
            msg = f"layer {self.name!r}: {self.op} of {n1} and {n2} values does not give {self.n_out}"
            raise FixedPointError(msg)
        object.__setattr__(self, "_frac", frac)
        object.__setattr__(self, "_idx1", np.arange(self.n_out) % n1)
        object.__setattr__(self, "_idx2", np.arange(self.n_out) % n2)

    def forward(self, x: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        msg = f"layer {self.name!r}: a merge takes two inputs (forward2)"
        raise FixedPointError(msg)

    def forward2(self, x1: np.ndarray, x2: np.ndarray, run: Run | None) -> np.ndarray:
        """``(n_events, n1)`` and ``(n_events, n2)`` int64 mantissas -> ``(n_events, n_out)``."""
        run = run or Run(None, Scratch())
        n_ev = x1.shape[0]
        f1, f2 = self.in_type.fractional, self.in_type2.fractional
        if self.op == "concatenate":
            a = self._cast(x1, f1, self.out_type, run, "result1").reshape(n_ev, *self.in_shape)
            b = self._cast(x2, f2, self.out_type, run, "result2").reshape(n_ev, *self.in_shape2)
            joined = np.concatenate([a, b], axis=self.axis % len(self.in_shape) + 1)
            return joined.reshape(n_ev, self.n_out)
        if x1.shape[1] != self.n_out:
            x1 = x1[:, self._idx1]
        if x2.shape[1] != self.n_out:
            x2 = x2[:, self._idx2]
        if self.op == "multiply":
            value: np.ndarray = x1 * x2
        else:
            g = max(f1, f2)
            a, b = x1 << (g - f1), x2 << (g - f2)
            if self.op in ("add", "average"):
                value = a + b
            elif self.op == "subtract":
                value = a - b
            elif self.op == "maximum":
                value = np.maximum(a, b)
            else:
                value = np.minimum(a, b)
            if self.op in ("maximum", "minimum"):
                return self._cast(value, g, self.out_type, run, "result")
        return self._cast(value, self._frac, self.out_type, run, "result")

    def cost(self) -> LayerCost:
        return LayerCost(self.name, self.kind, self.n_out if self.op == "multiply" else 0)

    def describe(self) -> str:
        extra = f" axis {self.axis}" if self.op == "concatenate" else ""
        first, second = f"{self.in_shape} ({self.in_type})", f"{self.in_shape2} ({self.in_type2})"
        return f"{self.op}{extra} of {first} and {second}: out {self.out_type}"
