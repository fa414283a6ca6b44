"""Pipeline a traced program by time: every operation timed in ns by the depth rule, a register every period.

da4ml times an operation in adder levels: an add costs one whatever its width, while a constant
add (a bias, a rounding constant), a ReLU, a negation and the compare of a saturation cost none,
so a stage cut at N levels chains more carry chains than N. Here each operation of the traced
program is timed with the planning delays of :mod:`firmware.rtl.depth` (the rule the synthesized
netlist is checked with), and the program is cut into stages of one clock period:

* an add, a subtraction or a constant add of a ``w``-bit result: one LUT and its carry chain,
  ``LUT_NS + 4·⌈w/4⌉·CARRY_NS`` (whole CARRY4 cells). Yosys (``alumacc``) folds an add whose
  only user is another add of the same stage into one multi-operand add: full-adder LUT levels
  (3 rows to 2 per level), one LUT and one carry chain, from its latest operand. An add is timed
  as the later of the two forms;
* a negation (a ReLU or a cast of ``-x``, a mux of ``-b``) is one more carry chain;
* a ReLU of a signed value, a mux on a sign bit: one LUT; a bitwise op one LUT per 6 inputs
  level; a bit selection (a cast, a wrap) or a constant: 0;
* a table of ``b`` address bits: a LUT6 with its MUXF7/F8 for 8 bits, one more LUT (a 4:1 mux)
  per 2 bits beyond;
* a variable product: an unregistered DSP48 (``DSP_LEVELS`` LUTs).

Scheduling is as soon as possible; an operation that would end past its stage starts at the next
register instead. No path of a stage is then longer than the period unless one operation alone
is (that is logged; the depth check of the netlist flags it).

>>> op_ns(0, 16, 16, False), op_ns(4, 20, 20, False), op_ns(3, 12, 16, True), op_ns(8, 10, 10, False)
(1.1, 1.2, 0.0, 1.4)
>>> [adder_levels(n) for n in (2, 3, 4, 6, 9)]  # full-adder levels before the carry chain
[0, 1, 2, 3, 4]
"""

from __future__ import annotations

import logging
import math
from typing import Any

from firmware.rtl.depth import CARRY_NS, DSP_LEVELS, LUT_NS

__all__ = ["TIMING_RULE", "adder_levels", "op_ns", "timed_pipeline"]

log = logging.getLogger(__name__)

TIMING_RULE = (f"an add {LUT_NS} ns + {CARRY_NS} ns per carry bit, adds Yosys folds into one a full-adder LUT "
               f"per level, a negation one more carry chain, ReLU/mux {LUT_NS} ns, a table of b > 8 address bits "
               f"{LUT_NS} ns per 2 more bits, a bit selection 0")  # fmt: skip
_EPS = 1e-9  # da4ml's own tolerance when it assigns an operation to a stage
_ADDS = (0, 1, 4)


def _carry_ns(width: int) -> float:
    """One LUT and the carry chain of a ``width``-bit add."""
    return LUT_NS + 4 * math.ceil(max(width, 1) / 4) * CARRY_NS


def adder_levels(rows: int) -> int:
    """Full-adder (3:2) LUT levels that reduce ``rows`` summands to the two of a carry-chain add."""
    levels = 0
    while rows > 2:
        rows = 2 * (rows // 3) + rows % 3
        levels += 1
    return levels


def op_ns(opcode: int, width: int, in_width: int, in_signed: bool) -> float:
    """Planning delay (ns) of one da4ml operation with a ``width``-bit result, on its own, from an
    ``in_width``-bit first operand (``in_signed``: that operand can be negative)."""
    match opcode:
        case -1 | 5 | 3:  # input, constant, bit selection
            ns = 0.0
        case 0 | 1 | 4:  # add, subtract, constant add
            ns = _carry_ns(width)
        case -3:  # a cast of -x: the negation
            ns = _carry_ns(in_width)
        case 2:  # ReLU: the value AND NOT its sign bit
            ns = LUT_NS if in_signed else 0.0
        case -2:
            ns = _carry_ns(in_width) + LUT_NS
        case 6:  # mux on a sign bit
            ns = LUT_NS
        case -6:  # mux of a negated operand
            ns = _carry_ns(width) + LUT_NS
        case 7:
            ns = DSP_LEVELS * LUT_NS
        case 8:
            ns = LUT_NS * (1 + math.ceil(max(in_width - 8, 0) / 2))
        case _:  # bitwise ops (9, -9, 10): a LUT per 6 inputs level
            ns = LUT_NS * max(1, math.ceil(math.log(max(in_width, 2), 6)))
    return round(ns, 6)


def _deps(op: Any) -> list[int]:
    if op.opcode in (-1, 5):
        return []
    deps = [op.id0] if op.id0 >= 0 else []
    if op.id1 >= 0 and op.opcode != 8:
        deps.append(op.id1)
    if abs(op.opcode) == 6:
        deps.append(op.data & 0xFFFFFFFF)  # the sign bit that selects
    return deps


Sums = dict[int, tuple[float, bool]]  # the multi-operand adds an add can be part of: rows -> (latest row, a constant)


def _fold(options: list[Sums], const: bool) -> Sums:
    """Every way Yosys may fold the operands' adds (one option set per operand), as rows -> worst case."""
    out: Sums = {0: (0.0, const)}
    for opt in options:
        nxt: Sums = {}
        for r0, (t0, c0) in out.items():
            for r1, (t1, c1) in opt.items():
                t, c = nxt.get(r0 + r1, (0.0, False))
                nxt[r0 + r1] = (max(t, t0, t1), c or c0 or c1)
        out = nxt
    return out


def _sum_ns(sums: Sums, d: float) -> float:
    """The latest output of any of ``sums``: full-adder levels (a constant or subtraction adds a row
    once adds are folded), then the add's own LUT and carry chain (``d``)."""
    return max(t + adder_levels(r + (c and r > 2)) * LUT_NS + d for r, (t, c) in sums.items())


class _Clock:
    """Stage arithmetic on da4ml's terms: a value at time ``t`` is in stage ``⌊t / (T + ε)⌋``."""

    def __init__(self, period: float) -> None:
        self.period = period

    def start(self, t: float) -> float:
        return math.floor(t / (self.period + _EPS)) * self.period

    def end(self, t: float) -> float:
        return self.start(t) + self.period


def timed_pipeline(comb: Any, period_ns: float) -> Any:
    """``comb`` (a da4ml ``CombLogic``) timed in ns and cut into ``period_ns`` stages (a da4ml ``Pipeline``)."""
    from da4ml.trace.pipeline import to_pipeline
    from da4ml.types import minimal_kif

    ops = comb.ops
    clock = _Clock(period_ns)
    widths = [sum(minimal_kif(op.qint)) for op in ops]
    users = [0] * len(ops)
    for op in ops:
        for i in _deps(op):
            users[i] += 1
    for i in comb.out_idxs:
        if i >= 0:
            users[i] += 1
    when: list[float] = []
    sums: dict[int, Sums] = {}
    too_slow = 0
    for j, op in enumerate(ops):
        deps = _deps(op)
        first = deps[0] if deps and op.opcode not in (-1, 5) else None
        d = op_ns(op.opcode, widths[j], widths[first] if first is not None else 0,
                  first is not None and ops[first].qint.min < 0)  # fmt: skip
        base = max((when[i] for i in deps), default=0.0)
        end = base + d
        if op.opcode in _ADDS:  # each operand an add of this stage with no other user may be folded in
            start, const = clock.start(base), op.opcode != 0
            options = [{1: (when[i], False)} | ({} if users[i] != 1 or when[i] <= start + _EPS else sums.get(i, {}))
                       for i in deps]  # fmt: skip
            sums[j] = _fold(options + ([{1: (start, False)}] if op.opcode == 4 else []), const)
            end = _sum_ns(sums[j], d)
        if d > 0 and end > clock.end(base) + _EPS:  # would end past its stage: start after the register
            end = clock.end(base) + d
            if j in sums:
                sums[j] = {len(deps) + (op.opcode == 4): (clock.end(base), op.opcode != 0)}
        too_slow += d > period_ns + _EPS
        when.append(end)
    if too_slow:
        log.warning("%d operation(s) alone take longer than the %.3f ns period", too_slow, period_ns)
    timed = [op._replace(latency=t) for op, t in zip(ops, when, strict=True)]
    return to_pipeline(comb._replace(ops=timed), period_ns, retiming=False, verbose=False)
