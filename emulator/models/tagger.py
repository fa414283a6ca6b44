"""τ/jet tagger: a quantized per-jet MLP on features the calorimeter emulation provides.

Training jets are :func:`~emulator.models.dataset.tagger_candidates` (pT ≥ 20 GeV,
|η| ≤ 2.3, an L1 τ within the match window) — the same selection in every sample. The
label is the sample: jets from τ-enriched samples (H→ττ, h⁰→ττ) are 1, jets from QCD are 0.
The events carry no generator truth, so this is weak supervision: signal-sample jets from
pileup or ISR are labelled 1 too, which dilutes, but does not bias, the learned ranking.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emulator.models._common import clip_to, dir_size, seed_everything, split, write_report
from emulator.models.dataset import tagger_candidates
from emulator.models.export import HlsSettings, export
from emulator.models.inputs import TAGGER_FEATURES, tagger_features
from streams.event import EventBatch

__all__ = ["INPUT_PRECISION", "TaggerConfig", "roc_auc", "train_tagger"]

log = logging.getLogger(__name__)

INPUT_PRECISION = "fixed<10,8,TRN,SAT>"


@dataclass(frozen=True, slots=True)
class TaggerConfig:
    epochs: int = 20
    batch_size: int = 256
    learning_rate: float = 3e-3


def roc_auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve (ties counted half).

    >>> roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    0.75
    """
    s = np.asarray(score, np.float64)
    y = np.asarray(label, bool)
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def jets(batch: EventBatch) -> np.ndarray:
    """Features ``(M, F)`` of the candidate jets of a batch."""
    out: np.ndarray = tagger_features(batch)[tagger_candidates(batch)]
    return out


def train_tagger(signal: Sequence[EventBatch], background: EventBatch, *, out_dir: str | Path, seed: int,
                 name: str = "tagger", config: TaggerConfig | None = None) -> dict[str, Any]:
    """Train τ (signal samples) vs QCD jets; export; return the training report."""
    cfg = config or TaggerConfig()
    seed_everything(seed)
    import tf_keras

    from emulator.models._builders import tau_tagger

    sig = np.concatenate([jets(b) for b in signal])
    bkg = jets(background)
    x = clip_to(np.concatenate([sig, bkg]), INPUT_PRECISION)
    y = np.concatenate([np.ones(len(sig)), np.zeros(len(bkg))]).astype(np.float32)
    w = np.where(y == 1, len(y) / (2 * max(len(sig), 1)), len(y) / (2 * max(len(bkg), 1))).astype(np.float32)
    tr, va = split(len(x), seed)
    model = tau_tagger(len(TAGGER_FEATURES))
    model.compile(optimizer=tf_keras.optimizers.Adam(cfg.learning_rate), loss="binary_crossentropy")
    t0 = time.perf_counter()
    model.fit(x[tr], y[tr], sample_weight=w[tr], validation_data=(x[va], y[va], w[va]), epochs=cfg.epochs,
              batch_size=cfg.batch_size, shuffle=True, verbose=0)  # fmt: skip
    train_s = time.perf_counter() - t0
    extra = {"input": "emulator.models.inputs.tagger_features", "features": list(TAGGER_FEATURES),
             "label": "tau-enriched sample (1) vs QCD (0), candidate jets only"}  # fmt: skip
    paths, fxp = export(model, name=name, out_dir=out_dir, settings=HlsSettings(INPUT_PRECISION), extra=extra)
    pred = fxp.predict(x[va]).reshape(-1)
    keras_pred = model.predict(x[va], verbose=0, batch_size=8192).reshape(-1)
    report = {
        "model": name, "seed": seed, "config": asdict(cfg), "jets": {"signal": len(sig), "background": len(bkg)},
        "train_seconds": round(train_s, 1), "val_auc_fxp": round(roc_auc(pred, y[va]), 4),
        "val_auc_keras": round(roc_auc(keras_pred, y[va]), 4),
        "bytes": {"keras": dir_size(paths.keras), "fxp": dir_size(paths.fxp)},
    }
    write_report(Path(out_dir) / f"{name}.train.json", report)
    log.info("tagger: %d τ / %d QCD jets, AUC %.3f (%.0f s)", len(sig), len(bkg), report["val_auc_fxp"], train_s)
    return report
