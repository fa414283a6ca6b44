"""FixedType: parsing, spelling, ranges, and the exact one-value cast against a reference."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.fixedpoint import FixedPointError, FixedType, Overflow, Rounding
from emulator.fixedpoint.types import int_type
from tests.test_fixedpoint_reference import fixed_types, ref_cast_value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ap_fixed<16,6>", FixedType(16, 6)),
        ("fixed<16,6,TRN,WRAP,0>", FixedType(16, 6)),
        ("ap_ufixed<8,3,AP_RND_CONV,AP_SAT>", FixedType(8, 3, False, Rounding.RND_CONV, Overflow.SAT)),
        ("ufixed<6, -2, RND_INF>", FixedType(6, -2, False, Rounding.RND_INF)),
        (" ap_fixed<4,9,AP_TRN_ZERO,AP_SAT_SYM> ", FixedType(4, 9, True, Rounding.TRN_ZERO, Overflow.SAT_SYM)),
    ],
)
def test_parse(text: str, expected: FixedType) -> None:
    assert FixedType.parse(text) == expected


@given(fixed_types())
def test_spelling_round_trips(t: FixedType) -> None:
    assert FixedType.parse(str(t)) == t


@pytest.mark.parametrize(
    "text", ["ap_int<8,2>", "ap_fixed<16>", "ap_fixed<16,6,AP_FOO>", "ap_fixed<8,3,AP_TRN,AP_WRAP,2>", "float"]
)
def test_parse_refuses_unsupported_spellings(text: str) -> None:
    with pytest.raises(FixedPointError, match=r"ap_fixed|saturation bits|parse"):
        FixedType.parse(text)


def test_integer_types_truncate_toward_zero() -> None:
    """``ap_int<W>(ap_fixed)`` goes through ``to_ap_int_base``, which rounds toward zero like C."""
    t = FixedType.parse("ap_int<3>")
    assert t == int_type(3)
    assert (str(t), str(int_type(1, signed=False))) == ("ap_int<3>", "ap_uint<1>")
    assert [t.quantize(v) for v in (-2.5, -0.5, 0.5, 3.75, 4.0)] == [-2, 0, 0, 3, -4]


@pytest.mark.parametrize("width", [0, 63, 80])
def test_widths_beyond_int64_are_refused(width: int) -> None:
    with pytest.raises(FixedPointError, match=f"width {width}"):
        FixedType(width, 4)


def test_ranges() -> None:
    t = FixedType(8, 3)
    assert (t.min_int, t.max_int, t.fractional, t.lsb) == (-128, 127, 5, 1 / 32)
    sym = FixedType(8, 3, overflow=Overflow.SAT_SYM)
    assert sym.sat_min_int == -127
    u = FixedType(8, 3, signed=False, overflow=Overflow.SAT_SYM)
    assert (u.sat_min_int, u.max_int) == (0, 255)


@pytest.mark.parametrize(
    ("overflow", "pos", "neg"),
    [(Overflow.WRAP, 0, 0), (Overflow.SAT, 127, -128), (Overflow.SAT_ZERO, 0, 0), (Overflow.SAT_SYM, 127, -127)],
)
def test_nan_and_inf_follow_ap_fixed_double_constructor(overflow: Overflow, pos: int, neg: int) -> None:
    t = FixedType(8, 3, overflow=overflow)
    assert t.quantize(math.inf) == pos
    assert t.quantize(-math.inf) == neg
    assert t.quantize(math.nan) == pos  # a NaN with the sign bit clear saturates upward
    assert t.quantize(-math.nan) == neg


@given(fixed_types(), st.fractions() | st.floats(allow_nan=True, allow_infinity=True))
def test_quantize_matches_reference(t: FixedType, value: Fraction | float) -> None:
    assert t.quantize(value) == ref_cast_value(value, t)


def test_quantize_reports_overflow() -> None:
    t = FixedType(4, 2)
    assert t.quantize_checked(1.5) == (6, False)
    assert t.quantize_checked(2.0) == (-8, True)  # wraps
