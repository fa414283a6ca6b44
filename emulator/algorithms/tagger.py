"""τ/jet tagger in the objects stage: a per-jet quantized MLP score, ``jet_tau_score`` (N, 12).

The shipped fixed-point model runs on the per-jet features of
:func:`emulator.models.inputs.tagger_features` (12 parallel copies in firmware, so the
latency is one copy's plus the feature look-ups). Empty jet slots score 0.

>>> from pathlib import Path
>>> from emulator.algorithm import BuildContext
>>> from streams.event import EventBatch
>>> algo = TauTagger.build("tagger", {"model": "models/tagger.fxp"}, BuildContext(Path("configs")))
>>> algo.process(EventBatch.empty(2))["jet_tau_score"].shape
(2, 12)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from emulator.algorithm import BuildContext
from emulator.models.inputs import TAGGER_FEATURES, present_jet_features
from emulator.models.latency_estimate import model_latency_cycles
from emulator.models.runtime import load_model, require_finite, resolve_model
from emulator.params import from_mapping
from streams.event import EventBatch

__all__ = ["TaggerConfig", "TauTagger"]

_FEATURE_CYCLES = 3  # window compares, region-ET look-up, leading-object select


@dataclass(frozen=True, slots=True)
class TaggerConfig:
    model: str  # engine model directory (``<name>.fxp``), relative to the chain file
    column: str = "jet_tau_score"
    regions: str = "regions_cal"
    threads: int = 1


class TauTagger:
    def __init__(self, name: str, config: TaggerConfig, ctx: BuildContext) -> None:
        self.name = name
        self.config = config
        self.model = load_model(resolve_model(config.model, ctx.config_dir), where=f"algorithm {name!r}",
                                n_inputs=len(TAGGER_FEATURES))  # fmt: skip
        self.outputs: tuple[str, ...] = (config.column,)

    @classmethod
    def build(cls, name: str, params: dict[str, Any], ctx: BuildContext) -> TauTagger:
        return cls(name, from_mapping(TaggerConfig, params, where="params"), ctx)

    def latency_cycles(self, clock_mhz: float) -> int:
        return _FEATURE_CYCLES + model_latency_cycles(self.model, clock_mhz)

    def process(self, batch: EventBatch) -> EventBatch:
        regions = self.config.regions if self.config.regions in batch else "regions"
        require_finite(batch, ("jet_pt", "jet_eta", "jet_phi", regions), where=self.name)
        feats, slot = present_jet_features(batch, regions)  # empty slots score 0: only jets run the model
        score = np.zeros(batch["jet_pt"].shape, np.float32)
        if len(slot):
            score.reshape(-1)[slot] = self.model.predict(feats, threads=self.config.threads).reshape(-1)
        return batch.with_columns(**{self.config.column: score})
