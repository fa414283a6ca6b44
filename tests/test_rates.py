"""Prescale counters and rate arithmetic against hand-computed values."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from emulator.chain import load_chain
from emulator.errors import StageError
from emulator.menu import load_menu
from emulator.rates import RateAccumulator, apply_prescales, format_rate_table
from emulator.replay_report import RateSink
from streams.event import EventBatch
from tests.helpers import DEFAULT_CONFIG

# 10 events, seeds A (prescale 1), B (prescale 2), C (prescale 0)
RAW = np.array(
    [[1, 1, 0], [1, 0, 0], [0, 1, 1], [1, 1, 1], [0, 0, 0],
     [1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 1, 0]], bool,
)  # fmt: skip
PRESCALES = np.array([1, 2, 0])
WEIGHT = np.array([1, 1, 1, 1, 1, 2, 2, 2, 2, 2], float)
PILEUP = np.array([10, 10, 30, 30, 45, 45, 65, 65, 150, 150], float)


def _accumulator() -> RateAccumulator:
    return RateAccumulator(["A", "B", "C"], PRESCALES, n_bunches=1, f_rev_hz=1000.0)  # 1 kHz per unit


def test_hand_computed_sample() -> None:
    acc = _accumulator()
    fired, l1a = acc.update(RAW, WEIGHT, PILEUP)
    # B passes on events 0, 2, 3, 6, 9 -> passes #0, #2, #4 fire
    assert np.flatnonzero(fired[:, 1]).tolist() == [0, 3, 9]
    assert np.flatnonzero(fired[:, 0]).tolist() == [0, 1, 3, 5, 7, 9]
    assert not fired[:, 2].any()
    assert np.flatnonzero(l1a).tolist() == [0, 1, 3, 5, 7, 9]
    r = acc.result()
    assert (r["events"], r["events_weighted"], r["accepted"], r["rejected"]) == (10, 15.0, 6, 4)
    a, b, c = r["seeds"]["A"], r["seeds"]["B"], r["seeds"]["C"]
    assert (a["count"], a["count_raw"], a["prescale"], a["pure_count"]) == (6, 6, 1, 3)
    assert a["rate_khz"] == pytest.approx(9 / 15)
    assert a["rate_err_khz"] == pytest.approx(math.sqrt(15) / 15)
    assert a["pure_rate_khz"] == pytest.approx(5 / 15)
    assert (b["count"], b["count_raw"], b["prescale"], b["pure_count"]) == (3, 5, 2, 0)
    assert b["rate_khz"] == pytest.approx(4 / 15)
    assert b["rate_err_khz"] == pytest.approx(math.sqrt(6) / 15)
    assert (c["count"], c["count_raw"], c["rate_khz"]) == (0, 4, 0.0)
    assert r["total_rate_khz"] == pytest.approx(9 / 15)
    assert r["total_rate_err_khz"] == pytest.approx(math.sqrt(15) / 15)
    assert r["overlap"] == {"seeds": ["A", "B", "C"], "counts": [[6, 3, 0], [3, 3, 0], [0, 0, 0]]}
    assert list(r["seeds"]) == ["A", "B", "C"]


def test_pileup_profile() -> None:
    acc = _accumulator()
    acc.update(RAW, WEIGHT, PILEUP)
    pu = acc.result()["pileup"]
    assert pu["edges"] == [0, 20, 40, 50, 60, 70, 80, 100, 140, 200, 1000]
    assert pu["events"] == [2, 2, 2, 0, 2, 0, 0, 0, 2, 0]
    assert pu["total_rate_khz"] == pytest.approx([1.0, 0.5, 2 / 3, 0, 0.5, 0, 0, 0, 0.5, 0])
    assert pu["seeds"]["B"] == pytest.approx([0.5, 0.5, 0, 0, 0, 0, 0, 0, 0.5, 0])


def test_result_is_json_ready() -> None:
    acc = _accumulator()
    acc.update(RAW, WEIGHT, PILEUP)
    r = acc.result()
    assert json.loads(json.dumps(r)) == r


def test_rate_scales_with_bunches_and_revolution_frequency() -> None:
    acc = RateAccumulator(["A"], np.array([1]), n_bunches=2544, f_rev_hz=11245.613)
    acc.update(np.array([[True], [False], [False], [False]]), np.ones(4), np.zeros(4))
    assert acc.result()["seeds"]["A"]["rate_khz"] == pytest.approx(0.25 * 2544 * 11245.613 / 1000)


@pytest.mark.parametrize("cuts", [[3, 4], [1, 2, 3, 4, 5, 6, 7, 8, 9], [], [5]], ids=str)
def test_batch_splitting_changes_nothing(cuts: list[int]) -> None:
    whole = _accumulator()
    f_whole, l_whole = whole.update(RAW, WEIGHT, PILEUP)
    split = _accumulator()
    bounds = zip([0, *cuts], [*cuts, 10], strict=True)
    parts = [split.update(RAW[a:b], WEIGHT[a:b], PILEUP[a:b]) for a, b in bounds]
    assert np.array_equal(np.concatenate([p[0] for p in parts]), f_whole)
    assert np.array_equal(np.concatenate([p[1] for p in parts]), l_whole)
    got, want = _leaves(split.result()), _leaves(whole.result())
    assert [k for k, _ in got] == [k for k, _ in want]
    for (key, g), (_, w) in zip(got, want, strict=True):
        assert g == (w if isinstance(w, int | str) else pytest.approx(w, rel=1e-12, abs=1e-15)), key


def _leaves(obj: object, key: str = "") -> list[tuple[str, object]]:
    """(path, value) of every scalar in a nested result."""
    if isinstance(obj, dict):
        return [leaf for k, v in obj.items() for leaf in _leaves(v, f"{key}.{k}")]
    if isinstance(obj, list):
        return [leaf for i, v in enumerate(obj) for leaf in _leaves(v, f"{key}[{i}]")]
    return [(key, obj)]


def test_counters_persist_across_batches() -> None:
    acc = RateAccumulator(["P3"], np.array([3]), n_bunches=1, f_rev_hz=1000.0)
    fired = [acc.update(np.ones((2, 1), bool), np.ones(2), np.zeros(2))[0][:, 0].tolist() for _ in range(4)]
    assert fired == [[True, False], [False, True], [False, False], [True, False]]
    assert acc.counters.tolist() == [8]


def _loop_prescale(raw: np.ndarray, prescales: np.ndarray, counters: np.ndarray) -> np.ndarray:
    c = counters.copy()
    out = np.zeros_like(raw)
    for i in range(raw.shape[0]):
        for s in range(raw.shape[1]):
            if raw[i, s]:
                out[i, s] = prescales[s] > 0 and c[s] % prescales[s] == 0
                c[s] += 1
    return out


@given(
    raw=hnp.arrays(bool, st.tuples(st.integers(0, 40), st.integers(1, 4))),
    data=st.data(),
)
def test_apply_prescales_matches_per_event_counter(raw: np.ndarray, data: st.DataObject) -> None:
    s = raw.shape[1]
    prescales = np.array(data.draw(st.lists(st.integers(0, 5), min_size=s, max_size=s)), np.int64)
    counters = np.array(data.draw(st.lists(st.integers(0, 20), min_size=s, max_size=s)), np.int64)
    fired, new = apply_prescales(raw, prescales, counters)
    assert np.array_equal(fired, _loop_prescale(raw, prescales, counters))
    assert np.array_equal(new, counters + raw.sum(axis=0))


def test_bad_inputs_raise() -> None:
    with pytest.raises(StageError, match="shapes do not match"):
        apply_prescales(np.ones((2, 3), bool), np.ones(2, np.int64), np.zeros(2, np.int64))
    with pytest.raises(StageError, match="need 2 prescales"):
        RateAccumulator(["A", "B"], np.array([1, 2, 3]), n_bunches=1, f_rev_hz=1.0)
    for bad, shown in ((-1, "B: -1"), (0.5, "B: 0.5"), (2.505, "B: 2.505"), (np.nan, "B: nan")):
        with pytest.raises(StageError, match=f"0 or >= 1 with at most two decimals.*{shown}"):
            RateAccumulator(["A", "B"], np.array([1, bad]), n_bunches=1, f_rev_hz=1.0)
    with pytest.raises(StageError, match="pileup_edges must increase"):
        RateAccumulator(["A"], np.array([1]), n_bunches=1, f_rev_hz=1.0, pileup_edges=(0, 10, 5))
    acc = _accumulator()
    with pytest.raises(StageError, match=r"weight \(3,\)"):
        acc.update(RAW, np.ones(3), PILEUP)


def test_empty_accumulator_result() -> None:
    r = _accumulator().result()
    assert r["events"] == 0
    assert r["total_rate_khz"] == 0.0
    assert r["seeds"]["A"]["rate_khz"] == 0.0


def test_format_rate_table() -> None:
    acc = _accumulator()
    acc.update(RAW, WEIGHT, PILEUP)
    text = format_rate_table(acc.result())
    lines = text.splitlines()
    assert lines[0].split() == ["seed", "prescale", "count", "rate", "[kHz]", "pure", "n_indep", "reuse"]
    assert lines[2].split()[:7] == ["A", "1", "6", "0.60", "±", "0.26", "3"]
    assert lines[3].split()[:7] == ["B", "2", "3", "0.27", "±", "0.16", "0"]
    assert lines[4].split() == ["C", "0", "0", "0.00", "±", "0.00", "0", "0.0", "1.00"]
    assert lines[2].endswith("!")  # 6 events: fewer than 10
    assert lines[3].endswith("!")
    assert lines[-2].split() == ["total", "(10", "events)", "6", "0.60", "±", "0.26"]
    assert lines[-1].startswith("! 2 seed(s) rest on fewer than 10 independent events")


def test_reused_hard_events_inflate_the_error_exactly() -> None:
    """Crossings sharing a hard event are one cluster: V = Σ_free w² + Σ_events (Σ w)²."""
    acc = RateAccumulator(["A"], np.array([1]), n_bunches=1, f_rev_hz=1000.0)
    raw = np.array([[1], [1], [1], [1], [0], [1]], bool)
    w = np.array([1.0, 2.0, 1.0, 0.5, 3.0, 1.0])
    cluster = np.array([4, 4, 9, -1, 4, -1])  # event 4 fires twice (w 1, 2), event 9 once
    acc.update(raw[:3], w[:3], np.zeros(3), cluster[:3])
    acc.update(raw[3:], w[3:], np.zeros(3), cluster[3:])
    s = acc.result()["seeds"]["A"]
    var = (1.0 + 2.0) ** 2 + 1.0**2 + 0.5**2 + 1.0**2
    sum_w, sum_w2 = 5.5, 1 + 4 + 1 + 0.25 + 1
    assert s["rate_err_khz"] == pytest.approx(np.sqrt(var) / w.sum())
    assert s["rate_err_iid_khz"] == pytest.approx(np.sqrt(sum_w2) / w.sum())
    assert s["n_eff"] == pytest.approx(sum_w**2 / sum_w2)
    assert s["n_indep"] == pytest.approx(sum_w**2 / var)
    assert s["reuse"] == pytest.approx(var / sum_w2)
    assert s["hard_events"] == 2


def test_without_reuse_the_cluster_error_is_the_naive_one() -> None:
    rng = np.random.default_rng(3)
    raw = rng.random((400, 2)) < 0.3
    w = rng.uniform(0.5, 2.0, 400)
    acc = RateAccumulator(["a", "b"], np.array([1, 1]), n_bunches=1, f_rev_hz=1000.0)
    acc.update(raw, w, np.zeros(400), np.arange(400))  # every crossing its own hard event
    for s in acc.result()["seeds"].values():
        assert s["rate_err_khz"] == pytest.approx(s["rate_err_iid_khz"])
        assert s["reuse"] == pytest.approx(1.0)


def test_random_run_split_into_uneven_batches() -> None:
    rng = np.random.default_rng(5)
    n, s = 5000, 5
    raw = rng.random((n, s)) < [0.5, 0.1, 0.01, 0.3, 1.0]
    w = rng.uniform(0.5, 2.0, n)
    pu = rng.uniform(0, 250, n)
    prescales = np.array([1, 3, 0, 7, 1000])
    whole = RateAccumulator(list("abcde"), prescales, n_bunches=2544, f_rev_hz=11245.613)
    f_whole, _ = whole.update(raw, w, pu)
    split = RateAccumulator(list("abcde"), prescales, n_bunches=2544, f_rev_hz=11245.613)
    cuts = [0, 0, 1, 17, 17, 600, 2048, 4999, n]  # includes empty batches
    fired = [split.update(raw[a:b], w[a:b], pu[a:b])[0] for a, b in itertools.pairwise(cuts)]
    assert np.array_equal(np.concatenate(fired), f_whole)
    assert f_whole[:, 4].sum() == 5  # passes 0, 1000, 2000, 3000, 4000
    r, q = split.result(), whole.result()
    assert r["overlap"] == q["overlap"]
    assert r["accepted"] == q["accepted"]
    for name in "abcde":
        assert r["seeds"][name]["rate_khz"] == pytest.approx(q["seeds"][name]["rate_khz"], rel=1e-12)


def test_rate_sink_warm_up_counts_nothing() -> None:
    chain = load_chain(DEFAULT_CONFIG)
    sink = RateSink(load_menu(chain.menu_path or ""), chain)
    n_seeds = len(sink.menu.seed_names)
    batch = EventBatch.empty(20).with_columns(seeds_raw=np.ones((20, n_seeds), bool))
    sink.warm_up(batch)
    assert sink.acc.events == 0
    assert not sink.acc.count_raw.any()
    sink.on_batch(batch)
    assert sink.acc.events == 20
    assert (sink.acc.count_raw == 20).all()
    with pytest.raises(StageError, match="no 'seeds_raw'"):
        sink.warm_up(EventBatch.empty(3))


def test_raw_rates_are_before_prescales_with_their_own_errors() -> None:
    acc = RateAccumulator(["A"], np.array([4]), n_bunches=1, f_rev_hz=1000.0)
    raw = np.ones((8, 1), bool)
    acc.update(raw, np.ones(8), np.zeros(8), np.array([0, 0, 1, 1, 2, 2, 3, 3]))
    s = acc.result()["seeds"]["A"]
    assert s["rate_khz"] == pytest.approx(2 / 8)  # passes 0 and 4 fire
    assert s["rate_raw_khz"] == pytest.approx(1.0)
    assert s["rate_raw_err_khz"] == pytest.approx(np.sqrt(4 * 2.0**2) / 8)  # four events, each twice


@settings(max_examples=60, deadline=None)
@given(passes=st.lists(st.booleans(), min_size=1, max_size=80), p=st.sampled_from([1, 2, 3, 2.5, 1.25, 3.33, 100.01]),
       split=st.integers(0, 80))  # fmt: skip
def test_fractional_prescales_count_as_the_ugt_counter_in_any_batching(passes: list[bool], p: float,
                                                                       split: int) -> None:
    """The uGT's counter (+100 per pass, fire on reaching 100·p, subtract it), started one pass before it
    fires: the accumulator, apply_prescales and a one-crossing-at-a-time loop agree, however split."""
    f = round(p * 100)
    c, want = f - 100, []
    for x in passes:
        fire = x and c + 100 >= f
        want.append(fire)
        c = c + 100 - f if fire else c + 100 if x else c
    raw = np.array(passes, bool).reshape(-1, 1)
    acc = RateAccumulator(["A"], np.array([p]), n_bunches=1, f_rev_hz=1.0)
    parts = (raw[:split], raw[split:])
    got = [acc.update(part, np.ones(len(part)), np.full(len(part), 30.0))[0][:, 0] for part in parts]
    assert np.concatenate(got).tolist() == want
    a, ca = apply_prescales(raw[:split], np.array([p]), np.zeros(1, np.int64))
    b, _ = apply_prescales(raw[split:], np.array([p]), ca)
    assert np.concatenate([a[:, 0], b[:, 0]]).tolist() == want
    r = acc.result()["seeds"]["A"]
    assert r["prescale"] == p
    assert r["count"] == sum(want)


def test_integer_prescales_keep_firing_on_the_first_pass() -> None:
    acc = RateAccumulator(["A"], np.array([3]), n_bunches=1, f_rev_hz=1.0)
    fired, _ = acc.update(np.ones((7, 1), bool), np.ones(7), np.full(7, 30.0))
    assert fired[:, 0].tolist() == [True, False, False, True, False, False, True]
    assert isinstance(acc.result()["seeds"]["A"]["prescale"], int)
