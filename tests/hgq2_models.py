"""Small HGQ2 test models, built inside the HGQ2 environment (``.venv-hgq2``) by tests/test_models_hgq2.py.

Run as a script there (it imports nothing of l1emu; keras, hgq only inside :func:`main`):
``.venv-hgq2/bin/python -I tests/hgq2_models.py OUT_DIR`` writes ``mlp.keras`` (dense + ReLU, a
three-value head and a one-value head, heterogeneous input quantiser with two zeroed
elements) and ``conv.keras`` (QConv1D + ReLU, flatten, dense), with Keras' random initial
weights, min/max-traced on normal inputs so the WRAP quantisers get per-element integer bits.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["build_conv", "build_mlp", "main"]


def build_mlp(keras: Any, np: Any) -> Any:
    from hgq.layers import QDense

    inp = keras.Input((16,), name="x")
    h = QDense(16, activation="relu", name="d1")(inp)
    a = QDense(3, name="head_a")(h)
    b = QDense(1, name="head_b")(h)
    model = keras.Model(inp, [a, b], name="hgq2_mlp")
    rng = np.random.default_rng(1)
    x = rng.normal(0, 2, (4000, 16)).astype(np.float32)
    return model, x


def build_conv(keras: Any, np: Any) -> Any:
    from hgq.layers import QConv1D, QDense

    inp = keras.Input((8, 3), name="x")
    h = QConv1D(4, 3, activation="relu", name="c1")(inp)
    h = keras.layers.Flatten(name="flat")(h)
    y = QDense(2, name="out")(h)
    model = keras.Model(inp, y, name="hgq2_conv")
    rng = np.random.default_rng(2)
    x = rng.normal(0, 2, (4000, 8, 3)).astype(np.float32)
    return model, x


def _zero_two_inputs(model: Any, np: Any) -> None:
    """Give two input elements of ``d1`` zero bits (hls4ml writes ``out[k] = 0;`` for them)."""
    q = model.get_layer("d1").iq.quantizer
    f = np.array(q._f.numpy())
    if f.size > 1:
        i = np.array(q._i.numpy())
        flat_f, flat_i = f.reshape(-1), i.reshape(-1)
        flat_f[[3, 11]] = -flat_i[[3, 11]] - 1
        q._f.assign(f)


def main(argv: list[str]) -> int:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    import numpy as np
    from hgq.utils import trace_minmax

    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(1)
    for name, build in (("mlp", build_mlp), ("conv", build_conv)):
        model, x = build(keras, np)
        trace_minmax(model, x)
        if name == "mlp":
            _zero_two_inputs(model, np)
        model.save(out / f"{name}.keras")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
