"""``l1emu firmware`` end to end: hls4ml projects compiled with g++, C-sim vs engine, budgets, reports.

Two hls4ml compiles (~20 s each): one model inside a chain (with the menu), one single model.
The chain's model algorithm is a small test algorithm (registered here) that reads its
``model`` param the way the shipped algorithms do and exposes ``model_inputs(batch)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.algorithm import BuildContext
from emulator.fixedpoint import FixedPointModel
from emulator.registry import register_algorithm
from firmware.flow import FirmwareOptions, FirmwareResult, run_chain, run_model
from firmware.stage_report import format_summary
from l1emu.cli import main
from streams.event import EventBatch
from streams.views import axol1tl_features

pytestmark = [pytest.mark.hls4ml, pytest.mark.tensorflow]

N_IN = 10


class _TinyScore:
    """Scores events with a model on the first 10 AXOL1TL inputs (pT >> 4)."""

    outputs = ("score_tiny",)

    def __init__(self, name: str, params: dict[str, Any], ctx: BuildContext) -> None:
        self.name = name
        self.model = FixedPointModel.load(ctx.resolve(f"{params['model']}.fxp"))

    def model_inputs(self, batch: EventBatch) -> np.ndarray:
        return axol1tl_features(batch)[:, :N_IN] / np.float32(16)

    def latency_cycles(self, clock_mhz: float) -> int:
        return 1  # deliberately optimistic: the firmware estimate must catch it

    def process(self, batch: EventBatch) -> EventBatch:
        y = self.model.predict(self.model_inputs(batch))
        return batch.with_columns(score_tiny=(y**2).sum(axis=1).astype(np.float32))


register_algorithm("fw_test_model", _TinyScore, replace=True)


def _tiny_keras() -> Any:
    from emulator.fixedpoint import _hls4ml_compat as compat

    compat.import_qkeras()
    from qkeras import QActivation, QDense, quantized_bits
    from tf_keras import Input, Model

    inp = Input((N_IN,), name="x")
    x = QDense(8, kernel_quantizer=quantized_bits(6, 2, alpha=1), bias_quantizer=quantized_bits(6, 2, alpha=1),
               name="d1")(inp)  # fmt: skip
    x = QActivation("quantized_relu(8,3)", name="r1")(x)
    x = QDense(2, kernel_quantizer=quantized_bits(8, 3, alpha=1), bias_quantizer=quantized_bits(8, 3, alpha=1),
               name="d2")(x)  # fmt: skip
    model = Model(inp, x)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if layer.get_weights():
            layer.set_weights([rng.normal(0, 0.5, w.shape) for w in layer.get_weights()])
    return model


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from emulator.models.export import HlsSettings, export

    out = tmp_path_factory.mktemp("models")
    export(_tiny_keras(), name="tiny", out_dir=out, settings=HlsSettings(input_precision="ap_fixed<12,6>"))
    return out


MENU = """
name: fwtest
columns: [c]
default_column: c
seeds:
  - {name: TinyScore, conditions: [{score: score_tiny, min: 2.0}]}
  - {name: DoubleMu, conditions: [{legs: [{type: muon, pt_min: 3}, {type: muon, pt_min: 3}],
                                   correlations: [{dr_max: 1.2, charge: opposite}]}]}
  - {name: SingleJet60, conditions: [{legs: [{type: jet, pt_min: 60}]}]}
"""


def _chain(tmp_path: Path, models: Path, budget_cycles: int) -> Path:
    menu = tmp_path / "menu.yaml"
    menu.write_text(MENU)
    text = f"""
name: fwtest
menu: {menu}
stages:
  - name: scoring
    clock_mhz: 240
    budget: {{cycles: {budget_cycles}}}
    algorithms:
      - {{type: fw_test_model, name: tiny, params: {{model: {models / 'tiny'}}}}}
  - name: global_trigger
    clock_mhz: 480
    budget: {{ns: 100}}
    algorithms:
      - {{type: menu}}
"""
    path = tmp_path / "chain.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def chain_run(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> tuple[Path, FirmwareResult]:
    tmp = tmp_path_factory.mktemp("fw")
    cfg = _chain(tmp, models_dir, budget_cycles=8)  # the estimate for this model is 10 cycles
    out = tmp / "out"
    return out, run_chain(FirmwareOptions(out=out, config=str(cfg), events=600, seed=5))


def test_chain_writes_projects_testbench_and_reports(chain_run: tuple[Path, FirmwareResult]) -> None:
    out, _ = chain_run
    prj = out / "scoring" / "tiny"
    for name in ("build_prj.tcl", "firmware/tiny.cpp", "tb_data/tb_input_features.dat",
                 "tb_data/tb_output_predictions.dat"):  # fmt: skip
        assert (prj / name).is_file(), name
    tb_in = np.loadtxt(prj / "tb_data" / "tb_input_features.dat")
    tb_out = np.loadtxt(prj / "tb_data" / "tb_output_predictions.dat")
    assert tb_in.shape == (600, N_IN)
    assert tb_out.shape == (600, 2)
    rep = json.loads((out / "scoring" / "report.json").read_text())
    m = rep["models"][0]
    assert {"name", "project", "part", "clock_mhz", "precisions", "resources", "latency_cycles", "budget_cycles",
            "within_budget", "bit_exact"} <= m.keys()  # fmt: skip
    assert m["bit_exact"] == {"events": 600, "mismatches": 0, "first": []}
    assert m["precisions"]["input"]["result"] == "ap_fixed<12,6>"
    assert m["latency_source"] == "estimate"
    assert set(m["resources"]) == {"DSP", "LUT", "FF", "BRAM_18K"}
    gt = json.loads((out / "global_trigger" / "report.json").read_text())
    assert gt["menu"]["events"] == 600
    assert gt["menu"]["mismatches"] == 0
    assert (out / "global_trigger" / "menu" / "l1emu_menu.cpp").is_file()


def test_testbench_expectations_are_the_engine_outputs(chain_run: tuple[Path, FirmwareResult],
                                                       models_dir: Path) -> None:  # fmt: skip
    out, _ = chain_run
    prj = out / "scoring" / "tiny"
    x = np.loadtxt(prj / "tb_data" / "tb_input_features.dat").astype(np.float32)
    want = FixedPointModel.load(models_dir / "tiny.fxp").predict(x)
    np.testing.assert_array_equal(np.loadtxt(prj / "tb_data" / "tb_output_predictions.dat"), want)


def test_over_budget_fails_naming_model_estimate_and_budget(chain_run: tuple[Path, FirmwareResult]) -> None:
    _, result = chain_run
    m = result.reports["scoring"]["models"][0]
    assert m["latency_cycles"] == 10
    assert m["budget_cycles"] == 8
    assert m["within_budget"] is False
    assert result.failures == ["scoring/tiny: latency 10 cycles (estimate) exceeds the budget of 8 cycles at 240.0 MHz"]
    table = format_summary(result.reports)
    assert "tiny" in table
    assert "10/8" in table
    assert "FAIL" in table


def test_overflow_audit_and_accumulator_check_are_reported(chain_run: tuple[Path, FirmwareResult]) -> None:
    m = chain_run[1].reports["scoring"]["models"][0]
    assert m["overflows"]["events"] == 600
    assert set(m["overflows"]["by_layer"]) >= {"d1", "d2"}
    assert m["accumulator_warnings"] == []  # accum: auto is wide enough


def test_single_model_cli(models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["firmware", "--model", str(models_dir / "tiny.fxp"), "--out", str(tmp_path), "--events", "300",
                 "--backend", "Vivado", "--clock-mhz", "200", "--budget-cycles", "20"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    rep = json.loads((tmp_path / "tiny" / "report.json").read_text())
    m = rep["models"][0]
    assert (m["backend"], m["clock_mhz"], m["within_budget"]) == ("Vivado", 200.0, True)
    assert m["bit_exact"]["mismatches"] == 0
    assert m["bit_exact"]["events"] == 300
    assert "set part {xcvu9p" in (tmp_path / "tiny" / "tiny" / "build_prj.tcl").read_text() or \
        "xcvu9p" in (tmp_path / "tiny" / "tiny" / "hls4ml_config.yml").read_text()  # fmt: skip
    assert "tiny" in printed
    assert "0/300" in printed


def test_run_model_needs_a_model(tmp_path: Path) -> None:
    from firmware.errors import FirmwareError

    with pytest.raises(FirmwareError, match=r"no .*missing\.keras"):
        run_model(FirmwareOptions(out=tmp_path, model=str(tmp_path / "missing")))


def test_single_model_cli_with_rtl(models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["firmware", "--model", str(models_dir / "tiny.fxp"), "--out", str(tmp_path), "--events", "2000",
                 "--budget-cycles", "3", "--rtl"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1  # the measured RTL latency, like the estimate, exceeds 3 cycles
    rtl = json.loads((tmp_path / "tiny" / "report.json").read_text())["models"][0]["rtl"]
    assert (rtl["events"], rtl["mismatches"]) == (2000, 0)
    assert (rtl["latency_source"], rtl["resources_source"]) == ("rtl-sim", "yosys")
    assert rtl["latency_cycles"] == rtl["stages"] + 1 > 3
    assert rtl["resources"]["lut"] > 0
    assert f"tiny/tiny: RTL latency {rtl['latency_cycles']} cycles (rtl-sim) exceeds the budget of 3" in captured.err
    assert "RTL (da4ml, Verilator, Yosys)" in captured.out
