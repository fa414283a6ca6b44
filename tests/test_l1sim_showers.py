"""Lateral shower spread, the ETM/ETMHF pileup mitigation and τ merging of the L1 emulation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from streams.l1sim import CrossingEmulator, L1SimConfig, TowerPool, compute_towers
from streams.l1sim.crossing import met_thresholds
from streams.l1sim.geometry import ETA_EDGES, N_ETA, N_PHI
from tests.test_l1sim import EXACT, emulate, particles

CENTRE_ETA = 0.5 * (ETA_EDGES[45] + ETA_EDGES[46])  # the middle of barrel tower 45
CENTRE_PHI = (10 + 0.5) * 2 * np.pi / N_PHI


def shares(pid: int, config: L1SimConfig) -> np.ndarray:
    """(η, φ) grid of a 50 GeV particle's tower ET (GeV), aimed at the centre of tower (45, 10)."""
    charge_free = 22 if pid == 22 else 130  # neutral, so the field does not move it
    t = compute_towers(**particles((50.0, float(CENTRE_ETA), float(CENTRE_PHI), charge_free)), config=config,
                       seed=3)
    grid = np.zeros((N_ETA, N_PHI))
    np.add.at(grid, (t.dep_ieta.astype(int), t.dep_iphi.astype(int)), (t.dep_em + t.dep_had.astype(float)) / 16)
    return grid


def test_a_hadron_spreads_over_its_neighbours_and_keeps_its_energy() -> None:
    cfg = replace(EXACT, had_lateral_m=L1SimConfig().had_lateral_m)
    grid = shares(130, cfg)
    assert grid.sum() == pytest.approx(50.0, abs=0.2)  # dithering only
    assert 0.70 < grid[45, 10] / grid.sum() < 0.85  # the shower core
    ring = grid[44:47, 9:12].sum() - grid[45, 10]
    assert ring > 0.1 * grid.sum()
    assert grid[44:47, 9:12].sum() == pytest.approx(grid.sum())  # nothing beyond the 3 × 3 towers
    assert grid[44, 10] == pytest.approx(grid[46, 10], rel=0.05)  # centred: symmetric


def test_a_photon_stays_in_its_tower_and_no_spread_is_one_tower() -> None:
    cfg = replace(EXACT, em_lateral_m=L1SimConfig().em_lateral_m)
    grid = shares(22, cfg)
    assert grid[45, 10] / grid.sum() > 0.99
    assert np.count_nonzero(shares(130, EXACT)) == 1


#: Rows of CMS's Run-2 tower-threshold LUT (CMSSW L1Trigger/L1TCalorimeter/data/lut_towEtThresh_2017v7.txt):
#: compNTT4 -> {CMS |ieta|: threshold (hw)}.
CMS_LUT_ROWS = {
    9: {13: 1, 20: 1, 25: 1, 26: 2, 27: 2, 28: 5, 30: 2, 31: 0, 40: 0, 41: 2},
    23: {13: 4, 21: 4, 22: 5, 23: 6, 24: 8, 25: 10, 26: 12, 27: 10, 28: 12, 30: 12, 31: 11, 40: 11, 41: 12},
    24: {13: 4, 18: 4, 19: 5, 21: 5, 22: 6, 23: 7, 24: 8, 25: 10, 26: 12, 27: 11, 28: 12, 30: 12, 35: 12, 41: 12},
}


def _index(cms_ieta: int) -> int:
    """l1emu's η index of CMS tower +ieta (CMS has no ieta 29)."""
    return N_ETA // 2 - 1 + (cms_ieta if cms_ieta <= 28 else cms_ieta - 1)


@pytest.mark.parametrize("comp_ntt4", sorted(CMS_LUT_ROWS))
def test_pileup_mitigation_thresholds_are_the_cms_run2_lut(comp_ntt4: int) -> None:
    thr = met_thresholds(L1SimConfig())
    got = {ieta: thr[_index(ieta), comp_ntt4] for ieta in CMS_LUT_ROWS[comp_ntt4]}
    assert got == CMS_LUT_ROWS[comp_ntt4]
    assert (thr[_index(1) : _index(13), :] == 0).all()  # |ieta| < 13 always enters the sums


def test_pileup_mitigation_thresholds_grow_with_pileup_and_are_symmetric() -> None:
    thr = met_thresholds(L1SimConfig())
    assert thr.shape == (N_ETA, 32)
    assert (np.diff(thr, axis=1) >= 0).all()  # more pileup, higher thresholds
    np.testing.assert_allclose(thr, thr[::-1])  # both sides alike
    assert thr.max() == 12.0
    assert thr[:, 0].max() == 0.0
    off = met_thresholds(replace(L1SimConfig(), met_pum=False, sum_tower_min_hw=3))
    assert (off == 2.0).all()  # without mitigation: towers >= sum_tower_min_hw


def _pool(entries: list[tuple[int, int, int]]) -> TowerPool:
    """One pool event from (ieta, iphi, ET in hw) tower entries, all hadronic."""
    z = np.zeros(0, np.float32)
    ie, ip, et = (np.array(x) for x in zip(*entries, strict=True))
    return TowerPool(np.array([0, len(ie)]), ie.astype(np.uint8), ip.astype(np.uint8), np.zeros(len(ie), np.uint16),
                     (et * 8).astype(np.uint16), np.array([0, 0]), z, z, z, np.zeros(0, np.int8), z)


def _emulate(pool: TowerPool, config: L1SimConfig) -> dict[str, np.ndarray]:
    return CrossingEmulator(pool, config=config).emulate(
        draw_counts=np.array([1]), draw_idx=np.array([0]), draw_rot=np.array([0]), draw_flip=np.array([False]))


def test_soft_pileup_towers_do_not_enter_etm_but_enter_ett() -> None:
    central = [(ie, ip, 1) for ie in range(36, 44) for ip in range(N_PHI)]  # |ieta| <= 4, all φ: compNTT4 31
    soft = [(ie, ip, 1) for ie in range(52, 60) for ip in range(36)]  # ieta 13 … 20, half of φ: below 7 hw
    hard = [(50, 60, 40)]  # 20 GeV at ieta 11, where no threshold applies
    pum, plain = replace(EXACT, met_pum=True), EXACT
    cols_pum, cols_plain = (_emulate(_pool(central + soft + hard), c) for c in (pum, plain))
    assert cols_pum["ett"][0] == cols_plain["ett"][0] == len(central) + len(soft) + 40
    assert cols_pum["etm"][0] == pytest.approx(40, abs=1)  # the balanced central ring and the hard tower
    assert cols_plain["etm"][0] > 100  # the soft half-ring unbalances the plain sum
    assert cols_pum["etmhf"][0] == cols_pum["etm"][0]


def test_tau_merging_makes_one_tau_of_two_clusters_of_one_jet() -> None:
    two_prong = [(45, 10, 40), (45, 13, 30)]  # seeds 3 towers apart in φ: one τ, both clusters
    apart = [(45, 10, 40), (45, 30, 30)]
    cfg = replace(EXACT, tau_iso="pass")
    merged = _emulate(_pool(two_prong), cfg)
    assert np.count_nonzero(merged["tau_pt"][0]) == 1
    assert merged["tau_pt"][0, 0] == 70  # 40 + 30: the two 3×5 boxes overlap in towers without ET
    assert merged["tau_phi"][0, 0] == 2 * 10 + 1  # at the main seed
    separate = _emulate(_pool(apart), cfg)
    assert sorted(separate["tau_pt"][0][separate["tau_pt"][0] > 0].tolist()) == [30, 40]


def test_tau_merging_takes_the_strongest_secondary_once() -> None:
    three = [(45, 10, 40), (45, 13, 30), (45, 7, 20)]  # two secondaries: the stronger one is merged
    merged = _emulate(_pool(three), replace(EXACT, tau_iso="pass"))
    assert merged["tau_pt"][0].tolist()[:2] == [70, 0]


def test_egamma_isolation_bits_follow_the_ugt_order() -> None:
    """bit 0 tight (IsoEG, LUT 0xA), bit 1 loose (LooseIsoEG, LUT 0xC): 3 isolated, 2 loosely, 0 not."""
    eta2 = 0.3 + 2 * 0.087  # two towers away in η: outside the trimmed cluster, inside the 5 × 9 box
    pool = compute_towers(**particles((40.0, 0.3, 1.0, 22), (8.0, eta2, 1.0, 130), (20.0, eta2, 1.0, 130),
                                      events=[1, 1, 1]), config=EXACT, seed=1)
    assert emulate(pool, [[0]])["eg_iso"][0, 0] == 3
    assert emulate(pool, [[0, 1]])["eg_iso"][0, 0] == 2  # 8 / 40 GeV: loose (0.30), not tight (0.15)
    assert emulate(pool, [[0, 2]])["eg_iso"][0, 0] == 0
