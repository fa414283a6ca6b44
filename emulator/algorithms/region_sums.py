"""Calorimeter layer-1 region sums: total calibrated region ET and hot-region count."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from emulator.algorithm import BuildContext
from emulator.params import from_mapping
from streams.event import EventBatch
from streams.schema import N_REGION_ETA, N_REGION_PHI

__all__ = ["RegionSums", "RegionSumsConfig"]


@dataclass(frozen=True, slots=True)
class RegionSumsConfig:
    input: str = "regions_cal"
    hot_threshold: int = 20  # hardware units (0.5 GeV)


class RegionSums:
    outputs: tuple[str, ...] = ("region_ett", "region_nhot")

    def __init__(self, name: str, config: RegionSumsConfig) -> None:
        self.name = name
        self.config = config

    @classmethod
    def build(cls, name: str, params: dict[str, Any], ctx: BuildContext) -> RegionSums:
        return cls(name, from_mapping(RegionSumsConfig, params, where="params"))

    def latency_cycles(self, clock_mhz: float) -> int:
        return math.ceil(math.log2(N_REGION_PHI * N_REGION_ETA))  # adder tree depth

    def process(self, batch: EventBatch) -> EventBatch:
        regions = np.ascontiguousarray(batch[self.config.input])
        n = len(regions)
        ett, nhot = np.empty(n, np.int32), np.empty(n, np.uint16)
        _sums(regions.reshape(n, -1), self.config.hot_threshold, ett, nhot)
        return batch.with_columns(region_ett=ett, region_nhot=nhot)


@numba.njit(cache=True, nogil=True)
def _sums(regions: np.ndarray, hot: int, ett: np.ndarray, nhot: np.ndarray) -> None:
    """Per event (rows of ``regions``): Σ ET and the number of regions with ET ≥ ``hot``."""
    n, m = regions.shape
    for i in range(n):
        s = np.int32(0)
        c = np.int32(0)
        for k in range(m):
            x = np.int32(regions[i, k])
            s += x
            c += x >= hot
        ett[i] = s
        nhot[i] = c
