"""Overlap fractions and pure rates from a rate accumulator's result."""

from __future__ import annotations

import numpy as np
import pytest

from emulator.rates import RateAccumulator
from emulator.studies.overlap import overlap_study

RAW = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 1, 0], [0, 0, 0], [1, 0, 0]], bool)


def test_fractions_and_pure_rates_from_a_replay_result() -> None:
    acc = RateAccumulator(["A", "B", "C"], np.array([1, 1, 1]), n_bunches=1, f_rev_hz=6000.0)  # 1 kHz per event
    acc.update(RAW, np.ones(6), np.full(6, 60.0))
    study = overlap_study(acc.result())
    assert study["seeds"] == ["A", "B", "C"]
    assert study["counts"] == [[4, 2, 1], [2, 3, 1], [1, 1, 1]]
    assert study["fraction"][0] == pytest.approx([1.0, 0.5, 0.25])  # of A's 4 events, B fired in 2
    assert study["fraction"][2] == pytest.approx([1.0, 1.0, 1.0])
    assert study["rate_khz"] == pytest.approx([4.0, 3.0, 1.0])
    assert study["pure_rate_khz"] == pytest.approx([2.0, 1.0, 0.0])  # A alone: events 1, 5; B alone: 3
    assert study["pure_fraction"] == pytest.approx([0.5, 1 / 3, 0.0])


def test_seeds_that_never_fired_get_zero_rows() -> None:
    acc = RateAccumulator(["A", "B"], np.array([1, 0]), n_bunches=1, f_rev_hz=1000.0)
    acc.update(RAW[:, :2], np.ones(6), np.full(6, 60.0))
    study = overlap_study(acc.result())
    assert study["fraction"][1] == [0.0, 0.0]  # B is disabled (prescale 0)
    assert study["pure_fraction"][1] == 0.0
