"""e/γ and τ as CMS layer 2 makes them: dynamic clustering, the shape veto, the calibration LUTs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from streams.errors import ConfigError
from streams.l1sim import L1SimConfig
from streams.l1sim._tau_iso import tau_iso_arrays, tau_iso_table
from streams.l1sim.crossing import egtau_luts
from streams.l1sim.geometry import ETA_EDGES, N_PHI
from tests.test_l1sim import EXACT, emulate, towers

PHI0 = (10 + 0.5) * 2 * np.pi / N_PHI  # the centre of φ tower 10
DPHI = 2 * np.pi / N_PHI


def eta_of(ieta: int) -> float:
    return float(0.5 * (ETA_EDGES[ieta] + ETA_EDGES[ieta + 1]))


def photons(*parts: tuple[float, int, int]) -> dict[str, np.ndarray]:
    """One crossing of photons (pT GeV, Δieta, Δiphi) around barrel tower (45, 10); EXACT response."""
    pool = towers(*((pt, eta_of(45 + de), PHI0 + dp * DPHI, 22) for pt, de, dp in parts))
    return emulate(pool, [[0]], config=EXACT)


def only_shape(shape: int) -> str:
    return f"{1 << shape:032x}"


def test_compact_cluster_keeps_neighbours_above_threshold_on_the_stronger_side() -> None:
    cols = photons((30.0, 0, 0), (4.0, 0, 1), (0.5, 0, -1), (3.0, 1, 0), (2.0, -1, 0))
    # 0.5 GeV at φ − 1 is below the 1 GeV neighbour threshold; +η (3 GeV) beats −η (2 GeV)
    assert cols["eg_pt"][0, 0] == 2 * (30 + 4 + 3)


def test_phi_plus_two_joins_only_next_to_phi_plus_one() -> None:
    assert photons((30.0, 0, 0), (2.0, 0, 1), (5.0, 0, 2))["eg_pt"][0, 0] == 2 * 37
    assert photons((30.0, 0, 0), (5.0, 0, 2))["eg_pt"][0, 0] == 2 * 30


def test_seed_is_the_maximum_of_3_eta_by_9_phi() -> None:
    cols = photons((30.0, 0, 0), (20.0, 1, 4))  # 4 towers apart in φ: one e/γ, the stronger
    assert np.count_nonzero(cols["eg_pt"][0]) == 1
    cols = photons((30.0, 0, 0), (20.0, 1, 5))
    assert np.count_nonzero(cols["eg_pt"][0]) == 2


def test_shape_veto_accepts_a_compact_cluster_and_rejects_a_spread_one() -> None:
    single = replace(EXACT, eg_shape_ok=(only_shape(0),) * 8)  # only the lone seed tower is an e/γ
    pool = towers((30.0, eta_of(45), PHI0, 22), (3.0, eta_of(45), PHI0 + DPHI, 22), events=[1, 1])
    assert emulate(pool, [[0]], config=single)["eg_pt"][0, 0] == 60
    assert emulate(pool, [[0, 1]], config=single)["eg_pt"][0, 0] == 0  # seed + φ + 1: shape 2
    assert emulate(pool, [[0, 1]], config=replace(single, eg_shape_veto=False))["eg_pt"][0, 0] == 66
    hard = towers((130.0, eta_of(45), PHI0, 22), (3.0, eta_of(45), PHI0 + DPHI, 22))
    assert emulate(hard, [[0]], config=single)["eg_pt"][0, 0] == 266  # no ID from 128 GeV raw ET


def test_default_shape_lut_keeps_lone_electrons_and_rejects_a_pi0_spray() -> None:
    lone = photons((30.0, 0, 0))
    assert lone["eg_pt"][0, 0] == 60
    spray = photons((12.0, 0, 0), *((3.0, de, dp) for de in (-1, 0, 1) for dp in (-2, -1, 0, 1, 2)
                                    if (de, dp) != (0, 0)))
    assert spray["eg_pt"][0, 0] == 0
    lut = egtau_luts(L1SimConfig())[0][2]
    assert lut[:, :, 0].all()  # the lone seed tower is an e/γ everywhere
    assert not lut[:, :, 127].any()  # a full 3 × 3 + φ ± 2 cluster nowhere


@pytest.mark.parametrize(("ieta", "ring"), [(45, 0), (62, 1)], ids=["barrel", "endcap"])
def test_egamma_calibration_scales_the_raw_et_per_bin(ieta: int, ring: int) -> None:
    scales = tuple(1.0 + 0.01 * k for k in range(8))  # (|η| bin, ET bin), η-major; ET bins 15/25/40 GeV
    cfg = replace(EXACT, eg_calibration=scales)
    pool = towers((30.0, eta_of(ieta), PHI0, 22))
    assert emulate(pool, [[0]], config=cfg)["eg_pt"][0, 0] == round(60 * scales[4 * ring + 2])


def test_tau_calibration_by_eta_and_merging() -> None:
    cfg = replace(EXACT, tau_calibration=(1.5, 1.25, 0.5, 0.75), tau_iso="pass")
    one = towers((40.0, eta_of(45), PHI0, 130), config=EXACT)
    assert emulate(one, [[0]], config=cfg)["tau_pt"][0, 0] == 120
    two = towers((40.0, eta_of(45), PHI0, 130), (30.0, eta_of(45), PHI0 + 3 * DPHI, 130))
    assert emulate(two, [[0]], config=cfg)["tau_pt"][0, 0] == 70  # merged, barrel
    fwd = towers((40.0, eta_of(62), PHI0, 130))
    assert emulate(fwd, [[0]], config=cfg)["tau_pt"][0, 0] == 100
    _, tau = egtau_luts(cfg)
    assert tau[45].tolist() == [1.5, 0.5]
    assert tau[62].tolist() == [1.25, 0.75]


@pytest.mark.parametrize(("field", "value", "match"), [
    ("eg_calibration", (1.0,) * 7, "entries"),
    ("eg_calibration", (1.0,) * 7 + (0.0,), r"\(0, 4\)"),
    ("tau_calibration", (1.0, 1.0), "entries"),
    ("eg_shape_ok", ("xyz",) * 8, "hexadecimal"),
    ("eg_shape_ok", ("1" * 33,) * 8, "hexadecimal"),
    ("eg_lut_et_edges_gev", (25.0, 15.0, 40.0), "increasing"),
    ("tau_calibration_eta_edges", (0.0,), "positive"),
    ("eg_neighbour_hw", -1, "eg_neighbour_hw"),
])
def test_bad_lut_config_is_rejected(field: str, value: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        replace(L1SimConfig(), **{field: value})


# CMSSW L1Trigger/L1TCalorimeter/data/Tau_Iso_LUT_Option_31_extrap_2018_FW_v10.0.0.txt, address -> value
# (address = 1024 · |ieta| bin + 32 · ET bin + nTT bin)
CMS_TAU_ISO_ROWS = {
    0: 1, 5: 7, 15: 18, 25: 29, 31: 35, 640: 5, 650: 16, 671: 39, 960: 20, 991: 54, 992: 511, 1023: 511,
    1024: 2, 1029: 8, 307: 22, 395: 13, 475: 31, 572: 32, 593: 20, 704: 5, 743: 13, 771: 9, 1235: 23,
    1758: 37, 1971: 32, 1984: 19, 2009: 47, 2652: 33, 2995: 39, 3008: 25, 3033: 53, 3077: 7, 3234: 6,
    3425: 5, 3552: 4, 4061: 52, 4063: 54, 4095: 511,
}


def test_tau_isolation_lut_is_cms_2018_table() -> None:
    _, lut, eta_c, et_c, ntt_c = tau_iso_arrays("cms_2018_option31")
    flat = lut.reshape(-1)
    assert {a: int(flat[a]) for a in CMS_TAU_ISO_ROWS} == CMS_TAU_ISO_ROWS
    # tauCompressAllLUT_12bit_v3.txt: |ieta| 1-5 | 6-11 | 12-17 | 18+, ET and nTT edges
    half = 40
    assert [int(eta_c[half - 1 + k]) for k in (1, 5, 6, 11, 12, 17, 18, 28)] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert eta_c[half - 6] == eta_c[half + 5] == 1  # both sides
    assert [int(et_c[e]) for e in (0, 14, 15, 17, 18, 46, 47, 68, 69, 156, 157, 255)] == [
        0, 0, 1, 1, 2, 15, 16, 22, 23, 30, 31, 31]
    assert [int(ntt_c[n]) for n in (0, 5, 6, 10, 11, 155, 156, 1023)] == [0, 0, 1, 1, 2, 30, 31, 31]
    assert (tau_iso_table("pass") == 511).all()


def taus(*parts: tuple[float, int, int], soft_central: int = 0) -> dict[str, np.ndarray]:
    """Photons around tower (45, 10) (CMS |ieta| 6) plus ``soft_central`` 0.6 GeV towers in
    |ieta| <= 4, far away in φ (they only raise nTT)."""
    soft = [(0.6, eta_of(36 + k % 8), (40 + k // 8 + 0.5) * DPHI, 22) for k in range(soft_central)]
    pool = towers(*((pt, eta_of(45 + de), PHI0 + dp * DPHI, 22) for pt, de, dp in parts), *soft)
    return emulate(pool, [[0]], config=replace(EXACT, tau_iso="cms_2018_option31"))


def test_cms_tau_isolation_window_threshold_and_pileup_dependence() -> None:
    assert taus((40.0, 0, 0))["tau_iso"][0, 0] == 3  # nothing around: 0 < threshold 5 (nTT 0)
    # 3 GeV three towers up in η: inside the window (the cluster grew up, no η neighour won), 6 ≥ 5
    assert taus((40.0, 0, 0), (3.0, 3, 0))["tau_iso"][0, 0] == 0
    assert taus((40.0, 0, 0), (3.0, -3, 0))["tau_iso"][0, 0] == 3  # three down: outside
    assert taus((40.0, 0, 0), (3.0, 0, 5))["tau_iso"][0, 0] == 3  # five in φ: outside the ±4
    # 60 soft central towers: nTT bin 11, threshold 5 + 11 + 1 = 17 > 6: isolated again
    assert taus((40.0, 0, 0), (3.0, 3, 0), soft_central=60)["tau_iso"][0, 0] == 3
    # a footprint of 78.5 GeV or more is always isolated
    assert taus((80.0, 0, 0), (10.0, 3, 0))["tau_iso"][0, 0] == 3


def test_tau_isolation_must_be_registered() -> None:
    with pytest.raises(ConfigError, match="tau_iso"):
        L1SimConfig(tau_iso="option_22")


# -- τ as CMS layer 2 builds it (tau_clustering "cms", streams/l1sim/_tau_cms.py) --------------------
def cms_taus(*parts: tuple[float, int, int]) -> list[int]:
    """τ pT (hw, nonzero, highest first) of photons (pT GeV, Δieta, Δiphi) around barrel tower (45, 10)."""
    pool = towers(*((pt, eta_of(45 + de), PHI0 + dp * DPHI, 22) for pt, de, dp in parts))
    pt = emulate(pool, [[0]], config=replace(EXACT, tau_iso="pass"))["tau_pt"][0]
    return [int(v) for v in pt if v > 0]


@pytest.mark.parametrize(("site", "merged"), [
    ((0, 3), True), ((0, -3), True), ((0, 2), True), ((1, 2), True), ((-1, -2), True),
    ((1, 4), False), ((-1, 3), False), ((0, 4), False), ((1, 1), False),
], ids=lambda v: str(v))
def test_tau_secondary_merges_only_at_the_eight_cms_sites(site: tuple[int, int], merged: bool) -> None:
    # a 20 GeV secondary 3x3 maximum: merged at (0, ±2), (0, ±3), (±1, ±2); elsewhere inside the main's
    # 3η × 9φ window it is neither merged nor a τ of its own ((±1, ±1) joins the cluster as a neighbour)
    got = cms_taus((40.0, 0, 0), (20.0, *site))
    expected = [120] if merged or site == (1, 1) else [80]
    assert got == expected


def test_tau_two_eta_towers_apart_are_two_taus() -> None:
    assert cms_taus((40.0, 0, 0), (20.0, 2, 0)) == [80, 40]  # outside the 3η window: its own τ, no merging


def test_tau_cluster_neighbour_threshold_trimming_and_phi_plus_two() -> None:
    # 0.5 GeV at φ − 1 is below 1 GeV; +η (3 GeV) beats −η (2 GeV); φ + 2 joins next to φ + 1 only
    assert cms_taus((40.0, 0, 0), (0.5, 0, -1), (3.0, 1, 0), (2.0, -1, 0)) == [86]
    assert cms_taus((40.0, 0, 0), (2.0, 0, 1), (1.5, 0, 2)) == [87]
    assert cms_taus((40.0, 0, 0), (1.5, 1, 2)) == [80]  # the side column is only φ − 1 … φ + 1


def test_tau_merging_priority_and_overlap_removal() -> None:
    # both φ sides hold a secondary: the one with more ET wins
    assert cms_taus((40.0, 0, 0), (10.0, 0, 3), (12.0, 0, -3)) == [2 * 52]
    # (±1, 3) is no site; of (−1, 2) and (+1, 2) the stronger is merged
    assert cms_taus((40.0, 0, 0), (6.0, 0, -3), (8.0, -1, 3), (9.0, 1, 3)) == [2 * 46]
    assert cms_taus((40.0, 0, 0), (8.0, -1, 2), (9.0, 1, 2)) == [2 * 49]
    # the secondary's towers that the main cluster holds count once: (1, 1) is both clusters' neighbour
    assert cms_taus((40.0, 0, 0), (3.0, 1, 1), (20.0, 1, 2)) == [2 * 63]


def test_tau_clustering_is_registered() -> None:
    with pytest.raises(ConfigError, match="tau_clustering"):
        L1SimConfig(tau_clustering="round")
    box = cms_taus_box((40.0, 0, 0), (20.0, 1, 4))
    assert box == [120]  # the old 2η × 5φ model merged within ±2η ±4φ


def cms_taus_box(*parts: tuple[float, int, int]) -> list[int]:
    pool = towers(*((pt, eta_of(45 + de), PHI0 + dp * DPHI, 22) for pt, de, dp in parts))
    cfg = replace(EXACT, tau_iso="pass", tau_clustering="box")
    return [int(v) for v in emulate(pool, [[0]], config=cfg)["tau_pt"][0] if v > 0]


def test_reconfigured_emulator_shares_its_pools_and_refuses_another_response() -> None:
    from streams.l1sim.crossing import CrossingEmulator

    emu = CrossingEmulator(towers((40.0, eta_of(45), PHI0, 22)), config=replace(EXACT, tau_iso="pass"))
    one = {"draw_counts": np.array([1]), "draw_idx": np.array([0]), "draw_rot": np.array([0]),
           "draw_flip": np.array([False])}
    doubled = emu.reconfigured(replace(emu.config, tau_calibration=(2.0,) * 4))
    assert doubled.emulate(**one)["tau_pt"][0, 0] == 2 * emu.emulate(**one)["tau_pt"][0, 0] == 160
    with pytest.raises(ConfigError, match="response"):
        emu.reconfigured(replace(emu.config, had_lateral_m=0.1))
