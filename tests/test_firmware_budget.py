"""Budget estimates, accumulator guardrails, summary table: analytical, no compile."""

from __future__ import annotations

import numpy as np
import pytest

from emulator.fixedpoint import FixedPointModel, FixedType
from emulator.fixedpoint.layers import Activation, Dense
from firmware.budget import estimate
from firmware.guardrails import accumulator_warnings, overflow_counts
from firmware.hls_project import compare_outputs, precisions


def _model(*, width: int = 16, w_width: int = 6, reuse: int = 1, accum: FixedType | None = None,
           n_in: int = 57) -> FixedPointModel:  # fmt: skip
    t = FixedType(width, 6)
    wt = FixedType(w_width, 2)
    w = np.random.default_rng(0).integers(-3, 4, (n_in, 16))
    acc = accum or FixedType(40, 20)
    d = Dense("d1", t, acc, (n_in,), (16,), weight=w, bias=np.zeros(16, np.int64), weight_type=wt, bias_type=wt,
              accum_type=acc, reuse_factor=reuse)  # fmt: skip
    r = Activation("r1", acc, FixedType(8, 3, signed=False), (16,), (16,), function="relu")
    return FixedPointModel(t, (n_in,), (d, r))


def test_latency_grows_with_clock_and_reuse() -> None:
    slow, fast = estimate(_model(), clock_mhz=200.0), estimate(_model(), clock_mhz=480.0)
    assert slow.latency_cycles < fast.latency_cycles
    assert estimate(_model(reuse=4), clock_mhz=200.0).latency_cycles == slow.latency_cycles + 3
    assert slow.latency_cycles == 1 + (1 + 2 + 1) + 1  # io + dense (mult, 6 adder levels / 4, reg) + relu


@pytest.mark.parametrize(("w_width", "on_dsp"), [(6, False), (10, False), (12, True)])
def test_dsps_only_for_wide_products(w_width: int, on_dsp: bool) -> None:
    m = _model(w_width=w_width)
    n_mult = int(np.count_nonzero(m.layers[0].weight))  # type: ignore[attr-defined]
    res = estimate(m, clock_mhz=240.0).resources
    assert res["DSP"] == (n_mult if on_dsp else 0)
    assert estimate(_model(w_width=w_width, reuse=4), clock_mhz=240.0).resources["DSP"] == (
        -(-n_mult // 4) if on_dsp else 0
    )
    assert res["LUT"] > 0
    assert res["FF"] > 0


def test_resource_strategy_puts_weights_in_bram() -> None:
    assert estimate(_model(reuse=64), clock_mhz=240.0, strategy="resource").resources["BRAM_18K"] > 0
    assert estimate(_model(reuse=64), clock_mhz=240.0).resources["BRAM_18K"] == 0


def test_narrow_accumulator_is_flagged_with_the_exact_bound() -> None:
    assert accumulator_warnings(_model()) == []
    narrow = accumulator_warnings(_model(accum=FixedType(16, 6)))
    assert [w.layer for w in narrow] == ["d1"]
    assert narrow[0].need_integer == 6 + 2 + 6
    assert narrow[0].can_overflow
    assert "narrower than its inputs need" in str(narrow[0])
    tiny_weights = _model(accum=FixedType(20, 12), n_in=2)
    assert accumulator_warnings(tiny_weights)[0].can_overflow is False


def test_overflow_counts_come_from_the_engine_audit() -> None:
    m = _model(accum=FixedType(16, 6))
    x = np.full((50, 57), 31.0, np.float32)
    counts = overflow_counts(m.audit(x))
    assert counts["events"] == 50
    assert counts["by_layer"]["d1"] > 0
    assert all(s["overflowed"] > 0 for s in counts["sites"])


def test_precisions_and_output_comparison() -> None:
    p = precisions(_model())
    assert p["input"] == {"result": "ap_fixed<16,6>"}
    assert p["d1"]["accum"] == "ap_fixed<40,20>"
    assert p["r1"]["result"] == "ap_ufixed<8,3>"
    same = compare_outputs(np.array([[np.nan, 1.0]]), np.array([[np.nan, 1.0]]))
    assert (same.mismatches, same.first) == (0, ())
