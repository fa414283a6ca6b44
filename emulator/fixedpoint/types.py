"""``ap_fixed`` / ``ap_ufixed`` types: width, integer bits, sign, quantization and overflow modes.

A value of type ``T`` is an integer mantissa ``m`` with ``value = m · 2^-F`` (``F = W - I``).
A cast to ``T`` first quantizes the exact value to a multiple of ``2^-F`` (mode ``rounding``),
then handles values outside ``[min, max]`` (mode ``overflow``), exactly as Xilinx's
``ap_fixed_base`` does. :meth:`FixedType.quantize` is the exact, one-value version of that
cast (used for constants); the vectorised casts live in :mod:`emulator.fixedpoint.cast`.

>>> t = FixedType.parse("ap_ufixed<8,3,AP_RND_CONV,AP_SAT>")
>>> t.quantize(2.5 / 32), t.quantize(1.5 / 32), t.quantize(100.0), t.quantize(-1.0)
(2, 2, 255, 0)
>>> str(FixedType(16, 6)), FixedType.parse("ap_uint<1>").rounding.value
('ap_fixed<16,6>', 'TRN_ZERO')
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from emulator.fixedpoint.errors import FixedPointError

__all__ = ["MAX_WIDTH", "FixedType", "Overflow", "Rounding", "int_type"]

MAX_WIDTH = 62  # every mantissa, product and sum must fit int64 with headroom


class Rounding(StrEnum):
    """Quantization modes of ``ap_fixed`` (the ``AP_`` prefix dropped)."""

    TRN = "TRN"  # floor
    TRN_ZERO = "TRN_ZERO"  # toward zero
    RND = "RND"  # nearest, ties toward +inf
    RND_ZERO = "RND_ZERO"  # nearest, ties toward zero
    RND_INF = "RND_INF"  # nearest, ties away from zero
    RND_MIN_INF = "RND_MIN_INF"  # nearest, ties toward -inf
    RND_CONV = "RND_CONV"  # nearest, ties to even

    @property
    def code(self) -> int:
        return _ROUNDING_CODES[self]


class Overflow(StrEnum):
    """Overflow modes of ``ap_fixed`` (``AP_WRAP`` with saturation bits is not supported)."""

    WRAP = "WRAP"
    SAT = "SAT"
    SAT_ZERO = "SAT_ZERO"
    SAT_SYM = "SAT_SYM"

    @property
    def code(self) -> int:
        return _OVERFLOW_CODES[self]


_ROUNDING_CODES = {m: i for i, m in enumerate(Rounding)}
_OVERFLOW_CODES = {m: i for i, m in enumerate(Overflow)}
_INT_RE = re.compile(r"^\s*(?:ap_)?(u?)int\s*<\s*(\d+)\s*>\s*$", re.IGNORECASE)
_TYPE_RE = re.compile(r"^\s*(?:ap_)?(u?)fixed\s*<([^>]*)>\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FixedType:
    """An ``ap_fixed<W, I, Q, O>`` (``signed``) or ``ap_ufixed<W, I, Q, O>`` type."""

    width: int
    integer: int
    signed: bool = True
    rounding: Rounding = Rounding.TRN
    overflow: Overflow = Overflow.WRAP

    def __post_init__(self) -> None:
        if not 1 <= self.width <= MAX_WIDTH:
            msg = f"{self}: width {self.width} is outside 1..{MAX_WIDTH} (int64 mantissas)"
            raise FixedPointError(msg)
        object.__setattr__(self, "rounding", Rounding(self.rounding))
        object.__setattr__(self, "overflow", Overflow(self.overflow))

    # -- properties ---------------------------------------------------------
    @property
    def fractional(self) -> int:
        return self.width - self.integer

    @property
    def max_int(self) -> int:
        """Largest mantissa."""
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def min_int(self) -> int:
        """Smallest mantissa the type can hold (``-max_int`` under SAT_SYM saturation)."""
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def sat_min_int(self) -> int:
        """Lower bound a cast produces: ``min_int``, or ``-max_int`` with SAT_SYM."""
        if self.signed and self.overflow is Overflow.SAT_SYM:
            return -self.max_int
        return self.min_int

    @property
    def lsb(self) -> float:
        return math.ldexp(1.0, -self.fractional)

    # -- text form ----------------------------------------------------------
    def __str__(self) -> str:
        if self.integer == self.width and (self.rounding, self.overflow) == (Rounding.TRN_ZERO, Overflow.WRAP):
            return f"ap_{'' if self.signed else 'u'}int<{self.width}>"
        name = "ap_fixed" if self.signed else "ap_ufixed"
        args = [str(self.width), str(self.integer)]
        if self.rounding is not Rounding.TRN or self.overflow is not Overflow.WRAP:
            args.append(f"AP_{self.rounding.value}")
        if self.overflow is not Overflow.WRAP:
            args.append(f"AP_{self.overflow.value}")
        return f"{name}<{','.join(args)}>"

    @classmethod
    def parse(cls, text: str) -> FixedType:
        """Parse ``ap_fixed<16,6,AP_RND,AP_SAT>``, ``ufixed<8,3,RND_CONV,SAT>``, ``ap_int<2>`` and the like."""
        if m_int := _INT_RE.match(text):
            return int_type(int(m_int.group(2)), signed=not m_int.group(1))
        m = _TYPE_RE.match(text)
        if m is None:
            msg = f"cannot parse fixed-point type {text!r} (expected ap_fixed<W,I[,Q[,O[,N]]]>)"
            raise FixedPointError(msg)
        parts = [p.strip() for p in m.group(2).split(",")]
        try:
            width, integer = int(parts[0]), int(parts[1])
            rounding = Rounding(_mode(parts[2])) if len(parts) > 2 else Rounding.TRN
            overflow = Overflow(_mode(parts[3])) if len(parts) > 3 else Overflow.WRAP
            sat_bits = int(parts[4]) if len(parts) > 4 else 0
        except (ValueError, IndexError) as exc:
            msg = f"cannot parse fixed-point type {text!r}: {exc}"
            raise FixedPointError(msg) from exc
        if sat_bits != 0:
            msg = f"{text!r}: saturation bits N={sat_bits} are not supported (only N=0)"
            raise FixedPointError(msg)
        return cls(width, integer, signed=not m.group(1), rounding=rounding, overflow=overflow)

    # -- exact reference cast (constants) ----------------------------------
    def quantize(self, value: float | int | Fraction) -> int:
        """The mantissa ``ap_fixed_base(value)`` holds: quantize, then handle overflow."""
        return self.quantize_checked(value)[0]

    def quantize_checked(self, value: float | int | Fraction) -> tuple[int, bool]:
        """``(mantissa, overflowed)``; NaN/±inf behave as ``ap_fixed_base(double)`` does."""
        if isinstance(value, float) and not math.isfinite(value):
            if self.overflow is Overflow.WRAP:
                return 0, True
            return self._saturate(negative=math.copysign(1.0, value) < 0), True
        scaled = Fraction(value) * Fraction(2) ** self.fractional
        return self.handle_overflow(round_fraction(scaled, self.rounding))

    def handle_overflow(self, mantissa: int) -> tuple[int, bool]:
        """Apply the overflow mode to an already quantized mantissa."""
        if self.sat_min_int <= mantissa <= self.max_int:
            return mantissa, False
        if self.overflow is Overflow.WRAP:
            low = mantissa & ((1 << self.width) - 1)
            if self.signed and low > self.max_int:
                low -= 1 << self.width
            return low, True
        return self._saturate(negative=mantissa < 0), True

    def _saturate(self, *, negative: bool) -> int:
        if self.overflow is Overflow.SAT_ZERO:
            return 0
        return self.sat_min_int if negative else self.max_int

    def to_float(self, mantissa: int) -> float:
        return math.ldexp(float(mantissa), -self.fractional)


def int_type(width: int, *, signed: bool = True) -> FixedType:
    """``ap_int<W>`` / ``ap_uint<W>``: a value cast to it from ``ap_fixed`` is truncated toward
    zero (``to_ap_int_base`` follows C), then wrapped to W bits."""
    return FixedType(width, width, signed=signed, rounding=Rounding.TRN_ZERO)


def round_fraction(x: Fraction, mode: Rounding) -> int:
    """Round an exact rational to an integer with an ``ap_fixed`` quantization mode."""
    fl = math.floor(x)
    rem = x - fl
    half = Fraction(1, 2)
    inc: bool
    if mode is Rounding.TRN:
        inc = False
    elif mode is Rounding.TRN_ZERO:
        inc = fl < 0 and rem != 0
    elif mode is Rounding.RND:
        inc = rem >= half
    elif mode is Rounding.RND_ZERO:
        inc = rem > half or (rem == half and fl < 0)
    elif mode is Rounding.RND_INF:
        inc = rem > half or (rem == half and fl >= 0)
    elif mode is Rounding.RND_MIN_INF:
        inc = rem > half
    else:
        inc = rem > half or (rem == half and fl % 2 == 1)
    return fl + int(inc)


def _mode(text: str) -> str:
    return text.upper().removeprefix("AP_").removeprefix("AC_")
