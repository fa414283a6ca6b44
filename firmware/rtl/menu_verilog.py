"""Write a menu's seeds as pipelined Verilog for the global-trigger clock.

The module ``<top>(clk, ev, seeds)`` reads one event per clock on the flat bus ``ev``: the
words of :func:`firmware._menu_layout.menu_fields`, in that order, packed LSB first, each
at its own width (:func:`port_layout`: pT/η/φ 16-bit signed, isolation/quality 8-bit
unsigned, charge 8-bit signed, sums 32-bit signed, float32 scores their 32 IEEE bits,
integer scores 64-bit signed). ``seeds[k]`` is seed ``k`` of :attr:`MenuRtl.seed_names`.

Register stages, each about one compare deep (a 16/34-bit carry chain, a 12-bit popcount
and compare) for 480 MHz: (1) the event; (2) every distinct leg's candidate bit per object
slot, every sum and score compare; (3) every condition without pair cuts (distinct objects
by Hall's condition on the candidate masks, as ``emulator.menu``); two-leg conditions with
one pair correlation take six stages from the legs (:mod:`firmware.rtl._menu_pairs`), and
the others are delayed to meet them; (last) each seed, the AND of its conditions. The
latency is measured in simulation (:mod:`firmware.rtl.menu_sim`): 4 cycles without pair
cuts, 9 with.

OR/NOT logic, correlations on more than two legs, vetoes, two-body pT, transverse or M/ΔR
cuts, η/φ windows, slices and float64 scores have no RTL form yet: such a seed raises
:class:`UnsupportedError` naming it, or with ``skip_unsupported`` is left out and listed in
:attr:`MenuRtl.refused`.

>>> import tempfile
>>> from emulator.menu import load_menu
>>> rtl = write_menu_rtl(load_menu("configs/menus/cms2024.yaml"), tempfile.mkdtemp(),
...                      scores={"score_axol1tl": "float", "score_cicada": "float"}, skip_unsupported=True)
>>> len(rtl.seed_names), rtl.refused, rtl.stages
(34, {}, 9)
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
from firmware.rtl._menu_pairs import PAIR_FUNCTIONS, PAIR_READY, PairWriter, pair_form_error
from streams.schema import COLLECTIONS

__all__ = ["MenuRtl", "port_layout", "write_menu_rtl"]

log = logging.getLogger(__name__)

_WIDTH = {"ap_int<16>": 16, "ap_uint<8>": 8, "ap_int<8>": 8, "ap_int<32>": 32, "float": 32, "ap_int<64>": 64}
_W = 34  # signed width of every object/sum compare (int32 sums and their bounds fit)
_LIMIT = 1 << (_W - 2)


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


def _lit(v: int, width: int = _W) -> str:
    return f"-{width}'sd{-v}" if v < 0 else f"{width}'sd{v}"


def _check_rtl_form(seed: HwSeed, scores: dict[str, ScoreKind]) -> None:
    """Raise UnsupportedError for what this writer has no Verilog for."""
    check_board_inputs(seed, "RTL")
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
    """Collects the Verilog of every distinct leg, sum, score and condition."""

    def __init__(self, offsets: dict[str, list[tuple[int, int]]], scores: dict[str, ScoreKind]) -> None:
        self.offsets = offsets  # column -> (lo, width) per slot
        self.scores = scores
        self.legs: dict[HwLeg, str] = {}
        self.conds: dict[HwCondition, str] = {}
        self.stage2: list[str] = []  # register updates of stage 2
        self.stage3: list[str] = []
        self.decl: list[str] = []
        self.ready: dict[str, int] = {}  # condition register -> the stage after which it holds the event
        self.pairs = PairWriter(self._word)

    def _word(self, column: str, slot: int = 0) -> str:
        lo, width = self.offsets[column][slot]
        return f"ev_r[{lo + width - 1}:{lo}]"

    def leg(self, leg: HwLeg) -> str:
        if leg in self.legs:
            return self.legs[leg]
        name = self.legs[leg] = f"leg{len(self.legs)}"
        coll = COLLECTIONS[leg.collection]
        p = coll.prefix
        self.decl.append(f"reg [{coll.size - 1}:0] {name};  // {leg}")
        for i in range(coll.size):
            checks = [self._cmp(f"{p}_pt", i, ">=", leg.pt_min)]
            if leg.pt_max < _LIMIT:
                checks.append(self._cmp(f"{p}_pt", i, "<=", leg.pt_max))
            if leg.eta_min > 0:
                checks.append(f"(a_{p}_eta_{i} >= {_lit(min(leg.eta_min, _LIMIT))})")
            if leg.eta_max < _LIMIT:
                checks.append(f"(a_{p}_eta_{i} <= {_lit(leg.eta_max)})")
            for fld, mask in (("qual", leg.qual_mask), ("iso", leg.iso_mask)):
                if mask != ALL_BITS:
                    checks.append(f"mask_bit(16'h{mask & 0xFFFF:04x}, {self._word(f'{p}_{fld}', i)})")
            if leg.charge:
                op = ">" if leg.charge > 0 else "<"
                checks.append(f"($signed({self._word(f'{p}_charge', i)}) {op} 8'sd0)")
            self.stage2.append(f"{name}[{i}] <= {' && '.join(checks)};")
        return name

    def _cmp(self, column: str, slot: int, op: str, bound: int) -> str:
        bound = max(-_LIMIT, min(_LIMIT, bound))
        return f"(s34($signed({self._word(column, slot)})) {op} {_lit(bound)})"

    def condition(self, cond: HwCondition) -> str:
        if cond in self.conds:
            return self.conds[cond]
        if isinstance(cond, HwAlways):
            self.conds[cond] = "1'b1"
            return "1'b1"
        name = self.conds[cond] = f"cond{len(self.conds)}"
        self.decl.append(f"reg {name}_s2, {name};  // {cond}"[:200])
        if isinstance(cond, HwSum):
            checks = [self._cmp(cond.sum, 0, ">=", cond.min)] if cond.min > -_LIMIT else []
            checks += [self._cmp(cond.sum, 0, "<=", cond.max)] if cond.max < _LIMIT else []
            expr = " && ".join(checks) or "1'b1"
            self.stage2.append(f"{name}_s2 <= {expr};")
            self.stage3.append(f"{name} <= {name}_s2;")
        elif isinstance(cond, HwScore):
            self.stage2.append(f"{name}_s2 <= {self._score(cond)};")
            self.stage3.append(f"{name} <= {name}_s2;")
        elif not isinstance(cond, HwObjects):  # external conditions are refused by _check_rtl_form
            msg = f"{cond}: no RTL form"
            raise UnsupportedError(msg)
        elif cond.correlations:
            self.decl.pop()
            self.pairs.condition(cond, name, [self.leg(leg) for leg in cond.legs])
            self.ready[name] = PAIR_READY
            return name
        else:
            legs = [self.leg(leg) for leg in cond.legs]
            self.stage3.append(f"{name} <= {_hall(cond, legs)};")
        self.ready[name] = 3
        return name

    def aligned(self, last: int) -> dict[str, str]:
        """Each condition delayed to stage ``last`` (delay registers declared), by register name."""
        out = {"1'b1": "1'b1"}
        for name, ready in self.ready.items():
            prev = name
            for k in range(ready + 1, last + 1):
                self.decl.append(f"reg {name}_d{k};")
                self.pairs.stages[k].append(f"{name}_d{k} <= {prev};")
                prev = f"{name}_d{k}"
            out[name] = prev
        return out

    def _score(self, cond: HwScore) -> str:
        word = self._word(cond.column)
        if self.scores[cond.column] == "int":
            return f"($signed({word}) >= {_lit(math.ceil(cond.min), 65) if math.isfinite(cond.min) else '0'})"
        t = np.float32(cond.min)
        if np.isnan(t):
            return "1'b0"
        key = int(_float_key(int(np.array([t], np.float32).view(np.uint32)[0])))
        return f"f32_ge({word}, 32'h{key:08x})"


def _float_key(bits: int) -> int:
    """The unsigned order key of float32 ``bits`` (−0 as +0), as ``f32_ge`` computes it."""
    if bits == 0x80000000:
        bits = 0
    return (~bits) & 0xFFFFFFFF if bits >> 31 else bits | 0x80000000


def _hall(cond: HwObjects, legs: list[str]) -> str:
    """Distinct objects exist iff, per collection, every leg subset has as many candidates as legs."""
    groups: dict[str, list[int]] = {}
    for k, leg in enumerate(cond.legs):
        groups.setdefault(leg.collection, []).append(k)
    checks = []
    for ks in groups.values():
        for r in range(1, len(ks) + 1):
            for subset in combinations(ks, r):
                union = " | ".join(legs[k] for k in subset)
                size = COLLECTIONS[cond.legs[subset[0]].collection].size
                pad = f"{{{12 - size}'b0, {union}}}" if size < 12 else f"({union})"
                checks.append(f"(|{pad})" if r == 1 else f"(popcount12({pad}) >= 4'd{r})")
    return " && ".join(checks)


_FUNCTIONS = """\
function automatic signed [33:0] s34(input signed [33:0] x); s34 = x; endfunction
function automatic mask_bit(input [15:0] mask, input [7:0] v);
    mask_bit = (v[7:4] == 4'd0) && mask[v[3:0]];
endfunction
function automatic [3:0] popcount12(input [11:0] m);
    integer i;
    begin popcount12 = 4'd0; for (i = 0; i < 12; i = i + 1) popcount12 = popcount12 + {3'd0, m[i]}; end
endfunction
// float32 x >= t, t given as its order key (sign flipped, negatives inverted); NaN never passes
function automatic f32_ge(input [31:0] x, input [31:0] tkey);
    reg [31:0] b;
    begin
        b = (x == 32'h80000000) ? 32'h0 : x;
        f32_ge = !(b[30:23] == 8'hff && b[22:0] != 23'd0) && ((b[31] ? ~b : (b | 32'h80000000)) >= tkey);
    end
endfunction
"""


def _abs_eta(offsets: dict[str, list[tuple[int, int]]]) -> list[str]:
    lines = []
    for coll in COLLECTIONS.values():
        p = coll.prefix
        for i, (lo, w) in enumerate(offsets[f"{p}_eta"]):
            lines.append(f"wire signed [33:0] {p}_eta_{i} = s34($signed(ev_r[{lo + w - 1}:{lo}]));")
            lines.append(f"wire signed [33:0] a_{p}_eta_{i} = {p}_eta_{i} < 0 ? -{p}_eta_{i} : {p}_eta_{i};")
    return lines


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
    last = max(wr.ready.values(), default=3)
    names = wr.aligned(last)
    widths = port_layout(fields)
    n = len(seeds)
    stages = [*wr.stage2, *wr.pairs.stages[2]], [*wr.stage3, *wr.pairs.stages[3]]
    later = [(k, wr.pairs.stages[k]) for k in range(4, last + 1) if wr.pairs.stages[k]]
    body = [
        f"// {menu.name}: {n} seeds, generated by l1emu (firmware/rtl/menu_verilog.py); {last + 1} register stages",
        f"module {top} (input wire clk, input wire [{sum(widths) - 1}:0] ev, output reg [{n - 1}:0] seeds);",
        _FUNCTIONS, *([PAIR_FUNCTIONS, *wr.pairs.roms.values()] if wr.pairs.roms or last > 3 else []),
        f"reg [{sum(widths) - 1}:0] ev_r;  // stage 1: the event",
        *_abs_eta(offsets), *wr.decl, *wr.pairs.decl,
        "always @(posedge clk) begin", "    ev_r <= ev;", "end",
        "always @(posedge clk) begin  // stage 2: legs, sums, scores", *[f"    {x}" for x in stages[0]], "end",
        "always @(posedge clk) begin  // stage 3: conditions", *[f"    {x}" for x in stages[1]], "end",
        *[line for k, lines in later for line in
          (f"always @(posedge clk) begin  // stage {k}: pair correlations", *[f"    {x}" for x in lines], "end")],
        f"always @(posedge clk) begin  // stage {last + 1}: seeds",
        *[f"    seeds[{k}] <= {' && '.join(names[t] for t in terms)};  // {name}"
          for k, (_, name, terms) in enumerate(seeds)], "end",
        "endmodule", "",
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
