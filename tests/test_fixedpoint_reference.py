"""An independent, slow reference of ap_fixed casts (Python ints and Fractions) and its own checks.

Written from the ap_fixed documentation, not from the engine: the nearest of the two
neighbouring multiples of the LSB, ties broken per mode, then the overflow mode.
Other fixed-point test modules import the helpers below.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import strategies as st

from emulator.fixedpoint import FixedType, Overflow, Rounding

HALF = Fraction(1, 2)


def ref_round(v: Fraction, mode: Rounding) -> int:
    """``v`` rounded to an integer with an ap_fixed quantization mode."""
    lo = math.floor(v)
    hi = lo + 1
    if v == lo:
        return lo
    toward_zero = hi if v < 0 else lo
    away = lo if v < 0 else hi
    if mode is Rounding.TRN:
        return lo
    if mode is Rounding.TRN_ZERO:
        return toward_zero
    if v - lo != HALF:
        return lo if v - lo < HALF else hi
    ties = {
        Rounding.RND: hi,
        Rounding.RND_ZERO: toward_zero,
        Rounding.RND_INF: away,
        Rounding.RND_MIN_INF: lo,
        Rounding.RND_CONV: lo if lo % 2 == 0 else hi,
    }
    return ties[mode]


def ref_overflow(r: int, t: FixedType) -> int:
    top = 2 ** (t.width - 1) - 1 if t.signed else 2**t.width - 1
    bottom = -(2 ** (t.width - 1)) if t.signed else 0
    if t.overflow is Overflow.SAT_SYM and t.signed:
        bottom = -top
    if bottom <= r <= top:
        return r
    if t.overflow is Overflow.WRAP:
        base = -(2 ** (t.width - 1)) if t.signed else 0
        return (r - base) % 2**t.width + base
    if t.overflow is Overflow.SAT_ZERO:
        return 0
    return top if r > top else bottom


def ref_cast_value(value: Fraction | float | int, t: FixedType) -> int:
    """The mantissa ``t(value)`` holds (NaN/±inf as ``ap_fixed_base(double)`` treats them)."""
    if isinstance(value, float) and not math.isfinite(value):
        if t.overflow in (Overflow.WRAP, Overflow.SAT_ZERO):
            return 0
        return ref_overflow(-(2**80) if math.copysign(1.0, value) < 0 else 2**80, t)
    return ref_overflow(ref_round(Fraction(value) * Fraction(2) ** t.fractional, t.rounding), t)


def ref_to_float32(mantissa: int, t: FixedType) -> float:
    """Round-half-even of ``mantissa · 2^-F`` to 24 significant bits (float32), exactly."""
    v = Fraction(mantissa) * Fraction(2) ** -t.fractional
    if v == 0:
        return 0.0
    e = math.floor(math.log2(abs(v)))
    while Fraction(2) ** e > abs(v):
        e -= 1
    while Fraction(2) ** (e + 1) <= abs(v):
        e += 1
    step = Fraction(2) ** (e - 23)
    return float(ref_round(v / step, Rounding.RND_CONV) * step)


def fixed_types(max_width: int = 62) -> st.SearchStrategy[FixedType]:
    """Every mode, both signs, widths 1..max_width, integer bits from below 0 to above W."""
    return st.builds(
        FixedType,
        width=st.integers(1, max_width),
        integer=st.integers(-12, 70),
        signed=st.booleans(),
        rounding=st.sampled_from(list(Rounding)),
        overflow=st.sampled_from(list(Overflow)),
    )


@pytest.mark.parametrize(
    ("mode", "expected"),  # rounding of -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.25, -0.75
    [
        (Rounding.TRN, [-3, -2, -1, 0, 1, 2, 0, -1]),
        (Rounding.TRN_ZERO, [-2, -1, 0, 0, 1, 2, 0, 0]),
        (Rounding.RND, [-2, -1, 0, 1, 2, 3, 0, -1]),
        (Rounding.RND_ZERO, [-2, -1, 0, 0, 1, 2, 0, -1]),
        (Rounding.RND_INF, [-3, -2, -1, 1, 2, 3, 0, -1]),
        (Rounding.RND_MIN_INF, [-3, -2, -1, 0, 1, 2, 0, -1]),
        (Rounding.RND_CONV, [-2, -2, 0, 0, 2, 2, 0, -1]),
    ],
)
def test_reference_rounding_table(mode: Rounding, expected: list[int]) -> None:
    values = [Fraction(v) for v in (-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.25, -0.75)]
    assert [ref_round(v, mode) for v in values] == expected


def test_reference_overflow_modes() -> None:
    t = FixedType(4, 4)
    assert [ref_overflow(9, FixedType(4, 4, overflow=o)) for o in Overflow] == [-7, 7, 0, 7]
    assert ref_overflow(-8, FixedType(4, 4, overflow=Overflow.SAT_SYM)) == -7
    assert ref_overflow(-8, t) == -8
    assert ref_overflow(17, FixedType(4, 4, signed=False)) == 1


def test_reference_float32_rounding() -> None:
    t = FixedType(30, 30)
    assert ref_to_float32(2**24 + 1, t) == 2**24  # tie to even
    assert ref_to_float32(2**24 + 3, t) == 2**24 + 4
