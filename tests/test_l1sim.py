"""The simplified L1 emulation on hand-made particles: objects, units, sums, regions."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from streams.errors import ConfigError
from streams.l1sim import CrossingEmulator, L1SimConfig, TowerPool, compute_towers, concat_tower_pools
from streams.l1sim.geometry import (
    ETA_EDGES,
    N_ETA,
    N_PHI,
    REGION_OF_IETA,
    TOWER_HW_ETA,
    tower_ieta,
    tower_iphi,
)
from streams.schema import MU_ETA_LSB

# Resolution, lateral shower spread, sum pileup mitigation and the e/γ, τ energy scales off, so
# expectations are exact.
EXACT = L1SimConfig(em_stochastic=0.0, em_constant=0.0, had_stochastic=0.0, had_constant=0.0,
                    hf_stochastic=0.0, hf_constant=0.0, hf_em_stochastic=0.0, hf_em_constant=0.0,
                    had_em_fraction_max=0.0, had_low_loss=0.0,
                    em_lateral_m=0.0, had_lateral_m=0.0, met_pum=False, muon_threshold_efficiency=0.5,
                    eg_calibration=(1.0,) * len(L1SimConfig().eg_calibration),
                    tau_calibration=(1.0,) * len(L1SimConfig().tau_calibration))


def particles(*parts: tuple[float, float, float, int], events: list[int] | None = None) -> dict[str, np.ndarray]:
    """(pt, eta, phi, pid) tuples → flat arrays; ``events`` gives the particle count per event."""
    pt, eta, phi, pid = (np.array(x) for x in zip(*parts, strict=True))
    charge = np.select([np.isin(pid, [11, 13, -211]), np.isin(pid, [-11, -13, 211])], [-1, 1], 0)
    counts = events or [len(parts)]
    return {
        "offsets": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        "pt": pt.astype(np.float32), "eta": eta.astype(np.float32), "phi": phi.astype(np.float32),
        "e": (pt * np.cosh(eta)).astype(np.float32), "pid": pid.astype(np.int32),
        "charge": charge.astype(np.int8),
    }


def towers(*parts: tuple[float, float, float, int], config: L1SimConfig = EXACT,
           events: list[int] | None = None) -> TowerPool:
    return compute_towers(**particles(*parts, events=events), config=config, seed=1)


def emulate(pool: TowerPool, events: list[list[int]], config: L1SimConfig = EXACT,
            rot: int = 0, flip: bool = False) -> dict[str, np.ndarray]:
    """One crossing per entry of ``events`` (pool indices summed)."""
    idx = np.array([i for ev in events for i in ev], np.int64)
    return CrossingEmulator(pool, config=config).emulate(
        draw_counts=np.array([len(e) for e in events]), draw_idx=idx,
        draw_rot=np.full(len(idx), rot), draw_flip=np.full(len(idx), flip))


# -- geometry -----------------------------------------------------------------------
def test_geometry_is_symmetric_and_covers_eta_5() -> None:
    assert N_ETA == 80
    assert N_PHI == 72
    np.testing.assert_allclose(ETA_EDGES, -ETA_EDGES[::-1])
    assert ETA_EDGES[-1] > 5.0
    np.testing.assert_array_equal(TOWER_HW_ETA, -TOWER_HW_ETA[::-1])
    np.testing.assert_allclose(np.diff(ETA_EDGES)[20:60], 0.087, atol=1e-9)  # 20 barrel towers per side


def test_regions_are_14_by_4_towers_without_hf() -> None:
    central = REGION_OF_IETA[REGION_OF_IETA >= 0]
    assert len(central) == 56
    assert np.bincount(central).tolist() == [4] * 14
    assert (REGION_OF_IETA[:12] == -1).all()
    assert (REGION_OF_IETA[-12:] == -1).all()


def test_tower_index_functions() -> None:
    assert int(tower_ieta(0.01)) == 40
    assert int(tower_ieta(-0.01)) == 39
    assert int(tower_ieta(6.0)) == -1
    assert int(tower_iphi(-0.01)) == 71
    assert int(tower_iphi(2 * math.pi + 0.01)) == 0


# -- response -----------------------------------------------------------------------
def test_photon_deposits_em_energy_in_one_tower() -> None:
    t = towers((40.0, 0.3, 1.0, 22))
    assert len(t) == 1
    assert len(t.dep_em) == 1
    assert int(t.dep_ieta[0]) == int(tower_ieta(0.3))
    assert int(t.dep_iphi[0]) == int(tower_iphi(1.0))
    assert int(t.dep_em[0]) == 40 * 16
    assert int(t.dep_had[0]) == 0


def test_neutrinos_are_invisible_and_soft_charged_particles_curl() -> None:
    t = towers((50.0, 0.0, 1.0, 12), (0.5, 0.2, 1.0, 211), (50.0, 0.2, 1.0, 1000022))
    assert len(t.dep_em) == 0


def test_charged_particles_bend_in_phi_by_charge() -> None:
    t = towers((2.0, 0.0, 1.0, 211), (2.0, 0.0, 1.0, -211), events=[1, 1])
    phis = t.dep_iphi.astype(int)
    bend = math.asin(0.15 * 3.8 * 1.29 / 2.0)
    assert phis[0] == int(tower_iphi(1.0 - bend))
    assert phis[1] == int(tower_iphi(1.0 + bend))


def test_muons_are_sources_with_efficiency_and_leave_a_mip() -> None:
    t = towers((30.0, 1.0, 2.0, 13), (30.0, 2.6, 2.0, 13), events=[1, 1])
    assert t.mu_off.tolist() == [0, 1, 1]  # |η| = 2.6 is outside the muon system
    assert t.mu_prob[0] == pytest.approx(EXACT.muon_efficiency)
    assert int(t.dep_had[0]) == round(EXACT.muon_mip_had / math.cosh(1.0) * 16) or int(t.dep_had[0]) > 0


def test_decays_in_flight_give_kaon_muon_sources() -> None:
    kaons = [(8.0, 0.5, 1.0, 321)] * 20
    t = towers(*kaons, events=[1] * 20)
    assert 10 <= len(t.mu_pt) <= 20
    assert (t.mu_prob < 0.05).all()
    assert (t.mu_pt <= 8.0).all()
    assert (np.diff(t.mu_off) <= 1).all()
    off = towers(*kaons, config=replace(EXACT, decays_in_flight=False), events=[1] * 20)
    assert len(off.mu_pt) == 0


def test_response_is_seeded_and_deterministic() -> None:
    parts = [(5.0 + i, 0.1 * i, 0.3 * i, 211) for i in range(20)]
    a = compute_towers(**particles(*parts), config=L1SimConfig(), seed=4)
    b = compute_towers(**particles(*parts), config=L1SimConfig(), seed=4)
    np.testing.assert_array_equal(a.dep_had, b.dep_had)


def test_concat_tower_pools_shifts_offsets() -> None:
    a = towers((40.0, 0.3, 1.0, 22))
    b = towers((40.0, 0.3, 1.0, 22), (30.0, 1.0, 2.0, 13), events=[1, 1])
    c = concat_tower_pools([a, b])
    assert len(c) == 3
    assert c.dep_off.tolist() == [0, 1, 2, 3]
    assert c.mu_off.tolist() == [0, 0, 0, 1]


# -- objects ------------------------------------------------------------------------
def test_isolated_electron_becomes_isolated_egamma_in_hw_units() -> None:
    cols = emulate(towers((40.0, 0.3, 1.0, 22)), [[0]])
    assert cols["eg_pt"][0, 0] == 80
    assert cols["eg_pt"][0, 1] == 0
    assert cols["eg_eta"][0, 0] == TOWER_HW_ETA[int(tower_ieta(0.3))]
    assert cols["eg_phi"][0, 0] == 2 * int(tower_iphi(1.0)) + 1
    assert cols["eg_iso"][0, 0] == 3
    assert cols["eg_qual"][0, 0] == 1
    assert cols["tau_pt"][0, 0] == 80
    assert cols["jet_pt"][0, 0] == 80


def test_hadronic_deposit_fails_h_over_e_and_activity_spoils_isolation() -> None:
    pool = towers((40.0, 0.3, 1.0, 22), (40.0, 0.3, 1.0, 211), (15.0, 0.45, 1.25, 211), events=[1, 1, 1])
    hadronic = emulate(pool, [[1]])
    assert hadronic["eg_pt"][0, 0] == 0
    busy = emulate(pool, [[0, 2]])
    assert busy["eg_pt"][0, 0] == 80
    assert busy["eg_iso"][0, 0] == 0


def test_egamma_only_within_eta_2p5() -> None:
    cols = emulate(towers((40.0, 2.8, 1.0, 22)), [[0]])
    assert cols["eg_pt"][0, 0] == 0
    assert cols["jet_pt"][0, 0] == 80


def test_jet_window_sums_9x9_and_plateau_gives_one_jet() -> None:
    pool = towers((30.0, 0.1, 1.0, 130), (30.0, 0.1, 1.0 + 2 * math.pi / 72, 130),
                  (20.0, 0.1 + 0.087 * 4, 1.0, 130))
    cols = emulate(pool, [[0]], config=replace(EXACT, jet_pus=False))
    assert (cols["jet_pt"][0] > 0).sum() == 1
    assert cols["jet_pt"][0, 0] == 160


def test_jet_pileup_subtraction_removes_uniform_background() -> None:
    soft = [(1.5, (k + 0.5) * 0.087, (j + 0.5) * 2 * math.pi / 72, 22)  # 3 hw in every barrel tower
            for k in range(-15, 15) for j in range(72)]
    pool = towers((100.0, 0.1, 1.0, 130), *soft, events=[1, len(soft)])
    raw = emulate(pool, [[0, 1]], config=replace(EXACT, jet_pus=False))["jet_pt"][0, 0]
    sub = emulate(pool, [[0, 1]])["jet_pt"][0, 0]
    assert raw == 200 + 81 * 3
    assert sub == 200


def test_jets_are_pt_ordered_and_at_most_12() -> None:
    parts = [(10.0 + 5 * i, -4.0 + 0.6 * i, 0.5 * i, 130) for i in range(14)]
    pt = emulate(towers(*parts), [[0]])["jet_pt"][0]
    assert (np.diff(pt.astype(int)) <= 0).all()
    assert (pt > 0).sum() == 12


def test_energy_sums_and_regions() -> None:
    pool = towers((50.0, 0.1, 0.02, 22), (20.0, 4.0, 0.02, 130), events=[2])
    cols = emulate(pool, [[0]])
    assert cols["ett"][0] == 100  # HF excluded
    assert cols["etm"][0] == pytest.approx(100, abs=1)
    assert cols["etm_phi"][0] == 73
    assert cols["etmhf"][0] == pytest.approx(140, abs=1)
    r = cols["regions"][0]
    assert r.sum() == 100
    assert r[0, int(REGION_OF_IETA[int(tower_ieta(0.1))])] == 100
    assert cols["htt"][0] == 100
    assert cols["htm"][0] == pytest.approx(100, abs=1)


def test_rotation_and_reflection_are_exact_on_the_grid() -> None:
    pool = towers((40.0, 0.3, 1.0, 22))
    base = emulate(pool, [[0]])
    moved = emulate(pool, [[0]], rot=10, flip=True)
    assert moved["eg_pt"][0, 0] == base["eg_pt"][0, 0]
    assert moved["eg_eta"][0, 0] == -base["eg_eta"][0, 0]
    assert moved["eg_phi"][0, 0] == base["eg_phi"][0, 0] + 20


def test_muon_l1_candidate_units_and_charge() -> None:
    pool = towers((30.0, 1.0, 2.0, 13), config=replace(EXACT, muon_efficiency=1.0))
    cols = emulate(pool, [[0]] * 200, config=replace(EXACT, muon_efficiency=1.0))
    pt = cols["mu_pt"][:, 0].astype(float) * 0.5
    assert (cols["mu_pt"][:, 1] == 0).all()
    assert (pt > 0).all()
    assert 25 < np.median(pt) < 35
    assert np.std(1 / pt) * 30 == pytest.approx(0.18, rel=0.4)
    assert (cols["mu_eta"][:, 0] == round(1.0 / MU_ETA_LSB)).all()
    assert (cols["mu_phi"][:, 0] == math.floor(2.0 / (2 * math.pi) * 576)).all()
    assert (np.mean(cols["mu_charge"][:, 0] == -1)) > 0.9
    assert set(np.unique(cols["mu_qual"][:, 0])) <= {4, 12}  # |η| = 1: OMTF qualities


def test_in_crossing_randomness_depends_on_crossing_number_not_batch() -> None:
    pool = towers((30.0, 1.0, 2.0, 13))
    emu = CrossingEmulator(pool, config=EXACT, seed=9)
    args = {"draw_idx": np.zeros(10, np.int64), "draw_rot": np.zeros(10, np.int64),
            "draw_flip": np.zeros(10, np.bool_)}
    whole = emu.emulate(draw_counts=np.ones(10, np.int64), **args)["mu_pt"]
    tail = emu.emulate(draw_counts=np.ones(4, np.int64), first_gid=6,
                       **{k: v[:4] for k, v in args.items()})["mu_pt"]
    np.testing.assert_array_equal(whole[6:], tail)


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ConfigError, match="jet_seed_hw"):
        L1SimConfig(jet_seed_hw=0)
    with pytest.raises(ConfigError, match="em_constant"):
        L1SimConfig(em_constant=-1.0)
    assert L1SimConfig().response_key() != L1SimConfig(b_field_t=2.0).response_key()
    assert L1SimConfig().response_key() == L1SimConfig(jet_seed_hw=9).response_key()
