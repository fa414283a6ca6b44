"""Numba kernels: does some assignment of distinct objects to legs pass every pair cut?

Objects come stacked in one int16 array ``obj[c, f, j, e]`` (collection in :data:`KERNEL_COLLECTIONS`
order: the four object collections, then the sums ETM, HTM, ETMHF as one-slot "objects"
whose pT is the sum and φ its φ; field in :data:`OBJ_FIELDS` order; slot; event: events
last, so per-slot cuts run over contiguous events; muons have 8 slots, slots 8..11 are zero).
The legs' candidates of one event are bit sets over the slots. Legs are filled in order
by depth-first search; a correlation is checked as soon as its later leg is assigned, so
hopeless branches are cut early; whole-set cuts (three-body mass, all-legs charge) once all
legs are assigned. Legs of the same collection take distinct objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numba
import numpy as np

from emulator.menu._conditions import OFFSET_MUONS, SUM_LEGS
from streams.event import EventBatch
from streams.schema import CALO_PHI_BINS, COLLECTIONS, neighbour_column

__all__ = [
    "COLL_SIZES",
    "CUT_FIELDS",
    "FIRST_OFFSET_MUON",
    "F_CHARGE",
    "F_DISP",
    "F_ETA",
    "F_INDEX",
    "F_IP",
    "F_ISO",
    "F_PHI",
    "F_PT",
    "F_QUAL",
    "F_UPT",
    "KERNEL_COLLECTIONS",
    "MUON",
    "NSLOT",
    "OBJ_FIELDS",
    "OFFSET_MUONS",
    "any_assignment",
    "assignment_ok",
    "best_pair_mass2",
    "leg_extra_cuts",
    "stack_objects",
]

NSLOT: Final = 12
MUON: Final = 3  # collection index of muons in the stacked arrays
#: Collections of the stacked array: objects, then sums with a φ (one slot each), then other crossings' muons.
KERNEL_COLLECTIONS: Final = (*COLLECTIONS, *SUM_LEGS, *OFFSET_MUONS)
FIRST_OFFSET_MUON: Final = len(COLLECTIONS) + len(SUM_LEGS)
#: Slots of each stacked collection.
COLL_SIZES: Final = np.array([*(c.size for c in COLLECTIONS.values()), *(1 for _ in SUM_LEGS),
                              *(COLLECTIONS["muon"].size for _ in OFFSET_MUONS)], np.int64)  # fmt: skip
#: Fields of the stacked object array, in order (``F_*`` below index them).
OBJ_FIELDS: Final = ("pt", "eta", "phi", "iso", "qual", "charge", "upt", "ip", "tfindex", "disp")
F_PT, F_ETA, F_PHI, F_ISO, F_QUAL, F_CHARGE, F_UPT, F_IP, F_INDEX, F_DISP = range(10)
#: Columns of the correlation cut table, all inclusive integer bounds (flags: 1 transverse, 2 veto,
#: 4 masses and two-body pT of the unconstrained pT).
CUT_FIELDS: Final = (
    "deta_min", "deta_max", "dphi_min", "dphi_max",
    "dr2_min", "dr2_max", "mass2_min", "mass2_max", "charge",
    "tbpt2_min", "massdr_min", "massdr_max", "flags",
)  # fmt: skip
_I16: Final = np.iinfo(np.int16).max
_BIG_BOUND: Final = 1 << 40  # the program's clipped "no maximum"
_ALL_QUAL_BITS: Final = 0xFFFF
_NO_MAX: Final = (1 << 62) - 1


def stack_objects(batch: EventBatch, needed: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """int16 ``(7, 10, 12, N)`` object array of a batch (absent fields and slots are zero).

    φ is reduced modulo the collection's bins. Sums enter as slot 0 of their collection,
    their ET saturated at 2^15 − 1 (16 TeV). ``needed`` (bool, collection × field) fills
    only those fields (the rest stay zero). ``out``, an array this function filled before with
    the same ``needed``, is filled again in place: what it does not write is still zero.
    """
    shape = (len(KERNEL_COLLECTIONS), len(OBJ_FIELDS), NSLOT, len(batch))
    if out is None or out.shape != shape:
        out = np.zeros(shape, np.int16)
    for c, coll in enumerate(COLLECTIONS.values()):
        for f, name in enumerate(OBJ_FIELDS):
            if name not in coll.fields or (needed is not None and not needed[c, f]):
                continue
            _fill_transposed(out[c, f], batch[coll.column(name)], coll.phi_bins if name == "phi" else 0)
    for k, name in enumerate(SUM_LEGS):
        c = len(COLLECTIONS) + k
        if needed is None or needed[c].any():
            out[c, F_PT, 0] = np.minimum(batch[name], _I16)
            out[c, F_PHI, 0] = np.mod(batch[f"{name}_phi"], CALO_PHI_BINS)
    mu = COLLECTIONS["muon"]
    for k, bx in enumerate(OFFSET_MUONS.values()):
        c = FIRST_OFFSET_MUON + k
        for f, name in enumerate(OBJ_FIELDS):
            column = neighbour_column(mu.column(name), bx) if name in mu.fields else ""
            if column in batch and (needed is None or needed[c, f]):
                _fill_transposed(out[c, f], batch[column], mu.phi_bins if name == "phi" else 0)
    return out


@numba.njit(cache=True, nogil=True)
def _fill_transposed(dst: np.ndarray, src: np.ndarray, mod: int) -> None:
    """``dst[j, e] = src[e, j]`` (modulo ``mod`` when > 0, as ``np.mod``) for the src's slots."""
    n, k = src.shape
    for e in range(n):
        for j in range(k):
            v = np.int64(src[e, j])
            dst[j, e] = v % mod if mod > 0 else v


@numba.njit(cache=True, nogil=True, inline="always")
def _coord(obj: np.ndarray, bins: np.ndarray, e: int, c: int, j: int, to_calo: bool) -> tuple[int, int]:
    x = np.int64(obj[c, F_ETA, j, e])
    y = np.int64(obj[c, F_PHI, j, e]) % bins[c]
    if to_calo and (c == MUON or c >= FIRST_OFFSET_MUON):
        return int((x + 2) >> 2), int(y >> 2)
    return int(x), int(y)


@numba.njit(cache=True, nogil=True, inline="always")
def _deltas(obj: np.ndarray, coll_bins: np.ndarray, e: int, ca: int, ja: int, cb: int, jb: int, scale: int,
            nde: int, phi_bins: np.ndarray) -> tuple[int, int]:  # fmt: skip
    """(|Δη| table index, folded Δφ) of two objects on ``scale`` (0 calo, 1 muon)."""
    to_calo = scale == 0
    ea, pa = _coord(obj, coll_bins, e, ca, ja, to_calo)
    eb, pb = _coord(obj, coll_bins, e, cb, jb, to_calo)
    bins = phi_bins[scale]
    dp = abs(pa - pb) % bins
    return min(abs(ea - eb), nde - 1), min(dp, bins - dp)


@numba.njit(cache=True, nogil=True, inline="always")
def _pair_pts(obj: np.ndarray, e: int, ca: int, ja: int, cb: int, jb: int, flags: int) -> tuple[np.int64, np.int64]:
    """The pair's pT in 0.5 GeV units: hwPt, or with flag 4 the unconstrained 2·hwUpt (1 GeV LSB)."""
    if flags & 4:
        return 2 * np.int64(obj[ca, F_UPT, ja, e]), 2 * np.int64(obj[cb, F_UPT, jb, e])
    return np.int64(obj[ca, F_PT, ja, e]), np.int64(obj[cb, F_PT, jb, e])


@numba.njit(cache=True, nogil=True, inline="always")
def _pair_ok(
    obj: np.ndarray, coll_bins: np.ndarray, e: int, ca: int, ja: int, cb: int, jb: int, scale: int,
    cut: np.ndarray, deta2: np.ndarray, dphi2: np.ndarray, cosh: np.ndarray, cos: np.ndarray,
    phi_bins: np.ndarray,
) -> bool:  # fmt: skip
    de, dp = _deltas(obj, coll_bins, e, ca, ja, cb, jb, scale, deta2.shape[1], phi_bins)
    dr2 = deta2[scale, de] + dphi2[scale, dp]
    if cut[12] & 2:  # overlap-removal veto: fails inside any of its windows
        inside = (cut[0] <= de <= cut[1]) or (cut[2] <= dp <= cut[3]) or (cut[4] <= dr2 <= cut[5])
        return not inside
    if de < cut[0] or de > cut[1] or dp < cut[2] or dp > cut[3]:
        return False
    if dr2 < cut[4] or dr2 > cut[5]:
        return False
    pta, ptb = _pair_pts(obj, e, ca, ja, cb, jb, cut[12])
    if cut[6] > 0 or cut[7] < _NO_MAX or cut[10] > 0 or cut[11] < _NO_MAX:
        ch = cosh[scale, 0] if cut[12] & 1 else cosh[scale, de]
        m2 = pta * ptb * (ch - cos[scale, dp])
        if m2 < cut[6] or m2 > cut[7]:
            return False
        if (cut[10] > 0 and 256 * m2 < 2 * cut[10] * dr2) or (cut[11] < _NO_MAX and 256 * m2 > 2 * cut[11] * dr2):
            return False
    if cut[9] > 0 and 4096 * (pta * pta + ptb * ptb) + 2 * pta * ptb * cos[scale, dp] < cut[9]:
        return False
    if cut[8] == 0:
        return True
    q = np.int64(obj[ca, F_CHARGE, ja, e]) * np.int64(obj[cb, F_CHARGE, jb, e])  # charge cuts: muon-muon only
    return bool((cut[8] < 0 and q < 0) or (cut[8] > 0 and q > 0))


@numba.njit(cache=True, nogil=True, inline="always")
def _whole_set_ok(
    e: int, leg_coll: np.ndarray, idx: np.ndarray, obj: np.ndarray, coll_bins: np.ndarray, extra: np.ndarray,
    cosh: np.ndarray, cos: np.ndarray, phi_bins: np.ndarray,
) -> bool:  # fmt: skip
    """All-legs charge (``extra[0]``: −1 not all alike, +1 all alike) and three-body mass ``extra[1..2]``."""
    n = leg_coll.shape[0]
    if extra[0] != 0:
        pos = neg = 0
        for d in range(n):
            q = obj[leg_coll[d], F_CHARGE, idx[d], e]
            pos += q > 0
            neg += q < 0
        if pos + neg != n or (extra[0] > 0 and pos != n and neg != n) or (extra[0] < 0 and (pos == n or neg == n)):
            return False
    if extra[1] > 0 or extra[2] < _NO_MAX:
        scale = 1 if leg_coll[0] == MUON else 0
        m2 = 0
        for a in range(n):
            for b in range(a + 1, n):
                de, dp = _deltas(obj, coll_bins, e, leg_coll[a], idx[a], leg_coll[b], idx[b], scale,
                                 cosh.shape[1], phi_bins)  # fmt: skip
                pt = np.int64(obj[leg_coll[a], F_PT, idx[a], e]) * np.int64(obj[leg_coll[b], F_PT, idx[b], e])
                m2 += pt * (cosh[scale, de] - cos[scale, dp])
        if m2 < extra[1] or m2 > extra[2]:
            return False
    return True


@numba.njit(cache=True, nogil=True, inline="always")
def best_pair_mass2(
    e: int, bits_a: int, bits_b: int, ca: int, cb: int, obj: np.ndarray, coll_bins: np.ndarray, scale: int,
    cut: np.ndarray, deta2: np.ndarray, dphi2: np.ndarray, cosh: np.ndarray, cos: np.ndarray, phi_bins: np.ndarray,
) -> int:  # fmt: skip
    """The largest M2 of two distinct candidates (slots in ``bits_a`` × ``bits_b``) that pass every
    cut of ``cut`` (whose mass minimum is 0); −1 if none: conditions that differ only in their mass
    minimum share this one search."""
    best = -1
    for ja in range(NSLOT):
        if not (bits_a >> ja) & 1:
            continue
        for jb in range(NSLOT):
            if not (bits_b >> jb) & 1 or (ca == cb and ja == jb):
                continue
            if _pair_ok(obj, coll_bins, e, ca, ja, cb, jb, scale, cut, deta2, dphi2, cosh, cos, phi_bins):
                de, dp = _deltas(obj, coll_bins, e, ca, ja, cb, jb, scale, deta2.shape[1], phi_bins)
                ch = cosh[scale, 0] if cut[12] & 1 else cosh[scale, de]
                pta, ptb = _pair_pts(obj, e, ca, ja, cb, jb, cut[12])
                m2 = pta * ptb * (ch - cos[scale, dp])
                best = max(best, m2)
    return best


@numba.njit(cache=True, nogil=True, inline="always")
def assignment_ok(
    e: int, legbits: np.ndarray, leg_coll: np.ndarray, obj: np.ndarray, coll_bins: np.ndarray,
    corr_legs: np.ndarray, corr_scale: np.ndarray, corr_cut: np.ndarray, extra: np.ndarray,
    deta2: np.ndarray, dphi2: np.ndarray, cosh: np.ndarray, cos: np.ndarray, phi_bins: np.ndarray,
    idx: np.ndarray,
) -> bool:  # fmt: skip
    """Depth-first search of event ``e``: ``legbits[d]`` has bit ``j`` set if slot ``j`` passes leg ``d``.

    ``extra``: the condition's all-legs charge and three-body mass bounds (see :func:`_whole_set_ok`);
    ``idx`` is scratch space for the slot of each leg (at least one entry per leg).
    """
    nleg = leg_coll.shape[0]
    idx[0] = -1
    d = 0
    while d >= 0:
        idx[d] += 1
        j = idx[d]
        if j >= NSLOT:
            d -= 1
            continue
        if not (legbits[d] >> j) & 1:
            continue
        ok = True
        for k in range(d):
            if leg_coll[k] == leg_coll[d] and idx[k] == j:
                ok = False
                break
        for c in range(corr_legs.shape[0]):
            if not ok:
                break
            a, b = corr_legs[c, 0], corr_legs[c, 1]
            if max(a, b) != d:
                continue
            ok = _pair_ok(obj, coll_bins, e, leg_coll[a], idx[a], leg_coll[b], idx[b], corr_scale[c],
                          corr_cut[c], deta2, dphi2, cosh, cos, phi_bins)  # fmt: skip
        if not ok:
            continue
        if d == nleg - 1:
            if _whole_set_ok(e, leg_coll, idx, obj, coll_bins, extra, cosh, cos, phi_bins):
                return True
            continue
        d += 1
        idx[d] = -1
    return False


@numba.njit(cache=True, nogil=True)
def _any_assignment(
    events: np.ndarray, legpass: tuple[np.ndarray, ...], leg_coll: np.ndarray, obj: np.ndarray,
    coll_bins: np.ndarray, corr_legs: np.ndarray, corr_scale: np.ndarray, corr_cut: np.ndarray,
    extra: np.ndarray, deta2: np.ndarray, dphi2: np.ndarray, cosh: np.ndarray, cos: np.ndarray,
    phi_bins: np.ndarray, out: np.ndarray,
) -> None:  # fmt: skip
    """Set ``out[e]`` for each ``e`` in ``events``: some leg assignment passes all cuts.

    ``legpass`` holds one bool (N, 12) mask per leg; ``obj`` is :func:`stack_objects`'
    array; ``coll_bins`` the φ bins of each collection.
    """
    legbits = np.zeros(leg_coll.shape[0], np.int64)
    idx = np.zeros(leg_coll.shape[0], np.int64)
    for i in range(events.shape[0]):
        e = events[i]
        for d in range(leg_coll.shape[0]):
            bits = 0
            for j in range(NSLOT):
                if legpass[d][e, j]:
                    bits |= 1 << j
            legbits[d] = bits
        out[e] = assignment_ok(e, legbits, leg_coll, obj, coll_bins, corr_legs, corr_scale, corr_cut, extra,
                               deta2, dphi2, cosh, cos, phi_bins, idx)  # fmt: skip


#: The jitted search, typed for callers (numba's dispatcher type hides the signature).
any_assignment: Callable[..., None] = _any_assignment


@numba.njit(cache=True, nogil=True, inline="always")
def leg_extra_cuts(flat: np.ndarray, legs: np.ndarray, leg: int, r: int, e0: int, m: int, ok: np.ndarray,
                w: np.ndarray) -> None:  # fmt: skip
    """``ok &=`` the schema-2 cuts of row ``leg`` of the program's leg table (its leg stage):
    uPT window, IP LUT, displaced flag, track-finder index ranges."""
    ulo, uhi = legs[leg, 26], legs[leg, 27]
    if ulo > 0 or uhi < _BIG_BOUND:
        rf = r + NSLOT * F_UPT
        for e in range(e0, e0 + m):
            ok[e - e0] &= (flat[rf, e] >= ulo) & (flat[rf, e] <= uhi)
    mask = legs[leg, 28]
    if mask != _ALL_QUAL_BITS:
        rf = r + NSLOT * F_IP
        for e in range(e0, e0 + m):
            ok[e - e0] &= ((mask >> min(np.int32(flat[rf, e]), 16)) & 1) != 0
    disp = legs[leg, 29]
    if disp >= 0:
        rf = r + NSLOT * F_DISP
        for e in range(e0, e0 + m):
            ok[e - e0] &= flat[rf, e] == disp
    n = legs[leg, 30]
    if n > 0:
        rf = r + NSLOT * F_INDEX
        for e in range(m):
            w[e] = False
        for k in range(n):
            wlo, whi = legs[leg, 31 + 2 * k], legs[leg, 32 + 2 * k]
            for e in range(e0, e0 + m):
                w[e - e0] |= (flat[rf, e] >= wlo) & (flat[rf, e] <= whi)
        for e in range(m):
            ok[e] &= w[e]
