"""HGQ2 (Keras 3) models: exported to an hls4ml project in their own environment, then read as one.

hgq2 0.2.0 needs keras >= 3.15 and installs a top-level ``qkeras`` package that shadows
QKeras 0.9, so it cannot share l1emu's environment. ``make hgq2`` builds ``.venv-hgq2``
(hgq2, keras, jax CPU, hls4ml); :func:`export_hgq2` runs :mod:`._hgq2_export` there as a
subprocess (files in, files out: nothing is unpickled) and the engine reads the project with
:meth:`~emulator.fixedpoint.FixedPointGraph.from_hls4ml_project`. ``L1EMU_HGQ2_PYTHON``
names another interpreter of such an environment.

>>> is_hgq2_model("/nonexistent.keras")
False
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from emulator.fixedpoint import UnsupportedLayerError

__all__ = ["HGQ2_ENV", "export_hgq2", "hgq2_predict", "hgq2_python", "is_hgq2_model"]

log = logging.getLogger(__name__)

HGQ2_ENV = Path(__file__).resolve().parents[2] / ".venv-hgq2"
_WORKER = Path(__file__).with_name("_hgq2_export.py")
_TIMEOUT_S = 900


def is_hgq2_model(path: str | Path) -> bool:
    """Whether ``path`` is a Keras 3 ``.keras`` archive whose config names HGQ2 layers."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = archive.read("config.json").decode(errors="replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return '"registered_name": "hgq>' in config or '"module": "hgq.' in config


def hgq2_python() -> Path | None:
    """The HGQ2 environment's interpreter (``L1EMU_HGQ2_PYTHON`` or ``.venv-hgq2``), None if not built."""
    named = os.environ.get("L1EMU_HGQ2_PYTHON")
    python = Path(named) if named else HGQ2_ENV / "bin" / "python"
    return python if python.is_file() else None


def _run(args: list[str], *, what: str) -> None:
    python = hgq2_python()
    if python is None:
        msg = (
            f"{what}: HGQ2 models are exported in their own environment, which is not built "
            f"(run `make hgq2` to create {HGQ2_ENV}, or set L1EMU_HGQ2_PYTHON)"
        )
        raise UnsupportedLayerError(msg)
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [str(python), "-I", str(_WORKER), *args]
    log.info("HGQ2 environment: %s", " ".join(cmd))
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        msg = f"{what}: the HGQ2 export did not finish in {_TIMEOUT_S} s"
        raise UnsupportedLayerError(msg) from exc
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-12:])
        msg = f"{what}: the HGQ2 export failed (exit {done.returncode}):\n{tail}"
        raise UnsupportedLayerError(msg)


def export_hgq2(src: str | Path, project: str | Path, *, backend: str = "Vitis") -> dict[str, Any]:
    """Write the hls4ml io_parallel project of the HGQ2 model ``src`` into ``project``; its summary."""
    source, out = Path(src).resolve(), Path(project).resolve()
    out.mkdir(parents=True, exist_ok=True)
    _run([str(source), str(out), "--backend", backend], what=str(source))
    summary: dict[str, Any] = json.loads((out / "hgq2_export.json").read_text())
    return summary


def hgq2_predict(src: str | Path, inputs: str | Path, outputs: str | Path) -> None:
    """HGQ2's own emulation of model ``src`` on the arrays ``x0, x1…`` of ``inputs`` into ``outputs`` (npz)."""
    source = Path(src).resolve()
    _run([str(source), "-", "--predict", str(Path(inputs).resolve()), str(Path(outputs).resolve())], what=str(source))
