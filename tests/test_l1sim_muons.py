"""The L1 muon track-finder model: stations, quality, core and single-scattering tail of the pT assignment."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from streams.errors import ConfigError
from streams.l1sim import CrossingEmulator, L1SimConfig, TowerPool, compute_towers
from streams.l1sim._kernel import muon_quality

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
