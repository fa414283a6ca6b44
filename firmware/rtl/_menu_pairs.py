"""Verilog of two-leg conditions with one pair correlation (ΔR, Δη, Δφ, mass, muon charge).

The arithmetic is that of the HLS writer (:func:`firmware._menu_cpp.correlation_cpp`), which is
bit-exact with ``emulator.menu``: coordinates on the correlation's scale (muons on the calo
scale: ``(η + 2) >> 2``, ``φ >> 2``), ``|Δη|`` clipped to the padded tables, ``Δφ`` folded, the
LUTs of :mod:`emulator.menu.luts` as case ROMs, ``M² = pT₁·pT₂·(cosh_deta − cos_dphi)``.

Every register is as wide as the values it can hold, found by interval arithmetic from the
event words (pT 16-bit signed, or its 15 low bits when every leg cuts pT ≥ 0, so a negative pT
fails its leg anyway) and the LUTs' own ranges; a cut constant outside a value's range is folded
to a constant bit. The arithmetic of one slot pair on one scale (Δη, Δφ, the table reads,
``pT₁·pT₂``, ``M²``) is symmetric in the two objects and shared by every condition that reads
it: ``(i, j)`` and ``(j, i)`` of one collection are one pair, whose leg bits are
``a[i]·b[j] + a[j]·b[i]``. Six register stages from the legs to the condition:

* stage 2 (with the legs): each object's coordinates, pT and charge;
* 3: per pair ``|Δη|``, ``Δφ``, the leg bits and charge, ``pT₁·pT₂``;
* 4: the LUT reads and the Δη/Δφ cuts; 5: ``ΔR²`` and ``cosh − cos``;
* 6: the ΔR cut and ``M²`` (a multiply); 7: the mass cut; 8: the OR over pairs.

>>> signed_width(0, 255), signed_width(-4096, 4096), signed_width(-1, 0)
(9, 14, 1)
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.menu.hardware import NO_MAX, HwCorrelation, HwObjects
from emulator.menu.luts import LUTS
from streams.schema import COLLECTIONS

__all__ = ["PAIR_FUNCTIONS", "PAIR_READY", "PairWriter", "pair_form_error", "phimod", "signed_width"]

#: The register stage after which a pair condition's bit is ready.
PAIR_READY = 8
_CLIP = max(len(LUTS[s].deta2) for s in ("calo", "muon")) - 1  # |Δη| index saturates here (both scales)
_I16 = (-(1 << 15), (1 << 15) - 1)  # an event word's pT
_U15 = (0, (1 << 15) - 1)  # its 15 low bits
Range = tuple[int, int]


def signed_width(lo: int, hi: int) -> int:
    """Bits of the narrowest two's-complement word holding every integer in ``[lo, hi]``."""
    return max(1 + (v.bit_length() if v >= 0 else (-v - 1).bit_length()) for v in (lo, hi))


def _product(a: Range, b: Range) -> Range:
    ends = [x * y for x in a for y in b]
    return min(ends), max(ends)


def _table(values: list[int]) -> tuple[list[int], Range]:
    """``values`` padded with the last one to the clipped |Δη| range, and their range."""
    padded = values + [values[-1]] * (_CLIP + 1 - len(values))
    return padded, (min(padded), max(padded))


def _cut(reg: str, width: int, rng: Range, lo: int, hi: int) -> list[str]:
    """``lo ≤ reg ≤ hi`` for ``reg`` (signed, ``width`` bits) taking values in ``rng``: constant
    bounds outside the range fold to nothing (always true) or ``1'b0`` (never)."""
    if lo > rng[1] or hi < rng[0]:
        return ["1'b0"]
    out = [f"({reg} >= {_lit(lo, width)})"] if lo > rng[0] else []
    return out + ([f"({reg} <= {_lit(hi, width)})"] if hi < rng[1] else [])


def _lit(v: int, width: int) -> str:
    return f"{'-' if v < 0 else ''}{width}'sd{abs(v)}"


def phimod(bins: int) -> str:
    """Verilog ``phimod<bins>(x)``: Python's ``x % bins`` of a 16-bit signed φ word, a few LUT levels deep.

    With ``bins = m·2^k`` (m odd): ``x % bins = 2^k·((x >>> k) % m) + x[k-1:0]``; ``h = x >>> k`` is folded
    once as ``(h >>> f) + h[f-1:0]``, congruent to ``h`` modulo ``m`` as ``2^f ≡ 1 (mod m)``, and that small
    sum's residue is read from a case ROM (a general ``%`` is a divider some 170 cells deep).
    """
    k = (bins & -bins).bit_length() - 1
    m, name, hw = bins >> k, f"phimod{bins}", 16 - k
    low = f"x[{k - 1}:0]" if k else ""
    if m == 1:
        return f"function automatic [{k - 1}:0] {name}(input signed [15:0] x); {name} = {low}; endfunction"
    f = next(f for f in range(1, m + 1) if pow(2, f, m) == 1)
    if f < hw - 1:
        rng = (-(1 << (hw - f - 1)), (1 << (hw - f - 1)) - 1 + (1 << f) - 1)
        fold = f"(h >>> {f}) + $signed({{1'b0, h[{f - 1}:0]}})"
    else:
        rng, fold = (-(1 << (hw - 1)), (1 << (hw - 1)) - 1), "h"
    sw, rw = signed_width(*rng), (m - 1).bit_length()
    rows = "\n".join(f"            {sw}'d{v & ((1 << sw) - 1)}: r = {rw}'d{v % m};" for v in range(rng[0], rng[1] + 1))
    return (
        f"function automatic [{rw + k - 1}:0] {name}(input signed [15:0] x);\n"
        f"    reg signed [{hw - 1}:0] h;\n    reg [{sw - 1}:0] s;\n    reg [{rw - 1}:0] r;\n    begin\n"
        f"        h = x >>> {k};\n        s = {fold};  // congruent to h modulo {m}\n        case (s)\n{rows}\n"
        f"            default: r = {rw}'d0;\n        endcase\n        {name} = {{r{', ' + low if k else ''}}};\n"
        "    end\nendfunction"
    )


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


def _rom(name: str, values: list[int], width: int) -> str:
    """A case ROM ``name(i)`` of ``values`` (signed, ``width`` bits), one entry per |Δη| or Δφ index."""
    bits = max(1, (len(values) - 1).bit_length())
    rows = [f"        {bits}'d{i}: {name} = {_lit(v, width)};" for i, v in enumerate(values)]
    return (
        f"function automatic signed [{width - 1}:0] {name}(input [{bits - 1}:0] i);\n    case (i)\n"
        + "\n".join(rows)
        + f"\n        default: {name} = {_lit(values[-1], width)};\n    endcase\nendfunction"
    )


class PairWriter:
    """Declarations, per-stage register updates and ROMs of the pair conditions of one menu."""

    def __init__(self, word: Callable[[str, int], str]) -> None:
        self.word = word  # (column, slot) -> the ev_r bit slice
        self.decl: list[str] = []
        self.stages: dict[int, list[str]] = {k: [] for k in range(2, PAIR_READY + 1)}
        self.roms: dict[str, str] = {}
        self.ranges: dict[str, Range] = {}  # ROM -> range of its values
        self._coords: set[tuple[str, str]] = set()
        self._objs: set[str] = set()
        self._shared: dict[str, set[str]] = {}  # pair prefix -> the parts written ("base", "dr", "mass")

    def _coord(self, coll: str, scale: str) -> None:
        """Stage-2 registers of a collection's η/φ on ``scale`` (shared by every condition)."""
        if (coll, scale) in self._coords:
            return
        self._coords.add((coll, scale))
        c = COLLECTIONS[coll]
        p = c.prefix
        for i in range(c.size):
            e, f = f"{p}_{scale}_eta_{i}", f"{p}_{scale}_phi_{i}"
            self.decl += [f"reg signed [16:0] {e};", f"reg signed [10:0] {f};  // in [0, {c.phi_bins})"]
            eta = f"s17($signed({self.word(f'{p}_eta', i)}))"
            phi = f"phimod{c.phi_bins}($signed({self.word(f'{p}_phi', i)}))"
            self.roms.setdefault(f"phimod{c.phi_bins}", phimod(c.phi_bins))
            if scale == "calo" and coll == "muon":
                eta, phi = f"(({eta} + 17'sd2) >>> 2)", f"({phi} >>> 2)"
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
        t = LUTS[scale]
        wanted = {"deta2": (dr, t.deta2), "dphi2": (dr, t.dphi2), "cosh": (mass, t.cosh_deta),
                  "cos": (mass, t.cos_dphi)}  # fmt: skip
        for kind, (need, values) in wanted.items():
            name = f"{scale}_{kind}"
            if need and name not in self.roms:
                vals = [int(v) for v in values]
                if kind in ("deta2", "cosh"):  # indexed by the clipped |Δη|
                    vals, rng = _table(vals)
                else:
                    rng = (min(vals), max(vals))
                self.roms[name], self.ranges[name] = _rom(name, vals, signed_width(*rng)), rng

    def condition(self, cond: HwObjects, name: str, legs: list[str]) -> None:
        """Registers ``name`` (ready after stage :data:`PAIR_READY`) for one two-leg correlated condition."""
        corr = cond.correlations[0]
        (ka, kb), scale = corr.legs, corr.scale
        a, b = cond.legs[ka].collection, cond.legs[kb].collection
        la, lb = legs[ka], legs[kb]
        mass, dr = corr.mass2 != (0, NO_MAX), corr.dr2 != (0, NO_MAX)
        for coll in (a, b):
            self._coord(coll, scale)
            self._obj(coll)
        self._tables(scale, mass, dr)
        pt = _U15 if all(cond.legs[k].pt_min >= 0 for k in (ka, kb)) else _I16
        ors = []
        for i in range(COLLECTIONS[a].size):
            for j in range(COLLECTIONS[b].size):
                if a == b and j <= i:  # (j, i) is the same pair
                    continue
                bits = f"{la}[{i}] && {lb}[{j}]"
                if a == b and la != lb:
                    bits = f"({bits} || {la}[{j}] && {lb}[{i}])"
                shared = self._pair((a, i), (b, j), scale, pt, mass=mass, dr=dr)
                ors.append(self._cuts(f"{name}_{i}_{j}", shared, bits, corr, (a, i), (b, j), pt))
        self.decl.append(f"reg {name};")
        self.stages[8].append(f"{name} <= |{{{', '.join(ors)}}};")

    def _widths(self, scale: str, pt: Range) -> dict[str, tuple[int, Range]]:
        """Width and range of every shared register of a pair on ``scale`` with pT in ``pt``."""
        r = self.ranges
        out: dict[str, Range] = {"pp": _product(pt, pt)}
        if f"{scale}_deta2" in r:
            e, f = r[f"{scale}_deta2"], r[f"{scale}_dphi2"]
            out["dr2"] = (e[0] + f[0], e[1] + f[1])
        if f"{scale}_cosh" in r:
            ch, co = r[f"{scale}_cosh"], r[f"{scale}_cos"]
            out["diff"] = (ch[0] - co[1], ch[1] - co[0])
            out["m2"] = _product(out["pp"], out["diff"])
        return {k: (signed_width(*v), v) for k, v in out.items()}

    def _pair(self, ea: tuple[str, int], eb: tuple[str, int], scale: str, pt: Range, *, mass: bool,
              dr: bool) -> str:  # fmt: skip
        """The shared registers of one slot pair (written once per part), by their name prefix."""
        (a, i), (b, j) = sorted([ea, eb])
        pa, pb = COLLECTIONS[a].prefix, COLLECTIONS[b].prefix
        v = f"pr_{scale}_{pa}{i}_{pb}{j}{'' if pt == _U15 else 's'}"
        done = self._shared.setdefault(v, set())
        w = self._widths(scale, pt)
        st, decl = self.stages, self.decl
        if "base" not in done:
            done.add("base")
            bins = LUTS[scale].phi_bins
            ae, af, be, bf = (f"{p}_{scale}_{x}_{k}" for p, k in ((pa, i), (pb, j)) for x in ("eta", "phi"))
            decl.append(f"reg [9:0] {v}_de, {v}_dp;")
            st[3] += [f"{v}_de <= clip_abs({ae} - {be});", f"{v}_dp <= fold_phi({af} - {bf}, 11'sd{bins});"]
        if dr and "dr" not in done:
            done.add("dr")
            we, wf = (signed_width(*self.ranges[f"{scale}_{k}"]) for k in ("deta2", "dphi2"))
            wd = w["dr2"][0]
            decl += [f"reg signed [{we - 1}:0] {v}_d2e;", f"reg signed [{wf - 1}:0] {v}_d2p;",
                     f"reg signed [{wd - 1}:0] {v}_dr2;"]  # fmt: skip
            st[4] += [f"{v}_d2e <= {scale}_deta2({v}_de);", f"{v}_d2p <= {scale}_dphi2({v}_dp);"]
            st[5].append(f"{v}_dr2 <= {v}_d2e + {v}_d2p;")
        if mass and "mass" not in done:
            done.add("mass")
            wc, wo = (signed_width(*self.ranges[f"{scale}_{k}"]) for k in ("cosh", "cos"))
            wd, wm, wp = w["diff"][0], w["m2"][0], w["pp"][0]
            pta, ptb = (f"{p}_pt2_{k}" if pt == _I16 else f"$signed({{1'b0, {p}_pt2_{k}[14:0]}})"
                        for p, k in ((pa, i), (pb, j)))  # fmt: skip
            decl += [f"reg signed [{wp - 1}:0] {v}_pp, {v}_pp4, {v}_pp5;", f"reg signed [{wc - 1}:0] {v}_ch;",
                     f"reg signed [{wo - 1}:0] {v}_co;", f"reg signed [{wd - 1}:0] {v}_diff;",
                     f"reg signed [{wm - 1}:0] {v}_m2;"]  # fmt: skip
            st[3].append(f"{v}_pp <= {pta} * {ptb};")
            st[4] += [f"{v}_pp4 <= {v}_pp;", f"{v}_ch <= {scale}_cosh({v}_de);", f"{v}_co <= {scale}_cos({v}_dp);"]
            st[5] += [f"{v}_pp5 <= {v}_pp4;", f"{v}_diff <= {v}_ch - {v}_co;"]
            st[6].append(f"{v}_m2 <= {v}_pp5 * {v}_diff;")
        return v

    def _cuts(self, c: str, v: str, bits: str, corr: HwCorrelation, ea: tuple[str, int], eb: tuple[str, int],
              pt: Range) -> str:  # fmt: skip
        """One condition's bit for one pair (its own leg bits, charge and cuts on the shared values)."""
        st = self.stages
        self.decl.append(f"reg {c}_ok3, {c}_ok4, {c}_ok5, {c}_ok6, {c}_ok7;")
        q = ""
        if corr.charge:
            qa, qb = (f"{COLLECTIONS[coll].prefix}_q2_{k}" for coll, k in (ea, eb))
            same = "==" if corr.charge > 0 else "!="
            q = f" && ({qa} != 8'sd0) && ({qb} != 8'sd0) && ({qa}[7] {same} {qb}[7])"  # the sign of qa·qb
        st[3].append(f"{c}_ok3 <= {bits}{q};")
        cuts = []
        for var, (lo, hi) in ((f"{v}_de", corr.deta), (f"{v}_dp", corr.dphi)):
            cuts += ([f"({var} >= 10'd{lo})"] if lo < 1024 else ["1'b0"]) if lo > 0 else []
            cuts += [f"({var} <= 10'd{hi})"] if hi < 1024 else []  # |Δη| ≤ 511, Δφ ≤ 288 always
        st[4].append(f"{c}_ok4 <= {' && '.join([f'{c}_ok3', *cuts])};")
        st[5].append(f"{c}_ok5 <= {c}_ok4;")
        w = self._widths(corr.scale, pt)
        dr_cut = _cut(f"{v}_dr2", *w["dr2"], *corr.dr2) if corr.dr2 != (0, NO_MAX) else []
        st[6].append(f"{c}_ok6 <= {' && '.join([f'{c}_ok5', *dr_cut])};")
        m_cut = _cut(f"{v}_m2", *w["m2"], *corr.mass2) if corr.mass2 != (0, NO_MAX) else []
        st[7].append(f"{c}_ok7 <= {' && '.join([f'{c}_ok6', *m_cut])};")
        return f"{c}_ok7"


PAIR_FUNCTIONS = f"""\
function automatic signed [16:0] s17(input signed [16:0] x); s17 = x; endfunction
function automatic [9:0] clip_abs(input signed [17:0] d);
    reg [17:0] a;
    begin a = d < 0 ? -d : d; clip_abs = a > 18'd{_CLIP} ? 10'd{_CLIP} : a[9:0]; end
endfunction
// |d| folded to [0, nb/2]; both φ are in [0, nb), so |d| < nb needs no modulo
function automatic [9:0] fold_phi(input signed [10:0] d, input signed [10:0] nb);  // "bins" is an SV keyword
    reg signed [10:0] a, b;
    begin a = d < 0 ? -d : d; b = nb - a; fold_phi = a < b ? a[9:0] : b[9:0]; end
endfunction
"""
