"""Layer ops against straight-line Python-int versions of hls4ml's nnet templates."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from emulator.fixedpoint import FixedPointError, FixedType, Overflow, Rounding
from emulator.fixedpoint._base import Run, Scratch
from emulator.fixedpoint._lut import reduce_pairs
from emulator.fixedpoint.audit import Tally
from emulator.fixedpoint.layers import Activation, BatchNorm, Conv, Dense, Lut, Pad, Pool, Softmax
from tests.test_fixedpoint_reference import ref_cast_value, ref_overflow

TWO = Fraction(2)


def run(op: object, x: np.ndarray, tally: Tally | None = None) -> np.ndarray:
    out = op.forward(np.ascontiguousarray(x, dtype=np.int64), Run(tally, Scratch()))  # type: ignore[attr-defined]
    return np.array(out)


def small_types(max_width: int = 20, *, wrap_only: bool = False) -> st.SearchStrategy[FixedType]:
    return st.builds(
        FixedType,
        width=st.integers(2, max_width),
        integer=st.integers(-2, max_width + 2),
        signed=st.booleans(),
        rounding=st.sampled_from(list(Rounding)),
        overflow=st.just(Overflow.WRAP) if wrap_only else st.sampled_from(list(Overflow)),
    )


def mantissas(t: FixedType, shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    n = int(np.prod(shape))
    return st.lists(st.integers(t.sat_min_int, t.max_int), min_size=n, max_size=n).map(
        lambda v: np.array(v, np.int64).reshape(shape)
    )


def ref_dense(x: list[int], op: Dense) -> list[int]:
    """``dense_latency``: each product cast to accum_t, ``acc += p`` in input order, result cast."""
    a, f_in = op.accum_type, op.in_type.fractional
    f_prod = f_in + op.weight_type.fractional
    out = []
    for j in range(op.weight.shape[1]):
        acc = ref_cast_value(int(op.bias[j]) * TWO**-op.bias_type.fractional, a)
        for i, xi in enumerate(x):
            p = ref_cast_value(xi * int(op.weight[i, j]) * TWO**-f_prod, a)
            acc = ref_overflow(acc + p, a)
        out.append(ref_cast_value(acc * TWO**-a.fractional, op.out_type))
    return out


@st.composite
def dense_layers(draw: st.DrawFn) -> Dense:
    n_in, n_out = draw(st.integers(1, 6)), draw(st.sampled_from([1, 3, 9]))
    t_in, t_w, t_b, t_out = (draw(small_types()) for _ in range(4))
    t_acc = draw(small_types(30))
    w = draw(mantissas(t_w, (n_in, n_out)))
    b = draw(mantissas(t_b, (n_out,)))
    try:
        return Dense(
            "d", t_in, t_out, (n_in,), (n_out,), weight=w, bias=b, weight_type=t_w, bias_type=t_b, accum_type=t_acc
        )
    except FixedPointError:  # intermediates beyond int64: refused by design (tested below)
        reject()


@given(st.data(), dense_layers())
@settings(max_examples=250, deadline=None)
def test_dense_matches_dense_latency(data: st.DataObject, op: Dense) -> None:
    x = data.draw(mantissas(op.in_type, (5, op.weight.shape[0])))
    assert run(op, x).tolist() == [ref_dense(list(map(int, row)), op) for row in x]


def test_plans_cover_wide_narrow_and_saturating_accumulators() -> None:
    t_in, t_w = FixedType(16, 6), FixedType(6, 3)
    kw = {"weight": np.full((57, 9), 7), "bias": np.zeros(9, np.int64), "weight_type": t_w, "bias_type": t_w}
    wide = Dense("a", t_in, FixedType(40, 20), (57,), (9,), accum_type=FixedType(40, 20), **kw)
    narrow = Dense("b", t_in, FixedType(16, 6), (57,), (9,), accum_type=FixedType(16, 6), **kw)
    sat = FixedType(16, 6, overflow=Overflow.SAT)
    saturating = Dense("c", t_in, sat, (57,), (9,), accum_type=sat, **kw)
    assert (wide.plan, narrow.plan, saturating.plan) == ("blas", "wrap", "sat")
    x = np.full((2, 57), 2**14)
    tally = Tally()
    assert run(saturating, x, tally).tolist() == [ref_dense([2**14] * 57, saturating)] * 2
    acc = {s.site: s.overflowed for s in tally.report(2).sites}
    assert acc["accumulate"] == 2 * 9  # every accumulator hit the rail
    assert run(narrow, x).tolist() == [ref_dense([2**14] * 57, narrow)] * 2


def test_products_too_wide_for_int64_are_refused() -> None:
    t = FixedType(40, 10)
    with pytest.raises(FixedPointError, match="product needs"):
        Dense("big", t, t, (1,), (1,), weight=np.array([[2**38]]), bias=np.zeros(1, np.int64),
              weight_type=t, bias_type=t, accum_type=FixedType(60, 30))  # fmt: skip


@given(st.data(), small_types(), small_types(), st.sampled_from(["linear", "relu"]))
@settings(deadline=None)
def test_activation(data: st.DataObject, t_in: FixedType, t_out: FixedType, fn: str) -> None:
    op = Activation("a", t_in, t_out, (6,), (6,), function=fn)
    x = data.draw(mantissas(t_in, (4, 6)))
    f = t_in.fractional

    def ref(v: int) -> int:
        return ref_cast_value(v * TWO**-f, t_out) if (fn == "linear" or v > 0) else 0

    assert run(op, x).tolist() == [[ref(int(v)) for v in row] for row in x]


def test_relu6_caps_at_six() -> None:
    t_in, t_out = FixedType(12, 6), FixedType.parse("ap_ufixed<8,3,AP_RND,AP_SAT>")
    op = Activation("r6", t_in, t_out, (4,), (4,), function="relu_max", max_value=6)
    x = np.array([[-64, 6 * 64, 6 * 64 + 1, 5 * 64 + 63]])
    assert run(op, x).tolist() == [[0, 192, 192, 192]]  # 6.0 = 192 LSBs; 5.984375 rounds up to it


@given(st.data(), small_types(), small_types(), small_types(), small_types(), st.sampled_from([2, 6]))
@settings(deadline=None)
def test_batchnorm(data: st.DataObject, t_in: FixedType, t_s: FixedType, t_b: FixedType, t_out: FixedType,
                   n_scale: int) -> None:  # fmt: skip
    s = data.draw(mantissas(t_s, (n_scale,)))
    b = data.draw(mantissas(t_b, (n_scale,)))
    op = BatchNorm("bn", t_in, t_out, (6,), (6,), scale=s, bias=b, scale_type=t_s, bias_type=t_b)
    x = data.draw(mantissas(t_in, (3, 6)))

    def ref(k: int, v: int) -> int:
        exact = v * int(s[k % n_scale]) * TWO ** -(t_in.fractional + t_s.fractional)
        return ref_cast_value(exact + int(b[k % n_scale]) * TWO**-t_b.fractional, t_out)

    assert run(op, x).tolist() == [[ref(k, int(v)) for k, v in enumerate(row)] for row in x]


@given(st.data(), st.sampled_from([(1, 1, 0, 0), (0, 1, 1, 0), (0, 0, 0, 0)]), st.sampled_from([(1, 1), (2, 2)]))
@settings(max_examples=60, deadline=None)
def test_conv_is_a_dense_per_pixel(data: st.DataObject, pads: tuple[int, int, int, int],
                                   stride: tuple[int, int]) -> None:  # fmt: skip
    h, w, c, f, kh, kw = 4, 5, 2, 3, 2, 3
    t_in, t_w = FixedType(8, 3), FixedType(6, 2)
    t_acc = FixedType(12, 6, rounding=Rounding.RND_CONV)
    wt = data.draw(mantissas(t_w, (kh * kw * c, f)))
    b = data.draw(mantissas(t_w, (f,)))
    out_h = (h + pads[0] + pads[1] - kh) // stride[0] + 1
    out_w = (w + pads[2] + pads[3] - kw) // stride[1] + 1
    op = Conv("c", t_in, t_acc, (h, w, c), (out_h, out_w, f), weight=wt, bias=b, weight_type=t_w,
              bias_type=t_w, accum_type=t_acc, kernel=(kh, kw), stride=stride, pads=pads)  # fmt: skip
    pixel = Dense("p", t_in, t_acc, (kh * kw * c,), (f,), weight=wt, bias=b, weight_type=t_w, bias_type=t_w,
                  accum_type=t_acc)  # fmt: skip
    img = data.draw(mantissas(t_in, (h, w, c)))
    want = []
    for oh in range(out_h):
        for ow in range(out_w):
            patch = []
            for ih in range(kh):
                for iw in range(kw):
                    r, q = oh * stride[0] + ih - pads[0], ow * stride[1] + iw - pads[2]
                    inside = 0 <= r < h and 0 <= q < w
                    patch += [int(img[r, q, ch]) if inside else 0 for ch in range(c)]
            want += ref_dense(patch, pixel)
    assert run(op, img.reshape(1, -1)).tolist() == [want]


def test_max_pool_pads_with_the_top_bit() -> None:
    """Padding reads a value with only the top bit set: for ap_ufixed that is a large value."""
    t = FixedType(4, 4, signed=False)
    op = Pool("mp", t, t, (1, 3, 1), (1, 2, 1), op="max", accum_type=t, pool=(1, 2), stride=(1, 2),
              pads=(0, 0, 0, 1))  # fmt: skip
    assert run(op, np.array([[1, 2, 3]])).tolist() == [[2, 8]]
    signed = FixedType(4, 4)
    op = Pool("mp", signed, signed, (1, 3, 1), (1, 2, 1), op="max", accum_type=signed, pool=(1, 2),
              stride=(1, 2), pads=(0, 0, 0, 1))  # fmt: skip
    assert run(op, np.array([[1, 2, -3]])).tolist() == [[2, -3]]


def test_average_pool_truncates_toward_zero_and_ignores_padding() -> None:
    t_in, t_acc, t_out = FixedType(8, 8), FixedType(10, 10), FixedType(8, 8)
    op = Pool("ap", t_in, t_out, (1, 3, 1), (1, 2, 1), op="average", accum_type=t_acc, pool=(1, 2),
              stride=(1, 2), pads=(0, 0, 0, 1))  # fmt: skip
    assert run(op, np.array([[-3, -4, 5]])).tolist() == [[-3, 5]]  # -7/2 -> -3; 5/1 (padding not counted)
    counted = Pool("ap", t_in, t_out, (1, 3, 1), (1, 2, 1), op="average", accum_type=t_acc, pool=(1, 2),
                   stride=(1, 2), pads=(0, 0, 0, 1), count_pad=True)  # fmt: skip
    assert run(counted, np.array([[-3, -4, 5]])).tolist() == [[-3, 2]]


def test_zero_padding() -> None:
    t = FixedType(8, 3)
    op = Pad("zp", t, t, (1, 2, 1), (2, 3, 1), pads=(1, 0, 1, 0))
    assert run(op, np.array([[7, 9]])).tolist() == [[0, 0, 0, 0, 7, 9]]


@pytest.mark.parametrize("fn", ["sigmoid", "tanh"])
def test_lut_index_is_truncated_and_clamped(fn: str) -> None:
    t_in, t_tab = FixedType(12, 5), FixedType(10, 2)
    table = np.arange(64) - 32  # entry k holds k - 32
    op = Lut("l", t_in, t_tab, (1,), (1,), function=fn, table=table, table_type=t_tab)
    r = {"sigmoid": 16, "tanh": 8}[fn]
    xs = [-(2**11), -200, -129, -1, 0, 1, 127, 129, 2**11 - 1]

    def ref(v: int) -> int:
        q = Fraction(v, 2**t_in.fractional) * 64 / r
        idx = (int(q) if q >= 0 else -int(-q)) + 32
        return int(table[min(max(idx, 0), 63)])

    assert run(op, np.array([xs])).tolist() == [[ref(v) for v in xs]]


@pytest.mark.parametrize("n", range(1, 12))
def test_reduce_tree_is_nnet_reduce(n: int) -> None:
    def nnet_reduce(items: list[str]) -> str:
        if len(items) == 1:
            return items[0]
        if len(items) == 2:
            return f"({items[0]}+{items[1]})"
        left = 1 << ((len(items) - 1).bit_length() - 1)
        return f"({nnet_reduce(items[:left])}+{nnet_reduce(items[left:])})"

    slots = [str(i) for i in range(n)]
    for _dst, a, b in reduce_pairs(n):
        slots.append(f"({slots[a]}+{slots[b]})")
    assert slots[-1] == nnet_reduce([str(i) for i in range(n)])


def test_softmax_argmax_marks_the_first_maximum() -> None:
    t = FixedType(8, 3)
    dummy = np.zeros(4, np.int64)
    op = Softmax("sm", t, t, (4,), (4,), implementation="argmax", exp_table=dummy, inv_table=dummy,
                 exp_table_type=t, inv_table_type=t, accum_type=t, inv_inp_type=t, inp_norm_type=t)  # fmt: skip
    assert run(op, np.array([[1, 5, 5, 2], [-3, -3, -3, -3]])).tolist() == [[0, 32, 0, 0], [32, 0, 0, 0]]
