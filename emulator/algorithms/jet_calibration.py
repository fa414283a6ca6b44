"""Layer-2 jet calibration: integer scale per |η| bin, then pT re-ordering.

``pt' = min((pt · scale[bin]) >> 8, 2047)`` with ``scale`` in units of 1/256 and
bins delimited by ``eta_edges`` (|η| in hardware units). The jet collection is
re-sorted by calibrated pT, so downstream seeds see a pT-ordered list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from emulator.algorithm import BuildContext
from emulator.params import from_mapping
from streams.event import EventBatch
from streams.schema import COLLECTIONS

__all__ = ["JetCalibration", "JetCalibrationConfig"]


@dataclass(frozen=True, slots=True)
class JetCalibrationConfig:
    eta_edges: tuple[int, ...] = (34, 69)  # |hwEta| bin edges: 1.479, 3.0
    scale: tuple[int, ...] = (256, 256, 256)  # one per bin (len(edges) + 1)
    pt_max: int = 2047

    def __post_init__(self) -> None:
        if len(self.scale) != len(self.eta_edges) + 1:
            msg = f"need {len(self.eta_edges) + 1} scale factors for {len(self.eta_edges)} edges"
            raise ValueError(msg)
        if list(self.eta_edges) != sorted(self.eta_edges):
            msg = "eta_edges must increase"
            raise ValueError(msg)


class JetCalibration:
    outputs = tuple(COLLECTIONS["jet"].column(f) for f in COLLECTIONS["jet"].fields)

    def __init__(self, name: str, config: JetCalibrationConfig) -> None:
        self.name = name
        self.config = config
        self._edges = np.asarray(config.eta_edges, np.int32)
        self._scale = np.asarray(config.scale, np.int32)

    @classmethod
    def build(cls, name: str, params: dict[str, Any], ctx: BuildContext) -> JetCalibration:
        return cls(name, from_mapping(JetCalibrationConfig, params, where="params"))

    def latency_cycles(self, clock_mhz: float) -> int:
        return 3 + 4  # LUT + multiply, then a 12-input sorting network's depth in pairs

    def process(self, batch: EventBatch) -> EventBatch:
        coll = COLLECTIONS["jet"]
        pt = np.ascontiguousarray(batch[coll.column("pt")])
        cal = np.empty(pt.shape, np.int16)
        order = np.empty(pt.shape, np.intp)
        _calibrate_sort(pt, np.ascontiguousarray(batch[coll.column("eta")]), self._edges, self._scale,
                        self.config.pt_max, cal, order)  # fmt: skip
        new = {coll.column("pt"): cal}
        for f in coll.fields[1:]:
            src = np.ascontiguousarray(batch[coll.column(f)])
            new[coll.column(f)] = _permute(src, order, np.empty_like(src))
        return batch.with_columns(**new)


@numba.njit(cache=True, nogil=True)
def _calibrate_sort(pt: np.ndarray, eta: np.ndarray, edges: np.ndarray, scale: np.ndarray, pt_max: int,
                    cal: np.ndarray, order: np.ndarray) -> None:  # fmt: skip
    """Per event: ``cal`` = calibrated pT in descending order (stable), ``order`` the slots."""
    n, k = pt.shape
    val = np.empty(k, np.int64)
    for i in range(n):
        for j in range(k):
            a = abs(np.int64(eta[i, j]))
            b = 0
            while b < len(edges) and edges[b] <= a:  # searchsorted(edges, |eta|, "right")
                b += 1
            v = min((np.int64(pt[i, j]) * scale[b]) >> 8, pt_max)
            m = j  # insertion: after every earlier slot with a value >= v (stable descending)
            while m > 0 and val[m - 1] < v:
                val[m] = val[m - 1]
                order[i, m] = order[i, m - 1]
                m -= 1
            val[m] = v
            order[i, m] = j
        for j in range(k):
            cal[i, j] = val[j]


@numba.njit(cache=True, nogil=True)
def _permute(src: np.ndarray, order: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[i, j] = src[i, order[i, j]]`` (``np.take_along_axis`` along the slots)."""
    n, k = src.shape
    for i in range(n):
        for j in range(k):
            out[i, j] = src[i, order[i, j]]
    return out
