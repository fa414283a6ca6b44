"""Verilog of two-leg conditions with one pair correlation (ΔR, Δη, Δφ, mass, muon charge).

The arithmetic is that of the HLS writer (:func:`firmware._menu_cpp.correlation_cpp`), which is
bit-exact with ``emulator.menu``: coordinates on the correlation's scale (muons on the calo
scale: ``(η + 2) >> 2``, ``φ >> 2``), ``|Δη|`` clipped to the padded tables, ``Δφ`` folded, the
LUTs of :mod:`emulator.menu.luts` as case ROMs, ``M² = pT₁·pT₂·(cosh_deta − cos_dphi)``.
Every slot pair is evaluated in parallel, six register stages from the legs to the condition:

* stage 2 (with the legs): each object's coordinates, pT and charge;
* 3: per pair ``|Δη|``, ``Δφ``, the leg bits and charge, ``pT₁·pT₂``;
* 4: the LUT reads and the Δη/Δφ cuts; 5: ``ΔR²`` and ``cosh − cos``;
* 6: the ΔR cut and ``M²`` (a multiply); 7: the mass cut; 8: the OR over pairs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from emulator.menu.hardware import NO_MAX, HwCorrelation, HwObjects
from emulator.menu.luts import LUTS
from streams.schema import COLLECTIONS

__all__ = ["PAIR_FUNCTIONS", "PAIR_READY", "PairWriter", "pair_form_error"]

#: The register stage after which a pair condition's bit is ready.
PAIR_READY = 8
_CLIP = max(len(LUTS[s].deta2) for s in ("calo", "muon")) - 1  # |Δη| index saturates here (both scales)


def pair_form_error(cond: HwObjects) -> str:
    """Why ``cond``'s correlations have no RTL form ("" when they have one)."""
    if len(cond.legs) != 2 or len(cond.correlations) != 1:
        return "pair correlations on other than two legs with one correlation: no RTL form yet"
    c = cond.correlations[0]
    if c.veto or c.tbpt2 or c.transverse or c.massdr != (0, NO_MAX):
        return "overlap-removal veto, two-body pT, transverse mass or M/ΔR: no RTL form yet"
    if cond.charge or cond.mass3 != (0, NO_MAX):
        return "all-legs charge or three-body mass: no RTL form yet"
    if c.charge and {leg.collection for leg in cond.legs} != {"muon"}:
        return "charge cut on a pair that is not two muons"
    return ""


def _rom(name: str, values: list[int], width: int, n: int) -> str:
    """A case ROM ``name(i)`` of ``values``, padded with the last value up to ``n`` entries."""
    bits = max(1, (n - 1).bit_length())
    rows = [f"        {bits}'d{i}: {name} = {'-' if v < 0 else ''}{width}'sd{abs(v)};" for i, v in enumerate(values)]
    last = values[-1]
    return (
        f"function automatic signed [{width - 1}:0] {name}(input [{bits - 1}:0] i);\n    case (i)\n"
        + "\n".join(rows)
        + f"\n        default: {name} = {'-' if last < 0 else ''}{width}'sd{abs(last)};\n    endcase\nendfunction"
    )


def _lit64(v: int) -> str:
    return f"-66'sd{-v}" if v < 0 else f"66'sd{v}"


class PairWriter:
    """Declarations, per-stage register updates and ROMs of the pair conditions of one menu."""

    def __init__(self, word: Callable[[str, int], str]) -> None:
        self.word = word  # (column, slot) -> the ev_r bit slice
        self.decl: list[str] = []
        self.stages: dict[int, list[str]] = {k: [] for k in range(2, PAIR_READY + 1)}
        self.roms: dict[str, str] = {}
        self._coords: set[tuple[str, str]] = set()
        self._objs: set[str] = set()

    def _coord(self, coll: str, scale: str) -> None:
        """Stage-2 registers of a collection's η/φ on ``scale`` (shared by every condition)."""
        if (coll, scale) in self._coords:
            return
        self._coords.add((coll, scale))
        c = COLLECTIONS[coll]
        p = c.prefix
        for i in range(c.size):
            e, f = f"{p}_{scale}_eta_{i}", f"{p}_{scale}_phi_{i}"
            self.decl.append(f"reg signed [17:0] {e}, {f};")
            eta = f"s18($signed({self.word(f'{p}_eta', i)}))"
            phi = f"pymod(s18($signed({self.word(f'{p}_phi', i)})), 18'sd{c.phi_bins})"
            if scale == "calo" and coll == "muon":
                eta, phi = f"(({eta} + 18'sd2) >>> 2)", f"({phi} >>> 2)"
            self.stages[2] += [f"{e} <= {eta};", f"{f} <= {phi};"]

    def _obj(self, coll: str) -> None:
        """Stage-2 registers of a collection's pT (and the muons' charge)."""
        if coll in self._objs:
            return
        self._objs.add(coll)
        c = COLLECTIONS[coll]
        p = c.prefix
        for i in range(c.size):
            self.decl.append(f"reg signed [15:0] {p}_pt2_{i};")
            self.stages[2].append(f"{p}_pt2_{i} <= $signed({self.word(f'{p}_pt', i)});")
            if coll == "muon":
                self.decl.append(f"reg signed [7:0] {p}_q2_{i};")
                self.stages[2].append(f"{p}_q2_{i} <= $signed({self.word(f'{p}_charge', i)});")

    def _tables(self, scale: str, mass: bool, dr: bool) -> None:
        t, n = LUTS[scale], _CLIP + 1
        if dr and f"{scale}_deta2" not in self.roms:
            self.roms[f"{scale}_deta2"] = _rom(f"{scale}_deta2", [int(v) for v in t.deta2], 24, n)
            self.roms[f"{scale}_dphi2"] = _rom(f"{scale}_dphi2", [int(v) for v in t.dphi2], 24, n)
        if mass and f"{scale}_cosh" not in self.roms:
            self.roms[f"{scale}_cosh"] = _rom(f"{scale}_cosh", [int(v) for v in t.cosh_deta], 32, n)
            self.roms[f"{scale}_cos"] = _rom(f"{scale}_cos", [int(v) for v in np.asarray(t.cos_dphi)], 32, n)

    def condition(self, cond: HwObjects, name: str, legs: list[str]) -> None:
        """Registers ``name`` (ready after stage :data:`PAIR_READY`) for one two-leg correlated condition."""
        corr = cond.correlations[0]
        a, b = (cond.legs[k].collection for k in corr.legs)
        la, lb = (legs[k] for k in corr.legs)
        scale, bins = corr.scale, LUTS[corr.scale].phi_bins
        mass, dr = corr.mass2 != (0, NO_MAX), corr.dr2 != (0, NO_MAX)
        for coll in (a, b):
            self._coord(coll, scale)
            self._obj(coll)
        self._tables(scale, mass, dr)
        pa, pb = COLLECTIONS[a].prefix, COLLECTIONS[b].prefix
        ors = []
        for i in range(COLLECTIONS[a].size):
            for j in range(COLLECTIONS[b].size):
                if a == b and i == j:
                    continue
                self._pair(f"{name}_{i}_{j}", (pa, i, la), (pb, j, lb), corr, scale, bins)
                ors.append(f"{name}_{i}_{j}_ok7")
        self.decl.append(f"reg {name};")
        self.stages[8].append(f"{name} <= |{{{', '.join(ors)}}};")

    def _pair(self, v: str, ea: tuple[str, int, str], eb: tuple[str, int, str], corr: HwCorrelation,
              scale: str, bins: int) -> None:  # fmt: skip
        (pa, i, la), (pb, j, lb) = ea, eb
        st = self.stages
        self.decl += [f"reg [9:0] {v}_de, {v}_dp;", f"reg signed [31:0] {v}_pp, {v}_pp4, {v}_pp5;",
                      f"reg {v}_ok3, {v}_ok4, {v}_ok5, {v}_ok6, {v}_ok7;", f"reg [23:0] {v}_d2e, {v}_d2p, {v}_dr2;",
                      f"reg signed [31:0] {v}_ch, {v}_co, {v}_diff;", f"reg signed [63:0] {v}_m2;"]  # fmt: skip
        ae, af = f"{pa}_{scale}_eta_{i}", f"{pa}_{scale}_phi_{i}"
        be, bf = f"{pb}_{scale}_eta_{j}", f"{pb}_{scale}_phi_{j}"
        q = "1'b1"
        if corr.charge:
            op = "<" if corr.charge < 0 else ">"
            q = f"(({pa}_q2_{i} * {pb}_q2_{j}) {op} 0)"
        # stage 3: |Δη| clipped, Δφ folded, leg bits, charge, pT product
        st[3] += [
            f"{v}_de <= clip_abs({ae} - {be});",
            f"{v}_dp <= fold_phi({af} - {bf}, 19'sd{bins});",
            f"{v}_ok3 <= {la}[{i}] && {lb}[{j}] && {q};",
            f"{v}_pp <= {pa}_pt2_{i} * {pb}_pt2_{j};",
        ]
        cuts = []
        for var, (lo, hi) in ((f"{v}_de", corr.deta), (f"{v}_dp", corr.dphi)):
            cuts += ([f"({var} >= 10'd{lo})"] if lo < 1024 else ["1'b0"]) if lo > 0 else []
            cuts += [f"({var} <= 10'd{hi})"] if hi < 1024 else []  # |Δη| ≤ 511, Δφ ≤ 288 always

        def read(reg: str, table: str, arg: str, zero: str) -> str:
            return f"{reg} <= {table}({arg});" if table in self.roms else f"{reg} <= {zero};"

        st[4] += [f"{v}_ok4 <= {' && '.join([f'{v}_ok3', *cuts])};", f"{v}_pp4 <= {v}_pp;",
                  read(f"{v}_d2e", f"{scale}_deta2", f"{v}_de", "24'd0"),
                  read(f"{v}_d2p", f"{scale}_dphi2", f"{v}_dp", "24'd0"),
                  read(f"{v}_ch", f"{scale}_cosh", f"{v}_de", "32'sd0"),
                  read(f"{v}_co", f"{scale}_cos", f"{v}_dp", "32'sd0")]  # fmt: skip
        st[5] += [f"{v}_ok5 <= {v}_ok4;", f"{v}_pp5 <= {v}_pp4;", f"{v}_dr2 <= {v}_d2e + {v}_d2p;",
                  f"{v}_diff <= {v}_ch - {v}_co;"]  # fmt: skip
        dr_cut = []
        if corr.dr2 != (0, NO_MAX):
            dr_cut += [f"($signed({{42'd0, {v}_dr2}}) >= {_lit64(corr.dr2[0])})"] if corr.dr2[0] > 0 else []
            dr_cut += [f"($signed({{42'd0, {v}_dr2}}) <= {_lit64(corr.dr2[1])})"] if corr.dr2[1] < NO_MAX else []
        st[6] += [f"{v}_ok6 <= {' && '.join([f'{v}_ok5', *dr_cut])};", f"{v}_m2 <= {v}_pp5 * {v}_diff;"]
        m_cut = []
        if corr.mass2 != (0, NO_MAX):
            m_cut += [f"(s66({v}_m2) >= {_lit64(corr.mass2[0])})"] if corr.mass2[0] > 0 else []
            m_cut += [f"(s66({v}_m2) <= {_lit64(corr.mass2[1])})"] if corr.mass2[1] < NO_MAX else []
        st[7].append(f"{v}_ok7 <= {' && '.join([f'{v}_ok6', *m_cut])};")


PAIR_FUNCTIONS = f"""\
function automatic signed [17:0] s18(input signed [17:0] x); s18 = x; endfunction
function automatic signed [65:0] s66(input signed [65:0] x); s66 = x; endfunction
function automatic signed [17:0] pymod(input signed [17:0] x, input signed [17:0] m);
    reg signed [17:0] r;
    begin r = x % m; pymod = r < 0 ? r + m : r; end
endfunction
function automatic [9:0] clip_abs(input signed [18:0] d);
    reg [18:0] a;
    begin a = d < 0 ? -d : d; clip_abs = a > 19'd{_CLIP} ? 10'd{_CLIP} : a[9:0]; end
endfunction
function automatic [9:0] fold_phi(input signed [18:0] d, input signed [18:0] nb);  // "bins" is an SV keyword
    reg signed [18:0] a, b;
    begin a = d < 0 ? -d : d; a = a % nb; b = nb - a; fold_phi = a < b ? a[9:0] : b[9:0]; end
endfunction
"""
