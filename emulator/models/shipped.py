"""Where a shipped model's three files live: the one definition of the layout.

``<name>.keras`` (the QKeras model), ``<name>.hls4ml.json`` (its hls4ml config) and
``<name>.fxp/`` (the fixed-point engine model) side by side. Export writes them
(:func:`emulator.models.export.export`), the chain replays the ``.fxp``, and the firmware
flow rebuilds the hls4ml project from the other two (``firmware.hls_project.ModelFiles``).

>>> ShippedFiles.at("configs/models", "axol1tl").fxp.as_posix()
'configs/models/axol1tl.fxp'
>>> ShippedFiles.of("configs/models/cicada.hls4ml.json").keras.name
'cicada.keras'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Self

__all__ = ["SUFFIXES", "ShippedFiles"]

#: The suffixes of the shipped files (``.h5``: Keras models shipped before ``.keras``).
SUFFIXES: tuple[str, ...] = (".hls4ml.json", ".keras", ".h5", ".fxp")


@dataclass(frozen=True, slots=True)
class ShippedFiles:
    """The three shipped files of model ``name``."""

    name: str
    keras: Path
    hls4ml: Path
    fxp: Path

    @classmethod
    def at(cls, directory: str | Path, name: str) -> Self:
        """The files of model ``name`` in ``directory``."""
        root = Path(directory)
        return cls(name, root / f"{name}.keras", root / f"{name}.hls4ml.json", root / f"{name}.fxp")

    @classmethod
    def of(cls, ref: str | Path) -> Self:
        """From a stem (``configs/models/axol1tl``) or any one of the files (existing or not)."""
        text = str(ref).rstrip("/")
        stem = Path(next((text[: -len(s)] for s in SUFFIXES if text.endswith(s)), text))
        return cls.at(stem.parent, stem.name)
