"""Anomaly-score studies: rates and efficiencies above thresholds, operating points, distributions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from emulator.studies.anomaly import anomaly_study, fraction_above, operating_points, score_columns, score_histogram
from emulator.studies.sample import Sample

floats = st.floats(-50, 50, width=32) | st.just(float("nan"))


@given(hnp.arrays(np.float32, st.integers(1, 60), elements=floats),
       hnp.arrays(np.float64, 6, elements=st.floats(-60, 60)))  # fmt: skip
@settings(max_examples=80, deadline=None)
def test_fraction_above_matches_a_direct_count(scores: np.ndarray, thresholds: np.ndarray) -> None:
    w = np.linspace(0.5, 1.5, scores.size)
    got = fraction_above(scores, w, thresholds)
    for t, g in zip(thresholds, got, strict=True):
        assert g == pytest.approx(w[scores.astype(np.float64) >= t].sum() / w.sum(), abs=1e-12)


def test_operating_points_pick_the_lowest_threshold_under_each_rate() -> None:
    zb = np.arange(100.0)  # one event per unit: rate above t = (100 - t) kHz with a 100 kHz crossing rate
    sig = np.full(10, 95.0)
    thr = np.arange(0.0, 100.0, 1.0)
    ops = operating_points(zb, np.ones(100), {"s": (sig, np.ones(10))}, thr, crossing_rate_khz=100.0,
                           targets_khz=(10.0, 3.0, 0.5))  # fmt: skip
    assert [o["threshold"] for o in ops] == [90.0, 97.0, None]
    assert [o["rate_khz"] for o in ops[:2]] == [10.0, 3.0]
    assert ops[0]["efficiency"] == {"s": 1.0}
    assert ops[1]["efficiency"] == {"s": 0.0}


def test_histogram_is_normalised_and_keeps_overflow() -> None:
    h = score_histogram(np.array([-5.0, 0.5, 1.5, 1.5, 99.0, np.nan]), np.ones(6), [0.0, 1.0, 2.0])
    widths = np.diff(h["edges"])
    assert float((np.asarray(h["density"]) * widths).sum()) == pytest.approx(1.0)
    assert h["density"] == pytest.approx([3 / 6, 3 / 6])  # -5 and NaN clip to the first bin, 99 to the last
    assert h["events"] == 6


def _sample(name: str, scores: dict[str, np.ndarray]) -> Sample:
    n = len(next(iter(scores.values())))
    return Sample(name, ("A",), np.zeros((n, 1), bool), np.ones(n), np.full(n, 60.0), dict(scores))


def test_study_covers_every_common_score_column() -> None:
    rng = np.random.default_rng(0)
    zb = _sample("zb", {"score_axo": rng.exponential(1.0, 20_000), "score_cicada": rng.normal(0, 1, 20_000)})
    sig = _sample("hh", {"score_axo": rng.exponential(1.0, 2000) + 4.0})
    assert score_columns([zb, sig]) == ["score_axo"]
    study = anomaly_study(zb, [sig], crossing_rate_khz=20_000.0, targets_khz=(10.0, 100.0))
    assert list(study) == ["score_axo"]
    s = study["score_axo"]
    rate = np.asarray(s["rate_khz"])
    assert np.all(np.diff(rate) <= 0)
    assert np.all(np.diff(s["efficiency"]["hh"]) <= 0)
    assert set(s["distributions"]) == {"zb", "hh"}
    op = s["operating_points"][0]
    assert op["rate_khz"] <= 10.0
    # the threshold at 10 kHz of 20 MHz keeps 1/2000 of an exponential: t = ln 2000 ≈ 7.6
    assert op["threshold"] == pytest.approx(np.log(2000.0), abs=0.7)
    assert op["efficiency"]["hh"] == pytest.approx(np.exp(-(op["threshold"] - 4.0)), abs=0.05)


def test_no_score_columns_no_study() -> None:
    zb = _sample("zb", {"gen_ht": np.ones(5)})
    assert anomaly_study(zb, [], crossing_rate_khz=1.0) == {}
