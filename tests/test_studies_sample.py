"""Per-event samples and prescale-column rates from one pass over a source."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from emulator.chain import load_chain
from emulator.errors import ConfigError, StageError
from emulator.menu import Menu
from emulator.rates import apply_prescales
from emulator.replay import ReplayOptions, replay
from emulator.studies.sample import ColumnRates, SampleCollector, collect
from streams.event import EventBatch
from streams.sources import open_source
from tests.helpers import DEFAULT_CONFIG

EVENTS = 8000


@pytest.fixture(scope="module")
def run() -> tuple[Any, dict[str, Any], dict[str, Any]]:
    chain = load_chain(DEFAULT_CONFIG)
    sample, columns = collect(chain, open_source(None, events=EVENTS, seed=2), name="zb")
    report = replay(ReplayOptions(config=DEFAULT_CONFIG, events=EVENTS, seed=2, in_process=True))
    return sample, columns, report


def test_sample_holds_the_menu_decisions_of_every_event(run: tuple[Any, dict[str, Any], dict[str, Any]]) -> None:
    sample, _, report = run
    assert len(sample) == EVENTS
    assert sample.seed_names == tuple(report["seeds"])
    counts = sample.seeds_raw.sum(axis=0).tolist()
    assert counts == [s["count_raw"] for s in report["seeds"].values()]
    assert sample.pileup.mean() == pytest.approx(60.0, abs=1.0)
    assert np.array_equal(sample.passed(sample.seed_names[0]), sample.seeds_raw[:, 0])
    with pytest.raises(ConfigError, match="no seed 'Nope'"):
        sample.passed("Nope")


def test_default_column_total_equals_the_replay(run: tuple[Any, dict[str, Any], dict[str, Any]]) -> None:
    _, columns, report = run
    k = columns["columns"].index(report["prescale_column"])
    assert columns["total_rate_khz"][k] == pytest.approx(report["total_rate_khz"], rel=1e-12)
    assert columns["total_rate_err_khz"][k] == pytest.approx(report["total_rate_err_khz"], rel=1e-12)
    for name, seed in report["seeds"].items():
        assert columns["seeds"][name][k] == pytest.approx(seed["rate_khz"], rel=1e-12, abs=1e-12)


def _menu() -> Menu:
    return Menu.from_dict({"name": "t", "columns": ["tight", "loose", "off"], "default_column": "loose",
                           "seeds": [{"name": "A", "prescale": {"tight": 4, "loose": 1, "off": 0},
                                      "conditions": [{"always": True}]},
                                     {"name": "B", "prescale": {"tight": 2, "loose": 2, "off": 0},
                                      "conditions": [{"sum": "htt", "min": 1}]}]})  # fmt: skip


def test_every_column_applies_its_own_counters_across_batches() -> None:
    menu = _menu()
    batch = EventBatch.empty(10)
    raw = np.zeros((10, 2), bool)
    raw[:, 0] = True
    raw[::3, 1] = True
    batch = batch.with_columns(seeds_raw=raw, weight=np.ones(10, np.float32))
    cols = ColumnRates(menu, crossing_rate_khz=10.0)  # 1 kHz per event
    cols.update(batch.select(slice(0, 4)))
    cols.update(batch.select(slice(4, 10)))
    res = cols.result()
    assert res["columns"] == ["tight", "loose", "off"]
    fired_tight, _ = apply_prescales(raw, np.array([4, 2]), np.zeros(2, np.int64))
    assert res["seeds"]["A"] == pytest.approx([fired_tight[:, 0].sum(), 10.0, 0.0])
    assert res["seeds"]["B"] == pytest.approx([2.0, 2.0, 0.0])  # passes 0, 1, 2, 3 -> #0 and #2 fire
    assert res["total_rate_khz"] == pytest.approx([fired_tight.any(axis=1).sum(), 10.0, 0.0])
    assert res["prescales"]["A"] == [4, 1, 0]


def test_collector_needs_menu_decisions() -> None:
    with pytest.raises(StageError, match="seeds_raw"):
        SampleCollector("x", ["A"]).update(EventBatch.empty(2))


def test_collector_keeps_gen_and_score_columns_only() -> None:
    batch = EventBatch.empty(3).with_columns(
        seeds_raw=np.ones((3, 1), bool), gen_mu_pt=np.arange(3, dtype=np.float32),
        score_axo=np.ones(3, np.float32), other=np.zeros(3, np.float32),
        gen_matrix=np.zeros((3, 2), np.float32),
    )  # fmt: skip
    c = SampleCollector("x", ["A"])
    c.update(batch)
    c.update(batch)
    s = c.result()
    assert sorted(s.columns) == ["gen_mu_pt", "score_axo"]
    assert s.columns["gen_mu_pt"].tolist() == [0, 1, 2, 0, 1, 2]
