"""Shared training helpers: seeding, input clipping, fixed-point ranges, train reports."""

from __future__ import annotations

import contextlib
import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from emulator.fixedpoint import FixedType
from emulator.fixedpoint._hls4ml_compat import import_tensorflow

__all__ = ["clip_to", "dir_size", "seed_everything", "split", "write_report"]


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and TensorFlow, and ask TF for deterministic kernels."""
    tf = import_tensorflow()
    random.seed(seed)
    np.random.seed(seed)
    tf.keras.utils.set_random_seed(seed)
    with contextlib.suppress(AttributeError, RuntimeError):  # older TF: no determinism switch
        tf.config.experimental.enable_op_determinism()


def clip_to(x: np.ndarray, precision: str) -> np.ndarray:
    """Clip ``x`` to the range of an ``ap_fixed`` type (what an AP_SAT input cast does)."""
    t = FixedType.parse(precision)
    out: np.ndarray = np.clip(x, t.min_int * t.lsb, t.max_int * t.lsb).astype(np.float32)
    return out


def split(n: int, seed: int, frac: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled train/validation indices."""
    order = np.random.default_rng(seed).permutation(n)
    k = int(n * frac)
    return order[k:], order[:k]


def write_report(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def dir_size(path: Path) -> int:
    """Bytes in a file or directory tree."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
