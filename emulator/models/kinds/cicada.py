"""CICADA-like anomaly detector: the 18 × 14 region ETs, the ``cicada`` algorithm, teacher/student."""

from __future__ import annotations

from typing import Any

from emulator.models.inputs import cicada_inputs
from emulator.models.kind import ModelKind, TrainingRun

__all__ = ["KIND"]


def _train(run: TrainingRun) -> dict[str, Any]:
    from emulator.models.cicada import CicadaConfig, train_cicada

    options = dict(run.options)
    if run.parametric > 0:  # the appended parametric events are the second zero-bias population
        options.setdefault("aligned_tail", run.parametric)
    return train_cicada(run.sample, out_dir=run.out_dir, seed=run.seed, config=CicadaConfig(**options))


KIND = ModelKind("cicada", algorithm="cicada", inputs=cicada_inputs, train=_train, epochs_option="student_epochs",
                 help="CNN student of an autoencoder teacher on the region ETs (zero-bias --sample)")  # fmt: skip
