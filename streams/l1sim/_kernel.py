"""The per-crossing numba kernel: sum tower deposits, quantise, find L1 objects, sums, regions.

Randomness inside a crossing (muon efficiency, stations, resolution, charge) comes
from a counter-based hash of (seed, global crossing number, draw number), so the
output does not depend on how crossings are split into batches.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from streams.l1sim._objects import MAX_CAND, PAD, find_eg, find_jets, find_taus, top_n
from streams.l1sim._rng import M2, gauss_hash, uniform_hash
from streams.l1sim._tau_cms import find_taus_cms
from streams.l1sim._tau_iso import LUT
from streams.l1sim.geometry import N_ETA, N_PHI

__all__ = ["DEP_SCALE", "emulate_kernel", "muon_quality"]

Arrays = tuple[np.ndarray, ...]

#: Tower deposits are integers in units of 1/DEP_SCALE GeV (see response.py).
DEP_SCALE = 16
_TRIG = 1 << 10
_MU_PHI_BINS, _MU_ETA_LSB = 576, 0.010875
_MAX_MU = 64
_MU_DRAWS = 16  # hashed draws reserved per muon source
# EMTF quality base from the station mode (ME1 = 8, ME2 = 4, ME3 = 2, ME4 = 1), as CMSSW's
# PtAssignmentEngineAux2017::getGMTQuality for |η| > 1.2; the quality is base | (mode & 3)
_EMTF_BASE = np.array([4, 4, 4, 4, 4, 4, 4, 8, 4, 4, 8, 12, 8, 12, 12, 12], np.uint8)


@numba.njit(cache=True)
def _add_event(grid: np.ndarray, pool: Arrays, ev: int, rot: int, flip: bool) -> None:
    """Add pool event ``ev`` (rotated, reflected) to the integer (η, φ, [EM, HAD]) grid."""
    off, ieta, iphi, dem, dhad = pool[0], pool[1], pool[2], pool[3], pool[4]
    for k in range(off[ev], off[ev + 1]):
        ie = ieta[k]
        if flip:
            ie = N_ETA - 1 - ie
        ip = iphi[k] + rot
        if ip >= N_PHI:
            ip -= N_PHI
        grid[ie, ip, 0] += dem[k]
        grid[ie, ip, 1] += dhad[k]


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
def _add_muons(
    pool: Arrays, ev: int, rot: int, flip: bool, key: np.uint64, ctr: int, fpar: np.ndarray,
    m_pt: np.ndarray, m_eta: np.ndarray, m_phi: np.ndarray, m_q: np.ndarray, m_qual: np.ndarray, nm: int,
    boost: np.ndarray, w: float,
) -> tuple[int, int, float]:
    """Muon candidates of one pool event; ``boost`` = (factor, p_max, pT_min) forces rare decays.

    A source with probability p < p_max and pT ≥ pT_min becomes a muon with p' = min(1, factor·p)
    instead, and the crossing's weight ``w`` takes the likelihood ratio p/p' or (1 − p)/(1 − p').
    """
    off, mpt, meta, mphi, mq, mprob = pool[5], pool[6], pool[7], pool[8], pool[9], pool[10]
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
        if not made or nm >= _MAX_MU:
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
        inv = (1.0 + t) / mpt[k]
        charge = mq[k]
        if inv < 0.0:  # the measured bend changed sign
            inv, charge = -inv, -charge
        m_pt[nm] = 1e4 if inv <= 1e-4 else scale / inv
        m_eta[nm] = eta
        m_phi[nm] = mphi[k] + rot * (2.0 * math.pi / N_PHI)
        m_q[nm] = -charge if uniform_hash(key, c + np.uint64(6)) < fpar[5] else charge
        m_qual[nm] = muon_quality(tf, mask)
        nm += 1
    return nm, ctr, w


@numba.njit(cache=True)
def _write_calo(out: Arrays, row: int, idx: np.ndarray, c_pt: np.ndarray, c_ie: np.ndarray,
                c_ip: np.ndarray, c_iso: np.ndarray, hw_eta: np.ndarray, pt_max: int) -> None:
    o_pt, o_eta, o_phi, o_iso, o_qual = out
    for k in range(len(idx)):
        j = idx[k]
        if j < 0:
            break
        o_pt[row, k] = min(c_pt[j], pt_max)
        o_eta[row, k] = hw_eta[c_ie[j]]
        o_phi[row, k] = 2 * c_ip[j] + 1
        o_iso[row, k] = c_iso[j]
        o_qual[row, k] = 1


@numba.njit(cache=True)
def _vector_sum(ex: int, ey: int) -> tuple[int, int]:
    """Magnitude (hw) and calo φ (144 bins) of the negative of a 2^10-scaled vector sum."""
    mag = math.floor(math.hypot(ex, ey) / _TRIG)
    ang = math.atan2(-ey, -ex) % (2.0 * math.pi)
    return mag, math.floor(ang / (2.0 * math.pi) * 144) % 144


@numba.njit(cache=True)
def _n_central(tot: np.ndarray) -> int:
    """CMS's pileup estimator nTT: towers with ET > 0 in |ieta| ≤ 4 (8 × 72)."""
    n = 0
    for ie in range(N_ETA // 2 - 4, N_ETA // 2 + 4):
        for ip in range(PAD, PAD + N_PHI):
            n += 1 if tot[ie + PAD, ip] > 0 else 0
    return n


@numba.njit(cache=True)
def _quantise(
    grid: np.ndarray, em: np.ndarray, had: np.ndarray, tot: np.ndarray, S: np.ndarray, ipar: np.ndarray,
    cos72: np.ndarray, sin72: np.ndarray, region_eta: np.ndarray, met_thr: np.ndarray, regions: np.ndarray,
    sums: np.ndarray, row: int,
) -> tuple[float, int]:
    """Floor tower ETs to 0.5 GeV into the padded grids; ETT, ETM, ETMHF, regions; integral image.

    ETT sums towers ≥ ``ipar[3]``; ETM and ETMHF sum towers above the pileup-mitigation threshold
    ``met_thr[ieta, nTT4]`` (CMS's tower-threshold LUT, see config.py). Returns ρ, the mean ET (hw)
    of central towers with at most 5 GeV, and nTT (towers with ET > 0 in |ieta| ≤ 4).
    """
    thr = ipar[3]
    soft = n_soft = ett = 0
    for ie in range(N_ETA):  # simple inner loops over φ, so that LLVM vectorises them
        rp = ie + PAD
        g = grid[ie]
        e_row = em[rp, PAD : PAD + N_PHI]
        h_row = had[rp, PAD : PAD + N_PHI]
        t_row = tot[rp, PAD : PAD + N_PHI]
        for ip in range(N_PHI):
            e_row[ip] = np.int32(g[ip, 0] >> np.uint16(3))  # 1/16 GeV -> 0.5 GeV, floor
            h_row[ip] = np.int32(g[ip, 1] >> np.uint16(3))
            t_row[ip] = e_row[ip] + h_row[ip]
        if region_eta[ie] >= 0:
            for ip in range(N_PHI):
                t = t_row[ip]
                ett += t if t >= thr else 0
                soft += t if t <= 10 else 0
                n_soft += 1 if t <= 10 else 0
        for k in range(PAD):  # φ wrap-around padding
            em[rp, k] = em[rp, N_PHI + k]
            had[rp, k] = had[rp, N_PHI + k]
            tot[rp, k] = tot[rp, N_PHI + k]
            em[rp, N_PHI + PAD + k] = em[rp, PAD + k]
            had[rp, N_PHI + PAD + k] = had[rp, PAD + k]
            tot[rp, N_PHI + PAD + k] = tot[rp, PAD + k]
    n_tt = _n_central(tot)
    ntt4 = min(n_tt // 5, 31)  # compNTT4 of the sums' LUT
    ex = ey = exh = eyh = 0
    for ie in range(N_ETA):
        t_row = tot[ie + PAD, PAD : PAD + N_PHI]
        cut = met_thr[ie, ntt4]
        cx = cy = 0
        for ip in range(N_PHI):
            t = t_row[ip] if t_row[ip] > cut else 0
            cx += t * cos72[ip]
            cy += t * sin72[ip]
        if region_eta[ie] >= 0:
            ex += cx
            ey += cy
        else:
            exh += cx
            eyh += cy
    for r in range(tot.shape[0]):
        acc = 0
        for c in range(tot.shape[1]):
            acc += tot[r, c]
            S[r + 1, c + 1] = S[r, c + 1] + acc
    for ie0 in range(0, N_ETA, 4):
        r = region_eta[ie0]
        if r < 0 or region_eta[ie0 + 3] != r:
            continue
        for k in range(N_PHI // 4):
            regions[row, k, r] = min(S[ie0 + PAD + 4, 4 * k + PAD + 4] - S[ie0 + PAD, 4 * k + PAD + 4]
                                     - S[ie0 + PAD + 4, 4 * k + PAD] + S[ie0 + PAD, 4 * k + PAD], 1023)
    sums[row, 0] = ett
    sums[row, 2], sums[row, 3] = _vector_sum(ex, ey)
    sums[row, 6], sums[row, 7] = _vector_sum(ex + exh, ey + eyh)
    return soft / max(n_soft, 1), n_tt


@numba.njit(cache=True)
def _jet_sums(jet_pt: np.ndarray, jet_eta: np.ndarray, jet_phi: np.ndarray, ipar: np.ndarray,
              cos144: np.ndarray, sin144: np.ndarray, sums: np.ndarray, row: int) -> None:
    htt = hx = hy = 0
    for k in range(jet_pt.shape[1]):
        pt = jet_pt[row, k]
        if pt >= ipar[4] and abs(jet_eta[row, k]) <= ipar[5]:
            htt += pt
            hx += pt * cos144[jet_phi[row, k]]
            hy += pt * sin144[jet_phi[row, k]]
    sums[row, 1] = htt
    sums[row, 4], sums[row, 5] = _vector_sum(hx, hy)


@numba.njit(cache=True)
def emulate_kernel(
    key0: np.uint64, first_gid: int, draw_off: np.ndarray, draw_idx: np.ndarray, draw_rot: np.ndarray,
    draw_flip: np.ndarray, hs_idx: np.ndarray, pu: Arrays, hs: Arrays, ipar: np.ndarray,
    fpar: np.ndarray, geo: Arrays, eg_lut: Arrays, tau_cal: np.ndarray, tau_iso: Arrays, eg: Arrays, tau: Arrays,
    jet: Arrays,
    mu: Arrays, sums: np.ndarray, regions: np.ndarray, boost: np.ndarray, weight: np.ndarray,
) -> None:
    """Fill the output arrays for ``len(hs_idx)`` crossings (see crossing.py for the layout)."""
    hw_eta, region_eta, cos72, sin72, cos144, sin144, met_thr = geo
    grid = np.zeros((N_ETA, N_PHI, 2), np.uint16)  # 23 kB: stays in L1 cache
    shape = (N_ETA + 2 * PAD, N_PHI + 2 * PAD)
    em = np.zeros(shape, np.int32)
    had = np.zeros(shape, np.int32)
    tot = np.zeros(shape, np.int32)
    S = np.zeros((shape[0] + 1, shape[1] + 1), np.int64)
    c_pt = np.zeros(MAX_CAND, np.int64)
    c_ie = np.zeros(MAX_CAND, np.int64)
    c_ip = np.zeros(MAX_CAND, np.int64)
    c_iso = np.zeros(MAX_CAND, np.int64)
    tau_scratch = np.zeros((4, MAX_CAND), np.int64)
    tau_at = np.full((N_ETA, N_PHI), -1, np.int64)
    m_pt = np.zeros(_MAX_MU, np.float64)
    m_eta = np.zeros(_MAX_MU, np.float64)
    m_phi = np.zeros(_MAX_MU, np.float64)
    m_q = np.zeros(_MAX_MU, np.int8)
    m_qual = np.zeros(_MAX_MU, np.uint8)
    for row in range(len(hs_idx)):
        grid[:] = 0
        key = key0 ^ (np.uint64(first_gid + row) * M2)
        nm, ctr, w = 0, 0, 1.0
        for j in range(draw_off[row], draw_off[row + 1]):
            _add_event(grid, pu, draw_idx[j], draw_rot[j], draw_flip[j])
            nm, ctr, w = _add_muons(pu, draw_idx[j], draw_rot[j], draw_flip[j], key, ctr, fpar,
                                    m_pt, m_eta, m_phi, m_q, m_qual, nm, boost, w)
        if hs_idx[row] >= 0:
            _add_event(grid, hs, hs_idx[row], 0, False)
            nm, ctr, w = _add_muons(hs, hs_idx[row], 0, False, key, ctr, fpar,
                                    m_pt, m_eta, m_phi, m_q, m_qual, nm, boost, w)
        weight[row] = w
        rho, n_tt = _quantise(grid, em, had, tot, S, ipar, cos72, sin72, region_eta, met_thr, regions, sums, row)
        n = find_eg(em, had, S, rho, ipar[6], ipar[7], ipar[0], ipar[9], ipar[10], fpar[6], fpar[7], fpar[8],
                    eg_lut, c_pt, c_ie, c_ip, c_iso)
        _write_calo(eg, row, top_n(c_pt, n, eg[0].shape[1]), c_pt, c_ie, c_ip, c_iso, hw_eta, 511)
        iso_mode, iso_lut, iso_eta, iso_et, iso_ntt = tau_iso
        ntt_c = iso_ntt[min(n_tt, 1023)] if iso_mode[0] == LUT else -1
        if ipar[11] == 1:  # CMS layer 2's clusters and merging sites (_tau_cms.py)
            n = find_taus_cms(tot, S, rho, ipar[6], ipar[7], ipar[1], ipar[0], ipar[9], tau_cal, fpar[10],
                              fpar[11], iso_lut, iso_eta, iso_et, ntt_c, c_pt, c_ie, c_ip, c_iso)
        else:
            n = find_taus(tot, S, rho, ipar[6], ipar[7], ipar[1], tau_cal, fpar[10], fpar[11], iso_lut, iso_eta,
                          iso_et, ntt_c, c_pt, c_ie, c_ip, c_iso, tau_scratch, tau_at)
        _write_calo(tau, row, top_n(c_pt, n, tau[0].shape[1]), c_pt, c_ie, c_ip, c_iso, hw_eta, 511)
        n = find_jets(tot, S, ipar[2], ipar[8] != 0, fpar[12], c_pt, c_ie, c_ip)
        c_iso[:n] = 0
        _write_calo(jet, row, top_n(c_pt, n, jet[0].shape[1]), c_pt, c_ie, c_ip, c_iso, hw_eta, 2047)
        for k in range(jet[4].shape[1]):
            jet[4][row, k] = 0  # jets carry no quality bits
        _jet_sums(jet[0], jet[1], jet[2], ipar, cos144, sin144, sums, row)
        _write_muons(mu, row, m_pt, m_eta, m_phi, m_q, m_qual, nm)


@numba.njit(cache=True)
def _write_muons(mu: Arrays, row: int, m_pt: np.ndarray, m_eta: np.ndarray, m_phi: np.ndarray,
                 m_q: np.ndarray, m_qual: np.ndarray, nm: int) -> None:
    o_pt, o_eta, o_phi, o_iso, o_qual, o_q = mu
    idx = top_n(m_pt, nm, o_pt.shape[1])
    for k in range(len(idx)):
        j = idx[k]
        if j < 0:
            break
        hw = math.floor(m_pt[j] * 2.0)
        if hw <= 0:
            break
        o_pt[row, k] = min(hw, 511)
        o_eta[row, k] = round(m_eta[j] / _MU_ETA_LSB)
        phi = m_phi[j] % (2.0 * math.pi)
        o_phi[row, k] = math.floor(phi / (2.0 * math.pi) * _MU_PHI_BINS) % _MU_PHI_BINS
        o_iso[row, k] = 0
        o_qual[row, k] = m_qual[j]
        o_q[row, k] = m_q[j]
