"""The L1 muon track-finder model: stations, quality, core and single-scattering tail of the pT assignment."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from streams.errors import ConfigError
from streams.l1sim import CrossingEmulator, L1SimConfig, TowerPool, compute_towers
from streams.l1sim._kernel import muon_quality
from streams.l1sim._muons import muon_index
from streams.l1sim.crossing import MuonBoost

# every muon makes a candidate with unscaled pT and no random charge flips, so t = ±pT/pT_L1 − 1
GUN = L1SimConfig(muon_efficiency=1.0, muon_threshold_efficiency=0.5, muon_charge_flip=0.0)
N = 200_000


def gun(pt: float, eta: float, config: L1SimConfig, n: int = N, first_gid: int = 0) -> dict[str, np.ndarray]:
    """``n`` crossings, each holding one μ⁻ of (pt, eta)."""
    pool = muon_pool(pt, eta, config)
    return CrossingEmulator(pool, config=config, seed=3).emulate(
        draw_counts=np.ones(n, np.int64), draw_idx=np.zeros(n, np.int64),
        draw_rot=np.zeros(n, np.int64), draw_flip=np.zeros(n, np.bool_), first_gid=first_gid)


def muon_pool(pt: float, eta: float, config: L1SimConfig) -> TowerPool:
    return compute_towers(
        offsets=np.array([0, 1]), pt=np.array([pt], np.float32), eta=np.array([eta], np.float32),
        phi=np.array([1.0], np.float32), e=np.array([pt * np.cosh(eta)], np.float32),
        pid=np.array([13], np.int32), charge=np.array([-1], np.int8), config=config, seed=1)


def changed(field: str, value: float) -> L1SimConfig:
    change: dict[str, Any] = {field: value}
    return replace(L1SimConfig(), **change)


def relative_error(cols: dict[str, np.ndarray], pt: float) -> np.ndarray:
    """t = (1/pT_L1 − 1/pT)/(1/pT), signed by the measured charge (a bend of the wrong sign: t < −1)."""
    l1 = cols["mu_pt"][:, 0] * 0.5 + 0.25  # bin centre
    sign = np.where(cols["mu_charge"][:, 0] == -1, 1.0, -1.0)
    return sign * pt / l1 - 1.0


def mad_sigma(t: np.ndarray) -> float:
    """Gaussian-equivalent width from the median absolute deviation (insensitive to the tail)."""
    return float(np.median(np.abs(t - np.median(t))) / 0.6745)


def test_barrel_core_and_power_law_tail_have_the_stated_fractions() -> None:
    config = replace(GUN, muon_station_efficiency=1.0)  # four stations: the core is muon_res_barrel
    t = relative_error(gun(20.0, 0.4, config), 20.0)
    sigma = config.muon_res_barrel
    assert mad_sigma(t) == pytest.approx(sigma, rel=0.04)
    # beyond 5σ the Gaussian core gives 6e-7; the tail P(|t| > x) = f (x0 / x)², x0 = 2.326σ
    for k in (5.0, 10.0):
        expected = config.muon_tail_fraction * (config.muon_tail_start / k) ** 2
        seen = np.mean(np.abs(t) > k * sigma)
        assert seen == pytest.approx(expected, abs=4.0 * np.sqrt(expected / N))
    over, under = np.mean(t < -5.0 * sigma), np.mean(t > 5.0 * sigma)
    assert over == pytest.approx(under, rel=0.2)  # multiple scattering has no preferred sign
    assert np.mean(t < -1.0) > 0  # some bends are measured with the wrong sign: charge flipped


def test_no_tail_without_tail_fraction() -> None:
    config = replace(GUN, muon_station_efficiency=1.0, muon_tail_fraction=0.0)
    t = relative_error(gun(20.0, 0.4, config, n=50_000), 20.0)
    assert np.mean(np.abs(t) > 5.0 * config.muon_res_barrel) < 1e-4


def test_quality_follows_the_stations_as_the_cmssw_track_finders_assign_it() -> None:
    bmtf = {0b1111: 15, 0b1110: 14, 0b1011: 14, 0b1100: 13, 0b1001: 13, 0b0110: 12, 0b0011: 12}
    omtf = {0b1111: 12, 0b0111: 12, 0b1010: 4}
    emtf = {15: 15, 14: 14, 13: 13, 11: 15, 12: 8, 10: 10, 7: 11, 9: 5, 6: 6, 5: 5, 3: 7}
    for tf, table in enumerate((bmtf, omtf, emtf)):
        for mask, quality in table.items():
            assert muon_quality(tf, mask) == quality, (tf, bin(mask))


def test_quality_correlates_with_the_measurement() -> None:
    config = replace(GUN, muon_station_efficiency=0.8)  # many two-station tracks
    cols = gun(20.0, 1.8, config)
    t, qual = relative_error(cols, 20.0), cols["mu_qual"][:, 0]
    good, two = t[qual >= 12], t[(qual == 8) | (qual == 10)]  # 8, 10: ME1 + one station
    assert len(two) > 0.05 * N
    # EMTF quality ≥ 12 needs three stations with ME1; two-station tracks are √(3/2) - √3 times wider
    assert mad_sigma(two) > 1.4 * mad_sigma(good)
    eff = config.muon_station_efficiency
    p_single = eff * (eff**3 + 3 * eff**2 * (1 - eff))  # ME1 and at least two of ME2-ME4
    assert np.mean(qual >= 12) == pytest.approx(p_single, abs=0.005)


def test_all_barrel_tracks_have_single_muon_quality_and_plateau_is_cms_like() -> None:
    qual = gun(40.0, 0.4, GUN, n=20_000)["mu_qual"][:, 0]
    assert (qual[qual > 0] >= 12).all()  # 0: fewer than two stations, no track (2.5e-4)
    assert np.mean(qual > 0) > 0.999
    endcap = gun(40.0, 1.8, GUN, n=20_000)
    assert 0.93 < np.mean(endcap["mu_qual"][:, 0] >= 12) < 0.98


def test_muon_draws_do_not_depend_on_batching() -> None:
    whole = gun(6.0, 1.8, GUN, n=3000)
    part = gun(6.0, 1.8, GUN, n=1000, first_gid=2000)
    for name in ("mu_pt", "mu_qual", "mu_charge"):
        np.testing.assert_array_equal(whole[name][2000:], part[name])


@pytest.mark.parametrize(("field", "value"), [
    ("muon_station_efficiency", 1.5), ("muon_tail_fraction", -0.1), ("muon_tail_fraction", 2.0),
    ("muon_tail_start", 0.0), ("muon_charge_flip", 1.2),
])
def test_bad_muon_values_are_rejected(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        changed(field, value)


def test_per_crossing_muon_fields_leave_the_pool_response_alone() -> None:
    key = L1SimConfig().response_key()
    for field, value in (("muon_station_efficiency", 0.9), ("muon_tail_fraction", 0.0), ("muon_tail_start", 3.0)):
        assert changed(field, value).response_key() == key
    assert L1SimConfig(muon_efficiency=0.9).response_key() != key


def test_track_finder_index_follows_the_ugmt_link_numbering() -> None:
    # uGMT inputs: EMTF+ 0-17, OMTF+ 18-35, BMTF 36-71, OMTF− 72-89, EMTF− 90-107, three muons per link
    assert [muon_index(0, 1, 0, 0), muon_index(0, -1, 11, 2), muon_index(1, 1, 5, 2), muon_index(2, 1, 0, 0)] == [
        36, 71, 35, 0]
    assert [muon_index(1, -1, 0, 0), muon_index(2, -1, 5, 2)] == [72, 107]
    # μ⁻ of 20 GeV at φ = 1: bent by asin(0.15·3.8·R/20) to the stations, R = 2.95 m (barrel) or
    # 6 m / sinh|η| = 2.07 m at |η| = 1.8: φ 1.0843 → bin 99 → BMTF wedge (99 + 24) // 48 = 2 → 42;
    # φ 1.0590 → bin 97 → EMTF− sector (97 − 24) // 96 = 0 → 90
    barrel = gun(20.0, 0.4, GUN, n=200)
    endcap = gun(20.0, -1.8, GUN, n=200)
    for cols, index in ((barrel, 42), (endcap, 90)):
        found = cols["mu_pt"][:, 0] > 0
        assert found.mean() > 0.99
        assert (cols["mu_tfindex"][found, 0] == index).all()


def test_a_link_carries_three_muons() -> None:
    n_mu = 4  # four μ⁻ of 20-50 GeV in the same BMTF wedge: the lowest is lost, the others are 42, 43, 44
    pt = np.array([50.0, 40.0, 30.0, 20.0], np.float32)
    pool = compute_towers(
        offsets=np.array([0, n_mu]), pt=pt, eta=np.full(n_mu, 0.4, np.float32), phi=np.full(n_mu, 1.0, np.float32),
        e=pt * np.float32(np.cosh(0.4)), pid=np.full(n_mu, 13, np.int32), charge=np.full(n_mu, -1, np.int8),
        config=GUN, seed=1)
    cols = CrossingEmulator(pool, config=replace(GUN, muon_station_efficiency=1.0), seed=3).emulate(
        draw_counts=np.ones(50, np.int64), draw_idx=np.zeros(50, np.int64), draw_rot=np.zeros(50, np.int64),
        draw_flip=np.zeros(50, np.bool_))
    assert (cols["mu_tfindex"][:, :3] == [42, 43, 44]).all()
    assert (cols["mu_pt"][:, 3] == 0).all()


def test_prompt_muons_have_the_same_unconstrained_pt_and_no_impact_parameter() -> None:
    cols = gun(25.0, 1.1, GUN, n=5000)
    assert np.array_equal(cols["mu_upt"], np.minimum(cols["mu_pt"] // 2, 255))  # floor(pT) of the same track
    assert not cols["mu_ip"].any()


def test_decays_in_flight_bend_like_their_parent_and_miss_the_beam_line() -> None:
    config = replace(GUN, muon_ip_edges_cm=(1.0, 2.0, 4.0), muon_tail_fraction=0.0)
    pion = compute_towers(
        offsets=np.array([0, 1]), pt=np.array([9.0], np.float32), eta=np.array([0.3], np.float32),
        phi=np.array([1.0], np.float32), e=np.array([9.5], np.float32), pid=np.array([211], np.int32),
        charge=np.array([1], np.int8), config=config, seed=1)
    assert pion.mu_prob[0] < 1.0  # a decay in flight, made in every crossing below
    n = 40_000
    cols = CrossingEmulator(pion, config=config, seed=5, muon_boost=MuonBoost(1e9, 1.0, 0.0)).emulate(
        draw_counts=np.ones(n, np.int64), draw_idx=np.zeros(n, np.int64), draw_rot=np.zeros(n, np.int64),
        draw_flip=np.zeros(n, np.bool_))
    found = cols["mu_pt"][:, 0] > 0
    pt, upt, ip = cols["mu_pt"][found, 0] / 2.0, cols["mu_upt"][found, 0], cols["mu_ip"][found, 0]
    # the model: decay radius r ~ U[0, 1.29 m], parent pT = pT_μ / x with x ~ U[0.5731, 1] (π → μν);
    # 1/pT = (1 − (r/R)(1 − x))/pT_μ with R = 2.95 m, uPT = pT_μ; d = 0.15·3.8·(1 − x)/pT_μ · r²
    rng = np.random.default_rng(1)
    r, x = rng.random(1_000_000) * 1.29, 0.5731 + 0.4269 * rng.random(1_000_000)
    ratio = 1.0 / (1.0 - r / 2.95 * (1.0 - x))
    assert (upt <= pt).all()
    assert np.mean((pt + 0.25) / (upt + 0.5)) == pytest.approx(ratio.mean(), abs=0.01)
    d_cm = 100 * 0.5 * 0.3 * 3.8 * (1.0 - x) / float(pion.mu_pt[0]) * r**2
    want = np.bincount(np.searchsorted([1.0, 2.0, 4.0], d_cm, side="right"), minlength=4) / len(d_cm)
    got = np.bincount(ip, minlength=4) / len(ip)
    tolerance = 4 * np.sqrt(want * (1 - want) / len(ip)) + 1e-4
    assert (np.abs(got - want) < tolerance).all(), (got, want)
    assert want[3] > 0.01  # the edges were lowered: with CMS's 25/50/75 cm no such muon leaves class 0
