"""AXOL1TL-like anomaly detector: the 57 GT inputs, the ``axol1tl`` algorithm, a VAE trainer."""

from __future__ import annotations

from typing import Any

from emulator.models.inputs import axol1tl_inputs
from emulator.models.kind import ModelKind, TrainingRun

__all__ = ["KIND"]


def _train(run: TrainingRun) -> dict[str, Any]:
    from emulator.models.axol1tl import Axol1tlConfig, train_axol1tl

    return train_axol1tl(run.sample, out_dir=run.out_dir, seed=run.seed, config=Axol1tlConfig(**run.options))


KIND = ModelKind("axol1tl", algorithm="axol1tl", inputs=axol1tl_inputs, train=_train,
                 help="VAE anomaly score on the 57 GT inputs (zero-bias --sample)")  # fmt: skip
