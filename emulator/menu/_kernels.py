"""Numba kernels: does some assignment of distinct objects to legs pass every pair cut?

Objects come stacked in one int16 array ``obj[c, f, j, e]`` (collection in
``COLLECTIONS`` order, field in :data:`OBJ_FIELDS` order, slot, event: events last, so
per-slot cuts run over contiguous events; muons have 8 slots, slots 8..11 are zero).
The legs' candidates of one event are bit sets over the slots. Legs are filled in order
by depth-first search; a correlation is checked as soon as its later leg is assigned, so
hopeless branches are cut early. Legs of the same collection take distinct objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numba
import numpy as np

from streams.event import EventBatch
from streams.schema import COLLECTIONS

__all__ = ["CUT_FIELDS", "MUON", "NSLOT", "OBJ_FIELDS", "any_assignment", "assignment_ok", "stack_objects"]

NSLOT: Final = 12
MUON: Final = 3  # collection index of muons in the stacked arrays
#: Fields of the stacked object array, in order (``F_*`` below index them).
OBJ_FIELDS: Final = ("pt", "eta", "phi", "iso", "qual", "charge")
F_PT, F_ETA, F_PHI, F_ISO, F_QUAL, F_CHARGE = range(6)
#: Columns of the correlation cut table, all inclusive integer bounds.
CUT_FIELDS: Final = (
    "deta_min", "deta_max", "dphi_min", "dphi_max",
    "dr2_min", "dr2_max", "mass2_min", "mass2_max", "charge",
)  # fmt: skip


def stack_objects(batch: EventBatch) -> np.ndarray:
    """int16 ``(4, 6, 12, N)`` object array of a batch (absent fields and slots are zero)."""
    out = np.zeros((len(COLLECTIONS), len(OBJ_FIELDS), NSLOT, len(batch)), np.int16)
    for c, coll in enumerate(COLLECTIONS.values()):
        for f, name in enumerate(OBJ_FIELDS):
            if name in coll.fields:
                out[c, f, : coll.size] = batch[coll.column(name)].T
    return out


@numba.njit(cache=True, nogil=True)
def _coord(obj: np.ndarray, bins: np.ndarray, e: int, c: int, j: int, to_calo: bool) -> tuple[int, int]:
    x = np.int64(obj[c, F_ETA, j, e])
    y = np.int64(obj[c, F_PHI, j, e]) % bins[c]
    if to_calo and c == MUON:
        return int((x + 2) >> 2), int(y >> 2)
    return int(x), int(y)


@numba.njit(cache=True, nogil=True)
def _pair_ok(
    obj: np.ndarray, coll_bins: np.ndarray, e: int, ca: int, ja: int, cb: int, jb: int, scale: int,
    cut: np.ndarray, deta2: np.ndarray, dphi2: np.ndarray, cosh: np.ndarray, cos: np.ndarray,
    phi_bins: np.ndarray,
) -> bool:  # fmt: skip
    to_calo = scale == 0
    ea, pa = _coord(obj, coll_bins, e, ca, ja, to_calo)
    eb, pb = _coord(obj, coll_bins, e, cb, jb, to_calo)
    de = min(abs(ea - eb), deta2.shape[1] - 1)
    bins = phi_bins[scale]
    dp = abs(pa - pb) % bins
    dp = min(dp, bins - dp)
    if de < cut[0] or de > cut[1] or dp < cut[2] or dp > cut[3]:
        return False
    dr2 = deta2[scale, de] + dphi2[scale, dp]
    if dr2 < cut[4] or dr2 > cut[5]:
        return False
    if cut[6] > 0 or cut[7] < (1 << 62) - 1:
        m2 = np.int64(obj[ca, F_PT, ja, e]) * np.int64(obj[cb, F_PT, jb, e]) * (cosh[scale, de] - cos[scale, dp])
        if m2 < cut[6] or m2 > cut[7]:
            return False
    if cut[8] == 0:
        return True
    q = np.int64(obj[ca, F_CHARGE, ja, e]) * np.int64(obj[cb, F_CHARGE, jb, e])  # charge cuts: muon-muon only
    return bool((cut[8] < 0 and q < 0) or (cut[8] > 0 and q > 0))


@numba.njit(cache=True, nogil=True)
def assignment_ok(
    e: int, legbits: np.ndarray, leg_coll: np.ndarray, obj: np.ndarray, coll_bins: np.ndarray,
    corr_legs: np.ndarray, corr_scale: np.ndarray, corr_cut: np.ndarray,
    deta2: np.ndarray, dphi2: np.ndarray, cosh: np.ndarray, cos: np.ndarray, phi_bins: np.ndarray,
    idx: np.ndarray,
) -> bool:  # fmt: skip
    """Depth-first search of event ``e``: ``legbits[d]`` has bit ``j`` set if slot ``j`` passes leg ``d``.

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
            return True
        d += 1
        idx[d] = -1
    return False


@numba.njit(cache=True, nogil=True)
def _any_assignment(
    events: np.ndarray, legpass: tuple[np.ndarray, ...], leg_coll: np.ndarray, obj: np.ndarray,
    coll_bins: np.ndarray, corr_legs: np.ndarray, corr_scale: np.ndarray, corr_cut: np.ndarray,
    deta2: np.ndarray, dphi2: np.ndarray, cosh: np.ndarray, cos: np.ndarray, phi_bins: np.ndarray,
    out: np.ndarray,
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
        out[e] = assignment_ok(e, legbits, leg_coll, obj, coll_bins, corr_legs, corr_scale, corr_cut,
                               deta2, dphi2, cosh, cos, phi_bins, idx)  # fmt: skip


#: The jitted search, typed for callers (numba's dispatcher type hides the signature).
any_assignment: Callable[..., None] = _any_assignment
