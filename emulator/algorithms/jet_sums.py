"""Layer-2 jet sums: HTT and HTM recomputed from (calibrated) jets.

HTT = Σ pT of jets with pT ≥ ``pt_min`` and |η| ≤ ``eta_max``; HTM is the magnitude
of the negative vector sum of the same jets, with its φ, both in hardware units.
The vector sum uses integer cos/sin tables (``2^10`` scale) as firmware would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from emulator.algorithm import BuildContext
from emulator.params import from_mapping
from streams.event import EventBatch
from streams.schema import CALO_ETA_LSB, CALO_PHI_BINS, PT_LSB

__all__ = ["JetSums", "JetSumsConfig"]

_TRIG_SCALE = 1 << 10
_COS = np.round(np.cos(2 * np.pi * np.arange(CALO_PHI_BINS) / CALO_PHI_BINS) * _TRIG_SCALE).astype(np.int64)
_SIN = np.round(np.sin(2 * np.pi * np.arange(CALO_PHI_BINS) / CALO_PHI_BINS) * _TRIG_SCALE).astype(np.int64)


@dataclass(frozen=True, slots=True)
class JetSumsConfig:
    pt_min: float = 30.0  # GeV
    eta_max: float = 2.4


class JetSums:
    outputs: tuple[str, ...] = ("htt", "htm", "htm_phi")

    def __init__(self, name: str, config: JetSumsConfig) -> None:
        self.name = name
        self.config = config
        self._pt_min_hw = int(np.ceil(config.pt_min / PT_LSB))
        self._eta_max_hw = int(np.floor(config.eta_max / CALO_ETA_LSB + 1e-9))

    @classmethod
    def build(cls, name: str, params: dict[str, Any], ctx: BuildContext) -> JetSums:
        return cls(name, from_mapping(JetSumsConfig, params, where="params"))

    def latency_cycles(self, clock_mhz: float) -> int:
        return 6  # compare, LUT multiply, 12-input adder tree, atan LUT

    def process(self, batch: EventBatch) -> EventBatch:
        n = len(batch)
        sums = np.empty((3, n), np.int64)  # HTT, −Σ pT cos φ, −Σ pT sin φ (trig scale)
        _sums(np.ascontiguousarray(batch["jet_pt"]), np.ascontiguousarray(batch["jet_eta"]),
              np.ascontiguousarray(batch["jet_phi"]), self._pt_min_hw, self._eta_max_hw, _COS, _SIN, sums)  # fmt: skip
        htt, hx, hy = sums
        htm = np.floor(np.hypot(hx, hy) / _TRIG_SCALE).astype(np.int32)
        ang = np.arctan2(hy, hx) % (2 * np.pi)
        htm_phi = (np.floor(ang / (2 * np.pi) * CALO_PHI_BINS).astype(np.int64) % CALO_PHI_BINS).astype(np.int16)
        return batch.with_columns(htt=htt.astype(np.int32), htm=htm, htm_phi=htm_phi)


@numba.njit(cache=True, nogil=True)
def _sums(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, pt_min: int, eta_max: int, cos: np.ndarray,
          sin: np.ndarray, out: np.ndarray) -> None:  # fmt: skip
    """Per event, over the jets with pT ≥ ``pt_min`` and |η| ≤ ``eta_max``: Σ pT and −Σ pT·(cos, sin)."""
    n, k = pt.shape
    nphi = len(cos)
    for i in range(n):
        t = np.int64(0)
        x = np.int64(0)
        y = np.int64(0)
        for j in range(k):
            p = np.int64(pt[i, j])
            if p >= pt_min and abs(np.int64(eta[i, j])) <= eta_max:
                f = np.int64(phi[i, j]) % nphi
                t += p
                x -= p * cos[f]
                y -= p * sin[f]
        out[0, i] = t
        out[1, i] = x
        out[2, i] = y
