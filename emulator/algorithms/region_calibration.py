"""Calorimeter layer-1 region calibration: per-η integer scale, pileup offset, saturation.

``regions_cal = clip(((et · scale[iη]) >> 8) − offset[iη], 0, saturation)`` with
``scale`` in units of 1/256 — the integer arithmetic a layer-1 LUT performs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np

from emulator.algorithm import BuildContext
from emulator.params import from_mapping
from streams.event import EventBatch
from streams.schema import N_REGION_ETA

__all__ = ["RegionCalibration", "RegionCalibrationConfig"]


@dataclass(frozen=True, slots=True)
class RegionCalibrationConfig:
    scale: tuple[int, ...] = field(default_factory=lambda: (256,) * N_REGION_ETA)
    offset: tuple[int, ...] = field(default_factory=lambda: (0,) * N_REGION_ETA)
    saturation: int = 1023

    def __post_init__(self) -> None:
        if len(self.scale) != N_REGION_ETA or len(self.offset) != N_REGION_ETA:
            msg = f"scale and offset need {N_REGION_ETA} entries (one per η region)"
            raise ValueError(msg)
        if not 0 < self.saturation < 1 << 16:
            msg = f"saturation {self.saturation} must be in 1..65535"
            raise ValueError(msg)


class RegionCalibration:
    outputs: tuple[str, ...] = ("regions_cal",)

    def __init__(self, name: str, config: RegionCalibrationConfig) -> None:
        self.name = name
        self.config = config
        self._scale = np.asarray(config.scale, np.int32)
        self._offset = np.asarray(config.offset, np.int32)

    @classmethod
    def build(cls, name: str, params: dict[str, Any], ctx: BuildContext) -> RegionCalibration:
        return cls(name, from_mapping(RegionCalibrationConfig, params, where="params"))

    def latency_cycles(self, clock_mhz: float) -> int:
        return 2  # one LUT read, one subtract/clip

    def process(self, batch: EventBatch) -> EventBatch:
        et = batch["regions"]
        cal = np.empty(et.shape, np.uint16)
        _calibrate(et.reshape(len(et), -1, et.shape[-1]), self._scale, self._offset, self.config.saturation,
                   cal.reshape(len(et), -1, et.shape[-1]))  # fmt: skip
        return batch.with_columns(regions_cal=cal)


@numba.njit(cache=True, nogil=True)
def _calibrate(et: np.ndarray, scale: np.ndarray, offset: np.ndarray, saturation: int, out: np.ndarray) -> None:
    """``out = clip(((et · scale[iη]) >> 8) − offset[iη], 0, saturation)`` over (N, φ, η)."""
    n, nphi, neta = et.shape
    for i in range(n):
        for p in range(nphi):
            for e in range(neta):
                v = ((np.int32(et[i, p, e]) * scale[e]) >> 8) - offset[e]
                out[i, p, e] = min(max(v, 0), saturation)
