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

__all__ = ["MAX_CAND", "PAD", "box", "eg_cluster", "find_eg", "find_jets", "find_taus", "is_local_max",
           "tau_iso_bits", "top_n"]

PAD = 7
MAX_CAND = 512
_MERGE_ETA, _MERGE_PHI = 2, 4  # τ merging window (towers), around the main seed


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
def _iso_bits(iso: float, pt: float, cut0: float, cut1: float) -> int:
    """Bit 0 if iso ≤ cut0 · pT, bit 1 if iso ≤ cut1 · pT."""
    bits = 0
    if iso <= cut0 * pt:
        bits |= 1
    if iso <= cut1 * pt:
        bits |= 2
    return bits


@numba.njit(cache=True, inline="always")
def _column3(g: np.ndarray, ie: int, ip: int) -> int:
    """Σ of g over the 3 φ towers around padded-grid tower (ie, ip)."""
    r, c = ie + PAD, ip + PAD
    return int(g[r, c - 1] + g[r, c] + g[r, c + 1])


@numba.njit(cache=True, inline="always")
def _kept(v: int, nb: int) -> int:
    """A neighbour's ET if it reaches the clustering threshold ``nb``, else 0."""
    return v if v >= nb else 0


@numba.njit(cache=True, inline="always")
def eg_cluster(em: np.ndarray, ie: int, ip: int, nb: int) -> tuple[int, int, int]:
    """CMS layer-2 e/γ cluster of the seed at tower (ie, ip): (ET, η side, shape).

    Neighbours join with EM ≥ ``nb``: the 3 × 3 towers and, in the seed column, φ ± 2 next to an
    included φ ± 1. The cluster is trimmed to the seed column and the η-neighbour column with more
    clustered ET (the +η one on ties). ``shape`` is CMS's 7-bit code of the trimmed cluster: bit 0
    φ − 1 (N), 1 φ + 1 (S), 2 the side tower, 3 side φ − 1, 4 side φ + 1, 5 φ − 2 (NN), 6 φ + 2 (SS).
    """
    r, c = ie + PAD, ip + PAD
    n, s = _kept(em[r, c - 1], nb), _kept(em[r, c + 1], nb)
    nn = _kept(em[r, c - 2], nb) if n > 0 else 0
    ss = _kept(em[r, c + 2], nb) if s > 0 else 0
    lo = (_kept(em[r - 1, c - 1], nb), _kept(em[r - 1, c], nb), _kept(em[r - 1, c + 1], nb))
    hi = (_kept(em[r + 1, c - 1], nb), _kept(em[r + 1, c], nb), _kept(em[r + 1, c + 1], nb))
    side = -1 if lo[0] + lo[1] + lo[2] > hi[0] + hi[1] + hi[2] else 1
    sn, sc, sp = lo if side < 0 else hi
    et = int(em[r, c]) + n + s + nn + ss + sn + sc + sp
    shape = ((n > 0) | (s > 0) << 1 | (sc > 0) << 2 | (sn > 0) << 3 | (sp > 0) << 4 | (nn > 0) << 5
             | (ss > 0) << 6)
    return et, side, shape


@numba.njit(cache=True, inline="always")
def _et_bin(et: int, edges: np.ndarray) -> int:
    """Index of the bin of ``et`` among increasing ``edges`` (searchsorted, right)."""
    b = 0
    while b < len(edges) and edges[b] <= et:
        b += 1
    return b


@numba.njit(cache=True)
def find_eg(
    em: np.ndarray, had: np.ndarray, S: np.ndarray, rho: float, ie_lo: int, ie_hi: int,
    seed: int, nb: int, id_max: int, hoe_max: float, loose: float, tight: float, lut: tuple[np.ndarray, ...],
    c_pt: np.ndarray, c_ie: np.ndarray, c_ip: np.ndarray, c_iso: np.ndarray,
) -> int:
    """e/γ as CMS layer 2 makes them: EM seed ≥ ``seed``, maximum of 3 η × 9 φ; the dynamic,
    trimmed cluster of :func:`eg_cluster` (neighbour threshold ``nb``); H/E on the 2 × 3 footprint
    and the shape veto (LUT ``lut[2]`` in (|η|, raw ET, shape)), both waived from raw ET ``id_max``;
    pT = raw ET × ``lut[3]``, rounded; isolation = 5 × 9 total ET minus the 2 × 3 footprint and
    ρ · 39, against the raw ET. ``lut`` = (η bin per tower, raw-ET edges (hw), shape_ok, scale)."""
    eta_bin, et_edges, shape_ok, scale = lut
    n = 0
    for ie in range(ie_lo, ie_hi):
        for ip in range(N_PHI):
            if em[ie + PAD, ip + PAD] < seed or not is_local_max(em, ie, ip, 1, 4):
                continue
            et, side, shape = eg_cluster(em, ie, ip, nb)
            e_foot = _column3(em, ie, ip) + _column3(em, ie + side, ip)
            h_foot = _column3(had, ie, ip) + _column3(had, ie + side, ip)
            b, k = eta_bin[ie], _et_bin(et, et_edges)
            if et < id_max and (h_foot > hoe_max * e_foot or shape_ok[b, k, shape] == 0):
                continue
            if n >= MAX_CAND:
                continue
            iso = box(S, ie, ip, -2, 2, -4, 4) - e_foot - h_foot - rho * 39.0
            c_pt[n], c_ie[n], c_ip[n] = math.floor(et * scale[b, k] + 0.5), ie, ip
            c_iso[n] = _iso_bits(iso, et, tight, loose)  # uGT order: bit 0 tight (IsoEG), bit 1 loose
            n += 1
    return n


@numba.njit(cache=True, inline="always")
def _overlap(S: np.ndarray, ie: int, ip: int, lo_j: int, de: int, dp: int, lo_k: int) -> tuple[int, int]:
    """ET and area of the intersection of the 2η×5φ clusters at (ie, ip) (η rows lo_j, lo_j + 1
    relative to its seed) and at (ie + de, ip + dp) (rows lo_k, lo_k + 1 relative to that seed)."""
    e0, e1 = max(lo_j, de + lo_k), min(lo_j + 1, de + lo_k + 1)
    p0, p1 = max(-2, dp - 2), min(2, dp + 2)
    if e0 > e1 or p0 > p1:
        return 0, 0
    return box(S, ie, ip, e0, e1, p0, p1), (e1 - e0 + 1) * (p1 - p0 + 1)


@numba.njit(cache=True, inline="always")
def _stronger(c_raw: np.ndarray, j: int, i: int) -> bool:
    """Candidate j outranks i: more ET, or as much and found first."""
    return c_raw[j] > c_raw[i] or (c_raw[j] == c_raw[i] and j < i)


@numba.njit(cache=True)
def _tau_mains(c_raw: np.ndarray, c_ie: np.ndarray, c_ip: np.ndarray, n: int, at: np.ndarray,
               main: np.ndarray) -> None:
    """``main[i]``: the strongest candidate stronger than ``i`` within the merging window, or −1."""
    for i in range(n):
        at[c_ie[i], c_ip[i]] = i
    for i in range(n):
        best = -1
        for de in range(-_MERGE_ETA, _MERGE_ETA + 1):
            r = c_ie[i] + de
            if r < 0 or r >= N_ETA:
                continue
            for dp in range(-_MERGE_PHI, _MERGE_PHI + 1):
                j = at[r, (c_ip[i] + dp) % N_PHI]
                if j < 0 or j == i:
                    continue
                if _stronger(c_raw, j, i) and (best < 0 or _stronger(c_raw, j, best)):
                    best = j
        main[i] = best
    for i in range(n):
        at[c_ie[i], c_ip[i]] = -1


@numba.njit(cache=True, inline="always")
def tau_iso_bits(
    S: np.ndarray, ie: int, ip: int, elo: int, clu: int, raw: float, area: int, rho: float, loose: float,
    tight: float, iso_lut: np.ndarray, eta_c: np.ndarray, et_c: np.ndarray, ntt_c: int,
) -> int:
    """Isolation bits of a τ whose towers (``area`` of them, ET ``clu``) sit at main seed (ie, ip), grown to
    the η side starting at row ``elo`` (−1 or 0). With ``ntt_c`` < 0: the 7 × 9 box minus the τ's towers and
    ρ × the rest, against ``loose`` / ``tight`` × ``raw`` (bits 0, 1); else CMS's LUT on the 6 η × 9 φ box
    (one more row on the grown side) minus the τ's towers, both bits."""
    if ntt_c < 0:
        iso = max(box(S, ie, ip, -3, 3, -4, 4) - clu, 0) - rho * (63 - area)
        return _iso_bits(iso, raw, loose, tight)
    e_iso = max(box(S, ie, ip, elo - 2, elo + 3, -4, 4) - clu, 0)
    thr = iso_lut[eta_c[ie], et_c[min(clu, 255)], ntt_c]
    return 3 if e_iso < thr or thr > 255 else 0


@numba.njit(cache=True)
def find_taus(
    tot: np.ndarray, S: np.ndarray, rho: float, ie_lo: int, ie_hi: int, seed: int, calib: np.ndarray,
    loose: float, tight: float, iso_lut: np.ndarray, eta_c: np.ndarray, et_c: np.ndarray, ntt_c: int,
    c_pt: np.ndarray, c_ie: np.ndarray, c_ip: np.ndarray, c_iso: np.ndarray,
    scratch: np.ndarray, at: np.ndarray,
) -> int:
    """τ: total-ET local max (3×3) ≥ seed, clusters trimmed and merged as CMS layer 2 does it.

    A cluster is the seed's 5-tower φ column plus the stronger of its two η-neighbour columns
    (2η×5φ, the e/γ trimming). A cluster with a stronger one within ±2 towers in η and ±4 in φ is a *secondary*: it is
    not a τ; the strongest secondary of a main cluster is merged into it (the union of the
    two boxes), secondaries of secondaries are dropped. The raw τ ET is the merged cluster minus
    ρ × its area; pT = raw ET × ``calib[ieta, merged]``. Isolation: with ``ntt_c`` < 0, the 7×9 box
    around the main seed minus the merged cluster and ρ × the rest of the box, against ``loose`` and
    ``tight`` × the raw ET (bits 0, 1); else as CMS's firmware (see _tau_iso.py), the 6η×9φ box around
    the main cluster (one more tower on the side it grew to) minus the merged cluster below
    ``iso_lut[eta_c[ieta], et_c[cluster], ntt_c]`` (or that above 255): both bits (CMS loads the same
    table for its two). ``scratch`` is int64
    (4, MAX_CAND); ``at``
    (N_ETA × N_PHI, all −1) is scratch and is left all −1.
    """
    c_raw, main, sec, elo = scratch[0], scratch[1], scratch[2], scratch[3]
    n = 0
    for ie in range(ie_lo, ie_hi):
        for ip in range(N_PHI):
            if tot[ie + PAD, ip + PAD] < seed or not is_local_max(tot, ie, ip, 1, 1):
                continue
            if n < MAX_CAND:
                below, above = box(S, ie, ip, -1, -1, -2, 2), box(S, ie, ip, 1, 1, -2, 2)
                elo[n] = -1 if below > above else 0
                c_raw[n] = box(S, ie, ip, 0, 0, -2, 2) + max(below, above)
                c_ie[n], c_ip[n] = ie, ip
                n += 1
    _tau_mains(c_raw, c_ie, c_ip, n, at, main)
    sec[:n] = -1
    for i in range(n):  # a main's strongest secondary (first in scan order on ties)
        j = main[i]
        if j >= 0 and main[j] < 0 and (sec[j] < 0 or c_raw[i] > c_raw[sec[j]]):
            sec[j] = i
    for j in range(n):
        c_pt[j] = 0
        if main[j] >= 0:
            continue
        clu, area, k = c_raw[j], 10, sec[j]
        if k >= 0:
            dp = (c_ip[k] - c_ip[j] + N_PHI // 2) % N_PHI - N_PHI // 2
            ov, ov_area = _overlap(S, c_ie[j], c_ip[j], elo[j], c_ie[k] - c_ie[j], dp, elo[k])
            clu += c_raw[k] - ov
            area += 10 - ov_area
        raw = math.floor(clu - rho * area)
        c_pt[j] = math.floor(raw * calib[c_ie[j], 1 if k >= 0 else 0] + 0.5) if raw > 0 else 0
        c_iso[j] = tau_iso_bits(S, c_ie[j], c_ip[j], elo[j], clu, raw, area, rho, loose, tight, iso_lut, eta_c,
                                et_c, ntt_c)
    m = 0
    for j in range(n):  # compact in place (m <= j)
        if c_pt[j] > 0:
            c_pt[m], c_ie[m], c_ip[m], c_iso[m] = c_pt[j], c_ie[j], c_ip[j], c_iso[j]
            m += 1
    return m


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
