"""``ap_fixed`` casts of traced da4ml variables: every rounding and overflow mode of the engine.

da4ml rounds only by truncation (floor) or by adding half an LSB; the other quantization
modes are built here from a constant add, the sign bit and the kept LSB, then one floor:

* ``RND`` ``+h``; ``RND_MIN_INF`` ``+h-u``; ``RND_CONV`` (ties to even) ``+h-u+b·u``
  (``b`` the lowest kept bit); ``RND_ZERO`` ``+h-u+s·u``; ``RND_INF`` ``+h-s·u``;
  ``TRN_ZERO`` ``+s·(2u'-u)`` … with ``h`` half the kept LSB, ``u`` the input LSB, ``s`` the sign.

Overflow: ``WRAP``/``SAT``/``SAT_SYM`` are da4ml's own; ``SAT_ZERO`` is a range test and a mux.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from emulator.fixedpoint.types import FixedType, Overflow, Rounding

__all__ = ["cast_var", "kif"]


def kif(t: FixedType) -> tuple[int, int, int]:
    """da4ml's (keep-sign, integer bits without sign, fractional bits) of ``t``."""
    k = int(t.signed)
    return k, t.integer - k, t.fractional


def _frac_bits(v: Any) -> int:
    """Fractional bits of a traced variable's grid (its step is ``2^-f``)."""
    return int(v.kif[2])


def _bit(v: Any, f: int) -> Any:
    """The bit of weight ``2^-f`` of ``v`` as a 0/1 variable (two's complement)."""
    return v.quantize(0, 1 - f, f, "WRAP", "TRN") * (Decimal(2) ** f)


def _sign(v: Any) -> Any:
    """1 where ``v < 0``, else 0."""
    return v.is_negative()


def _round(v: Any, f_out: int, mode: Rounding) -> Any:
    """``v`` quantized to ``f_out`` fractional bits with ``mode`` (no overflow handling)."""
    f_in = _frac_bits(v)
    if f_in <= f_out:
        return v
    u = Decimal(2) ** -f_in  # input LSB
    h = Decimal(2) ** (-f_out - 1)  # half the kept LSB
    if mode is Rounding.TRN:
        w = v
    elif mode is Rounding.RND:
        w = v + h
    elif mode is Rounding.RND_MIN_INF:
        w = v + (h - u)
    elif mode is Rounding.RND_CONV:
        w = v + (h - u) + _bit(v, f_out) * u
    elif mode is Rounding.RND_ZERO:
        w = v + (h - u) + _sign(v) * u
    elif mode is Rounding.RND_INF:
        w = v + h - _sign(v) * u
    else:  # TRN_ZERO: ceil for negatives
        w = v + _sign(v) * (2 * h - u)
    k, i, _ = w.kif
    return w.quantize(k, i, f_out, "WRAP", "TRN")


def _sat_zero(v: Any, t: FixedType) -> Any:
    """``t(v)`` for ``v`` already on ``t``'s grid: 0 where it lies outside ``[min, max]``."""
    lo, hi = Decimal(t.sat_min_int) * Decimal(t.lsb), Decimal(t.max_int) * Decimal(t.lsb)
    if v.low >= lo and v.high <= hi:
        return v
    k, i, f = kif(t)
    inside = v.quantize(k, i, f, "WRAP", "TRN")  # the value itself wherever it is kept
    zero = 0.0
    return (hi - v).msb_mux(zero, (v - lo).msb_mux(zero, inside))  # sign bits: v > hi, v < lo


def cast_var(v: Any, t: FixedType) -> Any:
    """The traced ``(t) v`` of one da4ml ``FixedVariable``: rounding first, then overflow."""
    if v.low == v.high:  # a constant: the engine's exact reference cast
        m = t.quantize(Fraction(v.low))
        return type(v).from_const(Decimal(m) * Decimal(2) ** -t.fractional, hwconf=v.hwconf)
    r = _round(v, t.fractional, t.rounding)
    k, i, f = kif(t)
    if t.overflow is Overflow.WRAP:
        return r.quantize(k, i, f, "WRAP", "TRN")
    if t.overflow is Overflow.SAT:
        return r.quantize(k, i, f, "SAT", "TRN")
    if t.overflow is Overflow.SAT_SYM:
        return r.quantize(k, i, f, "SAT_SYM" if t.signed else "SAT", "TRN")
    return _sat_zero(r, t)
