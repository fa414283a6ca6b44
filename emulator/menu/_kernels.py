"""Numba kernel: does some assignment of distinct objects to legs pass every pair cut?

Object columns come as tuples of the four collections' int16 arrays (``COLLECTIONS``
order, so a leg's collection index selects its array; muons have 8 slots, their
leg masks are padded to 12 with False). Legs are filled in order by depth-first search;
a correlation is checked as soon as its later leg is assigned, so hopeless
branches are cut early. Legs of the same collection take distinct objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numba
import numpy as np

__all__ = ["CUT_FIELDS", "MUON", "NSLOT", "any_assignment"]

NSLOT: Final = 12
MUON: Final = 3  # collection index of muons in the stacked arrays
#: Columns of the correlation cut table, all inclusive integer bounds.
CUT_FIELDS: Final = (
    "deta_min", "deta_max", "dphi_min", "dphi_max",
    "dr2_min", "dr2_max", "mass2_min", "mass2_max", "charge",
)  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _coord(
    etas: tuple[np.ndarray, ...], phis: tuple[np.ndarray, ...], bins: np.ndarray, e: int, c: int, j: int,
    to_calo: bool,
) -> tuple[int, int]:  # fmt: skip
    x = np.int64(etas[c][e, j])
    y = np.int64(phis[c][e, j]) % bins[c]
    if to_calo and c == MUON:
        return int((x + 2) >> 2), int(y >> 2)
    return int(x), int(y)


@numba.njit(cache=True, nogil=True)
def _pair_ok(
    obj: tuple[tuple[np.ndarray, ...], ...], mu_chg: np.ndarray, coll_bins: np.ndarray, e: int,
    ca: int, ja: int, cb: int, jb: int, scale: int, cut: np.ndarray,
    deta2: np.ndarray, dphi2: np.ndarray, cosh: np.ndarray, cos: np.ndarray, phi_bins: np.ndarray,
) -> bool:  # fmt: skip
    pts, etas, phis = obj
    to_calo = scale == 0
    ea, pa = _coord(etas, phis, coll_bins, e, ca, ja, to_calo)
    eb, pb = _coord(etas, phis, coll_bins, e, cb, jb, to_calo)
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
        m2 = np.int64(pts[ca][e, ja]) * np.int64(pts[cb][e, jb]) * (cosh[scale, de] - cos[scale, dp])
        if m2 < cut[6] or m2 > cut[7]:
            return False
    if cut[8] == 0:
        return True
    q = np.int64(mu_chg[e, ja]) * np.int64(mu_chg[e, jb])  # charge cuts are muon-muon only
    return bool((cut[8] < 0 and q < 0) or (cut[8] > 0 and q > 0))


@numba.njit(cache=True, nogil=True)
def _event_ok(
    e: int, legpass: tuple[np.ndarray, ...], leg_coll: np.ndarray, obj: tuple[tuple[np.ndarray, ...], ...],
    mu_chg: np.ndarray, coll_bins: np.ndarray,
    corr_legs: np.ndarray, corr_scale: np.ndarray, corr_cut: np.ndarray,
    deta2: np.ndarray, dphi2: np.ndarray, cosh: np.ndarray, cos: np.ndarray, phi_bins: np.ndarray,
) -> bool:  # fmt: skip
    nleg = leg_coll.shape[0]
    idx = np.full(nleg, -1, np.int64)
    d = 0
    while d >= 0:
        idx[d] += 1
        j = idx[d]
        if j >= NSLOT:
            d -= 1
            continue
        if not legpass[d][e, j]:
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
            ok = _pair_ok(obj, mu_chg, coll_bins, e, leg_coll[a], idx[a], leg_coll[b], idx[b], corr_scale[c],
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
    events: np.ndarray, legpass: tuple[np.ndarray, ...], leg_coll: np.ndarray,
    obj: tuple[tuple[np.ndarray, ...], ...], mu_chg: np.ndarray, coll_bins: np.ndarray,
    corr_legs: np.ndarray, corr_scale: np.ndarray, corr_cut: np.ndarray,
    deta2: np.ndarray, dphi2: np.ndarray, cosh: np.ndarray, cos: np.ndarray, phi_bins: np.ndarray,
    out: np.ndarray,
) -> None:  # fmt: skip
    """Set ``out[e]`` for each ``e`` in ``events``: some leg assignment passes all cuts.

    ``legpass`` holds one bool (N, 12) mask per leg; ``obj`` is ``(pts, etas, phis)``,
    each a tuple of the collections' int16 (N, size) arrays; ``coll_bins`` the φ bins
    of each collection.
    """
    for i in range(events.shape[0]):
        e = events[i]
        out[e] = _event_ok(e, legpass, leg_coll, obj, mu_chg, coll_bins, corr_legs, corr_scale, corr_cut,
                           deta2, dphi2, cosh, cos, phi_bins)  # fmt: skip


#: The jitted search, typed for callers (numba's dispatcher type hides the signature).
any_assignment: Callable[..., None] = _any_assignment
