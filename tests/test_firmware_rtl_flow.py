"""A tiny model through the whole RTL path: da4ml Verilog, Verilator against the engine, Yosys.

Two Verilator builds of a 6-4-2 network with a sigmoid table (a few seconds each), one Yosys
run, and Icarus Verilog on the first 400 events as a second opinion. The latency is measured
from the simulated outputs; a one-bit change in one generated weight must show up as
mismatches naming the model, event and output.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointModel, FixedType
from emulator.fixedpoint.layers import Activation, Dense, Lut
from emulator.fixedpoint.types import Overflow, Rounding
from firmware.rtl.flow import RtlOptions, rtl_check, rtl_failures
from firmware.rtl.sim import compare_outputs

pytestmark = pytest.mark.integration
pytest.importorskip("da4ml")

T_IN = FixedType(8, 3, overflow=Overflow.SAT)
N_EVENTS = 3000


def _tiny() -> FixedPointModel:
    rng = np.random.default_rng(3)
    w_t, acc1, acc2 = FixedType(6, 2), FixedType(20, 9), FixedType(20, 8)
    relu_t = FixedType(10, 4, signed=False, rounding=Rounding.RND_CONV, overflow=Overflow.SAT)
    d1 = Dense("d1", T_IN, acc1, (6,), (4,), weight=rng.integers(-32, 31, (6, 4), endpoint=True),
               bias=rng.integers(-32, 31, 4, endpoint=True), weight_type=w_t, bias_type=w_t, accum_type=acc1)
    r1 = Activation("r1", acc1, relu_t, (4,), (4,), function="relu")
    d2 = Dense("d2", relu_t, acc2, (4,), (2,), weight=rng.integers(-32, 31, (4, 2), endpoint=True),
               bias=rng.integers(-32, 31, 2, endpoint=True), weight_type=w_t, bias_type=w_t, accum_type=acc2)
    table_t = FixedType(18, 8)
    x = (np.arange(256) - 128) * 16 / 256
    table = np.array([table_t.quantize(float(v)) for v in 1 / (1 + np.exp(-x))], np.int64)
    prob = Lut("prob", acc2, FixedType(12, 2, rounding=Rounding.RND), (2,), (2,), function="sigmoid", table=table,
               table_type=table_t)
    return FixedPointModel(T_IN, (6,), (d1, r1, d2, prob), name="tiny")  # fmt: skip


def _events(n: int = N_EVENTS) -> np.ndarray:
    m = np.random.default_rng(4).integers(T_IN.min_int, T_IN.max_int, (n, 6), endpoint=True)
    return np.ldexp(m.astype(np.float64), -T_IN.fractional).astype(np.float32)


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("rtl") / "tiny"
    opts = RtlOptions(clock_mhz=240.0, icarus_events=400)
    return rtl_check("tiny", _tiny(), _events(), out, opts, budget_cycles=20)


def test_the_simulated_rtl_equals_the_engine(checked: dict[str, Any]) -> None:
    assert checked["events"] == N_EVENTS
    assert checked["mismatches"] == 0, checked["first_mismatches"]
    assert checked["latency_source"] == "rtl-sim"
    assert checked["within_budget"] is True
    assert rtl_failures("s/tiny", checked) == []


def test_the_latency_is_measured_and_follows_the_pipeline(checked: dict[str, Any]) -> None:
    assert not checked["latency_ambiguous"]
    assert checked["latency_cycles"] == checked["stages"] + 1  # one register per stage and the output register
    assert (checked["latency_cutoff"], checked["cutoff_unit"]) == (4.167, "ns")  # one period at 240 MHz, timed
    assert "logic-depth rule" in checked["cutoff_reason"]
    # a deeper pipeline (cutoff 1): test_a_one_bit_change_in_a_weight_is_caught_and_named


def test_icarus_agrees_with_verilator(checked: dict[str, Any]) -> None:
    ic = checked["icarus"]
    assert ic["events"] == 400
    assert ic["mismatches"] == 0
    assert ic["latency_cycles"] == checked["latency_cycles"]


def test_yosys_counts_the_resources(checked: dict[str, Any]) -> None:
    r = checked["resources"]
    assert checked["resources_source"] == "yosys"
    assert r["lut"] > 0
    assert r["ff"] > 0
    assert r["carry"] > 0
    assert r["dsp"] == 0  # distributed arithmetic: shifts and adds
    assert checked["logic_depth"] > 0
    depth = checked["depth"]
    assert depth["ltp_cells"] == checked["logic_depth"]
    assert depth["path_ns"] > 0
    assert depth["path_cells"]
    assert depth["levels_per_cycle"] == 5.95  # 240 MHz
    # timed stages fit the clock: da4ml's 3 adder levels per stage gave this model 5.3 ns (7.6 levels)
    assert depth["fits"]
    assert depth["path_ns"] <= 1000 / 240
    assert set(checked["estimate"]) >= {"lut", "ff", "dsp", "latency_cycles"}


def test_a_one_bit_change_in_a_weight_is_caught_and_named(checked: dict[str, Any], tmp_path: Path) -> None:
    good = _tiny()
    d2 = good.layers[2]
    assert isinstance(d2, Dense)
    weight = d2.weight.copy()
    weight[1, 0] ^= 1  # the LSB of one weight of the second layer
    bad_d2 = dataclasses.replace(d2, weight=weight)
    bad = FixedPointModel(good.input_type, good.input_shape, (*good.layers[:2], bad_d2, good.layers[3]), name="tiny")
    # one build for two checks: the changed weight, on a deeper pipeline (one adder level per stage)
    rtl = rtl_check("tiny", good, _events(2000), tmp_path / "bad",
                    RtlOptions(clock_mhz=240.0, latency_cutoff=1, synth=False), rtl_engine=bad)  # fmt: skip
    assert rtl["stages"] > checked["stages"]
    assert rtl["latency_cycles"] == rtl["stages"] + 1  # found from the events that still agree
    assert rtl["mismatches"] > 0
    assert {f["output"] for f in rtl["first_mismatches"]} == {0}  # only the changed weight's output differs
    (failure,) = rtl_failures("calo/tiny", rtl)
    assert failure.startswith("calo/tiny: ")
    assert f"on {rtl['mismatches']} of 2000 events" in failure
    assert "output 0" in failure


def test_compare_outputs_finds_the_offset() -> None:
    want = np.arange(40).reshape(20, 2)
    got = np.zeros((30, 2), np.int64)
    got[4:24] = want  # result of event t after edge t + 4: 5 cycles
    got[10, 1] = -1  # one event differs
    latency, matching, ambiguous = compare_outputs(got, want)
    assert (latency, matching, ambiguous) == (5, 19, False)
