"""Turn-on efficiencies, Clopper–Pearson intervals and the 50 %/95 % points."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from emulator.menu import Menu
from emulator.studies.turnon import clopper_pearson, erf_turnon, gen_column_for, turnon


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
@settings(max_examples=60, deadline=None)
def test_clopper_pearson_tails_hold_half_the_missing_probability(kn: tuple[int, int]) -> None:
    k, n = kn
    lo, hi = clopper_pearson(np.array([k]), np.array([n]))
    a = (1 - 0.6826894921370859) / 2
    assert 0.0 <= lo[0] <= k / n <= hi[0] <= 1.0
    if k > 0:  # P(X ≥ k | p = lo) = α/2
        assert stats.binom.sf(k - 1, n, lo[0]) == pytest.approx(a, rel=1e-6)
    else:
        assert lo[0] == 0.0
    if k < n:  # P(X ≤ k | p = hi) = α/2
        assert stats.binom.cdf(k, n, hi[0]) == pytest.approx(a, rel=1e-6)
    else:
        assert hi[0] == 1.0


def test_empty_bins_have_no_interval() -> None:
    lo, hi = clopper_pearson(np.array([0]), np.array([0]))
    assert np.isnan(lo[0])
    assert np.isnan(hi[0])


def test_fit_recovers_a_known_turn_on() -> None:
    rng = np.random.default_rng(4)
    x = rng.uniform(0.0, 100.0, 200_000)
    passed = rng.random(x.size) < erf_turnon(x, 0.97, 40.0, 6.0)
    t = turnon(x, passed, np.linspace(0.0, 100.0, 51))
    fit = t["fit"]
    assert fit is not None
    assert fit["plateau"] == pytest.approx(0.97, abs=0.005)
    assert fit["x50"] == pytest.approx(40.0, abs=0.3)
    assert fit["sigma"] == pytest.approx(6.0, abs=0.3)
    assert fit["chi2"] / fit["ndf"] < 2.0
    assert t["points"]["fit"]["x95"] == pytest.approx(40.0 + special.ndtri(0.95) * 6.0, abs=0.6)
    x50 = t["points"]["interpolated"]["x50"]
    assert x50 == pytest.approx(40.0 + math.sqrt(2) * 6.0 * special.erfinv(2 * 0.5 / 0.97 - 1), abs=1.0)
    assert t["points"]["interpolated"]["x95"] is not None
    # bin contents: every event lands in one bin; passing ones are counted again
    assert sum(t["events"]) == x.size
    assert sum(t["passed"]) == passed.sum()


def test_bin_contents_and_errors_by_hand() -> None:
    x = np.array([5.0, 5.0, 5.0, 5.0, 15.0, 15.0, 25.0])
    passed = np.array([1, 1, 0, 0, 1, 1, 0], bool)
    t = turnon(x, passed, [0.0, 10.0, 20.0, 30.0, 40.0])
    assert t["events"] == [4.0, 2.0, 1.0, 0.0]
    assert t["passed"] == [2.0, 2.0, 0.0, 0.0]
    assert t["efficiency"][:3] == [0.5, 1.0, 0.0]
    assert math.isnan(t["efficiency"][3])  # empty bin: no efficiency at all
    lo, hi = clopper_pearson(np.array([2]), np.array([4]))
    assert t["err_low"][0] == pytest.approx(0.5 - lo[0])
    assert t["err_high"][0] == pytest.approx(hi[0] - 0.5)
    assert t["err_high"][1] == 0.0  # 2 of 2: the upper edge is 1
    assert t["points"]["interpolated"] == {"x50": 5.0, "x95": pytest.approx(14.0)}


def test_weights_use_effective_counts() -> None:
    x = np.full(4, 5.0)
    passed = np.array([1, 0, 1, 0], bool)
    t = turnon(x, passed, [0.0, 10.0], weight=np.array([3.0, 1.0, 3.0, 1.0]))
    assert t["efficiency"] == [0.75]
    n_eff = 8.0**2 / 20.0  # (Σw)² / Σw²
    lo, _ = clopper_pearson(np.array([round(0.75 * n_eff)]), np.array([round(n_eff)]))
    assert t["err_low"][0] == pytest.approx(0.75 - lo[0])


def test_generator_quantity_follows_the_seed() -> None:
    def seed(name: str, *conds: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "conditions": list(conds)}

    menu = Menu.from_dict({"name": "t", "columns": ["c"], "default_column": "c", "seeds": [
        seed("Mu", {"legs": [{"type": "muon", "pt_min": 18}]}),
        seed("EG", {"legs": [{"type": "egamma", "pt_min": 25}, {"type": "egamma", "pt_min": 12}]}),
        seed("MuJet", {"legs": [{"type": "muon", "pt_min": 3}, {"type": "jet", "pt_min": 30}]}),
        seed("HTT", {"sum": "htt", "min": 280}), seed("MET", {"sum": "etmhf", "min": 100}),
        seed("ZB", {"always": True})]})  # fmt: skip
    assert gen_column_for(menu, "Mu") == "gen_mu_pt"
    assert gen_column_for(menu, "EG") == "gen_ele_pt"
    assert gen_column_for(menu, "MuJet") == "gen_jet_pt"  # the highest-threshold leg
    assert gen_column_for(menu, "HTT") == "gen_ht"
    assert gen_column_for(menu, "MET") == "gen_met"
    assert gen_column_for(menu, "ZB") is None
