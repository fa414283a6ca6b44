"""Ship a trained QKeras model: ``.keras`` + the hls4ml config + the fixed-point engine model.

The three files side by side in ``configs/models/`` (layout: :class:`~emulator.models.shipped.ShippedFiles`)
are what the firmware flow rebuilds (``<name>.keras`` + ``<name>.hls4ml.json`` → hls4ml project) and
what the chain replays (``<name>.fxp/`` via :meth:`FixedPointModel.load`), so the two can be compared
bit for bit.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.fixedpoint import FixedPointModel
from emulator.fixedpoint import _hls4ml_compat as compat
from emulator.models.shipped import ShippedFiles
from streams.errors import ConfigError

__all__ = ["HlsSettings", "convert", "export", "load_keras", "read_hls4ml_doc"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HlsSettings:
    """How a model is converted: backend, input precision and per-layer overrides."""

    input_precision: str
    backend: str = "Vitis"
    reuse_factor: int = 1
    strategy: str = "Latency"
    layer_precision: tuple[tuple[str, str, str], ...] = ()  # (layer, kind, precision)


def hls_config(model: Any, settings: HlsSettings) -> dict[str, Any]:
    """The per-layer hls4ml config: QKeras precisions, ``accum: auto``, the chosen input type."""
    cfg = compat.config_from_keras_model(model, granularity="name", backend=settings.backend)
    cfg["Model"].update({"ReuseFactor": settings.reuse_factor, "Strategy": settings.strategy})
    layers: dict[str, Any] = cfg["LayerName"]
    input_name = model.layers[0].name
    layers[input_name]["Precision"]["result"] = settings.input_precision
    for layer, kind, precision in settings.layer_precision:
        layers[layer]["Precision"][kind] = precision
    for layer in layers.values():
        if "ReuseFactor" in layer:
            layer["ReuseFactor"] = settings.reuse_factor
    return cfg


def convert(model: Any, doc: dict[str, Any], output_dir: str | Path) -> Any:
    """An hls4ml ``ModelGraph`` of ``model`` from a saved ``.hls4ml.json`` document."""
    return compat.convert_from_keras_model(
        model, hls_config=doc["hls_config"], output_dir=str(output_dir), backend=doc["backend"],
        io_type=doc["io_type"],
    )


def load_keras(path: str | Path) -> Any:
    """Load a shipped ``.keras`` model (safe mode, QKeras custom objects)."""
    from emulator.models._builders import custom_objects

    compat.import_qkeras()
    import tf_keras

    return tf_keras.models.load_model(str(path), custom_objects=custom_objects(), safe_mode=True)


def export(model: Any, *, name: str, out_dir: str | Path, settings: HlsSettings,
           extra: dict[str, Any] | None = None) -> tuple[ShippedFiles, FixedPointModel]:
    """Save ``model``, its hls4ml config and the engine model built from the converted graph."""
    paths = ShippedFiles.at(out_dir, name)
    paths.keras.parent.mkdir(parents=True, exist_ok=True)
    model.save(str(paths.keras))
    doc = {
        "format": "l1emu-hls4ml-config",
        "version": 1,
        "keras_model": paths.keras.name,
        "backend": settings.backend,
        "io_type": "io_parallel",
        "strategy": settings.strategy,
        "reuse_factor": settings.reuse_factor,
        "hls_config": hls_config(model, settings),
        **(extra or {}),
    }
    paths.hls4ml.write_text(json.dumps(doc, indent=1) + "\n")
    with tempfile.TemporaryDirectory(prefix=f"l1emu-{name}-") as tmp:
        hls = convert(model, doc, tmp)
        fxp = FixedPointModel.from_hls4ml(hls)
    fxp = FixedPointModel(fxp.input_type, fxp.input_shape, fxp.layers, name=name, source=fxp.source)
    fxp.save(paths.fxp)
    log.info("%s: wrote %s, %s, %s", name, paths.keras, paths.hls4ml, paths.fxp)
    return paths, fxp


def read_hls4ml_doc(path: str | Path) -> dict[str, Any]:
    """Read a ``.hls4ml.json`` written by :func:`export`."""
    p = Path(path)
    try:
        doc: dict[str, Any] = json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        msg = f"{p}: cannot read the hls4ml config ({exc})"
        raise ConfigError(msg) from exc
    if doc.get("format") != "l1emu-hls4ml-config":
        msg = f"{p}: not an l1emu hls4ml config (format {doc.get('format')!r})"
        raise ConfigError(msg)
    return doc
