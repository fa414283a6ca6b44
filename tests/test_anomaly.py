"""The shipped anomaly models in the chain: columns, determinism, bad inputs, latency budgets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emulator.algorithm import BuildContext
from emulator.algorithms.anomaly import Axol1tl, Cicada
from emulator.chain import load_chain
from emulator.errors import StageError
from emulator.fixedpoint import FixedPointModel
from emulator.models.inputs import axol1tl_inputs, cicada_inputs
from emulator.models.runtime import anomaly_score
from emulator.pipeline import Pipeline
from streams.errors import ConfigError
from streams.event import EventBatch

ROOT = Path(__file__).resolve().parents[1]
CTX = BuildContext(config_dir=ROOT / "configs", clock_mhz=480.0)


@pytest.fixture(scope="module")
def chain_out(zb_batch: EventBatch) -> EventBatch:
    chain = load_chain(ROOT / "configs" / "default.yaml")
    return Pipeline.from_chain(chain).run(zb_batch)


def test_default_chain_adds_both_scores(chain_out: EventBatch) -> None:
    for col in ("score_axol1tl", "score_cicada"):
        score = chain_out[col]
        assert score.dtype == np.float32
        assert score.shape == (len(chain_out),)
        assert np.isfinite(score).all()
        assert np.unique(score).size > 100  # a real distribution, not a constant
    assert (chain_out["score_axol1tl"] >= 0).all()


def test_axol1tl_score_is_the_sum_of_squared_engine_outputs(zb_batch: EventBatch) -> None:
    algo = Axol1tl.build("axo", {"model": "models/axol1tl.fxp", "column": "axo"}, CTX)
    out = algo.process(zb_batch)
    mu = FixedPointModel.load(ROOT / "configs" / "models" / "axol1tl.fxp").predict(axol1tl_inputs(zb_batch))
    assert np.array_equal(out["axo"], (mu.astype(np.float64) ** 2).sum(axis=1).astype(np.float32))
    assert algo.outputs == ("axo",)


def test_cicada_reads_calibrated_regions(zb_batch: EventBatch) -> None:
    algo = Cicada.build("cicada", {"model": "models/cicada.fxp"}, CTX)
    model = FixedPointModel.load(ROOT / "configs" / "models" / "cicada.fxp")
    cal = zb_batch.with_columns(regions_cal=(zb_batch["regions"] // 2).astype(np.uint16))
    want = model.predict(cicada_inputs(cal)).reshape(-1)
    assert np.array_equal(algo.process(cal)["score_cicada"], want)
    assert not np.array_equal(algo.process(zb_batch)["score_cicada"], want)  # falls back to raw regions


def test_threads_do_not_change_scores(zb_batch: EventBatch) -> None:
    one = Axol1tl.build("a", {"model": "models/axol1tl.fxp"}, CTX).process(zb_batch)
    two = Axol1tl.build("a", {"model": "models/axol1tl.fxp", "threads": 2}, CTX).process(zb_batch)
    assert np.array_equal(one["score_axol1tl"], two["score_axol1tl"])


def test_non_finite_regions_name_column_and_event(zb_batch: EventBatch) -> None:
    regions = zb_batch["regions"][:50].astype(np.float32)
    regions[17, 3, 4] = np.inf
    bad = zb_batch.select(slice(0, 50)).with_columns(regions_cal=regions)
    algo = Cicada.build("cicada", {"model": "models/cicada.fxp"}, CTX)
    with pytest.raises(StageError, match=r"cicada: column 'regions_cal' is not finite \(inf\) in event 17"):
        algo.process(bad)


def test_missing_or_wrong_model_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"nosuch\.fxp"):
        Axol1tl.build("axo", {"model": "models/nosuch.fxp"}, CTX)
    with pytest.raises(ConfigError, match=r"takes 252 inputs, this algorithm provides 57"):
        Axol1tl.build("axo", {"model": "models/cicada.fxp"}, CTX)
    with pytest.raises(ConfigError, match="missing required field 'model'"):
        Cicada.build("cicada", {}, CTX)


def test_latency_fits_the_default_budgets() -> None:
    chain = load_chain(ROOT / "configs" / "default.yaml")
    axo = Axol1tl.build("axo", {"model": "models/axol1tl.fxp"}, CTX)
    cicada = Cicada.build("cicada", {"model": "models/cicada.fxp"}, CTX)
    gt, calo = chain.stage("global_trigger"), chain.stage("calo_layer1")
    assert 6 <= axo.latency_cycles(gt.clock_mhz) <= gt.budget_cycles // 2
    assert 4 <= cicada.latency_cycles(calo.clock_mhz) <= calo.budget_cycles
    assert axo.latency_cycles(960.0) > axo.latency_cycles(240.0)


def test_anomaly_score_helper() -> None:
    mu = np.array([[0.5, -1.0], [0.0, 0.0]])
    assert anomaly_score(mu).tolist() == [1.25, 0.0]
