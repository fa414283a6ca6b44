"""What the chain algorithms need at replay time: model loading and input checks (numpy only).

>>> import numpy as np
>>> from streams.event import EventBatch
>>> b = EventBatch.empty(3).with_columns(x=np.array([0.0, np.nan, 1.0], np.float32))
>>> require_finite(b, ["x"], where="axol1tl")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
streams.errors.StageError: axol1tl: column 'x' is not finite (nan) in event 1 (gid 1, ...
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from emulator.errors import StageError
from emulator.fixedpoint import FixedPointError, FixedPointModel
from streams.errors import ConfigError
from streams.event import EventBatch

__all__ = ["SHIPPED_CONFIGS", "anomaly_score", "load_model", "require_finite", "resolve_model"]

#: The repository's ``configs/`` directory: model paths fall back to it (see :func:`resolve_model`).
SHIPPED_CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def resolve_model(path: str | Path, config_dir: Path) -> Path:
    """``path`` as given if absolute; else relative to the chain file's directory, or, when
    nothing is there, to the shipped ``configs/`` (so a copied chain keeps the default models).

    >>> resolve_model("models/axol1tl.fxp", Path("/nonexistent")) == SHIPPED_CONFIGS / "models/axol1tl.fxp"
    True
    """
    p = Path(path)
    if p.is_absolute():
        return p
    local = config_dir / p
    if local.exists() or not (SHIPPED_CONFIGS / p).exists():
        return local
    return SHIPPED_CONFIGS / p


def load_model(path: Path, *, where: str, n_inputs: int | None = None) -> FixedPointModel:
    """Load a shipped engine model; a missing or mismatched model is a ConfigError naming ``where``."""
    try:
        model = FixedPointModel.load(path)
    except FixedPointError as exc:
        msg = f"{where}: model {path}: {exc}"
        raise ConfigError(msg) from exc
    if n_inputs is not None and model.n_inputs != n_inputs:
        msg = f"{where}: model {path} takes {model.n_inputs} inputs, this algorithm provides {n_inputs}"
        raise ConfigError(msg)
    return model


def require_finite(batch: EventBatch, columns: Iterable[str], *, where: str) -> None:
    """Raise StageError naming the column and the first event whose float input is NaN/±inf."""
    for name in columns:
        if name not in batch:
            msg = f"{where}: input column {name!r} is not in the batch"
            raise StageError(msg)
        col = batch[name]
        if col.dtype.kind != "f":
            continue
        bad = ~np.isfinite(col.reshape(len(col), -1)).all(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            value = col.reshape(len(col), -1)[i][~np.isfinite(col.reshape(len(col), -1)[i])][0]
            msg = (
                f"{where}: column {name!r} is not finite ({value}) in event {i} "
                f"(gid {batch.meta.first + i}, event number {int(batch['event'][i])}); "
                f"{int(bad.sum())} such event(s) in this batch"
            )
            raise StageError(msg)


def anomaly_score(mu: np.ndarray) -> np.ndarray:
    """Σ μᵢ² per event, float32 ``(N,)`` (float64 sum: exact for fixed-point μ)."""
    mu64 = np.asarray(mu, np.float64)
    out: np.ndarray = np.einsum("ij,ij->i", mu64, mu64).astype(np.float32)
    return out
