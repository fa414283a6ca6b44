"""Dense and convolution (io_parallel, im2col) layers: ``nnet::dense_latency`` bit for bit.

At build time each layer picks the cheapest exact plan from its types and weights:

* ``blas`` – no product needs quantizing (``s <= 0``) and every sum fits a float mantissa:
  one float GEMM (float32 when sums stay below 2^24, else float64), exact, then one wrap;
* ``wrap`` – modular int64 accumulation of individually quantized products (numba);
* ``sat``  – a saturating ``accum_t`` that can overflow: products and ``+=`` saturate in
  firmware order (numba).

Binary data (hls4ml's ``XnorPrecisionType``, ``ap_uint<1>`` where bit 0 means −1) changes the
product: ``data_binary`` is ``a == 0 ? -w : w``, ``both_binary`` (binary weights too) is
``a == w``. Each quantized product is then affine in the bit ``a`` (``a·(q(w) − q(−w)) +
q(−w)``), so the layer runs as a plain one on the bits, with weights already in ``accum_t``
and the constant parts in the bias (exact with a wrapping accumulator; ``a == w`` only adds,
so a saturating sum is the clamp of the exact one). When data and weights are both C++
``ap_uint<1>``, hls4ml's ``cast`` returns ``ap_int<ceillog2(n_in)+2>(acc·2 − n_in)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from emulator.fixedpoint._base import LayerCost, Op, Run, register_op
from emulator.fixedpoint._dense_kernels import count_product_overflow, dense_sat, dense_wrap, dense_wrap_narrow
from emulator.fixedpoint._tables import ceillog2
from emulator.fixedpoint.audit import Tally
from emulator.fixedpoint.cast import fixed_cast, may_overflow
from emulator.fixedpoint.errors import FixedPointError
from emulator.fixedpoint.types import FixedType, Overflow, int_type

__all__ = ["PRODUCTS", "Conv", "Dense", "conv_index", "depthwise_weights"]

PRODUCTS = ("mult", "data_binary", "both_binary")

_F64_EXACT = 1 << 53
_F32_EXACT = 1 << 24
_NARROW = 8  # fewer outputs than this: loop over inputs innermost


@register_op
@dataclass(frozen=True, eq=False)
class Dense(Op):
    """``res = (result_t) Σ (accum_t)(x·w) + (accum_t) b`` (latency strategy, any reuse factor)."""

    kind = "dense"
    weight: np.ndarray  # (n_in, n_out) mantissas of weight_type
    bias: np.ndarray  # (n_out,) mantissas of bias_type
    weight_type: FixedType
    bias_type: FixedType
    accum_type: FixedType
    reuse_factor: int = 1
    product: str = "mult"  # or data_binary / both_binary: ``in_type`` is ap_uint<1> bits (0 means -1)
    xnor_n: int = 0  # n_in of hls4ml's ap_uint<1> x ap_uint<1> cast (0: a plain cast)
    plan: str = field(init=False, repr=False)
    _s: int = field(init=False, repr=False)
    _w: np.ndarray = field(init=False, repr=False)
    _wt: np.ndarray = field(init=False, repr=False)
    _gemm: type = field(init=False, repr=False)
    _wf: np.ndarray = field(init=False, repr=False)
    _bias_f: np.ndarray = field(init=False, repr=False)
    _bias_acc: np.ndarray = field(init=False, repr=False)
    _prod_ovf: bool = field(init=False, repr=False)
    _acc_ovf: bool = field(init=False, repr=False)
    _res_check: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        w = np.ascontiguousarray(self.weight, dtype=np.int64)
        a = self.accum_type
        scale = Fraction(2) ** -self.bias_type.fractional
        bias_acc = np.array([a.quantize(int(b) * scale) for b in self.bias], dtype=np.int64)
        s = self.in_type.fractional + self.weight_type.fractional - a.fractional
        if self.product != "mult":
            w, offset = self._binary_products(w)
            bias_acc, s = bias_acc + offset, 0
        if s < 0:
            self._check_bits("weights aligned to accum_t", int(np.abs(w).max(initial=0)) << -s)
            w = w << -s
        x_hi = max(abs(self.in_type.min_int), self.in_type.max_int)
        self._check_bits("a product", x_hi * int(np.abs(w).max(initial=0)))
        p_lo = np.minimum(self.in_type.min_int * w, self.in_type.max_int * w)
        p_hi = np.maximum(self.in_type.min_int * w, self.in_type.max_int * w)
        if s > 0:  # rounding moves a quantized product by at most one LSB
            p_lo, p_hi = (p_lo >> s), (p_hi >> s) + 1
        prod_ovf = bool((p_lo < a.sat_min_int).any() or (p_hi > a.max_int).any())
        sum_lo = p_lo.sum(axis=0, dtype=object) + bias_acc.astype(object)
        sum_hi = p_hi.sum(axis=0, dtype=object) + bias_acc.astype(object)
        biggest = max([abs(int(v)) for v in (*sum_lo, *sum_hi)], default=0)
        self._check_bits("an accumulator sum", biggest)
        acc_ovf = prod_ovf or any(int(v) < a.sat_min_int for v in sum_lo) or any(int(v) > a.max_int for v in sum_hi)
        lo = a.sat_min_int if acc_ovf else min(int(v) for v in sum_lo)
        hi = a.max_int if acc_ovf else max(int(v) for v in sum_hi)
        res_check = may_overflow(lo, hi, a.fractional, self.out_type)
        gemm = np.float32 if biggest < _F32_EXACT else np.float64
        if self.product != "mult":
            prod_ovf = False  # folded into the weights
            self._binary_order(acc_ovf)
        if self.xnor_n and a.fractional < 0:
            msg = f"layer {self.name!r}: the ap_uint<1> x ap_uint<1> cast of an accum_t {a} with F < 0"
            raise FixedPointError(msg)
        if a.overflow is not Overflow.WRAP and acc_ovf and self.product == "mult":
            plan = "sat"
        elif s <= 0 and biggest < _F64_EXACT:
            plan = "blas"
        else:
            plan = "wrap"
        for name, value in (
            ("plan", plan),
            ("_s", max(s, 0)),
            ("_w", w),
            ("_wt", np.ascontiguousarray(w.T)),
            ("_gemm", gemm),
            ("_wf", w.astype(gemm)),
            ("_bias_f", bias_acc.astype(gemm)),
            ("_bias_acc", bias_acc),
            ("_prod_ovf", prod_ovf),
            ("_acc_ovf", acc_ovf),
            ("_res_check", res_check),
        ):
            object.__setattr__(self, name, value)

    def _binary_products(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Bit weights (in ``accum_t`` mantissas) and the constant per output of a binary-data layer."""
        a = self.accum_type
        t = self.in_type
        if self.product not in PRODUCTS or (t.width, t.integer, t.signed) != (1, 1, False):
            msg = f"layer {self.name!r}: product {self.product!r} of {self.in_type} data (expects ap_uint<1> bits)"
            raise FixedPointError(msg)
        if self.product == "both_binary":  # weights are the ±1 the bits stand for: a == w
            if not np.isin(w, (-1, 1)).all():
                msg = f"layer {self.name!r}: both_binary weights must be ±1"
                raise FixedPointError(msg)
            one = a.quantize(1)
            return np.where(w > 0, one, -one), np.count_nonzero(w < 0, axis=0) * one
        q_pos, _ = fixed_cast(w, self.weight_type.fractional, a)
        q_neg, _ = fixed_cast(-w, self.weight_type.fractional, a)
        return q_pos - q_neg, q_neg.sum(axis=0)

    def _binary_order(self, acc_ovf: bool) -> None:
        """A binary-data sum is computed out of order: only a wrapping (or, for ``a == w``,
        a saturating) accumulator makes that exact."""
        ovf = self.accum_type.overflow
        if acc_ovf and ovf is not Overflow.WRAP and (self.product == "data_binary" or ovf is Overflow.SAT_ZERO):
            msg = f"layer {self.name!r}: {self.product} products into a {self.accum_type} accumulator that can overflow"
            raise FixedPointError(msg)

    @property
    def accepts_float(self) -> bool:  # type: ignore[override]
        return self.plan == "blas"

    @property
    def float_input(self) -> type | None:
        return self._gemm if self.plan == "blas" else None

    def forward(self, x: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        return self._result(self._accumulate(x, run), run, float_out=float_out)

    def _result(self, acc: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        frac = self.accum_type.fractional
        if self.xnor_n:  # ap_int<ceillog2(n_in) + 2>(acc * 2 - n_in), then res_T
            twice = 2 * np.asarray(acc, np.int64) - (self.xnor_n << frac)
            as_int, _ = fixed_cast(twice, frac, int_type(ceillog2(self.xnor_n) + 2))
            return self._cast(as_int, 0, self.out_type, run, "result", float_out=float_out)
        if acc.dtype == np.float64 and frac == self.out_type.fractional and not self._res_check:
            if run.tally is not None:
                run.tally.add(self.name, "result", self.out_type.overflow.value, values=acc.size, overflowed=0)
            return acc  # result_t holds every accumulator value: exact float mantissas pass through
        return self._cast(acc, frac, self.out_type, run, "result", check=self._res_check, float_out=float_out)

    def _accumulate(self, x: np.ndarray, run: Run) -> np.ndarray:
        """``accum_t`` mantissas ``(n_events, n_out)`` from inputs ``(n_events, n_in)`` (float64
        when the exact float GEMM needs no wrap)."""
        a = self.accum_type
        q = a.rounding.code if self._s > 0 else 0
        n_ev, n_out = x.shape[0], self._w.shape[1]
        tally = run.tally
        if self.plan == "sat":
            acc = run.buf(self, "acc", (n_ev, n_out))
            n_prod, n_acc = dense_sat(
                x, self._w, self._bias_acc, self._s, q, a.sat_min_int, a.max_int, a.width, a.signed,
                a.overflow.code, acc,
            )  # fmt: skip
            if tally is not None:
                self._tally_accum(tally, n_ev, n_prod, n_acc)
            return acc
        if self.plan == "blas":
            xf = x
            if x.dtype != self._gemm:
                xf = run.buf(self, "xf", x.shape, self._gemm)
                np.copyto(xf, x)
            acc_f = run.buf(self, "accf", (n_ev, n_out), self._gemm)
            np.matmul(xf, self._wf, out=acc_f)
            acc_f += self._bias_f
            if not self._acc_ovf:  # exact float64 mantissas, cast straight to result_t
                if tally is not None:
                    self._tally_accum(tally, n_ev, 0, 0)
                return acc_f
            acc = run.buf(self, "acc", (n_ev, n_out))
            np.copyto(acc, acc_f, casting="unsafe")
        else:
            acc = run.buf(self, "acc", (n_ev, n_out))
            if n_out < _NARROW:
                dense_wrap_narrow(x, self._wt, self._bias_acc, self._s, q, acc)
            else:
                dense_wrap(x, self._w, self._bias_acc, self._s, q, acc)
        if tally is not None:
            n_prod = 0
            if self._prod_ovf:
                n_prod = count_product_overflow(x, self._w, self._s, q, a.sat_min_int, a.max_int)
            n_acc = int(np.count_nonzero((acc < a.sat_min_int) | (acc > a.max_int)))
            self._tally_accum(tally, n_ev, n_prod, n_acc)
        if self._acc_ovf:
            acc = self._cast(acc, a.fractional, a, Run(None, run.scratch), "wrap")
        return acc

    def _tally_accum(self, tally: Tally, n_events: int, n_prod: int, n_acc: int) -> None:
        mode = self.accum_type.overflow.value
        n_in, n_out = self._w.shape
        tally.add(self.name, "product", mode, values=n_events * n_in * n_out, overflowed=int(n_prod))
        tally.add(self.name, "accumulate", mode, values=n_events * n_out, overflowed=int(n_acc))

    def cost(self) -> LayerCost:
        return LayerCost(self.name, self.kind, int(np.count_nonzero(self.weight)), self.reuse_factor)

    def _plan_label(self) -> str:
        return f"blas {np.dtype(self._gemm).name}" if self.plan == "blas" else self.plan

    def describe(self) -> str:
        return (
            f"{self.kind} {self.weight.shape[0]}->{self.weight.shape[1]} [{self._plan_label()}] "
            f"w {self.weight_type}, b {self.bias_type}, acc {self.accum_type}, out {self.out_type}, "
            f"RF {self.reuse_factor}"
        )


def depthwise_weights(w: np.ndarray) -> np.ndarray:
    """A depthwise kernel ``(kh·kw, C)`` as the convolution it is: ``(kh·kw·C, C)``, block diagonal
    (``nnet::depthwise_conv_*_latency_cl`` adds channel ``c``'s products in window order)."""
    k, c = w.shape
    full = np.zeros((k, c, c), np.int64)
    full[:, np.arange(c), np.arange(c)] = w
    return full.reshape(k * c, c)


def conv_index(
    in_hwc: tuple[int, int, int], kernel: tuple[int, int], stride: tuple[int, int], pads: tuple[int, int, int, int]
) -> np.ndarray:
    """hls4ml's im2col: ``(n_pixels, kh·kw·C)`` input indices, ``-1`` where padding is read."""
    h, w, c = in_hwc
    kh, kw = kernel
    sh, sw = stride
    top, bottom, left, right = pads
    out_h = (h + top + bottom - kh) // sh + 1
    out_w = (w + left + right - kw) // sw + 1
    oh, ow, ih, iw, ic = np.meshgrid(
        np.arange(out_h), np.arange(out_w), np.arange(kh), np.arange(kw), np.arange(c), indexing="ij"
    )
    row = oh * sh + ih - top
    col = ow * sw + iw - left
    inside = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    idx = np.where(inside, (row * w + col) * c + ic, -1)
    return idx.reshape(out_h * out_w, kh * kw * c).astype(np.int64)


@register_op
@dataclass(frozen=True, eq=False)
class Conv(Dense):
    """``conv_1d/2d_latency_cl``: im2col (zeros in padding), then a dense per output pixel.

    ``weight`` is ``(kh·kw·C, n_filt)`` in im2col order; 1D convolutions have height 1.
    """

    kind = "conv"
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, bottom, left, right
    _idx: np.ndarray = field(init=False, repr=False)
    _idx_flat: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        Dense.__post_init__(self)
        hwc = _as_hwc(self.in_shape)
        idx = np.where((i := conv_index(hwc, self.kernel, self.stride, self.pads)) < 0, math.prod(hwc), i)
        object.__setattr__(self, "_idx", idx)
        object.__setattr__(self, "_idx_flat", idx.reshape(-1))

    def forward(self, x: np.ndarray, run: Run, *, float_out: type | None = None) -> np.ndarray:
        n_pix, k = self._idx.shape
        n_ev, n_in = x.shape
        padded = run.buf(self, "padded", (n_ev, n_in + 1))
        padded[:, :n_in] = x
        padded[:, n_in] = 0
        cols = run.buf(self, "cols", (n_ev, n_pix * k))
        np.take(padded, self._idx_flat, axis=1, out=cols)
        out = self._result(self._accumulate(cols.reshape(n_ev * n_pix, k), run), run)
        return out.reshape(n_ev, n_pix * out.shape[1])

    @property
    def accepts_float(self) -> bool:  # type: ignore[override]
        return False

    @property
    def float_input(self) -> type | None:
        return None

    def cost(self) -> LayerCost:
        per_pixel = int(np.count_nonzero(self.weight))
        return LayerCost(self.name, self.kind, per_pixel * self._idx.shape[0], self.reuse_factor)

    def describe(self) -> str:
        return f"conv {self.kernel} stride {self.stride} pads {self.pads}: " + Dense.describe(self)


def _as_hwc(shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(shape) == 2:
        return 1, shape[0], shape[1]
    h, w, c = shape
    return h, w, c
