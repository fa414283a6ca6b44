"""C++ for the menu's conditions: legs, sums, scores, multi-object and pair logic.

Each function returns C++ source text; :mod:`firmware.menu_writer` puts it into the
templates. The arithmetic is that of ``emulator.menu`` (see ``docs/menu.md``), step by
step, on ``ap_int`` words wide enough for every value the event schema can hold:

* a leg is a few compares on one object slot;
* several legs without pair cuts: distinct objects exist iff Hall's condition holds, per
  collection, on the legs' candidate bit masks (``|∪ masks of S| ≥ |S|`` for every leg subset S),
  which is a handful of popcounts instead of an unrolled search;
* legs with pair cuts: every assignment of distinct slots is checked in parallel (unrolled loops).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations

import numpy as np

from emulator.menu.hardware import ALL_BITS, NO_MAX, HwCorrelation, HwLeg, HwObjects, HwScore, HwSum
from emulator.menu.luts import LUTS
from firmware._menu_layout import ScoreKind
from firmware.errors import UnsupportedError
from streams.schema import COLLECTIONS

__all__ = ["CondNames", "correlation_cpp", "leg_cpp", "lut_tables_cpp", "objects_cpp", "score_cpp", "sum_cpp"]

CondNames = dict[HwLeg, str]
_SCALES = ("calo", "muon")
_ETA_CLIP_BITS = 16  # |hwEta| of an int16 never exceeds 2^15
_INT32 = (-(1 << 31), (1 << 31) - 1)


def _table_len() -> int:
    return max(len(LUTS[s].deta2) for s in _SCALES)


def _padded(values: np.ndarray, n: int) -> list[int]:
    """A table padded to ``n`` entries with its last value (|Δη| beyond the table saturates)."""
    out = [int(v) for v in values]
    return out + [out[-1]] * (n - len(out))


def _array(name: str, values: Sequence[int]) -> str:
    width = max(int(abs(v)).bit_length() for v in values) + 1
    rows = [", ".join(str(v) for v in values[i : i + 16]) for i in range(0, len(values), 16)]
    body = ",\n    ".join(rows)
    return f"static const ap_int<{width}> {name}[{len(values)}] = {{\n    {body}\n}};"


def lut_tables_cpp() -> str:
    """The correlation look-up tables of both scales as C++ constant arrays."""
    n = _table_len()
    out = [f"static const int DETA_CLIP = {n - 1};  // |Δη| index saturates here (both scales)"]
    for scale in _SCALES:
        t = LUTS[scale]
        out += [
            _array(f"{scale}_deta2", _padded(t.deta2, n)),
            _array(f"{scale}_cosh_deta", _padded(t.cosh_deta, n)),
            _array(f"{scale}_dphi2", [int(v) for v in t.dphi2]),
            _array(f"{scale}_cos_dphi", [int(v) for v in t.cos_dphi]),
        ]
    return "\n".join(out)


def leg_cpp(leg: HwLeg, name: str) -> str:
    """``static bool name(pt, eta, qual, iso)``: one object passes the leg's cuts."""
    checks = [f"pt >= {min(leg.pt_min, 1 << 30)}"]
    if leg.eta_max < (1 << _ETA_CLIP_BITS):
        checks.append(f"aeta <= {leg.eta_max}")
    if leg.eta_min > 0:
        checks.append(f"aeta >= {leg.eta_min}")
    for field, mask in (("qual", leg.qual_mask), ("iso", leg.iso_mask)):
        if mask != ALL_BITS:
            checks.append(f"mask_bit({hex(mask)}, {field})")
    return (
        f"// {leg}\n"
        f"static bool {name}(ap_int<16> pt, ap_int<16> eta, ap_uint<8> qual, ap_uint<8> iso) {{\n"
        "#pragma HLS INLINE\n"
        "    ap_int<18> aeta = eta < 0 ? ap_int<18>(-eta) : ap_int<18>(eta);\n"
        "    (void)aeta; (void)qual; (void)iso;\n"
        f"    return {' && '.join(checks)};\n"
        "}\n"
    )


def sum_cpp(cond: HwSum, name: str) -> str:
    checks = []
    if cond.min > _INT32[0]:
        checks.append(f"in.{cond.sum} >= {cond.min}LL")
    if cond.max < _INT32[1]:
        checks.append(f"in.{cond.sum} <= {cond.max}LL")
    body = " && ".join(checks) or "true"
    return f"// {cond}\nstatic bool {name}(const MenuInput &in) {{\n#pragma HLS INLINE\n    return {body};\n}}\n"


def score_cpp(cond: HwScore, name: str, kind: ScoreKind) -> str:
    """``column >= min`` compared in the column's own type (float32 as Menu.evaluate does)."""
    member = cond.column.replace(".", "_")
    if kind == "float":
        bound = f"{float(np.float32(cond.min))!r}f" if math.isfinite(cond.min) else "INFINITY"
    elif kind == "double":
        bound = repr(float(cond.min))
    else:
        bound = f"{math.ceil(cond.min)}LL"
    return (
        f"// {cond}\nstatic bool {name}(const MenuInput &in) {{\n#pragma HLS INLINE\n"
        f"    return in.{member} >= {bound};\n}}\n"
    )


def _coord(coll: str, slot: str, scale: str, var: str) -> list[str]:
    """Lines setting ``var_eta``/``var_phi``: a slot's coordinates on ``scale``."""
    c = COLLECTIONS[coll]
    p = c.prefix
    lines = [
        f"ap_int<20> {var}_eta = in.{p}_eta[{slot}];",
        f"ap_int<20> {var}_phi = pymod(in.{p}_phi[{slot}], {c.phi_bins});",
    ]
    if scale == "calo" and coll == "muon":
        lines += [f"{var}_eta = ({var}_eta + 2) >> 2;", f"{var}_phi = {var}_phi >> 2;"]
    return lines


def correlation_cpp(corr: HwCorrelation, colls: tuple[str, str], name: str) -> str:
    """``static bool name(in, ia, ib)``: the pair of slots (ia of leg a, ib of leg b) passes."""
    scale, bins = corr.scale, LUTS[corr.scale].phi_bins
    n_eta = len(LUTS[scale].deta2)
    lines = [*_coord(colls[0], "ia", scale, "a"), *_coord(colls[1], "ib", scale, "b")]
    lines += [
        "ap_int<21> de_raw = a_eta - b_eta;",
        "ap_uint<21> de_abs = de_raw < 0 ? ap_uint<21>(-de_raw) : ap_uint<21>(de_raw);",
        "ap_uint<21> de = de_abs > DETA_CLIP ? ap_uint<21>(DETA_CLIP) : de_abs;",
        "ap_int<21> dp_raw = a_phi - b_phi;",
        f"ap_uint<21> dp_abs = (dp_raw < 0 ? ap_uint<21>(-dp_raw) : ap_uint<21>(dp_raw)) % {bins};",
        f"ap_uint<21> dp = dp_abs < {bins} - dp_abs ? dp_abs : ap_uint<21>({bins} - dp_abs);",
        f"(void)de; (void)dp; // tables: {n_eta} |Δη| entries, padded to DETA_CLIP + 1",
    ]
    checks: list[str] = []
    for var, (lo, hi) in (("de", corr.deta), ("dp", corr.dphi)):
        checks += [f"{var} >= {lo}"] if lo > 0 else []
        checks += [f"{var} <= {hi}"] if hi < NO_MAX else []
    if corr.dr2 != (0, NO_MAX):
        lines.append(f"ap_int<40> dr2 = {scale}_deta2[de] + {scale}_dphi2[dp];")
        checks += [f"dr2 >= {corr.dr2[0]}LL"] if corr.dr2[0] > 0 else []
        checks += [f"dr2 <= {corr.dr2[1]}LL"] if corr.dr2[1] < NO_MAX else []
    if corr.mass2 != (0, NO_MAX):
        pa, pb = COLLECTIONS[colls[0]].prefix, COLLECTIONS[colls[1]].prefix
        lines.append(
            f"ap_int<64> m2 = ap_int<64>(ap_int<32>(in.{pa}_pt[ia]) * in.{pb}_pt[ib])"
            f" * ap_int<32>({scale}_cosh_deta[de] - {scale}_cos_dphi[dp]);"
        )
        checks += [f"m2 >= {corr.mass2[0]}LL"] if corr.mass2[0] > 0 else []
        checks += [f"m2 <= {corr.mass2[1]}LL"] if corr.mass2[1] < NO_MAX else []
    if corr.charge:
        if colls != ("muon", "muon"):
            msg = f"charge cut on legs {colls}: only muon pairs carry a charge"
            raise UnsupportedError(msg)
        op = "<" if corr.charge < 0 else ">"
        checks.append(f"ap_int<16>(in.mu_charge[ia]) * in.mu_charge[ib] {op} 0")
    body = "\n    ".join(lines)
    return (
        f"// {corr}\n"
        f"static bool {name}(const MenuInput &in, int ia, int ib) {{\n#pragma HLS INLINE\n"
        f"    {body}\n    return {' && '.join(checks) or 'true'};\n}}\n"
    )


def _masks(cond: HwObjects, legs: CondNames) -> list[str]:
    lines = []
    for k, leg in enumerate(cond.legs):
        c = COLLECTIONS[leg.collection]
        p = c.prefix
        lines += [
            f"ap_uint<{c.size}> m{k} = 0;",
            f"for (int i = 0; i < {c.size}; ++i) {{",
            "#pragma HLS UNROLL",
            f"    m{k}[i] = {legs[leg]}(in.{p}_pt[i], in.{p}_eta[i], in.{p}_qual[i], in.{p}_iso[i]);",
            "}",
        ]
    return lines


def _hall(cond: HwObjects) -> str:
    """Distinct objects exist for every leg iff, per collection, each leg subset has enough candidates."""
    checks = []
    groups: dict[str, list[int]] = {}
    for k, leg in enumerate(cond.legs):
        groups.setdefault(leg.collection, []).append(k)
    for ks in groups.values():
        for r in range(1, len(ks) + 1):
            for subset in combinations(ks, r):
                union = " | ".join(f"m{k}" for k in subset)
                checks.append(f"popcount(ap_uint<12>({union})) >= {r}")
    return " && ".join(checks)


def objects_cpp(cond: HwObjects, name: str, legs: CondNames, corrs: list[str]) -> str:
    """A multi-object condition; ``corrs`` names the functions of ``cond.correlations``."""
    lines = _masks(cond, legs)
    if not cond.correlations:
        lines.append(f"return {_hall(cond)};")
    else:
        lines += ["bool hit = false;"]
        depth = len(cond.legs)
        for k, leg in enumerate(cond.legs):
            size = COLLECTIONS[leg.collection].size
            lines += [f"{'    ' * k}for (int i{k} = 0; i{k} < {size}; ++i{k}) {{", "#pragma HLS UNROLL"]
        terms = [f"m{k}[i{k}]" for k in range(depth)]
        for a, b in combinations(range(depth), 2):
            if cond.legs[a].collection == cond.legs[b].collection:
                terms.append(f"i{a} != i{b}")
        for c, fn in zip(cond.correlations, corrs, strict=True):
            a, b = c.legs
            terms.append(f"{fn}(in, i{a}, i{b})")
        pad = "    " * depth
        lines.append(f"{pad}hit = hit || ({' && '.join(terms)});")
        lines += [f"{'    ' * k}}}" for k in reversed(range(depth))]
        lines.append("return hit;")
    body = "\n    ".join(lines)
    return f"static bool {name}(const MenuInput &in) {{\n#pragma HLS INLINE\n    {body}\n}}\n"
