"""The per-crossing numba kernel: sum tower deposits, quantise, find L1 objects, sums, regions.

Randomness inside a crossing (muon efficiency, resolution, quality, charge) comes
from a counter-based hash of (seed, global crossing number, draw number), so the
output does not depend on how crossings are split into batches.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from streams.l1sim._objects import find_eg, find_jets, find_taus, top_n
from streams.l1sim.geometry import N_ETA, N_PHI

__all__ = ["emulate_kernel", "uniform_hash"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TRIG = 1 << 10
_MU_PHI_BINS, _MU_ETA_LSB = 576, 0.010875
_QUAL_VALUES = np.array([15, 12, 8, 4], np.uint8)
_QUAL_CDF = np.array([0.60, 0.85, 0.95, 1.0])
_MAX_CAND = 512
_MAX_MU = 64


@numba.njit(cache=True)
def uniform_hash(key: np.uint64, counter: np.uint64) -> float:
    """A uniform double in [0, 1) from splitmix64 of ``key + counter·golden``."""
    z = key + (counter + np.uint64(1)) * _GOLD
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    z = z ^ (z >> _S31)
    return float(z >> _S11) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True)
def _gauss(key: np.uint64, counter: np.uint64) -> float:
    u1 = max(uniform_hash(key, counter), 1e-300)
    u2 = uniform_hash(key, counter + np.uint64(1))
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@numba.njit(cache=True)
def _add_event(
    em: np.ndarray, had: np.ndarray, pool: tuple, ev: int, rot: int, flip: bool,
) -> None:
    off, ieta, iphi, dem, dhad = pool[0], pool[1], pool[2], pool[3], pool[4]
    for k in range(off[ev], off[ev + 1]):
        ie = ieta[k]
        if flip:
            ie = N_ETA - 1 - ie
        ip = iphi[k] + rot
        if ip >= N_PHI:
            ip -= N_PHI
        em[ie, ip] += dem[k]
        had[ie, ip] += dhad[k]


@numba.njit(cache=True)
def _add_muons(  # noqa: PLR0913
    pool: tuple, ev: int, rot: int, flip: bool, key: np.uint64, ctr: int, fpar: np.ndarray,
    m_pt: np.ndarray, m_eta: np.ndarray, m_phi: np.ndarray, m_q: np.ndarray, m_qual: np.ndarray, nm: int,
) -> tuple[int, int]:
    off, mpt, meta, mphi, mq, mprob = pool[5], pool[6], pool[7], pool[8], pool[9], pool[10]
    for k in range(off[ev], off[ev + 1]):
        ctr += 8
        c = np.uint64(ctr)
        if uniform_hash(key, c) >= mprob[k] or nm >= _MAX_MU:
            continue
        eta = -meta[k] if flip else meta[k]
        aeta = abs(eta)
        res = fpar[0] if aeta < 0.83 else (fpar[1] if aeta < 1.24 else fpar[2])
        if uniform_hash(key, c + np.uint64(1)) < fpar[3]:
            res *= fpar[4]
        inv = (1.0 + res * _gauss(key, c + np.uint64(2))) / mpt[k]
        m_pt[nm] = 1e4 if inv <= 1e-4 else 1.0 / inv
        m_eta[nm] = eta
        m_phi[nm] = mphi[k] + rot * (2.0 * math.pi / N_PHI)
        flip_q = uniform_hash(key, c + np.uint64(4)) < fpar[5]
        m_q[nm] = -mq[k] if flip_q else mq[k]
        u = uniform_hash(key, c + np.uint64(5))
        qi = 0
        while u > _QUAL_CDF[qi]:
            qi += 1
        m_qual[nm] = _QUAL_VALUES[qi]
        nm += 1
    return nm, ctr


@numba.njit(cache=True)
def _write_calo(out: tuple, row: int, idx: np.ndarray, c_pt: np.ndarray, c_ie: np.ndarray,
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
    mag = int(math.floor(math.hypot(ex, ey) / _TRIG))
    ang = math.atan2(-ey, -ex) % (2.0 * math.pi)
    return mag, int(math.floor(ang / (2.0 * math.pi) * 144)) % 144


@numba.njit(cache=True)
def _sums(tot: np.ndarray, ipar: np.ndarray, cos72: np.ndarray, sin72: np.ndarray,
          region_eta: np.ndarray, regions: np.ndarray, sums: np.ndarray, row: int) -> float:
    """ETT, ETM, ETMHF and region ETs of one crossing; returns ρ (mean soft tower ET, hw)."""
    ett = 0
    ex = ey = exh = eyh = 0
    soft = n_soft = 0
    for ie in range(N_ETA):
        r = region_eta[ie]
        for ip in range(N_PHI):
            t = tot[ie, ip]
            if r >= 0:
                if t <= 10:
                    soft += t
                    n_soft += 1
                regions[row, ip // 4, r] = min(regions[row, ip // 4, r] + t, 1023)
            if t < ipar[3]:
                continue
            exh += t * cos72[ip]
            eyh += t * sin72[ip]
            if r >= 0:
                ett += t
                ex += t * cos72[ip]
                ey += t * sin72[ip]
    sums[row, 0] = ett
    sums[row, 2], sums[row, 3] = _vector_sum(ex, ey)
    sums[row, 6], sums[row, 7] = _vector_sum(exh, eyh)
    return soft / max(n_soft, 1)


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
def emulate_kernel(  # noqa: PLR0913, PLR0915
    key0: np.uint64, first_gid: int, draw_off: np.ndarray, draw_idx: np.ndarray, draw_rot: np.ndarray,
    draw_flip: np.ndarray, hs_idx: np.ndarray, pu: tuple, hs: tuple, ipar: np.ndarray, fpar: np.ndarray,
    geo: tuple, eg: tuple, tau: tuple, jet: tuple, mu: tuple, sums: np.ndarray, regions: np.ndarray,
) -> None:
    """Fill the output arrays for ``len(hs_idx)`` crossings (see crossing.py for the layout)."""
    hw_eta, region_eta, cos72, sin72, cos144, sin144 = geo
    em_f = np.zeros((N_ETA, N_PHI), np.float32)
    had_f = np.zeros((N_ETA, N_PHI), np.float32)
    em = np.zeros((N_ETA, N_PHI), np.int32)
    had = np.zeros((N_ETA, N_PHI), np.int32)
    tot = np.zeros((N_ETA, N_PHI), np.int32)
    c_pt = np.zeros(_MAX_CAND, np.int64)
    c_ie = np.zeros(_MAX_CAND, np.int64)
    c_ip = np.zeros(_MAX_CAND, np.int64)
    c_iso = np.zeros(_MAX_CAND, np.int64)
    m_pt = np.zeros(_MAX_MU, np.float64)
    m_eta = np.zeros(_MAX_MU, np.float64)
    m_phi = np.zeros(_MAX_MU, np.float64)
    m_q = np.zeros(_MAX_MU, np.int8)
    m_qual = np.zeros(_MAX_MU, np.uint8)
    for row in range(len(hs_idx)):
        em_f[:] = 0.0
        had_f[:] = 0.0
        key = key0 ^ (np.uint64(first_gid + row) * _M2)
        nm, ctr = 0, 0
        for j in range(draw_off[row], draw_off[row + 1]):
            _add_event(em_f, had_f, pu, draw_idx[j], draw_rot[j], draw_flip[j])
            nm, ctr = _add_muons(pu, draw_idx[j], draw_rot[j], draw_flip[j], key, ctr, fpar,
                                 m_pt, m_eta, m_phi, m_q, m_qual, nm)
        if hs_idx[row] >= 0:
            _add_event(em_f, had_f, hs, hs_idx[row], 0, False)
            nm, ctr = _add_muons(hs, hs_idx[row], 0, False, key, ctr, fpar,
                                 m_pt, m_eta, m_phi, m_q, m_qual, nm)
        for ie in range(N_ETA):
            for ip in range(N_PHI):
                em[ie, ip] = int(em_f[ie, ip] * 2.0)
                had[ie, ip] = int(had_f[ie, ip] * 2.0)
                tot[ie, ip] = em[ie, ip] + had[ie, ip]
        rho = _sums(tot, ipar, cos72, sin72, region_eta, regions, sums, row)
        n = find_eg(em, had, tot, rho, ipar[6], ipar[7], ipar[0], fpar[6], fpar[7], fpar[8],
                    c_pt, c_ie, c_ip, c_iso)
        _write_calo(eg, row, top_n(c_pt, n, eg[0].shape[1]), c_pt, c_ie, c_ip, c_iso, hw_eta, 511)
        n = find_taus(tot, rho, ipar[6], ipar[7], ipar[1], fpar[9], fpar[10], fpar[11],
                      c_pt, c_ie, c_ip, c_iso)
        _write_calo(tau, row, top_n(c_pt, n, tau[0].shape[1]), c_pt, c_ie, c_ip, c_iso, hw_eta, 511)
        n = find_jets(tot, ipar[2], ipar[8] != 0, fpar[12], c_pt, c_ie, c_ip)
        c_iso[:n] = 0
        _write_calo(jet, row, top_n(c_pt, n, jet[0].shape[1]), c_pt, c_ie, c_ip, c_iso, hw_eta, 2047)
        for k in range(jet[4].shape[1]):
            jet[4][row, k] = 0  # jets carry no quality bits
        _jet_sums(jet[0], jet[1], jet[2], ipar, cos144, sin144, sums, row)
        _write_muons(mu, row, m_pt, m_eta, m_phi, m_q, m_qual, nm)


@numba.njit(cache=True)
def _write_muons(mu: tuple, row: int, m_pt: np.ndarray, m_eta: np.ndarray, m_phi: np.ndarray,
                 m_q: np.ndarray, m_qual: np.ndarray, nm: int) -> None:
    o_pt, o_eta, o_phi, o_iso, o_qual, o_q = mu
    idx = top_n(m_pt, nm, o_pt.shape[1])
    for k in range(len(idx)):
        j = idx[k]
        if j < 0:
            break
        hw = int(math.floor(m_pt[j] * 2.0))
        if hw <= 0:
            break
        o_pt[row, k] = min(hw, 511)
        o_eta[row, k] = int(round(m_eta[j] / _MU_ETA_LSB))
        phi = m_phi[j] % (2.0 * math.pi)
        o_phi[row, k] = int(math.floor(phi / (2.0 * math.pi) * _MU_PHI_BINS)) % _MU_PHI_BINS
        o_iso[row, k] = 0
        o_qual[row, k] = m_qual[j]
        o_q[row, k] = m_q[j]
