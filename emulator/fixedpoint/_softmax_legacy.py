"""hls4ml's ``legacy`` softmax (``nnet::softmax_legacy``): a sum of exponentials of differences.

For each value ``i`` of a slice, ``exp_res[i] = Σ_j e(x_j − x_i)`` in ``table_t`` (each ``+=``
a cast), ``e`` = 1 for ``j == i``, else the exp table at
``clamp(int((x_j − x_i)·N/16) + N/2, 0, N−1)`` (``int`` truncates toward zero); then
``res[i] = (res_T) inv_table[clamp(int(exp_res[i]·M/64), 0, M−1)]``. The tables hold
``exp(x)`` on x in [−8, 8) and ``1/x`` on x in [0, 64), ``table_t`` is ``activ_config``'s
``ap_fixed<18,8>`` (hls4ml 1.3's softmax config names no ``table_t``). io_parallel uses
``exp_table_size``/``inv_table_size``; the io_stream kernel uses ``table_size`` (1024 unless
the config sets it) for both and runs one softmax per pack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emulator.fixedpoint._base import LayerCost, Op, Run, register_op
from emulator.fixedpoint.cast import fixed_cast
from emulator.fixedpoint.errors import FixedPointError
from emulator.fixedpoint.types import FixedType, Overflow

__all__ = ["ACTIV_TABLE_T", "SoftmaxLegacy", "trunc_div"]

ACTIV_TABLE_T = FixedType(18, 8)  # nnet::activ_config::table_t


def trunc_div(m: np.ndarray, frac: int, num: int, den: int) -> np.ndarray:
    """``int(v · num / den)`` for ``v = m · 2^-frac``: truncated toward zero, then the low 32 bits
    (the C++ ``int``), exact in int64 for the widths the engine allows."""
    top = m * num if frac >= 0 else (m * num) << -frac
    bottom = den << max(frac, 0)
    q = np.sign(top) * (np.abs(top) // bottom)
    wrapped: np.ndarray = ((q + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    return wrapped


@register_op
@dataclass(frozen=True, eq=False)
class SoftmaxLegacy(Op):
    """``nnet::softmax_legacy`` on each of ``n_outer`` consecutive slices."""

    kind = "softmax_legacy"
    exp_table: np.ndarray  # mantissas of table_type
    inv_table: np.ndarray
    table_type: FixedType
    n_outer: int = 1

    def __post_init__(self) -> None:
        if self.n_in != self.n_out or self.n_in % self.n_outer:
            msg = f"layer {self.name!r}: {self.n_in} -> {self.n_out} values are not {self.n_outer} slices"
            raise FixedPointError(msg)
        x_hi = max(abs(self.in_type.min_int), self.in_type.max_int)
        self._check_bits(
            "(x_j − x_i) · table size", (2 * x_hi * len(self.exp_table)) << max(-self.in_type.fractional, 0)
        )
        t = self.table_type
        self._check_bits("exp_res · table size", max(-t.min_int, t.max_int) * len(self.inv_table))

    def forward(self, x: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        n_ev = x.shape[0]
        rows = x.reshape(n_ev * self.n_outer, -1)
        n_exp, t, f = len(self.exp_table), self.table_type, self.in_type.fractional
        one = t.quantize(1)
        acc = np.zeros_like(rows)
        n_ovf = 0
        for j in range(rows.shape[1]):  # exp_res[i] += e(x_j − x_i), j in order
            index = np.clip(trunc_div(rows[:, j : j + 1] - rows, f, n_exp, 16) + 8 * n_exp // 16, 0, n_exp - 1)
            term = self.exp_table[index]
            term[:, j] = one
            acc += term
            if t.overflow is not Overflow.WRAP:  # saturating sums saturate at each +=; wrapping ones once
                acc, n = fixed_cast(acc, t.fractional, t)
                n_ovf += n
        if t.overflow is Overflow.WRAP:
            acc, n_ovf = fixed_cast(acc, t.fractional, t)
        if run.tally is not None:
            run.tally.add(self.name, "sum", t.overflow.value, values=acc.size, overflowed=n_ovf)
        n_inv = len(self.inv_table)
        inv = self.inv_table[np.clip(trunc_div(acc, t.fractional, n_inv, 64), 0, n_inv - 1)]
        return self._cast(inv.reshape(n_ev, -1), t.fractional, self.out_type, run, "result")

    def cost(self) -> LayerCost:
        n_slice = self.n_in // self.n_outer
        return LayerCost(self.name, self.kind, 0, table_lookups=self.n_in * n_slice)

    def describe(self) -> str:
        slices = f" {self.n_outer} slices" if self.n_outer > 1 else ""
        return (
            f"softmax [legacy]{slices} exp {self.table_type}[{len(self.exp_table)}], inv [{len(self.inv_table)}], "
            f"out {self.out_type}"
        )
