"""Latency estimates from layer costs: grow with fan-in, reuse factor and clock."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emulator.fixedpoint import FixedPointModel, FixedType
from emulator.fixedpoint.layers import Activation, Dense
from emulator.models.latency_estimate import adder_tree_cycles, model_latency_cycles

T = FixedType(16, 6)


def _mlp(n_in: int, reuse: int = 1) -> FixedPointModel:
    dense = Dense("d", T, T, (n_in,), (4,), weight=np.ones((n_in, 4), np.int64), bias=np.zeros(4, np.int64),
                  weight_type=T, bias_type=T, accum_type=T, reuse_factor=reuse)  # fmt: skip
    relu = Activation("r", T, FixedType.parse("ap_ufixed<8,3,AP_RND_CONV,AP_SAT>"), (4,), (4,), function="relu")
    return FixedPointModel(T, (n_in,), (dense, relu))


def test_adder_tree() -> None:
    assert adder_tree_cycles(2, 1000.0) == 4  # 2.5 + 0.6 ns at 1 GHz
    assert adder_tree_cycles(64, 1000.0, multiply=False) == 4  # 6 levels × 0.6 ns
    assert adder_tree_cycles(1, 100.0) == 1


def test_model_latency_scales() -> None:
    assert model_latency_cycles(_mlp(4), 240.0) == 2  # one dense level + relu
    assert model_latency_cycles(_mlp(1024), 480.0) > model_latency_cycles(_mlp(4), 480.0)
    assert model_latency_cycles(_mlp(64, reuse=4), 240.0) == 4 * model_latency_cycles(_mlp(64), 240.0) - 3


def test_shipped_models_have_small_latencies() -> None:
    root = Path(__file__).resolve().parents[1] / "configs" / "models"
    for name, clock, limit in (("axol1tl", 480.0, 24), ("cicada", 240.0, 24), ("tagger", 240.0, 24)):
        assert 3 <= model_latency_cycles(FixedPointModel.load(root / f"{name}.fxp"), clock) <= limit
