"""Numba kernel: does some assignment of distinct objects to legs pass every pair cut?

Inputs are stacked per collection, ``(N, 4, 12)`` int64 (``COLL_INDEX`` order,
muons zero-padded to 12 slots). Legs are filled in order by depth-first search;
a correlation is checked as soon as its later leg is assigned, so hopeless
branches are cut early. Legs of the same collection take distinct objects.
"""

from __future__ import annotations

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
def _coord(eta: np.ndarray, phi: np.ndarray, e: int, c: int, j: int, to_calo: bool) -> tuple[int, int]:
    x, y = eta[e, c, j], phi[e, c, j]
    if to_calo and c == MUON:
        return (x + 2) >> 2, y >> 2
    return x, y


@numba.njit(cache=True, nogil=True)
def _pair_ok(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, chg: np.ndarray, e: int,
    ca: int, ja: int, cb: int, jb: int, scale: int, cut: np.ndarray,
    deta2: np.ndarray, dphi2: np.ndarray, cosh: np.ndarray, cos: np.ndarray, phi_bins: np.ndarray,
) -> bool:  # fmt: skip
    to_calo = scale == 0
    ea, pa = _coord(eta, phi, e, ca, ja, to_calo)
    eb, pb = _coord(eta, phi, e, cb, jb, to_calo)
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
        m2 = pt[e, ca, ja] * pt[e, cb, jb] * (cosh[scale, de] - cos[scale, dp])
        if m2 < cut[6] or m2 > cut[7]:
            return False
    q = chg[e, ca, ja] * chg[e, cb, jb]
    return not ((cut[8] < 0 and q >= 0) or (cut[8] > 0 and q <= 0))


@numba.njit(cache=True, nogil=True)
def _event_ok(
    e: int, legpass: np.ndarray, leg_coll: np.ndarray, pt: np.ndarray, eta: np.ndarray, phi: np.ndarray,
    chg: np.ndarray, corr_legs: np.ndarray, corr_scale: np.ndarray, corr_cut: np.ndarray,
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
        if not legpass[e, d, j]:
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
            ok = _pair_ok(pt, eta, phi, chg, e, leg_coll[a], idx[a], leg_coll[b], idx[b], corr_scale[c],
                          corr_cut[c], deta2, dphi2, cosh, cos, phi_bins)  # fmt: skip
        if not ok:
            continue
        if d == nleg - 1:
            return True
        d += 1
        idx[d] = -1
    return False


@numba.njit(cache=True, nogil=True)
def any_assignment(
    events: np.ndarray, legpass: np.ndarray, leg_coll: np.ndarray,
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, chg: np.ndarray,
    corr_legs: np.ndarray, corr_scale: np.ndarray, corr_cut: np.ndarray,
    deta2: np.ndarray, dphi2: np.ndarray, cosh: np.ndarray, cos: np.ndarray, phi_bins: np.ndarray,
    out: np.ndarray,
) -> None:  # fmt: skip
    """Set ``out[e]`` for each ``e`` in ``events``: some leg assignment passes all cuts."""
    for i in range(events.shape[0]):
        e = events[i]
        out[e] = _event_ok(e, legpass, leg_coll, pt, eta, phi, chg, corr_legs, corr_scale, corr_cut,
                           deta2, dphi2, cosh, cos, phi_bins)  # fmt: skip
