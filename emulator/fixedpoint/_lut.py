"""Table-based activations: ``nnet::sigmoid``, ``nnet::tanh`` and ``nnet::softmax``.

Sigmoid/tanh: ``index = trunc(x · N / R) + N/2`` clamped to ``[0, N-1]`` (``R`` = 16 or 8),
``res = (res_T) table[index]``. Softmax (``latency``/``stable``): the table address is the
top bits of the input's (``stable``: of ``x_max - x`` in ``inp_norm_t``) bit pattern;
``exp`` values are summed as ``accum_t`` in a balanced tree, the sum is cast to
``inv_inp_t`` and addresses the inverse table; ``res = (res_T)(exp · inv)``.
``argmax`` sets the first maximum to 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emulator.fixedpoint._base import LayerCost, Op, Run, register_op
from emulator.fixedpoint._tables import ceillog2
from emulator.fixedpoint.audit import Tally
from emulator.fixedpoint.errors import FixedPointError
from emulator.fixedpoint.types import FixedType

__all__ = ["Lut", "Softmax", "reduce_pairs"]

_RANGE = {"sigmoid": 16, "tanh": 8}


@register_op
@dataclass(frozen=True, eq=False)
class Lut(Op):
    """Sigmoid or tanh through a ``table_t`` table of ``len(table)`` entries."""

    kind = "lut"
    function: str  # sigmoid | tanh
    table: np.ndarray  # mantissas of table_type
    table_type: FixedType

    def __post_init__(self) -> None:
        if self.function not in _RANGE:
            msg = f"layer {self.name!r}: table function {self.function!r} is not one of {sorted(_RANGE)}"
            raise FixedPointError(msg)
        n = len(self.table)
        if n & (n - 1):
            x_hi = max(abs(self.in_type.min_int), self.in_type.max_int)
            self._check_bits("x · table_size", (x_hi * n) << max(-self.in_type.fractional, 0))

    def forward(self, x: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        index = np.clip(_wrap32(self._scaled(x)) + (_RANGE[self.function] // 2 * len(self.table)) // _RANGE[
            self.function], 0, len(self.table) - 1)  # fmt: skip
        return self._cast(self.table[index], self.table_type.fractional, self.out_type, run, "result")

    def _scaled(self, x: np.ndarray) -> np.ndarray:
        """``trunc(x · N / R)`` (toward zero), exact; modulo 2^32 where that is all that matters."""
        n, frac = len(self.table), self.in_type.fractional
        r = _RANGE[self.function]
        if n & (n - 1) == 0:  # a shift: x / 2^k
            k = frac + r.bit_length() - n.bit_length()
            if k > 0:
                shifted: np.ndarray = np.sign(x) * (np.abs(x) >> k)
                return shifted
            if k <= -32:
                return np.zeros_like(x)
            low: np.ndarray = (x & 0xFFFFFFFF) << -k
            return low
        num = x * n if frac >= 0 else (x * n) << -frac
        quotient: np.ndarray = np.sign(num) * (np.abs(num) // (r << max(frac, 0)))
        return quotient

    def cost(self) -> LayerCost:
        return LayerCost(self.name, self.kind, 0, table_lookups=self.n_in)

    def describe(self) -> str:
        return f"{self.function} table[{len(self.table)}] {self.table_type}: out {self.out_type}"


def _wrap32(q: np.ndarray) -> np.ndarray:
    """``int`` conversion of the C++: the low 32 bits, two's complement."""
    return ((q + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def reduce_pairs(n: int) -> list[tuple[int, int, int]]:
    """``nnet::reduce``'s balanced tree as (dst, a, b) slot operations over ``n`` leaves."""
    ops: list[tuple[int, int, int]] = []
    next_slot = [n]

    def build(start: int, count: int) -> int:
        if count == 1:
            return start
        if count == 2:
            left, right = start, start + 1
        else:
            left_n = 1 << ((count - 1).bit_length() - 1) if count > 1 else 0
            left, right = build(start, left_n), build(start + left_n, count - left_n)
        dst = next_slot[0]
        next_slot[0] += 1
        ops.append((dst, left, right))
        return dst

    build(0, n)
    return ops


@register_op
@dataclass(frozen=True, eq=False)
class Softmax(Op):
    """``nnet::softmax_latency`` / ``softmax_stable`` / ``softmax_argmax`` on one slice, or on
    each slice of a multi-dimensional input (``softmax_multidim``).

    ``stable_v0`` is hls4ml 0.8's ``softmax_stable``: ``x − max`` cast to ``inp_norm_type``
    (the input's width with ``AP_RND, AP_SAT``), then to the input type, whose top bits address
    an exp table of positive-signed addresses."""

    kind = "softmax"
    implementation: str  # latency | stable | stable_v0 | argmax
    exp_table: np.ndarray
    inv_table: np.ndarray
    exp_table_type: FixedType
    inv_table_type: FixedType
    accum_type: FixedType
    inv_inp_type: FixedType
    inp_norm_type: FixedType
    n_outer: int = 1  # softmax_multidim: slices of n_in / (n_outer·n_inner) values, stride n_inner
    n_inner: int = 1
    _tree: list[tuple[int, int, int]] = field(init=False, repr=False)
    _gather: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.implementation not in ("latency", "stable", "stable_v0", "argmax"):
            msg = f"layer {self.name!r}: softmax implementation {self.implementation!r} is not supported"
            raise FixedPointError(msg)
        addr = self.inp_norm_type if self.implementation == "stable" else self.in_type
        for t, table in ((addr, self.exp_table), (self.inv_inp_type, self.inv_table)):
            if self.implementation == "argmax":
                break
            if len(table) != 1 << ceillog2(len(table)) or t.width < ceillog2(len(table)):
                msg = f"layer {self.name!r}: a {len(table)}-entry table cannot be addressed by the top bits of {t}"
                raise FixedPointError(msg)
        a = self.accum_type
        self._check_bits("exp · inverse", max(abs(a.min_int), a.max_int) * int(np.abs(self.inv_table).max(initial=0)))
        groups = self.n_outer * self.n_inner
        n_slice = self.n_in // groups
        if n_slice * groups != self.n_in:
            msg = f"layer {self.name!r}: {self.n_in} values are not {self.n_outer} x {self.n_inner} slices"
            raise FixedPointError(msg)
        i, k, j = np.meshgrid(np.arange(self.n_outer), np.arange(self.n_inner), np.arange(n_slice), indexing="ij")
        gather = (i * n_slice * self.n_inner + j * self.n_inner + k).reshape(groups, n_slice)
        object.__setattr__(self, "_tree", reduce_pairs(n_slice))
        object.__setattr__(self, "_gather", gather.reshape(-1))

    def forward(self, x: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        if self.n_outer * self.n_inner == 1:
            return self._slices(x, run)
        n_ev = x.shape[0]
        y = self._slices(x[:, self._gather].reshape(n_ev * self.n_outer * self.n_inner, -1), run)
        out = np.empty_like(x)
        out[:, self._gather] = y.reshape(n_ev, -1)
        return out

    def _slices(self, x: np.ndarray, run: Run) -> np.ndarray:
        """``nnet::softmax`` on each row of ``x`` (one slice per row)."""
        if self.implementation == "argmax":
            first = np.argmax(x, axis=1)  # the first maximum, as the C++'s strict '>'
            out = np.zeros_like(x)
            out[np.arange(x.shape[0]), first] = self.out_type.quantize(1)
            return out
        if self.implementation == "stable":
            d = x.max(axis=1, keepdims=True) - x
            norm = self._cast(d, self.in_type.fractional, self.inp_norm_type, run, "normalise")
            idx = _top_bits(norm, self.inp_norm_type, len(self.exp_table))
        elif self.implementation == "stable_v0":
            d = x - x.max(axis=1, keepdims=True)
            norm = self._cast(d, self.in_type.fractional, self.inp_norm_type, run, "normalise")
            addr = self._cast(norm, self.inp_norm_type.fractional, self.in_type, run, "address")
            idx = _top_bits(addr, self.in_type, len(self.exp_table))
        else:
            idx = _top_bits(x, self.in_type, len(self.exp_table))
        a = self.accum_type
        exp = self._cast(self.exp_table[idx], self.exp_table_type.fractional, a, run, "exp")
        total = self._tree_sum(exp, run.tally)
        inv_in = self._cast(total, a.fractional, self.inv_inp_type, run, "inv_input")
        inv = self.inv_table[_top_bits(inv_in, self.inv_inp_type, len(self.inv_table))]
        frac = a.fractional + self.inv_table_type.fractional
        return self._cast(exp * inv, frac, self.out_type, run, "result")

    def _tree_sum(self, exp: np.ndarray, tally: Tally | None) -> np.ndarray:
        a = self.accum_type
        slots = list(exp.T)
        n_ovf = 0
        for _dst, left, right in self._tree:
            s, n = self._cast_n(slots[left] + slots[right], a.fractional, a)
            slots.append(s)
            n_ovf += n
        if tally is not None:
            tally.add(self.name, "sum", a.overflow.value, values=len(self._tree) * exp.shape[0], overflowed=n_ovf)
        total: np.ndarray = slots[-1][:, None]
        return total

    def cost(self) -> LayerCost:
        return LayerCost(self.name, self.kind, self.n_in, table_lookups=self.n_in + 1)

    def describe(self) -> str:
        slices = f" {self.n_outer}x{self.n_inner} slices" if self.n_outer * self.n_inner > 1 else ""
        return (
            f"softmax [{self.implementation}]{slices} exp {self.exp_table_type}[{len(self.exp_table)}], "
            f"inv {self.inv_table_type}[{len(self.inv_table)}], acc {self.accum_type}, out {self.out_type}"
        )


def _top_bits(m: np.ndarray, t: FixedType, size: int) -> np.ndarray:
    bits = ceillog2(size)
    raw = m & ((1 << t.width) - 1)
    return (raw >> (t.width - bits)) & ((1 << bits) - 1)
