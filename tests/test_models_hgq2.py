"""HGQ2 (Keras 3) models: exported in ``.venv-hgq2``, imported, bit-exact with HGQ2's emulation and C-sim.

The models are built by ``tests/hgq2_models.py`` inside the HGQ2 environment (``make hgq2``,
which ``make test`` runs); without that environment these tests skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointGraph, UnsupportedLayerError
from emulator.models.hgq2 import hgq2_predict, hgq2_python, is_hgq2_model
from emulator.models.imported import import_model, self_check
from l1emu.cli import main

HERE = Path(__file__).parent
N_EVENTS = 12_000

needs_env = pytest.mark.skipif(hgq2_python() is None, reason="HGQ2 environment not built (make hgq2)")


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    python = hgq2_python()
    if python is None:
        pytest.skip("HGQ2 environment not built (make hgq2)")
    out = tmp_path_factory.mktemp("hgq2")
    subprocess.run([str(python), "-I", str(HERE / "hgq2_models.py"), str(out)], check=True, timeout=600,
                   env={**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"})  # fmt: skip
    return {name: out / f"{name}.keras" for name in ("mlp", "conv")}


@pytest.fixture(scope="module")
def imported(keras_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hgq2_imported")
    assert main(["model", "import", str(keras_files["mlp"]), "--out", str(root / "mlp")]) == 0  # the user's view
    import_model(keras_files["conv"], root / "conv")
    return {"mlp": root / "mlp", "conv": root / "conv"}


def _adversarial(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Values over and far beyond the quantisers' ranges, exact rounding ties at several LSBs, tiny values."""
    rng = np.random.default_rng(seed)
    n = shape[0]
    x = rng.normal(0, 3, shape)
    q = n // 6
    for k, f in enumerate(range(4, 9)):  # ties (m + 1/2)·2^-f for the RND quantisers
        x[k * q // 5 : (k + 1) * q // 5] = (np.floor(x[k * q // 5 : (k + 1) * q // 5] * 2**f) + 0.5) / 2**f
    x[q : 2 * q] *= 16  # wraps the WRAP quantisers
    x[2 * q : 2 * q + 50] = 1e6 * np.sign(x[2 * q : 2 * q + 50])
    x[2 * q + 50 : 2 * q + 100] = 1e-30 * np.sign(x[2 * q + 50 : 2 * q + 100])
    return x.astype(np.float32)


@needs_env
@pytest.mark.parametrize("name", ["mlp", "conv"])
def test_engine_equals_hgq2_emulation(
    name: str, keras_files: dict[str, Path], imported: dict[str, Path], tmp_path: Path
) -> None:
    graph = FixedPointGraph.load(imported[name])
    x = _adversarial((N_EVENTS, *graph.inputs[0].shape), seed=len(name))
    np.savez(tmp_path / "in.npz", x0=x)
    hgq2_predict(keras_files[name], tmp_path / "in.npz", tmp_path / "out.npz")
    got = graph.predict(x.reshape(N_EVENTS, -1))
    heads = got if isinstance(got, list) else [got]
    with np.load(tmp_path / "out.npz") as data:
        want = [data[f"y{i}"].reshape(N_EVENTS, -1) for i in range(len(data.files))]
    assert len(want) == len(heads) == len(graph.outputs)
    pairs = zip(graph.outputs, heads, want, strict=True)
    differ = {o: int((g.astype(np.float32) != w).any(axis=1).sum()) for o, g, w in pairs}
    assert differ == dict.fromkeys(graph.outputs, 0)
    assert all(np.unique(w).size > 20 for w in want)  # the heads are not constant


@needs_env
@pytest.mark.hls4ml
@pytest.mark.parametrize("name", ["mlp", "conv"])
def test_engine_equals_csim(name: str, imported: dict[str, Path]) -> None:
    check = self_check(imported[name], 20_000)  # random, ties, NaN/±inf, huge values
    assert check["bit_exact"], check["mismatching_events"]


@needs_env
def test_heterogeneous_quantisers_are_read(imported: dict[str, Path]) -> None:
    graph = FixedPointGraph.load(imported["mlp"])
    kinds = [n.op.kind for n in graph.nodes]
    assert kinds.count("quantize") == 3
    assert graph.outputs == ("head_a", "head_b")
    first = graph.nodes[0].op
    assert int((np.asarray(first.index) == -1).sum()) == 2  # type: ignore[attr-defined]  # two zero-bit inputs
    doc = json.loads((imported["mlp"] / "model.json").read_text())
    assert doc["source"]["hgq2"].endswith("mlp.keras")


def test_keras_files_without_hgq2_layers_take_the_qkeras_path(tmp_path: Path) -> None:
    plain = tmp_path / "plain.keras"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("config.json", json.dumps({"module": "keras.layers", "registered_name": "Dense"}))
    assert not is_hgq2_model(plain)
    assert not is_hgq2_model(tmp_path / "qkeras.h5")
    hgq = tmp_path / "hgq.keras"
    with zipfile.ZipFile(hgq, "w") as archive:
        archive.writestr("config.json", json.dumps({"module": "hgq.layers.core.dense", "registered_name": "hgq>Q"}))
    assert is_hgq2_model(hgq)


def test_missing_environment_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hgq = tmp_path / "hgq.keras"
    with zipfile.ZipFile(hgq, "w") as archive:
        archive.writestr("config.json", json.dumps({"registered_name": "hgq>QDense"}))
    monkeypatch.setenv("L1EMU_HGQ2_PYTHON", str(tmp_path / "no" / "python"))
    with pytest.raises(UnsupportedLayerError, match=r"make hgq2"):
        import_model(hgq, tmp_path / "out")
