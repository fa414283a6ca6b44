"""CMS's τ isolation look-up tables (calo layer 2, 2018 parameters), as l1emu's τ model reads them.

The firmware computes, per τ, the isolation energy E(6 η × 9 φ towers around the main cluster,
extended by one tower on the side the cluster grew to) minus the τ footprint (the merged raw
cluster ET, no pileup subtraction), and compares it with a threshold read from a LUT addressed by
the compressed |ieta| of the seed (2 bits), the compressed footprint ET (5 bits) and the compressed
number of towers with ET > 0 in |ieta| ≤ 4 (5 bits, the pileup estimate): the τ is isolated if the
energy is below the threshold or the threshold is above 255. The compression and threshold tables
are CMSSW's ``tauCompressAllLUT_12bit_v3.txt`` and ``Tau_Iso_LUT_Option_31_extrap_2018_FW_v10.0.0.txt``
(``L1Trigger/L1TCalorimeter/data``, loaded by the 2018 calo parameters ``caloStage2Params_2018_v1_*``):
every threshold row is ``offset[ieta, ET] + nTT + floor((nTT + 5) / 10)`` (``offset + nTT`` for the
outermost |ieta| bin): linear in nTT, the extrapolation that names the option; the offsets below and
that rule give all 4 096 entries, and the test compares rows of the file. The table was made by
CMS for its detector and is used unchanged: how well it works here is a measurement of l1emu's
towers, not a tuned parameter.

Isolation definitions are registered by name (``L1SimConfig.tau_iso``): ``rho_relative`` (l1emu's
default: the ρ-corrected isolation over the raw ET against two working points, see find_taus),
``cms_2018_option31`` (the CMS table, in the firmware's form) and ``pass`` (every τ isolated). Measured
on l1emu's towers (docs/physics.md §4): CMS's table keeps more genuine τ than rho_relative's loose
point and lets more QCD jets through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np

from streams.l1sim.geometry import N_ETA

__all__ = ["LUT", "RELATIVE", "TAU_ISO_MODES", "tau_iso_arrays", "tau_iso_table"]

#: lower edges (hw, 0.5 GeV) of compressed-ET bins 1 … 31 of the τ footprint (capped at 255).
_ET_EDGES: Final = (15, 18, 21, 23, 25, 27, 29, 31, 33, 35, 37, 39, 41, 43, 45, 47, 50, 53, 56, 59, 62,
                    65, 69, 73, 77, 82, 88, 95, 105, 120, 157)
#: lower edges of compressed |ieta| bins 1 … 3 (CMS |ieta| 1 … 28).
_ETA_EDGES: Final = (6, 12, 18)
#: threshold at nTT = 0 per (compressed |ieta|, compressed ET); ET bin 31 (ET ≥ 78.5 GeV) always passes.
_OFFSET_2018: Final[tuple[tuple[int, ...], ...]] = (
    (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 5, 5, 5, 5, 6, 6, 8, 9, 11, 12, 20, 511),
    (2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 5, 5, 6, 7, 10, 11, 19, 511),
    (2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 6, 6, 7, 7, 8, 8, 9, 10, 12, 18, 25, 511),
    (2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 7, 7, 7, 9, 9, 10, 11, 11, 11, 13, 18, 23, 511),
)
_ALWAYS = 511


def _cms_2018_option31() -> np.ndarray:
    offset = np.array(_OFFSET_2018, np.int64)
    ntt = np.arange(32, dtype=np.int64)
    slope = np.stack([ntt + (ntt + 5) // 10] * 3 + [ntt])  # |ieta| ≥ 18 rises by exactly 1 per nTT step
    lut: np.ndarray = offset[:, :, None] + slope[:, None, :]
    lut[:, 31, :] = _ALWAYS
    return lut


def _pass() -> np.ndarray:
    return np.full((4, 32, 32), _ALWAYS, np.int64)


#: the kernel's isolation modes
RELATIVE, LUT = 0, 1

#: name -> (mode, builder of the (4, 32, 32) threshold table [compressed |ieta|, ET, nTT]; unused
#: for RELATIVE).
TAU_ISO_MODES: Final[dict[str, tuple[int, Callable[[], np.ndarray]]]] = {
    "rho_relative": (RELATIVE, _pass),
    "cms_2018_option31": (LUT, _cms_2018_option31),
    "pass": (LUT, _pass),
}


def tau_iso_table(name: str) -> np.ndarray:
    """The (4, 32, 32) int64 thresholds of the registered definition ``name`` (KeyError if unknown)."""
    return TAU_ISO_MODES[name][1]()


def tau_iso_arrays(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What the kernel reads: the mode (int64 (1,)), the thresholds, the compressed |ieta| of each of
    l1emu's N_ETA tower rows, the compressed ET of footprints 0 … 255 and the compressed nTT of
    0 … 1023 towers.

    >>> _, lut, eta_c, et_c, ntt_c = tau_iso_arrays("cms_2018_option31")
    >>> int(eta_c[40]), int(eta_c[40 + 16]), int(et_c[14]), int(et_c[157]), int(ntt_c[5]), int(ntt_c[6])
    (0, 2, 0, 31, 0, 1)
    """
    half = N_ETA // 2
    cms_ieta = np.where(np.arange(N_ETA) >= half, np.arange(N_ETA) - half + 1, half - np.arange(N_ETA))
    eta_c = np.searchsorted(np.array(_ETA_EDGES), cms_ieta, side="right").astype(np.int64)
    et_c = np.searchsorted(np.array(_ET_EDGES), np.arange(256), side="right").astype(np.int64)
    ntt_c = np.clip((np.arange(1024) - 1) // 5, 0, 31).astype(np.int64)
    mode = np.array([TAU_ISO_MODES[name][0]], np.int64)
    return mode, tau_iso_table(name), eta_c, et_c, ntt_c
