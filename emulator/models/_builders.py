"""QKeras model builders (called only while training; TensorFlow is imported lazily).

Quantizers are given as strings, so the models save to ``.keras`` and reload with
``safe_mode=True`` and QKeras' custom objects.
"""

from __future__ import annotations

from typing import Any

from emulator.fixedpoint._hls4ml_compat import import_qkeras

__all__ = ["axol1tl_encoder", "cicada_student", "custom_objects", "tau_tagger"]

_W = "quantized_bits(8,2,alpha=1)"  # weights/biases: ap_fixed<8,3>
_W_OUT = "quantized_bits(10,4,alpha=1)"


def _dense(units: int, name: str, kernel: str = _W, bias: str = _W) -> Any:
    from qkeras import QDense

    return QDense(units, kernel_quantizer=kernel, bias_quantizer=bias, name=name,
                  kernel_initializer="lecun_uniform")  # fmt: skip


def _relu(bits: int, integer: int, name: str) -> Any:
    from qkeras import QActivation

    return QActivation(f"quantized_relu({bits},{integer})", name=name)


def axol1tl_encoder(latent: int = 8) -> tuple[Any, Any]:
    """Encoder 57→32→16→``latent``: returns (inputs, [μ, hidden]) tensors for the VAE."""
    import_qkeras()
    from tf_keras import Input

    inp = Input((57,), name="x")
    h = _relu(10, 4, "r1")(_dense(32, "d1")(inp))
    h = _relu(10, 4, "r2")(_dense(16, "d2")(h))
    mu = _dense(latent, "mu", _W_OUT, _W_OUT)(h)
    return inp, (mu, h)


def cicada_student(filters: int = 4) -> Any:
    """QConv2D 2×2 stride 2 → ReLU → Dense 16 → ReLU → Dense 1 on the 18×14 regions."""
    import_qkeras()
    from qkeras import QConv2D
    from tf_keras import Input, Model, layers

    inp = Input((18, 14, 1), name="regions")
    x = QConv2D(filters, (2, 2), strides=(2, 2), kernel_quantizer=_W, bias_quantizer=_W, name="conv")(inp)
    x = _relu(10, 5, "r1")(x)
    x = layers.Flatten(name="flat")(x)
    x = _relu(10, 5, "r2")(_dense(16, "d1")(x))
    out = _dense(1, "score", _W_OUT, _W_OUT)(x)
    return Model(inp, out, name="cicada_student")


def tau_tagger(n_features: int) -> Any:
    """Per-jet MLP n→16→8→1 with a sigmoid (a table in firmware)."""
    import_qkeras()
    from tf_keras import Input, Model, layers

    inp = Input((n_features,), name="jet")
    x = _relu(10, 4, "r1")(_dense(16, "d1")(inp))
    x = _relu(10, 4, "r2")(_dense(8, "d2")(x))
    x = _dense(1, "logit", _W_OUT, _W_OUT)(x)
    out = layers.Activation("sigmoid", name="prob")(x)
    return Model(inp, out, name="tau_tagger")


def custom_objects() -> dict[str, Any]:
    """QKeras layers and quantizers for ``tf_keras.models.load_model``."""
    import_qkeras()
    from qkeras.utils import _add_supported_quantized_objects

    objects: dict[str, Any] = {}
    _add_supported_quantized_objects(objects)
    return objects
