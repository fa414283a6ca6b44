"""The one place that imports TensorFlow, QKeras and hls4ml, and routes hls4ml to Keras 2.

QKeras needs ``TF_USE_LEGACY_KERAS=1`` before TensorFlow is first imported, and hls4ml's
Keras frontends ``import keras``: with Keras 3 installed they take the Keras-3 path, which
cannot parse QKeras layers. :func:`keras2_frontend` makes ``keras`` resolve to ``tf_keras``
only while an hls4ml conversion call runs. Nothing here runs at import time.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from streams.errors import L1EmuError

__all__ = [
    "config_from_keras_model",
    "convert_from_keras_model",
    "convert_from_qonnx",
    "import_hls4ml",
    "import_qkeras",
    "import_tensorflow",
    "keras2_frontend",
]

_LEGACY = "TF_USE_LEGACY_KERAS"


def import_tensorflow() -> Any:
    """Import TensorFlow with ``tf.keras`` = tf_keras (Keras 2), as QKeras requires."""
    if "tensorflow" not in sys.modules:
        os.environ[_LEGACY] = "1"
    elif os.environ.get(_LEGACY) != "1":
        msg = (
            "TensorFlow was imported before TF_USE_LEGACY_KERAS=1 was set; QKeras training will fail. "
            "Import it through emulator.fixedpoint._hls4ml_compat.import_tensorflow() first"
        )
        raise L1EmuError(msg)
    import tensorflow as tf

    return tf


def import_qkeras() -> Any:
    """Import QKeras (after TensorFlow in legacy-Keras mode)."""
    import_tensorflow()
    import qkeras

    return qkeras


def import_hls4ml() -> Any:
    """Import hls4ml (TensorFlow first, so hls4ml sees legacy Keras)."""
    import_tensorflow()
    import hls4ml

    _patch_exponent_weights()
    return hls4ml


def _patch_exponent_weights() -> None:
    """hls4ml 1.3 writes power-of-two weights with ``np.product``, gone in numpy 2: give its
    ``ExponentWeightVariable`` the same iterator with ``math.prod`` (nothing else changes)."""
    import numpy as np
    from hls4ml.model.types import ExponentWeightVariable

    if hasattr(np, "product") or getattr(ExponentWeightVariable, "_l1emu_numpy2", False):
        return

    def iterate(self: Any) -> Any:
        data = self._format()
        self._iterator = iter(data.reshape((math.prod(data.shape[:-1]), 2)))
        return self

    ExponentWeightVariable.__iter__ = iterate
    ExponentWeightVariable._l1emu_numpy2 = True


@contextmanager
def keras2_frontend() -> Iterator[None]:
    """Within the block, ``import keras`` yields ``tf_keras`` (hls4ml's Keras-2 frontend)."""
    import_tensorflow()
    import tf_keras

    saved = sys.modules.get("keras")
    sys.modules["keras"] = tf_keras
    try:
        yield
    finally:
        if saved is None:
            sys.modules.pop("keras", None)
        else:
            sys.modules["keras"] = saved


def config_from_keras_model(model: Any, **kwargs: Any) -> dict[str, Any]:
    """``hls4ml.utils.config_from_keras_model`` through the Keras-2 frontend."""
    hls4ml = import_hls4ml()
    with keras2_frontend():
        config: dict[str, Any] = hls4ml.utils.config_from_keras_model(model, **kwargs)
    return config


def convert_from_keras_model(model: Any, **kwargs: Any) -> Any:
    """``hls4ml.converters.convert_from_keras_model`` through the Keras-2 frontend."""
    hls4ml = import_hls4ml()
    with keras2_frontend():
        return hls4ml.converters.convert_from_keras_model(model, **kwargs)


def convert_from_qonnx(
    model: Any, *, output_dir: str | Path, backend: str = "Vitis", tune: Callable[[dict[str, Any]], None] | None = None
) -> Any:
    """An hls4ml ``ModelGraph`` (io_parallel) of a QONNX model (an ``onnx.ModelProto``, a qonnx
    ``ModelWrapper`` or a ``.onnx`` path), cleaned as hls4ml's QONNX front end expects
    (cleanup, channels last, Gemm -> MatMul, cleanup); ``tune`` may edit the hls4ml config."""
    hls4ml = import_hls4ml()
    try:
        from qonnx.core.modelwrapper import ModelWrapper
        from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
        from qonnx.transformation.gemm_to_matmul import GemmToMatMul
        from qonnx.util.cleanup import cleanup_model
    except ImportError as exc:
        msg = f"QONNX models need the qonnx package ({exc}): pip install 'l1emu[byom]'"
        raise L1EmuError(msg) from exc
    wrapped = (
        model if isinstance(model, ModelWrapper) else ModelWrapper(str(model) if isinstance(model, Path) else model)
    )
    wrapped = cleanup_model(wrapped).transform(ConvertToChannelsLastAndClean()).transform(GemmToMatMul())
    wrapped = cleanup_model(wrapped)
    config: dict[str, Any] = hls4ml.utils.config.config_from_onnx_model(wrapped, granularity="name", backend=backend)
    if tune is not None:
        tune(config)
    return hls4ml.converters.convert_from_onnx_model(
        wrapped, output_dir=str(output_dir), io_type="io_parallel", backend=backend, hls_config=config
    )
