"""The per-crossing numba kernel: sum tower deposits, quantise, find L1 objects, sums, regions.

Randomness inside a crossing (muon efficiency, stations, resolution, charge; :mod:`._muons`) comes
from a counter-based hash of (seed, global crossing number, draw number), so the
output does not depend on how crossings are split into batches.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from streams.l1sim._muons import MAX_MU, MU_AUX, add_muons, muon_quality, write_muons
from streams.l1sim._objects import MAX_CAND, PAD, find_eg, find_jets, find_taus, top_n
from streams.l1sim._rng import M2
from streams.l1sim._tau_cms import find_taus_cms
from streams.l1sim._tau_iso import LUT
from streams.l1sim.geometry import N_ETA, N_PHI

__all__ = ["DEP_SCALE", "emulate_kernel", "muon_quality"]

Arrays = tuple[np.ndarray, ...]

#: Tower deposits are integers in units of 1/DEP_SCALE GeV (see response.py).
DEP_SCALE = 16
_TRIG = 1 << 10


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
    m_pt = np.zeros(MAX_MU, np.float64)
    m_eta = np.zeros(MAX_MU, np.float64)
    m_phi = np.zeros(MAX_MU, np.float64)
    m_q = np.zeros(MAX_MU, np.int8)
    m_qual = np.zeros(MAX_MU, np.uint8)
    aux = np.zeros((MAX_MU, MU_AUX), np.float64)
    for row in range(len(hs_idx)):
        grid[:] = 0
        key = key0 ^ (np.uint64(first_gid + row) * M2)
        nm, ctr, w = 0, 0, 1.0
        for j in range(draw_off[row], draw_off[row + 1]):
            _add_event(grid, pu, draw_idx[j], draw_rot[j], draw_flip[j])
            nm, ctr, w = add_muons(pu, draw_idx[j], draw_rot[j], draw_flip[j], key, ctr, fpar,
                                   m_pt, m_eta, m_phi, m_q, m_qual, aux, nm, boost, w)
        if hs_idx[row] >= 0:
            _add_event(grid, hs, hs_idx[row], 0, False)
            nm, ctr, w = add_muons(hs, hs_idx[row], 0, False, key, ctr, fpar,
                                   m_pt, m_eta, m_phi, m_q, m_qual, aux, nm, boost, w)
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
        _write_calo(jet[:5], row, top_n(c_pt, n, jet[0].shape[1]), c_pt, c_ie, c_ip, c_iso, hw_eta, 2047)
        for k in range(jet[4].shape[1]):
            jet[4][row, k] = 0  # jets carry no quality bits
        _jet_sums(jet[0], jet[1], jet[2], ipar, cos144, sin144, sums, row)
        write_muons(mu, row, m_pt, m_eta, m_phi, m_q, m_qual, aux, nm)
