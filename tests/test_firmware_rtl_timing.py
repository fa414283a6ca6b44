"""Timing a traced program by the logic-depth rule and cutting it into clock periods (no tools, < 1 s)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from firmware.rtl.depth import CARRY_NS, LUT_NS
from firmware.rtl.timing import adder_levels, op_ns, timed_pipeline

pytest.importorskip("da4ml")


def _bias_relu_round() -> Any:
    """``relu((x0 + x1) + 3) + 5`` on 8-bit integers: one add of da4ml's and three operations it times as free."""
    from da4ml.trace import FixedVariableArray, comb_trace

    x = FixedVariableArray.from_kif(np.ones(2), np.full(2, 7), np.zeros(2), hwconf=(1, -1, -1))
    a, b = x._vars
    y = ((a + b) + Decimal(3)).relu() + Decimal(5)
    return comb_trace(x, FixedVariableArray(np.array([y], dtype=object), hwconf=(1, -1, -1)))


def test_constant_adds_and_relu_take_time() -> None:
    from da4ml.trace.pipeline import to_pipeline

    comb = _bias_relu_round()
    assert len(to_pipeline(comb, 1, verbose=False).solutions) == 1  # da4ml: one adder level, one stage
    # 480 MHz (2.083 ns): the add and its bias folded into one 3-row add need 2.4 ns, so the bias add starts a
    # second stage (1.0 ns), the ReLU follows (0.7 ns), and the rounding add (1.0 ns) needs a third
    assert len(timed_pipeline(comb, 1000 / 480).solutions) == 3
    assert len(timed_pipeline(comb, 1000 / 240).solutions) == 1  # 4.1 ns of 4.167


def test_the_timed_pipeline_computes_the_same_function() -> None:
    comb = _bias_relu_round()
    pipe = timed_pipeline(comb, 1000 / 480)
    x = np.random.default_rng(1).integers(-128, 128, (200, 2)).astype(np.float64)
    want = np.maximum(x.sum(axis=1) + 3, 0) + 5
    assert np.array_equal(np.array([pipe(row)[0] for row in x]), want)
    assert np.array_equal(comb.predict(x).ravel(), want)


def test_operation_delays_follow_the_depth_rule() -> None:
    assert op_ns(0, 16, 16, False) == pytest.approx(LUT_NS + 16 * CARRY_NS)  # an add: a LUT and 4 CARRY4
    assert op_ns(1, 17, 17, True) == pytest.approx(LUT_NS + 20 * CARRY_NS)  # whole CARRY4 cells
    assert op_ns(-3, 10, 16, True) == op_ns(4, 16, 16, False)  # a cast of -x: the negation's carry chain
    assert (op_ns(2, 12, 12, True), op_ns(2, 12, 12, False), op_ns(3, 8, 16, True)) == (LUT_NS, 0.0, 0.0)
    assert op_ns(8, 8, 8, False) == LUT_NS  # a 256-entry table: a LUT6 and its MUXF7/F8
    assert op_ns(8, 8, 12, False) == pytest.approx(3 * LUT_NS)
    assert [adder_levels(n) for n in (1, 2, 3, 4, 5, 6, 7, 9, 10, 13, 19, 20)] == [0, 0, 1, 2, 3, 3, 4, 4, 5, 5, 6, 7]
