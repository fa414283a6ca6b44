"""Numba object finders on one crossing's integer tower grids (0.5 GeV LSB).

The grids are padded by :data:`PAD` towers on each side: in φ with the wrapped-around
towers, in η with zeros, so windows need neither modulo nor bounds checks; box
sums of total ET come from the integral image ``S`` of the padded total grid.
Tower ``(ie, ip)`` sits at padded position ``(ie + PAD, ip + PAD)``.

Local maxima use the CMS tie-break: the seed must be strictly greater than
neighbours "after" it (Δη > 0, or Δη = 0 and Δφ > 0) and greater or equal to
the others, so a plateau yields exactly one object.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from streams.l1sim.geometry import N_ETA, N_PHI

__all__ = ["MAX_CAND", "PAD", "box", "find_eg", "find_jets", "find_taus", "is_local_max", "top_n"]

PAD = 7
MAX_CAND = 512


@numba.njit(cache=True, inline="always")
def box(S: np.ndarray, ie: int, ip: int, de0: int, de1: int, dp0: int, dp1: int) -> int:
    """Σ over η offsets de0…de1 and φ offsets dp0…dp1 around tower (ie, ip), from integral image S."""
    r0, r1 = ie + PAD + de0, ie + PAD + de1 + 1
    c0, c1 = ip + PAD + dp0, ip + PAD + dp1 + 1
    return int(S[r1, c1] - S[r0, c1] - S[r1, c0] + S[r0, c0])


@numba.njit(cache=True, inline="always")
def is_local_max(g: np.ndarray, ie: int, ip: int, half_eta: int, half_phi: int) -> bool:
    """Padded-grid tower (ie, ip) is the maximum of its window, with the CMS tie-break."""
    r, c = ie + PAD, ip + PAD
    v0 = g[r, c]
    for de in range(-half_eta, half_eta + 1):
        for dp in range(-half_phi, half_phi + 1):
            v = g[r + de, c + dp]
            if de > 0 or (de == 0 and dp > 0):
                if v >= v0:
                    return False
            elif v > v0:
                return False
    return True


@numba.njit(cache=True)
def top_n(pt: np.ndarray, n_cand: int, n_out: int) -> np.ndarray:
    """Indices of the ``n_out`` highest ``pt[:n_cand]`` (−1 padded), highest first; stable."""
    out = np.full(n_out, -1, np.int64)
    n = 0
    for i in range(n_cand):
        v = pt[i]
        k = n
        while k > 0 and pt[out[k - 1]] < v:
            k -= 1
        if k >= n_out:
            continue
        for m in range(min(n, n_out - 1), k, -1):
            out[m] = out[m - 1]
        out[k] = i
        n = min(n + 1, n_out)
    return out


@numba.njit(cache=True)
def _iso_bits(iso: float, pt: float, loose: float, tight: float) -> int:
    bits = 0
    if iso <= loose * pt:
        bits |= 1
    if iso <= tight * pt:
        bits |= 2
    return bits


@numba.njit(cache=True, inline="always")
def _sum3x3(g: np.ndarray, ie: int, ip: int) -> int:
    r, c = ie + PAD, ip + PAD
    s = 0
    for de in range(-1, 2):
        for dp in range(-1, 2):
            s += g[r + de, c + dp]
    return s


@numba.njit(cache=True)
def find_eg(
    em: np.ndarray, had: np.ndarray, S: np.ndarray, rho: float, ie_lo: int, ie_hi: int,
    seed: int, hoe_max: float, loose: float, tight: float,
    c_pt: np.ndarray, c_ie: np.ndarray, c_ip: np.ndarray, c_iso: np.ndarray,
) -> int:
    """e/γ: EM local max (3×3) ≥ seed, 3×3 EM cluster, H/E veto, 5×9 isolation."""
    n = 0
    for ie in range(ie_lo, ie_hi):
        for ip in range(N_PHI):
            if em[ie + PAD, ip + PAD] < seed or not is_local_max(em, ie, ip, 1, 1):
                continue
            e3 = _sum3x3(em, ie, ip)
            h3 = _sum3x3(had, ie, ip)
            if h3 > hoe_max * e3 or n >= MAX_CAND:
                continue
            iso = box(S, ie, ip, -2, 2, -4, 4) - e3 - h3 - rho * 36.0
            c_pt[n], c_ie[n], c_ip[n] = e3, ie, ip
            c_iso[n] = _iso_bits(iso, e3, loose, tight)
            n += 1
    return n


@numba.njit(cache=True)
def find_taus(
    tot: np.ndarray, S: np.ndarray, rho: float, ie_lo: int, ie_hi: int, seed: int, calib: float,
    loose: float, tight: float,
    c_pt: np.ndarray, c_ie: np.ndarray, c_ip: np.ndarray, c_iso: np.ndarray,
) -> int:
    """τ: total-ET local max (3×3) ≥ seed, 3η×5φ cluster minus ρ, 7×9 isolation."""
    n = 0
    for ie in range(ie_lo, ie_hi):
        for ip in range(N_PHI):
            if tot[ie + PAD, ip + PAD] < seed or not is_local_max(tot, ie, ip, 1, 1):
                continue
            clu = box(S, ie, ip, -1, 1, -2, 2)
            pt = math.floor((clu - rho * 15.0) * calib)
            if pt <= 0 or n >= MAX_CAND:
                continue
            iso = box(S, ie, ip, -3, 3, -4, 4) - clu - rho * 48.0
            c_pt[n], c_ie[n], c_ip[n] = pt, ie, ip
            c_iso[n] = _iso_bits(iso, pt, loose, tight)
            n += 1
    return n


@numba.njit(cache=True)
def find_jets(
    tot: np.ndarray, S: np.ndarray, seed: int, pus: bool, calib: float,
    c_pt: np.ndarray, c_ie: np.ndarray, c_ip: np.ndarray,
) -> int:
    """Jets: 9×9 sliding window local max ≥ seed, chunky-donut PU subtraction, calibration."""
    n = 0
    for ie in range(N_ETA):
        for ip in range(N_PHI):
            if tot[ie + PAD, ip + PAD] < seed or not is_local_max(tot, ie, ip, 4, 4):
                continue
            et = box(S, ie, ip, -4, 4, -4, 4)
            if pus:
                a = box(S, ie, ip, -7, -5, -4, 4)
                b = box(S, ie, ip, 5, 7, -4, 4)
                c = box(S, ie, ip, -4, 4, -7, -5)
                d = box(S, ie, ip, -4, 4, 5, 7)
                et -= a + b + c + d - max(max(a, b), max(c, d))  # the three lowest strips
            pt = math.floor(et * calib)
            if pt <= 0 or n >= MAX_CAND:
                continue
            c_pt[n], c_ie[n], c_ip[n] = pt, ie, ip
            n += 1
    return n
