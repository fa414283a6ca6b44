"""The shipped τ tagger in the objects stage: a per-jet score column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emulator.algorithm import BuildContext
from emulator.algorithms.tagger import TauTagger
from emulator.errors import StageError
from emulator.fixedpoint import FixedPointModel
from emulator.models.inputs import tagger_features
from streams.event import EventBatch

ROOT = Path(__file__).resolve().parents[1]
CTX = BuildContext(config_dir=ROOT / "configs", clock_mhz=240.0)


@pytest.fixture(scope="module")
def tagger() -> TauTagger:
    return TauTagger.build("tagger", {"model": "models/tagger.fxp"}, CTX)


def test_scores_every_jet_slot(tagger: TauTagger, zb_batch: EventBatch) -> None:
    score = tagger.process(zb_batch)["jet_tau_score"]
    assert score.shape == (len(zb_batch), 12)
    assert score.dtype == np.float32
    empty = zb_batch["jet_pt"] == 0
    assert (score[empty] == 0).all()
    assert ((score[~empty] >= 0) & (score[~empty] <= 1)).all()
    assert np.unique(score[~empty]).size > 20


def test_matches_the_engine_per_jet(tagger: TauTagger, zb_batch: EventBatch) -> None:
    b = zb_batch.select(slice(0, 300))
    feats = tagger_features(b)
    model = FixedPointModel.load(ROOT / "configs" / "models" / "tagger.fxp")
    want = model.predict(feats.reshape(-1, feats.shape[-1])).reshape(len(b), 12)
    got = tagger.process(b)["jet_tau_score"]
    filled = b["jet_pt"] > 0
    assert np.array_equal(got[filled], want[filled])


def test_an_isolated_tau_like_jet_outscores_a_broad_one(tagger: TauTagger) -> None:
    b = EventBatch.empty(2)
    cols = {k: v.copy() for k, v in b.columns.items()}
    for i in range(2):
        cols["jet_pt"][i, 0], cols["jet_eta"][i, 0], cols["jet_phi"][i, 0] = 120, 10, 40
    cols["tau_pt"][0, 0], cols["tau_eta"][0, 0], cols["tau_phi"][0, 0], cols["tau_iso"][0, 0] = 110, 10, 40, 3
    cols["regions"][0, 5, 7] = 120  # all ET in the jet's region
    cols["regions"][1, 4:7, 6:9] = 40  # spread over the 3 × 3 around it, no τ
    score = tagger.process(EventBatch(cols))["jet_tau_score"][:, 0]
    assert score[0] > score[1]


def test_non_finite_regions_are_a_stage_error(tagger: TauTagger, zb_batch: EventBatch) -> None:
    regions = zb_batch["regions"][:20].astype(np.float32)
    regions[4, 0, 0] = np.nan
    bad = zb_batch.select(slice(0, 20)).with_columns(regions_cal=regions)
    with pytest.raises(StageError, match=r"'regions_cal' is not finite \(nan\) in event 4"):
        tagger.process(bad)


def test_latency_includes_feature_lookups(tagger: TauTagger) -> None:
    assert 5 <= tagger.latency_cycles(240.0) <= 40
