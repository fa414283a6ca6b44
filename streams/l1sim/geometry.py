"""Calorimeter trigger-tower geometry of the simplified L1 emulation.

80 towers in η × 72 in φ (Δφ = 2π/72 ≈ 0.087). Per side, 28 barrel/endcap towers
to |η| = 3 (20 of Δη = 0.087, then the wider CMS HE towers) and 12 coarser
forward (HF) towers to |η| = 5.191. Tower ``ieta`` 0 is the most negative η, so
η reflection is ``ieta -> 79 - ieta`` and a φ rotation by ``s`` towers is
``iphi -> (iphi + s) % 72``: both are exact on the grid.

Regions (the 18 × 14 CICADA input) cover |η| < 3 only, as the CMS layer-1
region ETs do: 4 × 4 towers each, 7 regions per side in η (28 towers) and 18 in φ.
HF towers belong to no region (index −1).

>>> N_ETA, N_PHI, int(tower_ieta(0.05)), int(tower_ieta(-4.0))
(80, 72, 40, 6)
>>> int(TOWER_HW_ETA[40]), int(TOWER_HW_ETA[39])
(1, -1)
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np

from streams.schema import CALO_ETA_LSB, N_REGION_PHI

__all__ = [
    "CENTRAL_HALF",
    "EG_IETA_RANGE",
    "ETA_EDGES",
    "HF_HALF",
    "N_ETA",
    "N_PHI",
    "REGION_OF_IETA",
    "REGION_OF_IPHI",
    "TOWER_ETA_CENTER",
    "TOWER_HW_ETA",
    "TOWER_HW_PHI",
    "is_central",
    "tower_ieta",
    "tower_iphi",
]

#: Positive-side tower edges: 20 × 0.087, the CMS HE towers to 3.0, then HF.
_CENTRAL_EDGES: Final = (
    *(round(0.087 * k, 3) for k in range(21)),
    1.83, 1.93, 2.043, 2.172, 2.322, 2.5, 2.65, 3.0,
)
_HF_EDGES: Final = (3.139, 3.314, 3.489, 3.664, 3.839, 4.013, 4.191, 4.363, 4.538, 4.716, 4.889, 5.191)

CENTRAL_HALF: Final = len(_CENTRAL_EDGES) - 1  # 28 towers per side to |eta| = 3
HF_HALF: Final = len(_HF_EDGES)  # 12 towers per side, 3 < |eta| < 5.191
_POS_EDGES: Final = np.array([*_CENTRAL_EDGES, *_HF_EDGES])
#: All 81 tower edges in η, increasing.
ETA_EDGES: Final = np.concatenate([-_POS_EDGES[:0:-1], _POS_EDGES])
N_ETA: Final = len(ETA_EDGES) - 1
N_PHI: Final = 72
_HALF: Final = N_ETA // 2

TOWER_ETA_CENTER: Final = 0.5 * (ETA_EDGES[1:] + ETA_EDGES[:-1])
#: uGT calo η (LSB 0.0435) of each tower centre.
TOWER_HW_ETA: Final = np.round(TOWER_ETA_CENTER / CALO_ETA_LSB).astype(np.int16)
#: uGT calo φ (144 bins) of each tower centre: 2·iφ + 1.
TOWER_HW_PHI: Final = (2 * np.arange(N_PHI) + 1).astype(np.int16)

#: Towers where e/γ and τ are built: |η| < 2.5 (ieta 14 … 65).
EG_IETA_RANGE: Final = (_HALF - 26, _HALF + 26)


def _region_of_ieta() -> np.ndarray:
    out = np.full(N_ETA, -1, np.int8)
    central = np.arange(HF_HALF, N_ETA - HF_HALF)
    out[central] = (central - HF_HALF) // 4
    return out


#: Region η index (0 … 13) of each tower η index, −1 for HF towers.
REGION_OF_IETA: Final = _region_of_ieta()
#: Region φ index (0 … 17) of each tower φ index.
REGION_OF_IPHI: Final = (np.arange(N_PHI) // (N_PHI // N_REGION_PHI)).astype(np.int8)


def is_central(ieta: np.ndarray | int) -> np.ndarray | bool:
    """True for barrel/endcap towers (|η| < 3), False for HF."""
    return (np.asarray(ieta) >= HF_HALF) & (np.asarray(ieta) < N_ETA - HF_HALF)


def tower_ieta(eta: np.ndarray | float) -> np.ndarray:
    """Tower η index of η; −1 outside |η| < 5.191."""
    e = np.asarray(eta, dtype=np.float64)
    idx = np.searchsorted(ETA_EDGES, e, side="right") - 1
    return np.where((e >= ETA_EDGES[0]) & (e < ETA_EDGES[-1]), idx, -1)


def tower_iphi(phi: np.ndarray | float) -> np.ndarray:
    """Tower φ index (0 … 71) of any φ in radians."""
    p = np.mod(np.asarray(phi, dtype=np.float64), 2 * math.pi)
    return np.minimum((p / (2 * math.pi) * N_PHI).astype(np.int64), N_PHI - 1)
