"""CICADA-like anomaly detector: a torch teacher distilled into a small QKeras student.

The teacher (:mod:`emulator.models.teacher`) learns to reconstruct zero-bias region ETs;
the student (QConv2D 2×2 stride 2 → Dense 16 → 1) regresses ``ln`` of the teacher's
reconstruction error from the regions in 4 GeV units (input ``ap_fixed<12,9,AP_TRN,AP_SAT>``).
The student's output is the chain's ``score_cicada``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emulator.models._common import clip_to, dir_size, seed_everything, split, write_report
from emulator.models.export import HlsSettings, export
from emulator.models.inputs import CICADA_SHIFT, cicada_inputs

__all__ = ["INPUT_PRECISION", "CicadaConfig", "train_cicada"]

log = logging.getLogger(__name__)

INPUT_PRECISION = "fixed<12,9,TRN,SAT>"
_FLOOR = 1e-6  # teacher losses below this are clamped before the log


@dataclass(frozen=True, slots=True)
class CicadaConfig:
    teacher_events: int = 50_000
    teacher_epochs: int = 4
    student_epochs: int = 15
    batch_size: int = 512
    filters: int = 4
    learning_rate: float = 3e-3
    aligned_tail: int = 0  # trailing events of a second zero-bias population (see below)


def _student_targets(teacher_loss: np.ndarray, aligned_tail: int = 0) -> np.ndarray:
    """``ln`` of the teacher's score; the last ``aligned_tail`` events (a second zero-bias
    population, e.g. the parametric generator) are mapped, rank for rank, onto the
    distribution of the rest (quantile matching: same median, same tail).

    A reconstruction error is larger for any population whose regions are less correlated
    (the parametric pileup is i.i.d. per region), so without the shift the student would
    call a whole zero-bias description anomalous. With it, "anomalous" means unusual for
    zero bias of its own kind.
    """
    y: np.ndarray = np.log(np.maximum(teacher_loss, _FLOOR)).astype(np.float32)
    if 0 < aligned_tail < len(y):
        head, tail = y[:-aligned_tail], y[-aligned_tail:]
        ranks = (np.argsort(np.argsort(tail, kind="stable"), kind="stable") + 0.5) / len(tail)
        y[-aligned_tail:] = np.quantile(head, ranks).astype(np.float32)
    return y


def train_cicada(zb: Any, *, out_dir: str | Path, seed: int, name: str = "cicada",
                 config: CicadaConfig | None = None, column: str = "regions_cal") -> dict[str, Any]:
    """Train teacher and student on zero bias; write the ONNX teacher and the shipped student."""
    from emulator.models import teacher

    cfg = config or CicadaConfig()
    seed_everything(seed)
    import tf_keras

    from emulator.models._builders import cicada_student

    col = column if column in zb else "regions"
    x_teacher = teacher.teacher_inputs(zb[col])
    tr, va = split(len(x_teacher), seed)
    t0 = time.perf_counter()
    net = teacher.train_teacher(x_teacher[tr[: cfg.teacher_events]], seed=seed,
                              epochs=cfg.teacher_epochs)  # fmt: skip
    teacher_s = time.perf_counter() - t0
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = teacher.export_onnx(net, out / f"{name}_teacher.onnx")
    loss = teacher.onnx_score(onnx_path, x_teacher)
    y = _student_targets(loss, cfg.aligned_tail)
    x = clip_to(cicada_inputs(zb, col), INPUT_PRECISION)
    student = cicada_student(cfg.filters)
    student.compile(optimizer=tf_keras.optimizers.Adam(cfg.learning_rate), loss="mse")
    t1 = time.perf_counter()
    hist = student.fit(x[tr], y[tr], validation_data=(x[va], y[va]), epochs=cfg.student_epochs,
                       batch_size=cfg.batch_size, shuffle=True, verbose=0)  # fmt: skip
    student_s = time.perf_counter() - t1
    extra = {"input": "emulator.models.inputs.cicada_inputs", "input_shift": CICADA_SHIFT,
             "target": "ln(teacher MSE) of log1p(region ET / GeV)", "teacher_onnx": onnx_path.name}  # fmt: skip
    paths, fxp = export(student, name=name, out_dir=out, settings=HlsSettings(INPUT_PRECISION), extra=extra)
    pred = fxp.predict(x[va]).reshape(-1)
    report = {
        "model": name, "seed": seed, "events": len(x), "config": asdict(cfg),
        "teacher_seconds": round(teacher_s, 1), "student_seconds": round(student_s, 1),
        "student_val_mse": float(hist.history["val_loss"][-1]),
        "student_teacher_corr": float(np.corrcoef(pred, y[va])[0, 1]),
        "target_quantiles": np.quantile(y, [0.5, 0.99, 0.999]).round(3).tolist(),
        "fxp_score_quantiles": np.quantile(pred, [0.5, 0.99, 0.999]).round(3).tolist(),
        "bytes": {"keras": dir_size(paths.keras), "fxp": dir_size(paths.fxp), "onnx": dir_size(onnx_path)},
    }
    write_report(out / f"{name}.train.json", report)
    log.info("cicada: teacher %.0f s, student %.0f s, corr %.3f", teacher_s, student_s, report["student_teacher_corr"])
    return report
