"""Anomaly-detection scores: AXOL1TL-like (global trigger) and CICADA-like (calo layer 1).

Both run a shipped fixed-point model (:meth:`FixedPointModel.load`, numpy/numba only) on
the inputs :mod:`emulator.models.inputs` defines, bit for bit as the hls4ml firmware:

* ``axol1tl`` adds ``score_axol1tl`` = Σ μᵢ² of the encoder outputs on the 57 GT inputs;
* ``cicada`` adds ``score_cicada`` = the student's output on the 18 × 14 region ETs.

>>> from pathlib import Path
>>> from emulator.algorithm import BuildContext
>>> from streams.event import EventBatch
>>> algo = Axol1tl.build("axol1tl", {"model": "models/axol1tl.fxp"}, BuildContext(Path("configs")))
>>> algo.process(EventBatch.empty(2))["score_axol1tl"].shape
(2,)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from emulator.algorithm import BuildContext
from emulator.models.inputs import axol1tl_inputs, cicada_inputs
from emulator.models.latency_estimate import adder_tree_cycles, model_latency_cycles
from emulator.models.runtime import anomaly_score, load_model, require_finite, resolve_model
from emulator.params import from_mapping
from streams.event import EventBatch
from streams.schema import COLLECTIONS
from streams.views import AXOL1TL_LAYOUT

__all__ = ["AnomalyConfig", "Axol1tl", "Cicada"]

_AXO_COLUMNS = ("etm", "etm_phi", *(
    COLLECTIONS[c].column(f) for c, _ in AXOL1TL_LAYOUT for f in ("pt", "eta", "phi")
))  # fmt: skip


@dataclass(frozen=True, slots=True)
class AnomalyConfig:
    model: str  # engine model directory (``<name>.fxp``), relative to the chain file
    column: str = ""  # output column; default ``score_<algorithm type>``
    regions: str = "regions_cal"  # CICADA input column (``regions`` if absent)
    threads: int = 1  # engine threads per batch


class _ModelScore:
    kind = ""

    def __init__(self, name: str, config: AnomalyConfig, ctx: BuildContext, n_inputs: int) -> None:
        self.name = name
        self.config = config
        path = resolve_model(config.model, ctx.config_dir)
        self.model = load_model(path, where=f"algorithm {name!r}", n_inputs=n_inputs)
        self.column = config.column or f"score_{self.kind}"
        self.outputs: tuple[str, ...] = (self.column,)

    def latency_cycles(self, clock_mhz: float) -> int:
        return model_latency_cycles(self.model, clock_mhz)


class Axol1tl(_ModelScore):
    """Σ μᵢ² of the AXOL1TL-like encoder on the 57 GT inputs."""

    kind = "axol1tl"

    @classmethod
    def build(cls, name: str, params: dict[str, Any], ctx: BuildContext) -> Axol1tl:
        return cls(name, from_mapping(AnomalyConfig, params, where="params"), ctx, 57)

    def latency_cycles(self, clock_mhz: float) -> int:
        """The encoder, then squares and a ``latent``-input adder tree."""
        return super().latency_cycles(clock_mhz) + adder_tree_cycles(self.model.n_outputs, clock_mhz)

    def process(self, batch: EventBatch) -> EventBatch:
        require_finite(batch, _AXO_COLUMNS, where=self.name)
        mu = self.model.predict(axol1tl_inputs(batch), threads=self.config.threads)
        return batch.with_columns(**{self.column: anomaly_score(mu.reshape(len(batch), -1))})


class Cicada(_ModelScore):
    """The CICADA-like student's score on the calibrated region ETs."""

    kind = "cicada"

    @classmethod
    def build(cls, name: str, params: dict[str, Any], ctx: BuildContext) -> Cicada:
        return cls(name, from_mapping(AnomalyConfig, params, where="params"), ctx, 18 * 14)

    def process(self, batch: EventBatch) -> EventBatch:
        col = self.config.regions if self.config.regions in batch else "regions"
        require_finite(batch, (col,), where=self.name)
        score = self.model.predict(cicada_inputs(batch, col), threads=self.config.threads)
        return batch.with_columns(**{self.column: np.asarray(score, np.float32).reshape(len(batch))})
