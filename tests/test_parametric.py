from __future__ import annotations

import numpy as np
import pytest

from streams.event import EventBatch
from streams.sources.parametric import ParametricConfig, ParametricSource


def _all(src: ParametricSource, batch_size: int, shard: tuple[int, int] = (0, 1)) -> list[EventBatch]:
    return list(src.batches(batch_size, shard=shard))


def test_events_do_not_depend_on_batch_size_or_sharding() -> None:
    src = ParametricSource(ParametricConfig(events=1500, mu=40, seed=5))
    ref = EventBatch.concat(_all(src, 1500))
    for size in (100, 512, 700):
        got = EventBatch.concat(_all(src, size))
        for k in ref.columns:
            np.testing.assert_array_equal(got[k], ref[k], err_msg=f"{k} at batch size {size}")
    shards = sorted(_all(src, 300, (0, 2)) + _all(src, 300, (1, 2)), key=lambda b: b.meta.first)
    assert [b.meta.first for b in shards] == list(range(0, 1500, 300))
    np.testing.assert_array_equal(EventBatch.concat(shards)["jet_pt"], ref["jet_pt"])


def test_objects_are_pt_ordered_zero_padded_and_in_range() -> None:
    b = next(ParametricSource(ParametricConfig(events=2000, mu=60)).batches(2000))
    for prefix in ("eg", "tau", "jet", "mu"):
        pt = b[f"{prefix}_pt"]
        assert (np.diff(pt.astype(int), axis=1) <= 0).all(), prefix
        empty = pt == 0
        assert (b[f"{prefix}_eta"][empty] == 0).all()
        assert (b[f"{prefix}_phi"][empty] == 0).all()
    assert b["jet_phi"].max() < 144
    assert b["mu_phi"].max() < 576
    assert np.abs(b["mu_eta"]).max() <= round(2.4 / 0.010875)
    assert set(np.unique(b["mu_charge"])) <= {-1, 0, 1}


def test_pileup_grows_activity() -> None:
    low = next(ParametricSource(ParametricConfig(events=2000, mu=20)).batches(2000))
    high = next(ParametricSource(ParametricConfig(events=2000, mu=140)).batches(2000))
    assert high["pileup"].mean() == pytest.approx(140, rel=0.05)
    assert high["ett"].mean() > 2 * low["ett"].mean()
    assert (high["jet_pt"] > 0).sum() > (low["jet_pt"] > 0).sum()
