"""Quantized trigger models: datasets from event batches, QKeras training, export for the chain.

Nothing here imports TensorFlow or torch at import time: training modules import them
lazily through :mod:`emulator.fixedpoint._hls4ml_compat`, and replay only needs
:class:`~emulator.fixedpoint.FixedPointModel` (numpy/numba).

>>> from emulator.models import MODEL_KINDS
>>> MODEL_KINDS
('axol1tl', 'cicada', 'tagger')
"""

from __future__ import annotations

__all__ = ["MODEL_KINDS"]

#: The models ``l1emu train`` knows.
MODEL_KINDS: tuple[str, ...] = ("axol1tl", "cicada", "tagger")
