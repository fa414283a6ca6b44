"""τ/jet tagger: per-jet features ``(N, 12, 7)``, the ``tagger`` algorithm, τ vs QCD training."""

from __future__ import annotations

from typing import Any

from emulator.models.inputs import tagger_features
from emulator.models.kind import ModelKind, TrainingRun

__all__ = ["KIND"]


def _train(run: TrainingRun) -> dict[str, Any]:
    from emulator.models.tagger import TaggerConfig, train_tagger

    return train_tagger(list(run.signal), run.sample, out_dir=run.out_dir, seed=run.seed,
                        config=TaggerConfig(**run.options))  # fmt: skip


KIND = ModelKind("tagger", algorithm="tagger", inputs=tagger_features, train=_train, needs_signal=True,
                 takes_parametric=False, help="per-jet MLP, τ (--signal) against QCD (--sample)")  # fmt: skip
