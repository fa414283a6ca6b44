"""Run inside the HGQ2 environment (``make hgq2``: ``.venv-hgq2``), never imported by l1emu.

hgq2 0.2.0 needs keras >= 3.15 and installs a top-level ``qkeras`` package that shadows
QKeras, so it lives in its own environment; l1emu runs this file there as a subprocess and
passes files only: an HGQ2 ``.keras`` model in (loaded with ``safe_mode``, nothing
unpickled), an hls4ml io_parallel project directory out (and, with ``--predict``, HGQ2's
own emulation of the model on the inputs of an ``.npz`` file). It imports nothing of l1emu
and only the standard library at module level.

    .venv-hgq2/bin/python -I emulator/models/_hgq2_export.py model.keras PROJECT_DIR [--backend Vitis]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["SUMMARY", "export", "main", "predict"]

log = logging.getLogger("l1emu.hgq2_export")
SUMMARY = "hgq2_export.json"  # written into the project: the Keras layers and heads


def _load(src: Path) -> Any:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import hgq  # noqa: F401  (registers HGQ2's layers with Keras)
    import keras

    return keras.saving.load_model(src, compile=False, safe_mode=True)


def export(src: Path, project: Path, *, backend: str) -> dict[str, Any]:
    """Convert the HGQ2 model ``src`` with hls4ml's Keras-3 front end and write the project."""
    import hls4ml

    model = _load(src)
    hls = hls4ml.converters.convert_from_keras_model(
        model, output_dir=str(project), backend=backend, io_type="io_parallel"
    )
    hls.write()
    layers = [{"name": layer.name, "class": type(layer).__name__} for layer in model.layers]
    return {"project": str(project), "layers": layers, "outputs": [str(o.name) for o in model.outputs]}


def predict(src: Path, inputs: Path, out: Path) -> None:
    """HGQ2's own (bit-accurate) emulation: ``model(x)`` on each array of ``inputs`` (``x0``, ``x1``...)."""
    import numpy as np

    model = _load(src)
    with np.load(inputs) as data:
        xs = [data[f"x{i}"] for i in range(len(data.files))]
    ys = model.predict(xs[0] if len(xs) == 1 else xs, batch_size=4096, verbose=0)
    ys = ys if isinstance(ys, list | tuple) else [ys]
    arrays: dict[str, Any] = {f"y{i}": np.asarray(y) for i, y in enumerate(ys)}
    np.savez(out, **arrays)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="HGQ2 .keras file")
    parser.add_argument("project", type=Path, help="hls4ml project directory to write")
    parser.add_argument("--backend", default="Vitis")
    parser.add_argument("--predict", nargs=2, type=Path, metavar=("INPUTS_NPZ", "OUTPUTS_NPZ"),
                        help="write HGQ2's emulation of the inputs instead of exporting")  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="hgq2 export: %(message)s")
    if args.predict:
        predict(args.model, *args.predict)
        return 0
    summary = export(args.model, args.project, backend=args.backend)
    (args.project / SUMMARY).write_text(json.dumps(summary, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
