"""Verilog of two-leg conditions with one pair correlation (ΔR, Δη, Δφ, mass, muon charge).

The arithmetic is that of the HLS writer (:func:`firmware._menu_cpp.correlation_cpp`), which is
bit-exact with ``emulator.menu``: coordinates on the correlation's scale (muons on the calo
scale: ``(η + 2) >> 2``, ``φ >> 2``), ``|Δη|`` clipped to the padded tables, ``Δφ`` folded, the
LUTs of :mod:`emulator.menu.luts` as case ROMs, ``M² = pT₁·pT₂·(cosh_deta − cos_dphi)``.

Every register is as wide as the values it can hold, found by interval arithmetic from the
event words (pT 16-bit signed, or its 15 low bits when every leg cuts pT ≥ 0, so a negative pT
fails its leg anyway) and the LUTs' own ranges; a cut constant outside a value's range is folded
to a constant bit. The arithmetic of one slot pair on one scale is symmetric in the two objects
and shared by every condition that reads it: ``(i, j)`` and ``(j, i)`` of one collection are one
pair, whose leg bits are ``a[i]·b[j] + a[j]·b[i]``. Register stages (each within one 480 MHz cycle
of the logic-depth rule, :mod:`firmware.rtl._menu_logic`):

* 2: each object's η on the scale, φ's fold modulo ``bins`` (an add), pT, charge;
* 3: φ (a ROM of the fold); per pair ``Δη`` both ways, the charge bit; 4: ``|Δη|`` and whether it
  exceeds the tables, ``Δφ`` both ways; 5: ``|Δη|`` clipped, ``|Δφ|`` and ``bins − |Δφ|``; 6: ``Δφ``
  folded; 7: the four ROM reads and the Δη/Δφ compares; 8: ``ΔR²``, ``cosh − cos`` and ``pT₁·pT₂``
  (a DSP), the Δη/Δφ cut; 9: the ΔR compares; 10: the ΔR cut;
* mass: 9 four DSP partial products of ``M²`` (17-bit halves), 10–12 their sum in three adds of at
  most 34 bits (``M² = hi·2^34 + lo``, never one 59-bit carry chain), 13 the bounds compared on
  ``hi`` and ``lo`` apart, 14 the mass cut;
* then the OR over pairs (36 per stage).

>>> signed_width(0, 255), signed_width(-4096, 4096), signed_width(-1, 0)
(9, 14, 1)
"""

from __future__ import annotations

from collections.abc import Callable

from emulator.menu.hardware import NO_MAX, HwCorrelation, HwObjects
from emulator.menu.luts import LUTS
from firmware.rtl._menu_logic import Pipe, and_all, cmp_const, lit, signed_width, split_const
from streams.schema import COLLECTIONS

__all__ = ["PAIR_FUNCTIONS", "PairWriter", "pair_form_error", "phi_functions", "signed_width"]

_CLIP = max(len(LUTS[s].deta2) for s in ("calo", "muon")) - 1  # |Δη| index saturates here (both scales)
_I16 = (-(1 << 15), (1 << 15) - 1)  # an event word's pT
_U15 = (0, (1 << 15) - 1)  # its 15 low bits
_K = 17  # the half a DSP48E2 multiplies unsigned
Range = tuple[int, int]


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
    out = [cmp_const(reg, width, ">=", lo)] if lo > rng[0] else []
    return out + ([cmp_const(reg, width, "<=", hi)] if hi < rng[1] else [])


def phi_functions(bins: int) -> tuple[str, int]:
    """Verilog ``phifold<bins>(x)`` and ``phirom<bins>(v)``: Python's ``x % bins`` of a 16-bit signed φ
    word in two register stages, and the width of ``phifold``'s result.

    With ``bins = m·2^k`` (m odd): ``x % bins = 2^k·((x >>> k) % m) + x[k-1:0]``; ``h = x >>> k`` is folded
    once as ``(h >>> f) + h[f-1:0]`` (one add; congruent to ``h`` modulo ``m`` as ``2^f ≡ 1 (mod m)``), and
    that small sum's residue is read from a case ROM (a general ``%`` is a divider some 170 cells deep).
    ``phifold`` returns ``{sum, x[k-1:0]}``, ``phirom`` of it ``{residue, x[k-1:0]}``.
    """
    k = (bins & -bins).bit_length() - 1
    m, hw = bins >> k, 16 - k
    low = [f"x[{k - 1}:0]"] if k else []
    if m == 1:
        fold = f"function automatic [{k - 1}:0] phifold{bins}(input signed [15:0] x); phifold{bins} = x[{k - 1}:0];"
        rom = f"function automatic [{k - 1}:0] phirom{bins}(input [{k - 1}:0] v); phirom{bins} = v;"
        return f"{fold} endfunction\n{rom} endfunction", k
    f = next(f for f in range(1, m + 1) if pow(2, f, m) == 1)
    if f < hw - 1:
        rng = (-(1 << (hw - f - 1)), (1 << (hw - f - 1)) - 1 + (1 << f) - 1)
        fold = f"(h >>> {f}) + $signed({{1'b0, h[{f - 1}:0]}})"
    else:
        rng, fold = (-(1 << (hw - 1)), (1 << (hw - 1)) - 1), "h"
    sw, rw = signed_width(*rng), (m - 1).bit_length()
    rows = "\n".join(f"            {sw}'d{v & ((1 << sw) - 1)}: r = {rw}'d{v % m};" for v in range(rng[0], rng[1] + 1))
    text = (
        f"function automatic [{sw + k - 1}:0] phifold{bins}(input signed [15:0] x);\n"
        f"    reg signed [{hw - 1}:0] h;\n    reg signed [{sw - 1}:0] s;\n    begin\n        h = x >>> {k};\n"
        f"        s = {fold};  // congruent to h modulo {m}\n        phifold{bins} = {{{', '.join(['s', *low])}}};\n"
        f"    end\nendfunction\n"
        f"function automatic [{rw + k - 1}:0] phirom{bins}(input [{sw + k - 1}:0] v);\n    reg [{rw - 1}:0] r;\n"
        f"    begin\n        case (v[{sw + k - 1}:{k}])\n{rows}\n            default: r = {rw}'d0;\n        endcase\n"
        f"        phirom{bins} = {{r{', v[' + str(k - 1) + ':0]' if k else ''}}};\n    end\nendfunction"
    )  # fmt: skip
    return text, sw + k


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
    rows = [f"        {bits}'d{i}: {name} = {lit(v, width)};" for i, v in enumerate(values)]
    return (
        f"function automatic signed [{width - 1}:0] {name}(input [{bits - 1}:0] i);\n    case (i)\n"
        + "\n".join(rows)
        + f"\n        default: {name} = {lit(values[-1], width)};\n    endcase\nendfunction"
    )


class PairWriter:
    """The registers (in a shared :class:`Pipe`) and ROMs of the pair conditions of one menu."""

    def __init__(self, word: Callable[[str, int], str], pipe: Pipe) -> None:
        self.word = word  # (column, slot) -> the ev_r bit slice
        self.pipe = pipe
        self.roms: dict[str, str] = {}
        self.ranges: dict[str, Range] = {}  # ROM -> range of its values
        self._coords: set[tuple[str, str]] = set()
        self._objs: set[str] = set()
        self._shared: dict[str, set[str]] = {}  # pair prefix -> the parts written ("base", "dr", "mass", ...)
        self._mhi: dict[str, int] = {}  # pair prefix -> width of M²'s high part

    def _coord(self, coll: str, scale: str) -> None:
        """η (stage 2) and φ (stage 3) of a collection on ``scale`` (shared by every condition)."""
        if (coll, scale) in self._coords:
            return
        self._coords.add((coll, scale))
        c = COLLECTIONS[coll]
        text, fold_w = phi_functions(c.phi_bins)
        self.roms.setdefault(f"phi{c.phi_bins}", text)
        for i in range(c.size):
            e, f = f"{c.prefix}_{scale}_eta_{i}", f"{c.prefix}_{scale}_phi_{i}"
            eta, muon = f"s17($signed({self.word(f'{c.prefix}_eta', i)}))", scale == "calo" and coll == "muon"
            self.pipe.reg(2, e, f"(({eta} + 17'sd2) >>> 2)" if muon else eta, 17, signed=True)
            fold = self.pipe.reg(2, f"{f}_fold", f"phifold{c.phi_bins}($signed({self.word(f'{c.prefix}_phi', i)}))",
                                 fold_w)  # fmt: skip
            phi = f"phirom{c.phi_bins}({fold})"
            self.pipe.reg(3, f, f"$signed({{1'b0, {phi} >> 2}})" if muon else f"$signed({{1'b0, {phi}}})", 11,
                          signed=True, comment=f"in [0, {c.phi_bins})")  # fmt: skip

    def _obj(self, coll: str) -> None:
        """Stage-2 registers of a collection's pT (and the muons' charge)."""
        if coll in self._objs:
            return
        self._objs.add(coll)
        c = COLLECTIONS[coll]
        for i in range(c.size):
            self.pipe.reg(2, f"{c.prefix}_pt_{i}", f"$signed({self.word(f'{c.prefix}_pt', i)})", 16, signed=True)
            if coll == "muon":
                self.pipe.reg(2, f"{c.prefix}_q_{i}", f"$signed({self.word(f'{c.prefix}_charge', i)})", 8,
                              signed=True)  # fmt: skip

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

    def condition(self, cond: HwObjects, name: str, legs: list[str]) -> tuple[str, int]:
        """The register of one two-leg correlated condition and the stage that updates it."""
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
                shared = self._pair((a, i), (b, j), scale, pt, mass=mass, dr=dr, charge=corr.charge)
                ors.append(self._cuts(f"{name}_{i}_{j}", shared, bits, corr, pt))
        return self.pipe.or_tree(max(s for _, s in ors) + 1, name, [self.pipe.delay(r, s, max(s for _, s in ors))
                                                                     for r, s in ors])  # fmt: skip

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

    def _pair(self, ea: tuple[str, int], eb: tuple[str, int], scale: str, pt: Range, *, mass: bool, dr: bool,
              charge: int) -> str:  # fmt: skip
        """The shared registers of one slot pair (written once per part), by their name prefix."""
        (a, i), (b, j) = sorted([ea, eb])
        pa, pb = COLLECTIONS[a].prefix, COLLECTIONS[b].prefix
        v = f"pr_{scale}_{pa}{i}_{pb}{j}{'' if pt == _U15 else 's'}"
        done = self._shared.setdefault(v, set())
        w, reg, delay = self._widths(scale, pt), self.pipe.reg, self.pipe.delay
        ae, af, be, bf = (f"{p}_{scale}_{x}_{k}" for p, k in ((pa, i), (pb, j)) for x in ("eta", "phi"))
        if "base" not in done:
            done.add("base")
            bins = LUTS[scale].phi_bins
            d1, d2 = reg(3, f"{v}_de1", f"{ae} - {be}", 18, signed=True), reg(3, f"{v}_de2", f"{be} - {ae}", 18,
                                                                                signed=True)  # fmt: skip
            ade = reg(4, f"{v}_ade", f"{d1}[17] ? {d2} : {d1}", 18, signed=True)
            o1, o2 = reg(4, f"{v}_over1", f"({d1} > 18'sd{_CLIP})"), reg(4, f"{v}_over2", f"({d2} > 18'sd{_CLIP})")
            de = reg(5, f"{v}_de5", f"({o1} || {o2}) ? 10'd{_CLIP} : {ade}[9:0]", 10)
            delay(de, 5, 6, 10)
            p1, p2 = reg(4, f"{v}_dp1", f"{af} - {bf}", 12, signed=True), reg(4, f"{v}_dp2", f"{bf} - {af}", 12,
                                                                               signed=True)  # fmt: skip
            pa_, pb_ = (reg(5, f"{v}_pa", f"{p1}[11] ? {p2} : {p1}", 12, signed=True),
                        reg(5, f"{v}_pb", f"12'sd{bins} - ({p1}[11] ? {p2} : {p1})", 12, signed=True))  # fmt: skip
            reg(6, f"{v}_dp", f"{pa_} < {pb_} ? {pa_}[9:0] : {pb_}[9:0]", 10)  # both φ in [0, bins): |d| < bins
        if charge and f"q{charge}" not in done:
            done.add(f"q{charge}")
            qa, qb = (f"{COLLECTIONS[coll].prefix}_q_{k}" for coll, k in (ea, eb))
            same = "==" if charge > 0 else "!="
            reg(3, f"{v}_q{'s' if charge > 0 else 'o'}",
                f"({qa} != 8'sd0) && ({qb} != 8'sd0) && ({qa}[7] {same} {qb}[7])")  # the sign of qa·qb  # fmt: skip
        de6 = f"{v}_de5_d6"
        if dr and "dr" not in done:
            done.add("dr")
            we, wf = (signed_width(*self.ranges[f"{scale}_{k}"]) for k in ("deta2", "dphi2"))
            e2, p2_ = (reg(7, f"{v}_d2e", f"{scale}_deta2({de6})", we, signed=True),
                       reg(7, f"{v}_d2p", f"{scale}_dphi2({v}_dp)", wf, signed=True))  # fmt: skip
            reg(8, f"{v}_dr2", f"{e2} + {p2_}", w["dr2"][0], signed=True)
        if mass and "mass" not in done:
            done.add("mass")
            self._mass(v, scale, pt, de6, (pa, i), (pb, j))
        return v

    def _mass(self, v: str, scale: str, pt: Range, de6: str, ea: tuple[str, int], eb: tuple[str, int]) -> None:
        """``M² = hi·2^34 + lo`` of a pair (objects by prefix and slot): ``pT₁·pT₂`` and four 17-bit-half
        products in DSPs, three adds."""
        reg, delay, w = self.pipe.reg, self.pipe.delay, self._widths(scale, pt)
        wc, wo = (signed_width(*self.ranges[f"{scale}_{k}"]) for k in ("cosh", "cos"))
        ch, co = reg(7, f"{v}_ch", f"{scale}_cosh({de6})", wc, signed=True), reg(7, f"{v}_co", f"{scale}_cos({v}_dp)",
                                                                                  wo, signed=True)  # fmt: skip
        wd, wp = max(w["diff"][0], _K + 1), 32
        diff = reg(8, f"{v}_diff", f"{ch} - {co}", wd, signed=True)
        pta, ptb = (delay(f"{p}_pt_{k}", 2, 7, 16, signed=True) for p, k in (ea, eb))
        if pt == _U15:
            pta, ptb = (f"$signed({{1'b0, {x}[14:0]}})" for x in (pta, ptb))
        pp = self.pipe.product(8, f"{v}_pp", (pta, 16), (ptb, 16))
        lo_a, hi_a = (f"$signed({{1'b0, {pp}[{_K - 1}:0]}})", _K + 1), (f"{pp}[{wp - 1}:{_K}]", wp - _K)
        lo_b, hi_b = (f"$signed({{1'b0, {diff}[{_K - 1}:0]}})", _K + 1), (f"{diff}[{wd - 1}:{_K}]", wd - _K)
        pll = self.pipe.product(9, f"{v}_pll", lo_a, lo_b)  # both halves ≥ 0: the low 34 bits
        plh = self.pipe.product(9, f"{v}_plh", hi_b, lo_a)
        phl = self.pipe.product(9, f"{v}_phl", hi_a, lo_b)
        phh = self.pipe.product(9, f"{v}_phh", hi_a, hi_b)
        wlh, whl, whh = wd + 1, wp + 1, wp + wd - 2 * _K
        ws = max(wlh, whl) + 1
        s = reg(10, f"{v}_s", f"{plh} + {phl}", ws, signed=True)
        pll10, phh11 = reg(10, f"{pll}10", f"{pll}[{2 * _K - 1}:0]", 2 * _K), delay(phh, 9, 11, whh, signed=True)
        wu = max(ws, _K + 1) + 1
        u = reg(11, f"{v}_u", f"{s} + $signed({{1'b0, {pll10}[{2 * _K - 1}:{_K}]}})", wu, signed=True)
        reg(11, f"{v}_lo11", f"{pll10}[{_K - 1}:0]", _K)
        self._mhi[v] = max(whh, wu - _K) + 1
        reg(12, f"{v}_mhi", f"{phh11} + ({u} >>> {_K})", self._mhi[v], signed=True)
        reg(12, f"{v}_mlo", f"{{{u}[{_K - 1}:0], {v}_lo11}}", 2 * _K)

    def _mass_cut(self, c: str, v: str, rng: Range, lo: int, hi: int) -> list[str]:
        """Stage-13 registers of ``lo ≤ M² ≤ hi`` compared on ``hi``/``lo`` apart; the stage-14 terms."""
        reg, mw, terms = self.pipe.reg, self._mhi[v], []
        if lo > rng[1] or hi < rng[0]:
            return ["1'b0"]
        for op, bound, on in ((">=", lo, lo > rng[0]), ("<=", hi, hi < rng[1])):
            if not on:
                continue
            top, low = split_const(bound, 2 * _K)
            tag = "ge" if op == ">=" else "le"
            strict = top + 1 if op == ">=" else top - 1
            wl = max(mw, signed_width(strict, strict)) + 1
            past = reg(13, f"{c}_{tag}h", f"($signed({v}_mhi) {op} {lit(strict, wl)})")
            eq = reg(13, f"{c}_{tag}e", f"($signed({v}_mhi) == {lit(top, wl)})")
            part = reg(13, f"{c}_{tag}l", f"({v}_mlo {op} {2 * _K}'d{low})")
            terms.append(f"({past} || {eq} && {part})")
        return terms

    def _cuts(self, c: str, v: str, bits: str, corr: HwCorrelation, pt: Range) -> tuple[str, int]:
        """One condition's bit for one pair (its own leg bits, charge and cuts on the shared values) and the
        stage that updates it."""
        reg, delay = self.pipe.reg, self.pipe.delay
        q = f" && {v}_q{'s' if corr.charge > 0 else 'o'}" if corr.charge else ""
        ok, at = reg(4, f"{c}_ok4", f"{bits}{q}"), 4
        cuts = []  # every compare with a constant in a register of its own, ANDed in the next stage
        for var, (lo, hi) in ((f"{v}_de5_d6", corr.deta), (f"{v}_dp", corr.dphi)):
            cuts += ([f"({var} >= 10'd{lo})"] if lo < 1024 else ["1'b0"]) if lo > 0 else []
            cuts += [f"({var} <= 10'd{hi})"] if hi < 1024 else []  # |Δη| ≤ 511, Δφ ≤ 288 always
        if cuts:
            held = [self.pipe.shared(7, "pcut", x) for x in cuts]
            ok, at = reg(8, f"{c}_ok8", and_all([delay(ok, at, 7), *held], c)), 8
        w = self._widths(corr.scale, pt)
        if corr.dr2 != (0, NO_MAX):
            held = [self.pipe.shared(9, "pcut", x) for x in _cut(f"{v}_dr2", *w["dr2"], *corr.dr2)]
            ok, at = reg(10, f"{c}_ok10", and_all([delay(ok, at, 9), *held], c)), 10
        if corr.mass2 != (0, NO_MAX):
            terms = self._mass_cut(c, v, w["m2"][1], *corr.mass2)
            ok, at = reg(14, f"{c}_ok14", and_all([delay(ok, at, 13), *terms], c)), 14
        return ok, at


PAIR_FUNCTIONS = "function automatic signed [16:0] s17(input signed [16:0] x); s17 = x; endfunction\n"
