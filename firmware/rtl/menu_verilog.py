"""Write a menu's seeds as pipelined Verilog for the global-trigger clock.

The module ``<top>(clk, ev, seeds)`` reads one event per clock on the flat bus ``ev``: the
words of :func:`firmware._menu_layout.menu_fields`, in that order, packed LSB first, each
at its own width (:func:`port_layout`: pT/η/φ 16-bit signed, isolation/quality 8-bit
unsigned, charge 8-bit signed, sums 32-bit signed, float32 scores their 32 IEEE bits,
integer scores 64-bit signed). ``seeds[k]`` is seed ``k`` of :attr:`MenuRtl.seed_names`.

Register stages, each within one 480 MHz cycle of the logic-depth rule (:mod:`firmware.rtl.depth`;
the building blocks are in :mod:`firmware.rtl._menu_logic`): (1) the event; (2) every distinct
compare on the event words (pT, η against ±bounds instead of ``|η|``, a quality/isolation mask
bit, a charge, a sum bound; a float32 score's order-key compares, its NaN and zero tests; an
integer score's high and low words apart); (3) each leg's candidate bit per slot (an AND of its
compares), each sum and score condition; (4–7) each condition without pair cuts, by Hall's
condition on the candidate masks (as ``emulator.menu``): per leg subset the union mask, then per
6-bit half of it ``popcount ≥ k`` as 6-input tables, then ``popcount ≥ |S|`` from the halves,
then the AND; two-leg conditions with one pair correlation take up to 14 stages from the event
and the OR over pairs (:mod:`firmware.rtl._menu_pairs`), and the others are delayed to meet
them; (last) each seed, the AND of its conditions. The latency is measured in simulation
(:mod:`firmware.rtl.menu_sim`): 8 cycles without pair cuts, 17 for cms2024 (a mass cut, 66 jet pairs).

OR/NOT logic, correlations on more than two legs, vetoes, two-body pT, transverse or M/ΔR
cuts, η/φ windows, slices and float64 scores have no RTL form yet: such a seed raises
:class:`UnsupportedError` naming it, or with ``skip_unsupported`` is left out and listed in
:attr:`MenuRtl.refused`.

>>> import tempfile
>>> from emulator.menu import load_menu
>>> rtl = write_menu_rtl(load_menu("configs/menus/cms2024.yaml"), tempfile.mkdtemp(),
...                      scores={"score_axol1tl": "float", "score_cicada": "float"}, skip_unsupported=True)
>>> len(rtl.seed_names), rtl.refused, rtl.stages
(34, {}, 17)
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np

from emulator.menu import Menu
from emulator.menu.hardware import (
    ALL_BITS,
    NO_MAX,
    HwAlways,
    HwCondition,
    HwLeg,
    HwObjects,
    HwScore,
    HwSeed,
    HwSum,
)
from firmware._menu_layout import Field, ScoreKind, check_board_inputs, menu_fields
from firmware.errors import UnsupportedError
from firmware.rtl._menu_logic import DSP_MODULE, MAX_FANIN, Pipe, and_all, cmp_const, ge_table, lit, split_const
from firmware.rtl._menu_pairs import PAIR_FUNCTIONS, PairWriter, pair_form_error
from streams.schema import COLLECTIONS

__all__ = ["MenuRtl", "port_layout", "write_menu_rtl"]

log = logging.getLogger(__name__)

_WIDTH = {"ap_int<16>": 16, "ap_uint<8>": 8, "ap_int<8>": 8, "ap_int<32>": 32, "float": 32, "ap_int<64>": 64}
_LIMIT = 1 << 32  # a bound at or beyond it is no cut (the HwLeg/HwSum defaults)
CHECKS, LEGS = 2, 3  # the register stages after the event's (1) (see the module docstring)
_STAGE_NAMES = {2: ": compares (and pair coordinates) from the event words", 3: ": legs, sums, scores",
                4: ": Hall unions", 5: ": Hall half counts", 6: ": Hall subsets", 7: ": conditions without pair cuts"}


@dataclass(frozen=True, slots=True)
class MenuRtl:
    """One written menu RTL project: the Verilog, its port layout and the seeds it holds."""

    name: str
    directory: Path
    top: str
    fields: tuple[Field, ...]
    widths: tuple[int, ...]  # bit width of each record word, in record order
    seed_names: tuple[str, ...]  # seeds[k] of the module
    seed_index: tuple[int, ...]  # their index in the menu
    refused: dict[str, str] = field(default_factory=dict)  # seed -> why it has no RTL form
    stages: int = 4

    @property
    def sources(self) -> list[Path]:
        return [self.directory / "src" / f"{self.top}.v"]

    @property
    def memfiles(self) -> list[Path]:
        return []

    @property
    def port_width(self) -> int:
        return sum(self.widths)


def port_layout(fields: tuple[Field, ...]) -> tuple[int, ...]:
    """Width in bits of every record word on the ``ev`` bus (fields expanded over their slots)."""
    return tuple(_WIDTH[f.cpp_type] for f in fields for _ in range(f.count))


def _check_rtl_form(seed: HwSeed, scores: dict[str, ScoreKind]) -> None:
    """Raise UnsupportedError for what this writer has no Verilog for."""
    check_board_inputs(seed, "RTL")
    if len(seed.conditions) > MAX_FANIN:
        msg = f"{len(seed.conditions)} conditions: the RTL seed ANDs at most {MAX_FANIN} in one 480 MHz cycle"
        raise UnsupportedError(msg)
    for cond in seed.conditions:
        if isinstance(cond, HwSum) and cond.phi_windows:
            msg = f"φ windows on {cond.sum} have no RTL form yet"
            raise UnsupportedError(msg)
        if isinstance(cond, HwScore) and scores[cond.column] == "double":
            msg = f"float64 score {cond.column}: no RTL form yet (float32 or integer scores)"
            raise UnsupportedError(msg)
        if not isinstance(cond, HwObjects):
            continue
        pairs = cond.correlations or cond.charge or cond.mass3 != (0, NO_MAX)
        if pairs and (why := pair_form_error(cond)):
            raise UnsupportedError(why)
        if len(cond.legs) > 4:
            msg = f"{len(cond.legs)} legs: the RTL menu supports 1 to 4 legs per condition"
            raise UnsupportedError(msg)
        for leg in cond.legs:
            if leg.eta_windows or leg.phi_windows or leg.slots != (0, 11):
                msg = f"{leg.collection} leg with signed η windows, φ windows or object slices: no RTL form yet"
                raise UnsupportedError(msg)
            if leg.charge and leg.collection != "muon":
                msg = f"charge cut on a {leg.collection} leg: only muons carry a charge"
                raise UnsupportedError(msg)


class _Writer:
    """Collects the Verilog of every distinct check, leg, sum, score and condition in one :class:`Pipe`."""

    def __init__(self, offsets: dict[str, list[tuple[int, int]]], scores: dict[str, ScoreKind]) -> None:
        self.offsets = offsets  # column -> (lo, width) per slot
        self.scores = scores
        self.pipe = Pipe()
        self.legs: dict[HwLeg, str] = {}
        self.conds: dict[HwCondition, str] = {}
        self.ready: dict[str, int] = {}  # condition register -> the stage that updates it
        self.pairs = PairWriter(self._word, self.pipe)

    def _word(self, column: str, slot: int = 0) -> str:
        lo, width = self.offsets[column][slot]
        return f"ev_r[{lo + width - 1}:{lo}]"

    def _check(self, expr: str) -> str:
        """A stage-2 register of one compare on the event words (shared by every leg that makes it)."""
        return self.pipe.shared(CHECKS, "chk", expr)

    def leg(self, leg: HwLeg) -> str:
        if leg in self.legs:
            return self.legs[leg]
        name = self.legs[leg] = f"leg{len(self.legs)}"
        coll = COLLECTIONS[leg.collection]
        p = coll.prefix
        self.pipe.decl.append(f"reg [{coll.size - 1}:0] {name};  // {leg}")
        for i in range(coll.size):
            pt, eta = self._word(f"{p}_pt", i), self._word(f"{p}_eta", i)
            checks = [self._check(cmp_const(pt, 16, ">=", leg.pt_min))]
            if leg.pt_max < _LIMIT:
                checks.append(self._check(cmp_const(pt, 16, "<=", leg.pt_max)))
            if leg.eta_min > 0:  # |η| ≥ m: η ≥ m or η ≤ −m
                checks.append(_or(self._check(cmp_const(eta, 16, ">=", leg.eta_min)),
                                  self._check(cmp_const(eta, 16, "<=", -leg.eta_min))))  # fmt: skip
            if leg.eta_max < _LIMIT:  # |η| ≤ m: −m ≤ η ≤ m
                checks += [self._check(cmp_const(eta, 16, ">=", -leg.eta_max)) if leg.eta_max >= 0 else "1'b0",
                           self._check(cmp_const(eta, 16, "<=", leg.eta_max))]  # fmt: skip
            for fld, mask in (("qual", leg.qual_mask), ("iso", leg.iso_mask)):
                if mask != ALL_BITS:
                    checks.append(self._check(f"mask_bit(16'h{mask & 0xFFFF:04x}, {self._word(f'{p}_{fld}', i)})"))
            if leg.charge:
                op = ">" if leg.charge > 0 else "<"
                checks.append(self._check(f"($signed({self._word(f'{p}_charge', i)}) {op} 8'sd0)"))
            self.pipe.at(LEGS, f"{name}[{i}] <= {and_all(checks, str(leg))};")
        return name

    def condition(self, cond: HwCondition) -> str:
        if cond in self.conds:
            return self.conds[cond]
        if isinstance(cond, HwAlways):
            self.conds[cond] = "1'b1"
            return "1'b1"
        name = self.conds[cond] = f"cond{len(self.conds)}"
        if isinstance(cond, HwSum):
            word = self._word(cond.sum, 0)
            checks = [self._check(cmp_const(word, 32, ">=", cond.min))] if cond.min > -_LIMIT else []
            checks += [self._check(cmp_const(word, 32, "<=", cond.max))] if cond.max < _LIMIT else []
            self.ready[self.pipe.reg(LEGS, name, and_all(checks, str(cond)), comment=str(cond)[:150])] = LEGS
        elif isinstance(cond, HwScore):
            self.ready[self.pipe.reg(LEGS, name, self._score(cond), comment=str(cond)[:150])] = LEGS
        elif not isinstance(cond, HwObjects):  # external conditions are refused by _check_rtl_form
            msg = f"{cond}: no RTL form"
            raise UnsupportedError(msg)
        elif cond.correlations:
            reg, stage = self.pairs.condition(cond, name, [self.leg(leg) for leg in cond.legs])
            self.ready[reg] = stage
        else:
            self.ready[name] = _hall(self.pipe, cond, name, [self.leg(leg) for leg in cond.legs])
        return name

    def _score(self, cond: HwScore) -> str:
        """Stage-2 compares of a score word, combined in stage 3 (an AND/OR of a few bits)."""
        lsb = self.offsets[cond.column][0][0]
        if self.scores[cond.column] == "int":  # 64-bit signed: the high word (signed) and the low word apart
            c = math.ceil(cond.min) if math.isfinite(cond.min) else 0
            if c <= -(1 << 63) or c >= 1 << 63:
                return "1'b1" if c <= -(1 << 63) else "1'b0"
            top, low = split_const(c, 32)
            high = f"ev_r[{lsb + 63}:{lsb + 32}]"
            past = self._check(cmp_const(high, 32, ">=", top + 1))
            eq = self._check(f"($signed({high}) == {lit(top, 33)})")
            part = self._check(f"(ev_r[{lsb + 31}:{lsb}] >= 32'd{low})")
            return _or(past, f"{eq} && {part}")
        t = np.float32(cond.min)
        if np.isnan(t):
            return "1'b0"
        key = int(_float_key(int(np.array([t], np.float32).view(np.uint32)[0])))
        b, mag = f"ev_r[{lsb + 31}:{lsb}]", f"ev_r[{lsb + 30}:{lsb}]"
        pos = self._check(f"({{1'b1, {mag}}} >= 32'h{key:08x})")  # the order key of b ≥ +0
        neg = self._check(f"(~{b} >= 32'h{key:08x})")  # of b ≤ −0
        nan = self._check(f"((ev_r[{lsb + 30}:{lsb + 23}] == 8'hff) && (ev_r[{lsb + 22}:{lsb}] != 23'd0))")
        zero = self._check(f"({mag} == 31'd0)")
        sign = self._check(f"ev_r[{lsb + 31}]")
        zero_ok = "1'b1" if key <= 0x80000000 else "1'b0"  # −0 compares as +0
        return f"!{nan} && ({sign} ? ({zero} ? {zero_ok} : {neg}) : {pos})"


def _or(a: str, b: str) -> str:
    if "1'b1" in (a, b):
        return "1'b1"
    parts = [x for x in (a, b) if x != "1'b0"]
    return f"({' || '.join(parts)})" if parts else "1'b0"


def _float_key(bits: int) -> int:
    """The unsigned order key of float32 ``bits`` (−0 as +0): the sign flipped, negatives inverted."""
    if bits == 0x80000000:
        bits = 0
    return (~bits) & 0xFFFFFFFF if bits >> 31 else bits | 0x80000000


def _hall(pipe: Pipe, cond: HwObjects, name: str, legs: list[str]) -> int:
    """Distinct objects exist iff, per collection, every leg subset has as many candidates as legs.

    Stage 4: each subset's union mask (a single leg: whether it has any candidate); 5: per 6-bit half of
    a union, ``popcount ≥ k`` as one 6-input table each; 6: ``popcount ≥ |S|`` from the halves' bits;
    7: the condition. Returns the stage that updates ``name``."""
    groups: dict[str, list[int]] = {}
    for k, leg in enumerate(cond.legs):
        groups.setdefault(leg.collection, []).append(k)
    checks = []
    for coll, ks in groups.items():
        size = COLLECTIONS[coll].size
        for r in range(1, len(ks) + 1):
            for subset in combinations(ks, r):
                union = " | ".join(legs[k] for k in subset)
                if r == 1:
                    checks.append(pipe.delay(pipe.shared(4, "any", f"|{union}"), 4, 6))
                    continue
                u = pipe.shared(4, "uni", union, size)
                halves = [(lo, min(lo + 6, size)) for lo in range(0, size, 6)]
                ge = [["1'b1"] + [pipe.shared(5, "ge", f"ge_bit(64'h{ge_table(k):016x}, {_six(u, lo, hi)})")
                                  if k <= hi - lo else "1'b0" for k in range(1, r + 1)] for lo, hi in halves]
                if len(ge) == 1:
                    checks.append(pipe.delay(ge[0][r], 5, 6))
                    continue
                lo_ge, hi_ge = ge
                ways = [f"{lo_ge[k]} && {hi_ge[r - k]}" for k in range(r + 1)]
                checks.append(pipe.shared(6, "hall", " || ".join(f"({w})" for w in ways)))
    pipe.reg(7, name, and_all(checks, str(cond)), comment=str(cond)[:150])
    return 7


def _six(reg: str, lo: int, hi: int) -> str:
    """Bits ``[hi-1:lo]`` of ``reg`` zero-extended to 6."""
    bits = f"{reg}[{hi - 1}:{lo}]"
    return bits if hi - lo == 6 else f"{{{6 - hi + lo}'d0, {bits}}}"


_FUNCTIONS = """\
function automatic mask_bit(input [15:0] mask, input [7:0] v);
    mask_bit = (v[7:4] == 4'd0) && mask[v[3:0]];
endfunction
function automatic ge_bit(input [63:0] table_bits, input [5:0] v); ge_bit = table_bits[v]; endfunction
"""


def _offsets(fields: tuple[Field, ...]) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    lo = 0
    for f in fields:
        w = _WIDTH[f.cpp_type]
        out[f.member] = [(lo + k * w, w) for k in range(f.count)]
        lo += w * f.count
    return out


def write_menu_rtl(
    menu: Menu, out_dir: str | Path, *, scores: dict[str, ScoreKind] | None = None, top: str = "l1emu_menu_rtl",
    skip_unsupported: bool = False,
) -> MenuRtl:  # fmt: skip
    """Write ``<out_dir>/src/<top>.v``; ``scores`` gives each score column's kind (default float32)."""
    used = sorted({c.column for s in menu.hw_seeds for c in s.conditions if isinstance(c, HwScore)})
    kinds: dict[str, ScoreKind] = {col: (scores or {}).get(col, "float") for col in used}
    fields = menu_fields(kinds)
    offsets = _offsets(fields)
    wr = _Writer(offsets, kinds)
    seeds: list[tuple[int, str, list[str]]] = []
    refused: dict[str, str] = {}
    for s, seed in enumerate(menu.hw_seeds):
        try:
            _check_rtl_form(seed, kinds)
        except UnsupportedError as exc:
            if not skip_unsupported:
                msg = f"menu {menu.name!r}: seed {s} ({seed.name}): {exc}"
                raise UnsupportedError(msg) from exc
            refused[seed.name] = str(exc)
            continue
        terms = [wr.condition(c) for c in seed.conditions] or ["1'b1"]
        seeds.append((s, seed.name, terms))
    if not seeds:
        msg = f"menu {menu.name!r}: no seed has an RTL form ({refused})"
        raise UnsupportedError(msg)
    last = max(wr.ready.values(), default=LEGS)
    pipe, n, widths = wr.pipe, len(seeds), port_layout(fields)
    for k, (_, name, terms) in enumerate(seeds):
        bits = [t if t == "1'b1" else pipe.delay(t, wr.ready[t], last) for t in terms]
        pipe.at(last + 1, f"seeds[{k}] <= {and_all(bits, name)};  // {name}")
    rom_text = [PAIR_FUNCTIONS, *wr.pairs.roms.values()] if wr.pairs.roms else []
    body = [
        f"// {menu.name}: {n} seeds, generated by l1emu (firmware/rtl/menu_verilog.py); {last + 1} register stages",
        f"module {top} (input wire clk, input wire [{sum(widths) - 1}:0] ev, output reg [{n - 1}:0] seeds);",
        _FUNCTIONS, *rom_text, f"reg [{sum(widths) - 1}:0] ev_r;  // stage 1: the event", *pipe.decl,
        "always @(posedge clk) begin", "    ev_r <= ev;", "end", *pipe.instances,
        *[line for k in sorted(pipe.stages) for line in
          (f"always @(posedge clk) begin  // stage {k}{_STAGE_NAMES.get(k, '')}", *[f"    {x}" for x in pipe.stages[k]],
           "end")],
        "endmodule", *([DSP_MODULE] if pipe.instances else []), "",
    ]  # fmt: skip
    root = Path(out_dir).resolve()
    (root / "src").mkdir(parents=True, exist_ok=True)
    rtl = MenuRtl(menu.name, root, top, fields, widths, tuple(x[1] for x in seeds), tuple(x[0] for x in seeds),
                  refused, last + 1)  # fmt: skip
    rtl.sources[0].write_text("\n".join(body))
    for name, why in refused.items():
        log.warning("menu %s: seed %s left out of the RTL: %s", menu.name, name, why)
    log.info("menu %s: %d seeds written as Verilog to %s", menu.name, n, rtl.sources[0])
    return rtl
