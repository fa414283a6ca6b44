"""Integer look-up tables for two-object correlations, as firmware would hold them.

Each correlation is evaluated on one η/φ *scale*: the calorimeter scale (η LSB
0.0435, 144 φ bins) or the muon scale (η LSB 0.010875, 576 φ bins). Muon–muon
pairs use the muon scale; every other pair uses the calo scale, muons being
converted first with :func:`muon_to_calo_eta` / :func:`muon_to_calo_phi`.

Tables are indexed by ``|Δη|`` in η bins (clipped to the last entry) and by the
folded ``Δφ`` in φ bins (``0 … bins/2``); values are rounded to integers:

* ``deta2[i] = round((i·η_LSB)² · 2^DR2_BITS)``,   ``dphi2[i] = round((i·φ_LSB)² · 2^DR2_BITS)``
* ``cosh_deta[i] = round(cosh(i·η_LSB) · 2^COSH_BITS)``, ``cos_dphi[i] = round(cos(i·φ_LSB) · 2^COSH_BITS)``

>>> t = LUTS["calo"]
>>> int(t.cosh_deta[0]), int(t.cos_dphi[0]), int(t.cos_dphi[72]) == -(1 << COSH_BITS)
(4096, 4096, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from streams.schema import CALO_ETA_LSB, CALO_PHI_BINS, MU_ETA_LSB, MU_PHI_BINS

__all__ = [
    "COSH_BITS",
    "DR2_BITS",
    "LUTS",
    "SCALES",
    "CorrelationLuts",
    "ScaleName",
    "delta_bins",
    "dr2",
    "mass2",
    "muon_to_calo_eta",
    "muon_to_calo_phi",
]

ScaleName = Literal["calo", "muon"]

#: Fractional bits of the ΔR² tables (Δη², Δφ² in rad²·2^DR2_BITS).
DR2_BITS: Final = 12
#: Fractional bits of the cosh(Δη) and cos(Δφ) tables.
COSH_BITS: Final = 12

#: Scale name -> (η LSB, φ bins, number of |Δη| table entries).
SCALES: Final[dict[str, tuple[float, int, int]]] = {
    "calo": (CALO_ETA_LSB, CALO_PHI_BINS, 256),  # |Δη| up to 11.1
    "muon": (MU_ETA_LSB, MU_PHI_BINS, 512),  # |Δη| up to 5.6
}


@dataclass(frozen=True, slots=True, eq=False)
class CorrelationLuts:
    """The four integer tables of one scale (read-only int64 arrays)."""

    scale: str
    eta_lsb: float
    phi_bins: int
    deta2: np.ndarray
    dphi2: np.ndarray
    cosh_deta: np.ndarray
    cos_dphi: np.ndarray

    @property
    def phi_lsb(self) -> float:
        return 2 * math.pi / self.phi_bins

    def as_dict(self) -> dict[str, object]:
        """Plain-Python form (lists of ints), e.g. for a C++ header generator."""
        return {
            "scale": self.scale,
            "eta_lsb": self.eta_lsb,
            "phi_bins": self.phi_bins,
            "dr2_bits": DR2_BITS,
            "cosh_bits": COSH_BITS,
            "deta2": self.deta2.tolist(),
            "dphi2": self.dphi2.tolist(),
            "cosh_deta": self.cosh_deta.tolist(),
            "cos_dphi": self.cos_dphi.tolist(),
        }


def _frozen(values: np.ndarray) -> np.ndarray:
    out = np.round(values).astype(np.int64)
    out.flags.writeable = False
    return out


def _build(scale: str) -> CorrelationLuts:
    eta_lsb, phi_bins, n_deta = SCALES[scale]
    deta = np.arange(n_deta) * eta_lsb
    dphi = np.arange(phi_bins // 2 + 1) * (2 * math.pi / phi_bins)
    return CorrelationLuts(
        scale=scale,
        eta_lsb=eta_lsb,
        phi_bins=phi_bins,
        deta2=_frozen(deta**2 * (1 << DR2_BITS)),
        dphi2=_frozen(dphi**2 * (1 << DR2_BITS)),
        cosh_deta=_frozen(np.cosh(deta) * (1 << COSH_BITS)),
        cos_dphi=_frozen(np.cos(dphi) * (1 << COSH_BITS)),
    )


#: The tables of both scales, built once at import (a few kB).
LUTS: Final[dict[str, CorrelationLuts]] = {s: _build(s) for s in SCALES}


def muon_to_calo_eta(mu_eta: np.ndarray) -> np.ndarray:
    """Muon hwEta → calo hwEta: ``(η + 2) >> 2`` (the LSBs differ by exactly 4; rounds half up).

    >>> muon_to_calo_eta(np.array([-6, -2, -1, 0, 1, 2, 5]))
    array([-1,  0,  0,  0,  0,  1,  1])
    """
    return (np.asarray(mu_eta, dtype=np.int64) + 2) >> 2


def muon_to_calo_phi(mu_phi: np.ndarray) -> np.ndarray:
    """Muon hwPhi (576 bins) → calo hwPhi (144 bins): ``(φ mod 576) >> 2``.

    >>> muon_to_calo_phi(np.array([0, 3, 4, 575, -1]))
    array([  0,   0,   1, 143, 143])
    """
    return (np.asarray(mu_phi, dtype=np.int64) % MU_PHI_BINS) >> 2


def delta_bins(
    eta1: np.ndarray, phi1: np.ndarray, eta2: np.ndarray, phi2: np.ndarray, scale: ScaleName
) -> tuple[np.ndarray, np.ndarray]:
    """Table indices of a pair on one scale: ``|Δη|`` (clipped to the table) and folded ``Δφ``.

    >>> delta_bins(np.array([3]), np.array([140]), np.array([-2]), np.array([2]), "calo")
    (array([5]), array([6]))
    """
    t = LUTS[scale]
    deta = np.minimum(np.abs(np.asarray(eta1, np.int64) - eta2), len(t.deta2) - 1)
    dphi = np.abs(np.asarray(phi1, np.int64) - phi2) % t.phi_bins
    return deta, np.minimum(dphi, t.phi_bins - dphi)


def dr2(deta: np.ndarray, dphi: np.ndarray, scale: ScaleName) -> np.ndarray:
    """ΔR² in units of 2^-DR2_BITS from table indices (see :func:`delta_bins`)."""
    t = LUTS[scale]
    return np.asarray(t.deta2[deta] + t.dphi2[dphi])


def mass2(
    pt1: np.ndarray, pt2: np.ndarray, deta: np.ndarray, dphi: np.ndarray, scale: ScaleName
) -> np.ndarray:
    """``hwPt₁·hwPt₂·(cosh_deta − cos_dphi)``; M² in GeV² is this / 2^(COSH_BITS+1).

    >>> m2 = mass2(np.array([200]), np.array([200]), np.array([0]), np.array([72]), "calo")
    >>> float(np.sqrt(m2[0] / 2 ** (COSH_BITS + 1)))  # two 100 GeV objects back to back
    200.0
    """
    t = LUTS[scale]
    prod = np.asarray(pt1, np.int64) * np.asarray(pt2, np.int64)
    return np.asarray(prod * (t.cosh_deta[deta] - t.cos_dphi[dphi]))
