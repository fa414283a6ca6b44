"""Vectorised casts against the Fraction reference (every mode), and against ap_fixed itself."""

from __future__ import annotations

import math
import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.fixedpoint import FixedType, Overflow, Rounding, cast_fixed, cast_float, to_float
from emulator.fixedpoint.cast import fixed_cast, float_cast, may_overflow
from tests.test_fixedpoint_reference import fixed_types, ref_cast_value, ref_to_float32

SPECIAL = [0.0, -0.0, math.inf, -math.inf, math.nan, -math.nan, 5e-324, -5e-324, 1e-300, -1e-300, 1e300, -1e300]


@st.composite
def floats_for(draw: st.DrawFn, t: FixedType) -> list[float]:
    """Plain floats, exact ties of the type's LSB, values around its range edges, specials."""
    lsb = math.ldexp(1.0, -t.fractional)
    span = math.ldexp(1.0, t.integer)
    ties = (st.integers(-(2**20), 2**20) | st.sampled_from([-1, 0])).map(lambda k: (k + 0.5) * lsb)
    beside = ties.flatmap(lambda v: st.sampled_from([math.nextafter(v, -math.inf), math.nextafter(v, math.inf)]))
    edges = st.sampled_from([span / 2, -span / 2, span, -span]).flatmap(
        lambda e: st.integers(-3, 3).map(lambda k: e + k * lsb / 2)
    )
    plain = st.floats(allow_nan=True, allow_infinity=True, width=64)
    return draw(st.lists(ties | beside | edges | plain | st.sampled_from(SPECIAL), min_size=1, max_size=40))


@given(st.data(), fixed_types())
@settings(max_examples=300, deadline=None)
def test_cast_float_matches_reference(data: st.DataObject, t: FixedType) -> None:
    xs = data.draw(floats_for(t))
    got = cast_float(np.array(xs), t)
    assert got.tolist() == [ref_cast_value(x, t) for x in xs]


@given(fixed_types(), st.lists(st.floats(width=32, allow_nan=True, allow_infinity=True), min_size=1))
@settings(deadline=None)
def test_float32_inputs_widen_exactly(t: FixedType, xs: list[float]) -> None:
    x32 = np.array(xs, np.float32)
    assert cast_float(x32, t).tolist() == [ref_cast_value(float(x), t) for x in x32]


@given(
    fixed_types(),
    st.integers(-20, 70),
    st.lists(st.integers(-(2**61), 2**61) | st.integers(-300, 300), min_size=1, max_size=40),
)
@settings(max_examples=300, deadline=None)
def test_cast_fixed_matches_reference(t: FixedType, frac: int, mantissas: list[int]) -> None:
    got = cast_fixed(np.array(mantissas, np.int64), frac, t)
    want = [ref_cast_value(Fraction(m) * Fraction(2) ** -frac, t) for m in mantissas]
    assert got.tolist() == want


@given(fixed_types(), st.integers(-20, 70), st.integers(-(2**40), 2**40), st.integers(0, 2**40))
@settings(deadline=None)
def test_may_overflow_is_sound(t: FixedType, frac: int, lo: int, span: int) -> None:
    hi = lo + span
    m = np.array([lo, hi, (lo + hi) // 2], np.int64)
    _, n_ovf = fixed_cast(m, frac, t)
    if not may_overflow(lo, hi, frac, t):
        assert n_ovf == 0
        unchecked, _ = fixed_cast(m, frac, t, check=False)
        assert unchecked.tolist() == cast_fixed(m, frac, t).tolist()


@given(fixed_types(), st.integers(-20, 40), st.lists(st.integers(-(2**50), 2**50), min_size=1, max_size=20))
@settings(deadline=None)
def test_relu_clips_before_the_cast(t: FixedType, frac: int, mantissas: list[int]) -> None:
    m = np.array(mantissas, np.int64)
    got, _ = fixed_cast(m, frac, t, relu=True)
    assert got.tolist() == cast_fixed(np.maximum(m, 0), frac, t).tolist()


@given(fixed_types(max_width=53), st.data())
@settings(deadline=None)
def test_float_mantissas_cast_like_integers(t: FixedType, data: st.DataObject) -> None:
    """A float64 accumulator of exact integers casts as its int64 twin does."""
    frac = data.draw(st.integers(-10, 60))
    ms = data.draw(st.lists(st.integers(-(2**52), 2**52), min_size=1, max_size=20))
    got, n_ovf, _ = float_cast(np.array(ms, np.float64), t, frac=frac)
    want, n_want = fixed_cast(np.array(ms, np.int64), frac, t)
    assert got.tolist() == want.tolist()
    assert n_ovf == n_want


@given(fixed_types(), st.data())
@settings(deadline=None)
def test_to_float_rounds_half_even(t: FixedType, data: st.DataObject) -> None:
    lo = t.min_int
    ms = data.draw(st.lists(st.integers(lo, t.max_int), min_size=1, max_size=20))
    m = np.array(ms, np.int64)
    as64 = to_float(m, t, np.float64)
    as32 = to_float(m, t, np.float32)
    assert as32.dtype == np.float32
    assert as64.dtype == np.float64
    for k, mant in enumerate(ms):
        exact = Fraction(mant) * Fraction(2) ** -t.fractional
        assert as64[k] == float(exact)  # Python's float(Fraction) rounds half to even
        assert float(as32[k]) == ref_to_float32(mant, t)


@pytest.mark.parametrize("mode", list(Rounding))
def test_doubles_just_beside_a_tie(mode: Rounding) -> None:
    """0.5 - 2^-54 is below one half: ``floor(y + 0.5)`` would round it up (the sum rounds to 1.0)."""
    t = FixedType(12, 12, rounding=mode)
    xs = [math.nextafter(v, d) for v in (0.5, -0.5, 1.5, -1.5, 2.5) for d in (-math.inf, math.inf)]
    assert cast_float(np.array(xs), t).tolist() == [ref_cast_value(x, t) for x in xs]


def test_counts_and_nonfinite() -> None:
    t = FixedType(8, 3, overflow=Overflow.SAT)
    out, n_ovf, n_bad = float_cast(np.array([1.0, 100.0, -100.0, np.nan, 0.5]), t)
    assert out.tolist() == [32, 127, -128, 127, 16]
    assert (n_ovf, n_bad) == (3, 1)


def test_huge_values_wrap_exactly() -> None:
    t = FixedType(12, 12)
    x = np.array([2.0**70 + 2.0**18 * 5, -(2.0**62) - 2048.0 * 3])
    assert cast_float(x, t).tolist() == [ref_cast_value(float(v), t) for v in x]


# ---------------------------------------------------------------------------------------------
# The real thing: Xilinx's ap_fixed (shipped with hls4ml) compiled with g++.

_SHAPES = [(8, 3, True), (7, 3, False), (5, -2, True), (6, 9, False)]
_CPP_TYPES = [
    FixedType(w, i, s, q, o)
    for (w, i, s) in _SHAPES
    for q in Rounding
    for o in Overflow
    if (w, i) in ((8, 3), (7, 3)) or q in (Rounding.TRN, Rounding.RND_CONV, Rounding.RND_ZERO)
]
_SOURCE = FixedType(40, 12)  # fixed -> fixed casts start from ap_fixed<40,12>


def _cpp_name(t: FixedType) -> str:
    return f"ap_{'' if t.signed else 'u'}fixed<{t.width},{t.integer},AP_{t.rounding.value},AP_{t.overflow.value}>"


def _harness_source() -> str:
    lines = [
        '#include "ap_fixed.h"',
        "#include <cstdio>",
        "#include <cstring>",
        "#include <vector>",
        "template <class T> long long from_double(double d) { T t = d; return t.range(T::width - 1, 0).to_int64(); }",
        "template <class T> long long from_fixed(long long v) {",
        f"  ap_fixed<{_SOURCE.width},{_SOURCE.integer}> s; s.range({_SOURCE.width - 1}, 0) = v;",
        "  T t = s; return t.range(T::width - 1, 0).to_int64(); }",
        "int main() {",
        "  std::vector<double> xs; std::vector<long long> ms; unsigned long long bits; long long m; int n;",
        '  scanf("%d", &n);',
        '  for (int i = 0; i < n; i++) { scanf("%llx", &bits); double x; memcpy(&x, &bits, 8); xs.push_back(x); }',
        '  while (scanf("%lld", &m) == 1) ms.push_back(m);',
    ]
    for t in _CPP_TYPES:
        name = _cpp_name(t)
        lines.append(f'  for (double x : xs) printf("%lld ", from_double<{name} >(x)); printf("\\n");')
        lines.append(f'  for (long long v : ms) printf("%lld ", from_fixed<{name} >(v)); printf("\\n");')
    lines.append("  return 0; }")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def ap_fixed_harness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A g++ binary printing ap_fixed's mantissas for every type in ``_CPP_TYPES`` (~10 s)."""
    hls4ml = pytest.importorskip("hls4ml")
    include = Path(hls4ml.__file__).parent / "templates" / "vivado" / "ap_types"
    work = tmp_path_factory.mktemp("ap_fixed")
    (work / "harness.cpp").write_text(_harness_source())
    exe = work / "harness"
    cmd = ["g++", "-O1", f"-I{include}", str(work / "harness.cpp"), "-o", str(exe)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    return exe


def _signed(raw: int, t: FixedType) -> int:
    raw &= (1 << t.width) - 1
    return raw - (1 << t.width) if t.signed and raw >> (t.width - 1) else raw


@pytest.mark.hls4ml
def test_casts_equal_ap_fixed(ap_fixed_harness: Path) -> None:
    rng = np.random.default_rng(5)
    xs = np.concatenate([
        rng.normal(0, 4, 3000),
        rng.normal(0, 400, 300),
        np.round(rng.normal(0, 8, 1000) * 64) / 64 + 1 / 128,  # exact ties at several LSBs
        np.round(rng.normal(0, 8, 1000) * 2**10) / 2**10,
        SPECIAL,
        [2.0**62, -(2.0**62), 2.0**70 + 2**20, 3.0 * 2**60],
    ])  # fmt: skip
    lo, hi = _SOURCE.min_int, _SOURCE.max_int
    ms = np.concatenate([rng.integers(lo, hi, 2000), rng.integers(-(2**20), 2**20, 2000), [lo, hi, 0, -1]])
    feed = [str(len(xs))] + [f"{struct.unpack('<Q', struct.pack('<d', x))[0]:x}" for x in xs]
    feed += [str(int(m) & ((1 << _SOURCE.width) - 1)) for m in ms]
    proc = subprocess.run([str(ap_fixed_harness)], input="\n".join(feed), capture_output=True, text=True, timeout=120)
    rows = proc.stdout.strip().split("\n")
    assert len(rows) == 2 * len(_CPP_TYPES)
    src_mantissas = np.array([_signed(int(m), _SOURCE) for m in ms], np.int64)
    for k, t in enumerate(_CPP_TYPES):
        want_x = [_signed(int(v), t) for v in rows[2 * k].split()]
        want_m = [_signed(int(v), t) for v in rows[2 * k + 1].split()]
        assert cast_float(xs, t).tolist() == want_x, f"double -> {t}"
        assert cast_fixed(src_mantissas, _SOURCE.fractional, t).tolist() == want_m, f"{_SOURCE} -> {t}"
