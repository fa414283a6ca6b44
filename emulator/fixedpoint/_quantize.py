"""Per-element quantisers: hls4ml's ``FixedPointQuantizer`` for HGQ2's heterogeneous activations.

hls4ml writes one function per quantiser into ``firmware/nnet_utils/nnet_code_gen.h``:
``out[i] = ap_fixed<b_i,i_i,AP_RND,AP_WRAP>(inp[i]);`` (``out[i] = 0;`` for a pruned
element). Each element is cast to its own type, then (by the assignment) to the layer's
result type.

>>> import numpy as np
>>> from emulator.fixedpoint._base import Run, Scratch
>>> q = Quantize("q", FixedType(8, 4), FixedType(10, 5), (3,), (3,),
...              types=("ap_fixed<4,2,AP_RND,AP_WRAP>", "ap_ufixed<3,1,AP_TRN,AP_SAT>"),
...              index=np.array([0, 1, -1]))
>>> q.forward(np.array([[0x1B, -0x10, 0x7F]]), Run(None, Scratch())).tolist()  # 1.6875, -1, 7.9375
[[56, 0, 0]]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emulator.fixedpoint._base import LayerCost, Op, Run, register_op
from emulator.fixedpoint.cast import fixed_cast
from emulator.fixedpoint.errors import FixedPointError
from emulator.fixedpoint.types import FixedType

__all__ = ["Quantize"]


@register_op
@dataclass(frozen=True, eq=False)
class Quantize(Op):
    """Element ``k`` cast to ``types[index[k]]`` (``index[k] == -1``: the constant 0), then to ``out_type``."""

    kind = "quantize"
    types: tuple[str, ...]  # the distinct element types, C++ spelling
    index: np.ndarray  # (n_in,) int: which of ``types`` each element takes, -1 for zero
    _groups: tuple[tuple[FixedType, np.ndarray], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        index = np.asarray(self.index, np.int64)
        if index.shape != (self.n_in,) or self.n_in != self.n_out:
            msg = f"layer {self.name!r}: {index.size} element types for {self.n_in} inputs and {self.n_out} outputs"
            raise FixedPointError(msg)
        if index.size and (index.min() < -1 or index.max() >= len(self.types)):
            msg = f"layer {self.name!r}: element type indices outside -1..{len(self.types) - 1}"
            raise FixedPointError(msg)
        parsed = [FixedType.parse(t) for t in self.types]
        groups = tuple((t, np.flatnonzero(index == k)) for k, t in enumerate(parsed) if np.any(index == k))
        object.__setattr__(self, "_groups", groups)

    def forward(self, x: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        out = run.buf(self, "result", x.shape)
        out[:] = 0
        f_in = self.in_type.fractional
        for t, cols in self._groups:
            element, n_ovf = fixed_cast(x[:, cols], f_in, t)
            result, n_res = fixed_cast(element, t.fractional, self.out_type)
            out[:, cols] = result
            if run.tally is not None:
                run.tally.add(self.name, "element", t.overflow.value, values=element.size, overflowed=n_ovf)
                run.tally.add(self.name, "result", self.out_type.overflow.value, values=result.size, overflowed=n_res)
        return out

    def cost(self) -> LayerCost:
        return LayerCost(self.name, self.kind, 0)

    def describe(self) -> str:
        zeros = int(np.count_nonzero(np.asarray(self.index) == -1))
        return f"quantize: {len(self.types)} element types, {zeros} zeroed, out {self.out_type}"
