"""Layer-2 jet calibration: integer scale per |η| bin, then pT re-ordering.

``pt' = min((pt · scale[bin]) >> 8, 2047)`` with ``scale`` in units of 1/256 and
bins delimited by ``eta_edges`` (|η| in hardware units). The jet collection is
re-sorted by calibrated pT, so downstream seeds see a pT-ordered list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
        pt = batch[coll.column("pt")].astype(np.int32)
        bins = np.searchsorted(self._edges, np.abs(batch[coll.column("eta")].astype(np.int32)), side="right")
        cal = np.minimum((pt * self._scale[bins]) >> 8, self.config.pt_max)
        order = np.argsort(-cal, axis=1, kind="stable")
        new = {coll.column("pt"): np.take_along_axis(cal, order, axis=1).astype(np.int16)}
        for f in coll.fields[1:]:
            new[coll.column(f)] = np.take_along_axis(batch[coll.column(f)], order, axis=1)
        return batch.with_columns(**new)
