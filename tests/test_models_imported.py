"""``l1emu model import`` / ``inspect``: a user's two-head QKeras file in, the self-check against g++ C-sim."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointGraph
from emulator.fixedpoint import _hls4ml_compat as compat
from l1emu.cli import main

pytestmark = [pytest.mark.hls4ml, pytest.mark.tensorflow]


def _two_heads(path: Path) -> Path:
    compat.import_qkeras()
    from qkeras import QActivation, QDense, quantized_bits
    from tf_keras import Input, Model, layers

    q = quantized_bits(8, 2, alpha=1)
    inp = Input((6, 3), name="objects")
    x = QDense(8, kernel_quantizer=q, bias_quantizer=q, name="phi")(inp)
    x = QActivation("quantized_relu(8, 3)", name="r")(x)
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    score = QDense(1, kernel_quantizer=q, bias_quantizer=q, name="score")(x)
    tag = layers.Activation("softmax", name="tag")(QDense(3, kernel_quantizer=q, name="logits")(x))
    model = Model(inp, [score, tag])
    rng = np.random.default_rng(5)
    for layer in model.layers:
        if layer.get_weights():
            layer.set_weights([rng.normal(0, 0.6, w.shape) for w in layer.get_weights()])
    model.save(path)
    return path


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hls4ml")
    root = tmp_path_factory.mktemp("byom")
    src = _two_heads(root / "two_heads.keras")
    out = root / "models" / "two_heads"
    assert main(["model", "import", str(src), "--out", str(out), "--backend", "Vivado"]) == 0
    return out


def test_import_writes_an_engine_model_and_its_project(imported: Path) -> None:
    graph = FixedPointGraph.load(imported)
    assert graph.outputs == ("score", "tag")
    assert [i.shape for i in graph.inputs] == [(6, 3)]
    assert (imported / "hls4ml_project" / "firmware" / "parameters.h").exists()


def test_inspect_self_checks_against_the_c_simulation(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["model", "inspect", str(imported), "--check", "3000", "--json"]) == 0
    info: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert info["self_check"] == {"events": 3000, "mismatching_events": {"score": 0, "tag": 0},
                                  "bit_exact": True}  # fmt: skip
    assert {layer["kind"] for layer in info["layers"]} >= {"conv", "pool", "dense", "softmax"}
    assert info["multiplications_per_event"] > 0
    assert main(["model", "inspect", str(imported)]) == 0
    assert "output tag: ap_fixed<16,6> x (3,)" in capsys.readouterr().out


def test_errors_name_the_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compat.import_qkeras()
    from tf_keras import Input, Model, layers

    inp = Input((4,), name="x")
    Model(inp, layers.LeakyReLU(name="leaky")(layers.Dense(3, name="d")(inp))).save(tmp_path / "leaky.keras")
    assert main(["model", "import", str(tmp_path / "leaky.keras"), "--out", str(tmp_path / "m")]) == 2
    assert "'leaky'" in capsys.readouterr().err
    assert main(["model", "import", str(tmp_path / "model.tflite"), "--out", str(tmp_path / "m")]) == 2
    assert "HGQ2" in capsys.readouterr().err
    assert main(["model", "inspect", "no_such_model"]) == 2
