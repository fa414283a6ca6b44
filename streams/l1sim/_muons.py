"""The muon track-finder model of the per-crossing kernel (docs/physics.md §4, "Muon system").

A muon source of the pool becomes a track of BMTF, OMTF or EMTF with stations, a quality, a
vertex-constrained pT, an unconstrained pT (uPT), an impact-parameter class and the uGT input
index of its track finder's link (``tfindex``). Randomness comes from hashed draws of
(crossing key, counter), so nothing depends on how crossings are split into batches.

>>> muon_index(0, 1, 0, 1)  # BMTF wedge 0, second muon of its link
37
>>> muon_index(2, -1, 5, 2)  # EMTF−, sector 6, third muon
107
"""

from __future__ import annotations

import math

import numba
import numpy as np

from streams.l1sim._rng import gauss_hash, uniform_hash
from streams.l1sim.geometry import N_PHI

__all__ = ["MAX_MU", "MU_AUX", "add_muons", "muon_index", "muon_indices", "muon_quality", "write_muons"]

Arrays = tuple[np.ndarray, ...]

MAX_MU = 64
#: Columns of the per-muon scratch ``aux``: uPT (GeV), IP class, track finder, φ at the stations (rad).
MU_AUX = 4
_MU_PHI_BINS, _MU_ETA_LSB = 576, 0.010875
_MU_DRAWS = 16  # hashed draws reserved per muon source: 0 made, 1-5 pT error, 6 charge, 8-11 stations, 12-13 decay
_PI_XMIN = 0.5731  # (m_μ / m_π)²: the muon's momentum fraction in π → μν is uniform in [this, 1]
_R_SOLENOID, _Z_FIELD = 2.95, 6.0  # m: the transverse path in the 3.8 T field ends at the coil or |z| = 6 m
# EMTF quality base from the station mode (ME1 = 8, ME2 = 4, ME3 = 2, ME4 = 1), as CMSSW's
# PtAssignmentEngineAux2017::getGMTQuality for |η| > 1.2; the quality is base | (mode & 3)
_EMTF_BASE = np.array([4, 4, 4, 4, 4, 4, 4, 8, 4, 4, 8, 12, 8, 12, 12, 12], np.uint8)
# uGT muon input index of each track finder's first link (uGMT inputs 36-71, three muons per link):
# EMTF+ 0-17, OMTF+ 18-35, BMTF 36-71, OMTF− 72-89, EMTF− 90-107 (the 2024 menu's MU-INDEX cuts)
_INDEX_BASE_POS = np.array([36, 18, 0], np.int64)
_INDEX_BASE_NEG = np.array([36, 72, 90], np.int64)


@numba.njit(cache=True)
def _station_mask(key: np.uint64, c: np.uint64, eff: float) -> int:
    """Stations 1-4 (bits 3, 2, 1, 0: ME1 = 8 as the EMTF mode) that deliver a trigger segment."""
    mask = 0
    for s in range(4):
        if uniform_hash(key, c + np.uint64(s)) < eff:
            mask |= 8 >> s
    return mask


@numba.njit(cache=True)
def muon_quality(tf: int, mask: int) -> int:
    """The 4-bit quality a track finder (0 BMTF, 1 OMTF, 2 EMTF) gives a track with stations ``mask``.

    BMTF (CMSSW L1MuBMAssignmentUnit::QuaAU): 12 + stations − 1, two-station tracks without MB1 12;
    OMTF (OMTFSorter): 12, and 4 for two stations (the bad-hit-pattern list holds few-layer patterns);
    EMTF (PtAssignmentEngineAux2017::getGMTQuality): ≥ 3 stations with ME1 12-15, ME1 + one or
    ME2-3-4 8-11, the rest 4-7.
    """
    n = ((mask >> 3) & 1) + ((mask >> 2) & 1) + ((mask >> 1) & 1) + (mask & 1)
    if tf == 0:
        return 12 + n - 1 if (n > 2 or mask & 8) else 12
    if tf == 1:
        return 12 if n > 2 else 4
    return int(_EMTF_BASE[mask]) | (mask & 3)


@numba.njit(cache=True)
def muon_index(tf: int, side: int, processor: int, rank: int) -> int:
    """uGT input index of the ``rank``-th muon (0-2) of a track finder's processor (``side`` ±1: η sign)."""
    base = _INDEX_BASE_POS[tf] if side > 0 else _INDEX_BASE_NEG[tf]
    return int(base) + 3 * processor + rank


@numba.njit(cache=True)
def _processor(tf: int, phi: float) -> int:
    """BMTF wedge (30°, the first centred on φ = 0) or OMTF/EMTF sector (60°, the first from 15°) of φ,
    as the uGMT numbers them (CMSSW MicroGMTConfiguration::calcGlobalPhi)."""
    b = math.floor((phi % (2.0 * math.pi)) / (2.0 * math.pi) * _MU_PHI_BINS)
    if tf == 0:
        return ((b + 24) % _MU_PHI_BINS) // 48
    return ((b - 24) % _MU_PHI_BINS) // 96


@numba.njit(cache=True)
def _inv_pt_error(key: np.uint64, c: np.uint64, res: float, tail_frac: float, tail_start: float) -> float:
    """Relative 1/pT error: a Gaussian core, or with ``tail_frac`` the θ⁻³ single-scattering tail.

    The tail has P(|t| > x) = (x0 / x)² for x ≥ x0 = ``tail_start``·res, either sign.
    """
    if uniform_hash(key, c) < tail_frac:
        u = 1.0 - uniform_hash(key, c + np.uint64(1))  # (0, 1]
        t = tail_start * res / math.sqrt(u)
        return -t if uniform_hash(key, c + np.uint64(2)) < 0.5 else t
    return res * gauss_hash(key, c + np.uint64(3))


@numba.njit(cache=True)
def _r_cal(aeta: float) -> float:
    """Transverse distance (m) to the calorimeter, where a decay in flight must happen (as response.py)."""
    if aeta < 1.479:
        return 1.29
    return 3.15 / math.sinh(aeta)


@numba.njit(cache=True)
def add_muons(
    pool: Arrays, ev: int, rot: int, flip: bool, key: np.uint64, ctr: int, fpar: np.ndarray,
    m_pt: np.ndarray, m_eta: np.ndarray, m_phi: np.ndarray, m_q: np.ndarray, m_qual: np.ndarray,
    aux: np.ndarray, nm: int, boost: np.ndarray, w: float,
) -> tuple[int, int, float]:
    """Muon candidates of one pool event; ``boost`` = (factor, p_max, pT_min) forces rare decays.

    A source with probability p < p_max and pT ≥ pT_min becomes a muon with p' = min(1, factor·p)
    instead, and the crossing's weight ``w`` takes the likelihood ratio p/p' or (1 − p)/(1 − p').
    A source with p below the prompt efficiency ``fpar[15]`` is a π/K decay in flight: it decays at a
    radius r uniform in [0, r_cal] and its parent (taken as a pion) had pT_μ / x; the constrained fit
    sees the parent's bend up to r, the unconstrained fit the muon's, and the muon's helix misses the
    beam line by (κ_μ − κ_parent)·r² / 2.
    """
    off, mpt, meta, mphi, mq, mprob = pool[5], pool[6], pool[7], pool[8], pool[9], pool[10]
    kappa = 0.3 * fpar[16]  # curvature · pT (1/m · GeV)
    for k in range(off[ev], off[ev + 1]):
        ctr += _MU_DRAWS
        c = np.uint64(ctr)
        p = mprob[k]
        q = p
        if boost[0] > 1.0 and p < boost[1] and mpt[k] >= boost[2]:
            q = min(1.0, boost[0] * p)
        made = uniform_hash(key, c) < q
        if q != p:
            w *= p / q if made else (1.0 - p) / (1.0 - q)
        if not made or nm >= MAX_MU:
            continue
        mask = _station_mask(key, c + np.uint64(8), fpar[14])
        n_st = ((mask >> 3) & 1) + ((mask >> 2) & 1) + ((mask >> 1) & 1) + (mask & 1)
        if n_st < 2:
            continue  # a track needs two stations
        eta = -meta[k] if flip else meta[k]
        aeta = abs(eta)
        tf = 0 if aeta < 0.83 else (1 if aeta < 1.24 else 2)
        res = fpar[tf]
        scale = 1.0 + fpar[13] * res  # the track finder's pT scale: efficiency fpar[13]σ up at threshold
        t = _inv_pt_error(key, c + np.uint64(1), res * math.sqrt(3.0 / (n_st - 1)), fpar[3], fpar[4])
        r_field = min(_R_SOLENOID, _Z_FIELD / math.sinh(max(aeta, 1e-3)))
        frac = 0.0  # share of the field's transverse path the parent flew
        d_cm = 0.0
        if p < fpar[15]:
            r_dec = uniform_hash(key, c + np.uint64(12)) * _r_cal(aeta)
            x = _PI_XMIN + (1.0 - _PI_XMIN) * uniform_hash(key, c + np.uint64(13))
            frac = min(r_dec / r_field, 1.0)
            d_cm = 50.0 * kappa * (1.0 - x) / mpt[k] * r_dec * r_dec  # 100 · Δκ r² / 2
            frac *= 1.0 - x
        inv_u = (1.0 + t) / mpt[k]  # the bends between the stations: the muon's curvature
        inv = inv_u * (1.0 - frac)  # the vertex-constrained fit: parent's bend up to r, then the muon's
        charge = mq[k]
        if inv < 0.0:  # the measured bend changed sign
            inv, inv_u, charge = -inv, -inv_u, -charge
        m_pt[nm] = 1e4 if inv <= 1e-4 else scale / inv
        m_eta[nm] = eta
        m_phi[nm] = mphi[k] + rot * (2.0 * math.pi / N_PHI)
        m_q[nm] = -charge if uniform_hash(key, c + np.uint64(6)) < fpar[5] else charge
        m_qual[nm] = muon_quality(tf, mask)
        aux[nm, 0] = 1e4 if inv_u <= 1e-4 else scale / inv_u
        aux[nm, 1] = 0 if d_cm < fpar[17] else (1 if d_cm < fpar[18] else (2 if d_cm < fpar[19] else 3))
        aux[nm, 2] = tf
        bend = min(1.0, 0.5 * kappa * r_field / mpt[k])  # sin of the bend to where the stations see it
        aux[nm, 3] = m_phi[nm] - mq[k] * math.asin(bend)
        nm += 1
    return nm, ctr, w


@numba.njit(cache=True)
def write_muons(mu: Arrays, row: int, m_pt: np.ndarray, m_eta: np.ndarray, m_phi: np.ndarray,
                m_q: np.ndarray, m_qual: np.ndarray, aux: np.ndarray, nm: int) -> None:
    """The 8 highest-pT muons into row ``row``; each link (processor) carries at most its three best."""
    o_pt, o_eta, o_phi, o_iso, o_qual, o_q, o_upt, o_ip, o_idx = mu
    order = np.full(max(nm, 1), -1, np.int64)
    n_sorted = 0
    for i in range(nm):  # insertion sort by pT, highest first, stable
        k = n_sorted
        while k > 0 and m_pt[order[k - 1]] < m_pt[i]:
            order[k] = order[k - 1]
            k -= 1
        order[k] = i
        n_sorted += 1
    per_link = np.zeros(108 // 3, np.int64)
    out = 0
    for s in range(n_sorted):
        if out >= o_pt.shape[1]:
            break
        j = order[s]
        hw = math.floor(m_pt[j] * 2.0)
        if hw <= 0:
            break
        tf = int(aux[j, 2])
        side = 1 if m_eta[j] >= 0 else -1
        link = muon_index(tf, side, _processor(tf, aux[j, 3]), 0) // 3
        if per_link[link] >= 3:
            continue  # the link's three muons are taken
        o_idx[row, out] = link * 3 + per_link[link]
        per_link[link] += 1
        o_pt[row, out] = min(hw, 511)
        o_eta[row, out] = round(m_eta[j] / _MU_ETA_LSB)
        phi = m_phi[j] % (2.0 * math.pi)
        o_phi[row, out] = math.floor(phi / (2.0 * math.pi) * _MU_PHI_BINS) % _MU_PHI_BINS
        o_iso[row, out] = 0
        o_qual[row, out] = m_qual[j]
        o_q[row, out] = m_q[j]
        o_upt[row, out] = min(math.floor(aux[j, 0]), 255)
        o_ip[row, out] = int(aux[j, 1])
        out += 1


@numba.njit(cache=True)
def muon_indices(eta_hw: np.ndarray, phi_hw: np.ndarray, pt_hw: np.ndarray) -> np.ndarray:
    """uint8 track-finder indices of pT-ordered muon columns (N, 8) in uGT units, from η and the
    vertex φ (for samples without a track model, e.g. parametric ones; empty slots 0)."""
    out = np.zeros(eta_hw.shape, np.uint8)
    per_link = np.zeros(108 // 3, np.int64)
    for row in range(eta_hw.shape[0]):
        per_link[:] = 0
        for k in range(eta_hw.shape[1]):
            if pt_hw[row, k] <= 0:
                continue
            aeta = abs(eta_hw[row, k]) * _MU_ETA_LSB
            tf = 0 if aeta < 0.83 else (1 if aeta < 1.24 else 2)
            phi = (phi_hw[row, k] + 0.5) * (2.0 * math.pi / _MU_PHI_BINS)
            link = muon_index(tf, 1 if eta_hw[row, k] >= 0 else -1, _processor(tf, phi), 0) // 3
            out[row, k] = link * 3 + min(per_link[link], 2)
            per_link[link] += 1
    return out
