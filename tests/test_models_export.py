"""Every shipped model is bit-exact against hls4ml's C simulation of its shipped config.

One hls4ml project per shipped model, rebuilt from ``<name>.keras`` + ``<name>.hls4ml.json``
(exactly what the firmware flow does), compiled with g++ (about 20 s each, two at a time),
then compared event by event with ``FixedPointModel.load(<name>.fxp)`` on real-looking
inputs plus NaN, ±inf, huge and negative values.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointModel
from emulator.models.export import convert, load_keras, read_hls4ml_doc
from emulator.models.inputs import axol1tl_inputs, cicada_inputs, tagger_features
from emulator.models.shipped import ShippedFiles
from streams.event import EventBatch

pytestmark = [pytest.mark.hls4ml, pytest.mark.tensorflow]

MODELS = ROOT_MODELS = Path(__file__).resolve().parents[1] / "configs" / "models"
NAMES = ("axol1tl", "cicada", "tagger")


def _inputs(name: str, batch: EventBatch) -> np.ndarray:
    b = batch.select(slice(0, 1500))
    if name == "axol1tl":
        x = axol1tl_inputs(b).astype(np.float64)
    elif name == "cicada":
        x = cicada_inputs(b).astype(np.float64)
    else:
        x = tagger_features(b).reshape(-1, 7)[:3000].astype(np.float64)
    flat = x.reshape(len(x), -1)
    flat[:6, 0] = [np.nan, np.inf, -np.inf, 1e30, -3.3, 1e-300]
    flat[6:40] *= 37.0  # far out of range: saturating input casts
    return x


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    pytest.importorskip("hls4ml")
    root = tmp_path_factory.mktemp("shipped")
    built = {}
    for name in NAMES:
        paths = ShippedFiles.at(MODELS, name)
        built[name] = convert(load_keras(paths.keras), read_hls4ml_doc(paths.hls4ml), root / name)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda h: h.compile(), built.values()))
    return built


@pytest.mark.parametrize("name", NAMES)
def test_shipped_model_is_bit_exact(projects: dict[str, Any], name: str, zb_batch: EventBatch) -> None:
    x = _inputs(name, zb_batch)
    want = np.asarray(projects[name].predict(np.ascontiguousarray(x))).reshape(len(x), -1)
    got = FixedPointModel.load(ShippedFiles.at(MODELS, name).fxp).predict(x).reshape(len(x), -1)
    differ = np.flatnonzero((got != want).any(axis=1))
    assert differ.size == 0, f"{name}: {differ.size} of {len(x)} events differ, first {differ[:5]}"
    assert np.unique(want).size > 10


@pytest.mark.parametrize("name", NAMES)
def test_shipped_config_is_complete(name: str) -> None:
    doc = read_hls4ml_doc(ShippedFiles.at(MODELS, name).hls4ml)
    assert doc["io_type"] == "io_parallel"
    assert doc["strategy"] == "Latency"
    layers = doc["hls_config"]["LayerName"]
    assert all(v["Precision"].get("accum", "auto") == "auto" for v in layers.values())
    assert "SAT" in next(iter(layers.values()))["Precision"]["result"]  # saturating input cast
    assert doc["keras_model"] == f"{name}.keras"
