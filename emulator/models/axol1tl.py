"""AXOL1TL-like anomaly detector: a VAE on the 57 GT inputs; the quantized encoder μ ships.

Inputs are :func:`~emulator.models.inputs.axol1tl_inputs` (hardware integers, shifted),
saturated by the input cast ``ap_fixed<13,6,AP_TRN,AP_SAT>``. The score is Σ μᵢ², computed
from the encoder's fixed-point outputs (exact in float: a sum of squared mantissas).
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
from emulator.models.inputs import AXOL1TL_SHIFTS, axol1tl_inputs
from emulator.models.runtime import anomaly_score
from streams.event import EventBatch

__all__ = ["INPUT_PRECISION", "Axol1tlConfig", "train_axol1tl"]

log = logging.getLogger(__name__)

INPUT_PRECISION = "fixed<13,6,TRN,SAT>"


@dataclass(frozen=True, slots=True)
class Axol1tlConfig:
    latent: int = 8
    epochs: int = 12
    batch_size: int = 1024
    beta: float = 1.0  # weight of the KL term against the summed squared error
    learning_rate: float = 2e-3


def _vae(cfg: Axol1tlConfig) -> tuple[Any, Any]:
    import tensorflow as tf
    from tf_keras import Model, layers

    from emulator.models._builders import axol1tl_encoder

    inp, (mu, h) = axol1tl_encoder(cfg.latent)
    logvar = layers.Dense(cfg.latent, name="logvar", kernel_initializer="zeros")(h)

    class Sampling(layers.Layer):  # type: ignore[misc]
        def call(self, args: Any) -> Any:
            m, lv = args
            return m + tf.exp(0.5 * lv) * tf.random.normal(tf.shape(m))

    z = Sampling(name="z")([mu, logvar])
    d = layers.Dense(16, activation="relu", name="dec1")(z)
    d = layers.Dense(32, activation="relu", name="dec2")(d)
    recon = layers.Dense(57, name="recon")(d)
    vae = Model(inp, recon, name="axol1tl_vae")
    kl = -0.5 * tf.reduce_mean(tf.reduce_sum(1 + logvar - tf.square(mu) - tf.exp(logvar), axis=1))
    vae.add_loss(cfg.beta * kl)
    vae.add_metric(kl, name="kl")
    encoder = Model(inp, mu, name="axol1tl_encoder")
    return vae, encoder


def train_axol1tl(zb: EventBatch, *, out_dir: str | Path, seed: int, name: str = "axol1tl",
                  config: Axol1tlConfig | None = None) -> dict[str, Any]:
    """Train on zero bias, export the encoder, return the training report."""
    cfg = config or Axol1tlConfig()
    seed_everything(seed)
    import tf_keras

    x = clip_to(axol1tl_inputs(zb), INPUT_PRECISION)
    tr, va = split(len(x), seed)
    vae, encoder = _vae(cfg)

    def summed_se(y: Any, p: Any) -> Any:
        import tensorflow as tf

        return tf.reduce_sum(tf.square(y - p), axis=-1)

    vae.compile(optimizer=tf_keras.optimizers.Adam(cfg.learning_rate), loss=summed_se)
    t0 = time.perf_counter()
    hist = vae.fit(x[tr], x[tr], validation_data=(x[va], x[va]), epochs=cfg.epochs, batch_size=cfg.batch_size,
                   shuffle=True, verbose=0)  # fmt: skip
    train_s = time.perf_counter() - t0
    extra = {"input": "emulator.models.inputs.axol1tl_inputs", "input_shifts": AXOL1TL_SHIFTS.tolist(),
             "score": "sum of squared outputs (encoder mu)"}  # fmt: skip
    paths, fxp = export(encoder, name=name, out_dir=out_dir, settings=HlsSettings(INPUT_PRECISION), extra=extra)
    keras_score = anomaly_score(encoder.predict(x[va], verbose=0, batch_size=8192))
    fxp_score = anomaly_score(fxp.predict(x[va]))
    report = {
        "model": name, "seed": seed, "events": len(x), "config": asdict(cfg),
        "train_seconds": round(train_s, 1), "val_loss": float(hist.history["val_loss"][-1]),
        "val_kl": float(hist.history["val_kl"][-1]),
        "keras_vs_fxp_max_abs_diff": float(np.max(np.abs(keras_score - fxp_score))),
        "fxp_score_quantiles": np.quantile(fxp_score, [0.5, 0.9, 0.99, 0.999]).round(4).tolist(),
        "bytes": {"keras": dir_size(paths.keras), "fxp": dir_size(paths.fxp)},
    }
    write_report(Path(out_dir) / f"{name}.train.json", report)
    log.info("axol1tl: trained in %.1f s, val loss %.3f", train_s, report["val_loss"])
    return report
