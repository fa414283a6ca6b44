"""Physics checks of generated pools: dN_ch/dη, σ_inel and the ⟨μ⟩ ↔ luminosity relation.

>>> round(mu_from_lumi(2.0e34, sigma_mb=79.0), 1)
55.2
>>> round(lumi_from_mu(55.2, sigma_mb=79.0) / 1e34, 2)
2.0
"""

from __future__ import annotations

import numpy as np

from streams.generators.pool import ParticlePool

__all__ = [
    "CMS_DNDETA_13TEV", "dndeta_central", "dndeta_histogram", "leading_jet_pt", "leading_muon_pt",
    "lumi_from_mu", "mu_from_lumi",
]

#: CMS, 13 TeV inelastic, primary charged particles at |η| < 0.5 (value, uncertainty).
CMS_DNDETA_13TEV = (5.49, 0.17)
_MB_TO_CM2 = 1e-27
_F_REV = 11245.613
_BUNCHES = 2544
_LEPTONS = np.array([11, 13, 15])


def dndeta_central(pool: ParticlePool, eta_max: float = 0.5, *, hadrons_only: bool = True) -> tuple[float, float]:
    """Mean charged-particle multiplicity per unit η at |η| < ``eta_max``, and its stat. error.

    Counts final-state charged hadrons (CMS measures primary charged hadrons;
    ``hadrons_only=False`` adds e± and μ±). Pools are generated with particles of
    cτ > 10 mm undecayed, the CMS primary-particle definition (REFERENCE §5).
    """
    sel = (pool.charge != 0) & (np.abs(pool.eta) < eta_max)
    if hadrons_only:
        sel &= ~np.isin(np.abs(pool.pid), _LEPTONS)
    per_event = np.bincount(pool.event_index()[sel], minlength=len(pool)).astype(np.float64)
    width = 2.0 * eta_max
    err = per_event.std(ddof=1) / np.sqrt(len(pool)) / width if len(pool) > 1 else float("nan")
    return float(per_event.mean() / width), float(err)


def mu_from_lumi(lumi_cm2s: float, *, sigma_mb: float, n_bunches: int = _BUNCHES,
                 f_rev_hz: float = _F_REV) -> float:
    """⟨μ⟩ = L σ_inel / (n_bunches f_rev): mean interactions per colliding-bunch crossing."""
    return lumi_cm2s * sigma_mb * _MB_TO_CM2 / (n_bunches * f_rev_hz)


def lumi_from_mu(mu: float, *, sigma_mb: float, n_bunches: int = _BUNCHES, f_rev_hz: float = _F_REV) -> float:
    """Instantaneous luminosity (cm⁻² s⁻¹) that gives ⟨μ⟩."""
    return mu * n_bunches * f_rev_hz / (sigma_mb * _MB_TO_CM2)


def dndeta_histogram(pool: ParticlePool, edges: np.ndarray) -> np.ndarray:
    """dN_ch/dη of charged hadrons per event in the bins ``edges``."""
    sel = (pool.charge != 0) & ~np.isin(np.abs(pool.pid), _LEPTONS)
    counts, _ = np.histogram(pool.eta[sel], bins=edges)
    out: np.ndarray = counts / (len(pool) * np.diff(edges))
    return out


def leading_muon_pt(pool: ParticlePool, eta_max: float = 2.4) -> np.ndarray:
    """pT of the hardest final-state muon with |η| < ``eta_max`` per event (0 if none)."""
    sel = (np.abs(pool.pid) == 13) & (np.abs(pool.eta) < eta_max)
    out = np.zeros(len(pool))
    np.maximum.at(out, pool.event_index()[sel], pool.pt[sel])
    return out


def leading_jet_pt(pool: ParticlePool, *, radius: float = 0.4, eta_max: float = 4.7) -> np.ndarray:
    """pT of the hardest anti-kT jet of visible final-state particles per event (fastjet)."""
    import fastjet

    visible = ~np.isin(np.abs(pool.pid), [12, 14, 16]) & (np.abs(pool.eta) < 5.0)
    jet_def = fastjet.JetDefinition(fastjet.antikt_algorithm, radius)
    out = np.zeros(len(pool))
    for i in range(len(pool)):
        lo, hi = int(pool.offsets[i]), int(pool.offsets[i + 1])
        keep = visible[lo:hi]
        pt, eta, phi = (np.asarray(a[lo:hi][keep], np.float64) for a in (pool.pt, pool.eta, pool.phi))
        parts = [fastjet.PseudoJet(p * np.cos(f), p * np.sin(f), p * np.sinh(e), p * np.cosh(e))
                 for p, e, f in zip(pt, eta, phi, strict=True)]
        cs = fastjet.ClusterSequence(parts, jet_def)
        jets = [j for j in cs.inclusive_jets(5.0) if abs(j.eta()) < eta_max]
        out[i] = max((j.pt() for j in jets), default=0.0)
    return out
