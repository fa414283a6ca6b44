"""``l1emu firmware`` on a chain with an imported two-head model: its project, testbench data, C-sim check.

One QKeras import through hls4ml (~15 s) and one g++ compile of its project.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointGraph
from emulator.fixedpoint import _hls4ml_compat as compat
from emulator.models.imported import import_model
from firmware.errors import FirmwareError
from firmware.flow import FirmwareOptions, FirmwareResult, run_chain
from firmware.stage_report import format_summary

pytestmark = [pytest.mark.hls4ml, pytest.mark.tensorflow]

EVENTS = 600
MENU = """
name: heads
columns: [c]
default_column: c
seeds:
  - {name: Score, conditions: [{score: ds_score, min: 0.25}]}
  - {name: Tag2, conditions: [{score: ds_tag_2, min: 0.5}]}
"""


def _two_heads(path: Path) -> Path:
    """24 inputs (12 jet pT, 12 jet η) -> Dense + ReLU -> a score head and a 3-class softmax head."""
    compat.import_qkeras()
    from qkeras import QActivation, QDense, quantized_bits
    from tf_keras import Input, Model, layers

    q = quantized_bits(8, 2, alpha=1)
    inp = Input((24,), name="jets")
    x = QDense(12, kernel_quantizer=q, bias_quantizer=q, name="phi")(inp)
    x = QActivation("quantized_relu(8, 3)", name="r")(x)
    score = QDense(1, kernel_quantizer=q, bias_quantizer=q, name="score")(x)
    tag = layers.Activation("softmax", name="tag")(QDense(3, kernel_quantizer=q, name="logits")(x))
    model = Model(inp, [score, tag])
    rng = np.random.default_rng(3)
    for layer in model.layers:
        if layer.get_weights():
            layer.set_weights([rng.normal(0, 0.3, w.shape) for w in layer.get_weights()])
    model.save(path)
    return path


def _chain(tmp: Path, model: Path) -> Path:
    (tmp / "menu.yaml").write_text(MENU)
    path = tmp / "chain.yaml"
    path.write_text(f"""
name: fwimported
menu: {tmp / 'menu.yaml'}
stages:
  - name: scoring
    clock_mhz: 240
    budget: {{ns: 500}}
    algorithms:
      - type: model
        name: ds
        params: {{model: {model}, view: columns, columns: [jet_pt, jet_eta], split: true}}
  - name: global_trigger
    clock_mhz: 480
    budget: {{ns: 100}}
    algorithms:
      - {{type: menu}}
""")
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, FirmwareResult]:
    tmp = tmp_path_factory.mktemp("fw_imported")
    model = tmp / "ds"
    import_model(_two_heads(tmp / "ds.keras"), model)
    out = tmp / "fw"
    return model, out, run_chain(FirmwareOptions(out=out, config=str(_chain(tmp, model)), events=EVENTS))


def test_project_and_testbench_data_for_the_imported_model(run: tuple[Path, Path, FirmwareResult]) -> None:
    model, out, result = run
    assert result.failures == []
    entry = result.reports["scoring"]["models"][0]
    assert entry["name"] == "ds"
    assert entry["imported"] is True
    assert entry["heads"] == list(FixedPointGraph.load(model).outputs)
    n = entry["bit_exact"]["events"]
    assert n > EVENTS // 2
    assert entry["bit_exact"]["mismatches"] == 0
    prj = out / "scoring" / "ds"
    assert (prj / "firmware" / "myproject.cpp").is_file()
    assert "set clock_period 4.167" in (prj / "project.tcl").read_text()
    x = np.loadtxt(prj / "tb_data" / "inputs.dat")
    y = np.loadtxt(prj / "tb_data" / "expected.dat")
    assert x.shape == (n, 24)
    assert y.shape == (n, 4)
    assert (prj / "tb_data" / "tb_input_features.dat").read_text() == (prj / "tb_data" / "inputs.dat").read_text()
    got = FixedPointGraph.load(model).predict(x)
    assert isinstance(got, list)
    assert np.array_equal(np.concatenate(got, axis=1), y)  # the expected values are the engine's heads
    assert 0 < entry["latency_cycles"] <= entry["budget_cycles"]
    assert entry["resources"]["LUT"] > 0
    report = json.loads((out / "scoring" / "report.json").read_text())
    assert report["models"][0]["bit_exact"]["mismatches"] == 0
    menu = result.reports["global_trigger"]["menu"]
    assert menu["mismatches"] == 0
    assert "ds" in format_summary(result.reports)


def test_an_engine_model_without_project_is_refused(run: tuple[Path, Path, FirmwareResult], tmp_path: Path) -> None:
    from firmware.imported import imported_entry

    model, _, _ = run
    bare = FixedPointGraph.load(model).save(tmp_path / "bare")
    with pytest.raises(FirmwareError, match=r"'ds'.*no hls4ml_project/firmware.*l1emu model import"):
        imported_entry("ds", bare, np.zeros((2, 24)), tmp_path / "prj", part="p", clock_mhz=240.0, budget=None)
