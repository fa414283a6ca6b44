"""Detector response, applied once per pool event: particles → tower deposits + muon sources.

Each pool event becomes a sparse list of (tower, EM ET, hadronic ET) entries, so a
premixed crossing is a sum of such lists (see :mod:`streams.l1sim.crossing`), and a
list of muon *sources* — particles that may give an L1 muon, each with the
probability that it does (prompt muons: the efficiency; π/K: decay in flight).

>>> import numpy as np
>>> from streams.l1sim.config import L1SimConfig
>>> t = compute_towers(
...     offsets=np.array([0, 2]), pt=np.array([50.0, 20.0], np.float32),
...     eta=np.array([0.1, -1.0], np.float32), phi=np.array([0.5, 2.0], np.float32),
...     e=np.array([50.25, 30.9], np.float32), pid=np.array([22, 13], np.int32),
...     charge=np.array([0, -1], np.int8), config=L1SimConfig(), seed=1)
>>> len(t), int(t.mu_off[-1])
(1, 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from streams.l1sim._kernel import DEP_SCALE
from streams.l1sim._rng import uniform_hash
from streams.l1sim.config import L1SimConfig
from streams.l1sim.geometry import ETA_EDGES, N_ETA, N_PHI

__all__ = ["TowerPool", "compute_towers", "concat_tower_pools"]

_PI_MASS, _PI_CTAU_M, _PI_XMIN = 0.13957, 7.804, 0.5731  # x_min = (m_μ/m_π)²
_K_MASS, _K_CTAU_M, _K_BR, _K_XMIN = 0.49368, 3.711, 0.636, 0.0458
_NUCLEON_MASS = 0.9383
_ETA_MAX = float(ETA_EDGES[-1])
_SHARE_MIN = 0.02  # a neighbour tower gets a share of a shower only above this
_DEP_MAX = 32767  # per pool event and tower: the uint16 crossing sum cannot overflow


@dataclass(frozen=True, slots=True)
class TowerPool:
    """Per-event sparse tower deposits and muon sources of a pool."""

    dep_off: np.ndarray  # int64 (n + 1,)
    dep_ieta: np.ndarray  # uint8
    dep_iphi: np.ndarray  # uint8
    dep_em: np.ndarray  # uint16 ET in units of 1/16 GeV (DEP_SCALE), dithered
    dep_had: np.ndarray  # uint16 ET in units of 1/16 GeV
    mu_off: np.ndarray  # int64 (n + 1,)
    mu_pt: np.ndarray  # float32 GeV (muon pT at production)
    mu_eta: np.ndarray  # float32
    mu_phi: np.ndarray  # float32, radians
    mu_charge: np.ndarray  # int8
    mu_prob: np.ndarray  # float32, probability of an L1 muon

    def __len__(self) -> int:
        return len(self.dep_off) - 1


@numba.njit(cache=True)
def _r_cal(aeta: float) -> float:
    """Transverse distance (m) a particle travels in the field before the calorimeter."""
    if aeta < 1.479:
        return 1.29
    if aeta < 3.0:
        return 3.15 / math.sinh(aeta)
    return 6.0 / math.sinh(aeta)


@numba.njit(cache=True)
def _r_face(aeta: float, em: bool) -> float:
    """Transverse distance (m) of the calorimeter face a shower starts at: ECAL for e/γ, HCAL for
    hadrons (HB r = 1.77 m, HE z = 3.88 m), HF z = 11.15 m. A lateral size R there is R / r in η and φ."""
    if aeta >= 3.0:
        return 11.15 / math.sinh(aeta)
    if em:
        return 1.29 if aeta < 1.479 else 3.15 / math.sinh(aeta)
    return 1.77 if aeta < 1.3 else 3.88 / math.sinh(aeta)


@numba.njit(cache=True)
def _fractions(x: float, lo: float, hi: float, sig: float, out: np.ndarray) -> None:
    """Shares of a Gaussian (mean x in [lo, hi), width sig) below lo, inside, and above hi."""
    if sig <= 0.0:
        out[0], out[1], out[2] = 0.0, 1.0, 0.0
        return
    k = 1.0 / (sig * math.sqrt(2.0))
    below = 0.5 * math.erfc((x - lo) * k)
    above = 0.5 * math.erfc((hi - x) * k)
    below = below if below > _SHARE_MIN else 0.0
    above = above if above > _SHARE_MIN else 0.0
    out[0], out[1], out[2] = below, 1.0 - below - above, above


@numba.njit(cache=True)
def _smear(energy: float, stoch: float, const: float, g: float) -> float:
    sigma = math.sqrt(stoch * stoch / max(energy, 1e-3) + const * const)
    return max(0.0, energy * (1.0 + sigma * g))


@numba.njit(cache=True)
def _to_units(et: float, u: float) -> int:
    """ET (GeV) to 1/16 GeV integers with dithering (unbiased), saturating at 2047.9 GeV."""
    return min(math.floor(et * DEP_SCALE + u), _DEP_MAX)


@numba.njit(cache=True)
def _kernel(
    offsets: np.ndarray, pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, e: np.ndarray,
    pid: np.ndarray, charge: np.ndarray, gauss: np.ndarray, unif: np.ndarray,
    edges: np.ndarray, par: np.ndarray, dis: bool, key: np.uint64,
) -> tuple[np.ndarray, ...]:
    b_curv = 0.15 * par[0]  # GeV/m: pT = 0.3·B·r/2
    n_ev = len(offsets) - 1
    n_p = len(pt)
    d_off = np.zeros(n_ev + 1, np.int64)
    n_dep = 0  # at most 9 towers per particle and every tower once per event
    for ev in range(n_ev):
        n_dep += min(9 * (offsets[ev + 1] - offsets[ev]), N_ETA * N_PHI)
    d_ieta = np.empty(n_dep, np.uint8)
    d_iphi = np.empty(n_dep, np.uint8)
    d_em = np.empty(n_dep, np.uint16)
    d_had = np.empty(n_dep, np.uint16)
    m_off = np.zeros(n_ev + 1, np.int64)
    m_pt = np.empty(n_p, np.float32)
    m_eta = np.empty(n_p, np.float32)
    m_phi = np.empty(n_p, np.float32)
    m_q = np.empty(n_p, np.int8)
    m_prob = np.empty(n_p, np.float32)
    em_s = np.zeros(N_ETA * N_PHI, np.float64)
    had_s = np.zeros(N_ETA * N_PHI, np.float64)
    hit = np.zeros(N_ETA * N_PHI, np.bool_)
    touched = np.empty(N_ETA * N_PHI, np.int64)
    nd = 0
    nm = 0
    two_pi = 2.0 * math.pi
    dphi = two_pi / N_PHI
    fe = np.zeros(3, np.float64)
    fp = np.zeros(3, np.float64)
    for ev in range(n_ev):
        nt = 0
        for i in range(offsets[ev], offsets[ev + 1]):
            apid = abs(pid[i])
            aeta = abs(eta[i])
            if apid == 12 or apid == 14 or apid == 16 or apid > 1000000 or aeta >= _ETA_MAX:
                continue
            p = pt[i] * math.cosh(eta[i])
            rcal = _r_cal(aeta)
            q = charge[i]
            phic = phi[i]
            if q != 0:
                x = b_curv * rcal / pt[i]
                if x >= 1.0:
                    continue  # curls up before the calorimeter
                phic = phi[i] - q * math.asin(x)
            if apid == 13 and aeta < par[11] and p > par[12] and pt[i] > par[8]:
                m_pt[nm], m_eta[nm], m_phi[nm], m_q[nm], m_prob[nm] = pt[i], eta[i], phi[i], q, par[13]
                nm += 1
            if apid == 13:
                em, had = min(par[9], e[i]), min(par[10], e[i])
            elif apid == 11 or apid == 22:
                em_res = (par[18], par[19]) if aeta >= 3.0 else (par[1], par[2])  # HF or ECAL
                em, had = _smear(e[i], em_res[0], em_res[1], gauss[i]), 0.0
            else:
                edep = float(e[i])
                if 1000 < apid < 10000:  # baryons leave their kinetic energy, anti-baryons annihilate
                    edep = edep - _NUCLEON_MASS if pid[i] > 0 else edep + _NUCLEON_MASS
                if aeta >= 3.0:
                    em, had = 0.0, _smear(max(edep, 0.0), par[5], par[6], gauss[i])
                else:
                    edep *= 1.0 - par[14] * math.exp(-max(edep, 0.0) / par[15])
                    tot = _smear(max(edep, 0.0), par[3], par[4], gauss[i])
                    frac = unif[i, 0] * par[7]
                    em, had = frac * tot, (1.0 - frac) * tot
                if dis and (apid == 211 or apid == 321) and aeta < par[11] and p > par[12]:
                    if apid == 211:
                        mass, ctau, br, xmin = _PI_MASS, _PI_CTAU_M, 1.0, _PI_XMIN
                    else:
                        mass, ctau, br, xmin = _K_MASS, _K_CTAU_M, _K_BR, _K_XMIN
                    pdec = 1.0 - math.exp(-rcal * math.cosh(eta[i]) * mass / (p * ctau))
                    xmu = xmin + (1.0 - xmin) * unif[i, 1]
                    prob = pdec * br * par[13]
                    if xmu * p > par[12] and xmu * pt[i] > par[8] and prob > 1e-6:
                        m_pt[nm], m_eta[nm], m_phi[nm], m_q[nm] = xmu * pt[i], eta[i], phi[i], q
                        m_prob[nm] = prob
                        nm += 1
            ie = np.searchsorted(edges, aeta if eta[i] >= 0 else -aeta, side="right") - 1
            ch = math.cosh(eta[i])
            is_em = apid == 11 or apid == 22 or apid == 13  # muons: a narrow MIP track
            sig = (par[16] if is_em else par[17]) / _r_face(aeta, is_em)  # shower σ in η and φ
            _fractions(eta[i], edges[ie], edges[ie + 1], sig, fe)
            ph = phic % two_pi
            ip = int(ph / two_pi * N_PHI) % N_PHI
            _fractions(ph, ip * dphi, (ip + 1) * dphi, sig, fp)
            for a in range(3):
                je = ie + a - 1
                if fe[a] <= 0.0:
                    continue
                if je < 0 or je >= N_ETA:
                    je = ie  # the edge of the acceptance keeps what would leak out
                for b in range(3):
                    f = fe[a] * fp[b]
                    if f <= 0.0:
                        continue
                    t = je * N_PHI + (ip + b - 1) % N_PHI
                    if not hit[t]:
                        hit[t] = True
                        touched[nt] = t
                        nt += 1
                    em_s[t] += f * em / ch
                    had_s[t] += f * had / ch
        for k in range(nt):
            t = touched[k]
            d_em[nd] = _to_units(em_s[t], uniform_hash(key, np.uint64(2 * t + 2 * N_ETA * N_PHI * ev)))
            d_had[nd] = _to_units(had_s[t], uniform_hash(key, np.uint64(2 * t + 1 + 2 * N_ETA * N_PHI * ev)))
            em_s[t] = 0.0
            had_s[t] = 0.0
            hit[t] = False
            if d_em[nd] == 0 and d_had[nd] == 0:
                continue  # dithered to nothing: no entry
            d_ieta[nd] = t // N_PHI
            d_iphi[nd] = t % N_PHI
            nd += 1
        d_off[ev + 1] = nd
        m_off[ev + 1] = nm
    return (d_off, d_ieta[:nd].copy(), d_iphi[:nd].copy(), d_em[:nd].copy(), d_had[:nd].copy(),
            m_off, m_pt[:nm].copy(), m_eta[:nm].copy(), m_phi[:nm].copy(), m_q[:nm].copy(),
            m_prob[:nm].copy())


def _params(c: L1SimConfig) -> np.ndarray:
    return np.array([
        c.b_field_t, c.em_stochastic, c.em_constant, c.had_stochastic, c.had_constant,
        c.hf_stochastic, c.hf_constant, c.had_em_fraction_max, c.muon_pt_min, c.muon_mip_em, c.muon_mip_had,
        c.muon_eta_max, c.muon_p_min, c.muon_efficiency, c.had_low_loss, c.had_low_scale_gev,
        c.em_lateral_m, c.had_lateral_m, c.hf_em_stochastic, c.hf_em_constant,
    ], dtype=np.float64)


def compute_towers(
    *, offsets: np.ndarray, pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, e: np.ndarray,
    pid: np.ndarray, charge: np.ndarray, config: L1SimConfig, seed: int,
) -> TowerPool:
    """Apply the detector response to every event of a particle pool (seeded, deterministic)."""
    rng = np.random.default_rng(seed)
    n = len(pt)
    out = _kernel(
        np.asarray(offsets, np.int64), pt, eta, phi, e, np.asarray(pid, np.int32),
        np.asarray(charge, np.int8), rng.standard_normal(n), rng.random((n, 2)),
        ETA_EDGES.astype(np.float64), _params(config), config.decays_in_flight,
        np.uint64(int(rng.integers(0, 2**63))),
    )
    return TowerPool(*out)


def concat_tower_pools(pools: list[TowerPool]) -> TowerPool:
    """One pool with the events of ``pools`` in order."""
    if len(pools) == 1:
        return pools[0]

    def offsets(name: str) -> np.ndarray:
        parts, base = [np.zeros(1, np.int64)], 0
        for p in pools:
            off = getattr(p, name)
            parts.append(off[1:] + base)
            base += int(off[-1])
        return np.concatenate(parts)

    flat = {f: np.concatenate([getattr(p, f) for p in pools])
            for f in TowerPool.__dataclass_fields__ if f not in ("dep_off", "mu_off")}
    return TowerPool(dep_off=offsets("dep_off"), mu_off=offsets("mu_off"), **flat)
