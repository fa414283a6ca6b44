"""Quantized trigger models: inputs from event batches, QKeras training, export for the chain.

Each model kind (its inputs, chain algorithm and trainer) is registered once, in its own
module under :mod:`emulator.models.kinds`; run-time code (the chain algorithms, the firmware
testbenches) uses :mod:`emulator.models.inputs` and :mod:`emulator.models.runtime` only.
Nothing here imports TensorFlow or torch at import time: training modules import them
lazily through :mod:`emulator.fixedpoint._hls4ml_compat`, and replay only needs
:class:`~emulator.fixedpoint.FixedPointModel` (numpy/numba).

>>> from emulator.models.kinds import model_kinds
>>> model_kinds()
('axol1tl', 'cicada', 'tagger')
"""

from __future__ import annotations

__all__: list[str] = []
