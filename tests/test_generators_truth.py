"""Generator-level truth (``gen_*`` columns): definitions, cache, premixing and ``l1emu generate``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import streams.generators.pool as pool_mod
import streams.generators.truth as truth_mod
from l1emu.cli import main
from streams.errors import ConfigError
from streams.generators import PremixConfig, PremixSource, SampleSpec, build_source, pool_towers
from streams.generators._pythia import GeneratedParticles
from streams.generators.pool import ParticlePool, PoolSettings
from streams.generators.truth import GEN_COLUMNS, compute_truth, concat_truth, load_truth, truth_filename
from streams.generators.validation import leading_jet_pt, leading_muon_pt
from streams.hdf5 import HDF5Source
from streams.l1sim import L1SimConfig
from streams.l1sim.response import TowerPool
from tests.test_generators import fake_generated

Particle = tuple[int, float, float, float]  # pid, pt, eta, phi


def make_pool(events: Sequence[Sequence[Particle]], process: str = "ttbar") -> ParticlePool:
    """A pool holding exactly the given particles."""
    flat = [p for ev in events for p in ev]
    pid = np.array([p[0] for p in flat], np.int32)
    pt, eta, phi = (np.array([p[k] for p in flat], np.float32) for k in (1, 2, 3))
    charge = np.where(np.isin(np.abs(pid), [11, 13]), -np.sign(pid), np.sign(pid) * (np.abs(pid) == 211))
    return ParticlePool(
        PoolSettings(process, events=len(events)), np.concatenate([[0], np.cumsum([len(e) for e in events])]),
        pt=pt, eta=eta, phi=phi, e=(pt * np.cosh(eta)).astype(np.float32), pid=pid, charge=charge.astype(np.int8),
    )


def test_leptons_take_the_hardest_in_acceptance() -> None:
    t = compute_truth(make_pool([
        [(13, 30.0, 2.0, 0.1), (-13, 50.0, 2.6, 1.0), (11, 20.0, 2.4, 2.0), (-11, 45.0, 2.7, 0.0)],
        [(-13, 12.0, -1.0, 0.0), (13, 18.0, 0.3, 1.0), (-11, 33.0, -2.2, 0.0), (22, 60.0, 0.0, 2.0)],
        [],
    ]))  # fmt: skip
    assert t["gen_mu_pt"].tolist() == [30.0, 18.0, 0.0]
    assert t["gen_ele_pt"].tolist() == [20.0, 33.0, 0.0]  # photons are not electrons


def test_met_is_the_vector_sum_of_invisibles_and_ett_of_central_visibles() -> None:
    t = compute_truth(make_pool([
        [(12, 30.0, 0.0, 0.0), (-14, 40.0, 6.5, np.pi / 2), (211, 10.0, 2.9, 0.0), (211, 7.0, 3.5, 0.0)],
        [(16, 25.0, 1.0, 0.0), (-16, 25.0, -1.0, np.pi), (1000022, 80.0, 0.0, 1.0)],
    ]))  # fmt: skip
    assert t["gen_met"] == pytest.approx([50.0, 80.0], abs=1e-3)  # neutrinos at any η, BSM invisible
    assert t["gen_ett"] == pytest.approx([10.0, 0.0])  # |η| < 3, invisibles excluded


def test_tau_is_the_pools_leading_visible_tau_in_acceptance() -> None:
    pool = make_pool([[(211, 30.0, 0.0, 0.0)], [(211, 30.0, 0.0, 0.0)], [(211, 30.0, 0.0, 0.0)]], "htautau")
    pool = replace(pool, tau_vis=np.array([[42.0, 1.0, 0.3], [55.0, 2.6, 0.0], [0.0, 0.0, 0.0]], np.float32))
    assert compute_truth(pool)["gen_tau_pt"].tolist() == [42.0, 0.0, 0.0]  # |η| < 2.5; no τ_h: 0


def test_jets_ht_mht() -> None:
    t = compute_truth(make_pool([
        [(211, 100.0, 0.0, 0.0)],
        [(211, 50.0, 0.5, 0.0), (-211, 50.0, 0.5, np.pi), (211, 25.0, -1.0, 1.5)],
        [(211, 80.0, 3.5, 0.0), (130, 40.0, 2.0, 0.0)],
        [(211, 100.0, 4.9, 0.0), (12, 200.0, 0.0, 0.0)],
        [(211, 3.0, 0.0, 0.0)],
    ]))  # fmt: skip
    assert t["gen_jet_pt"] == pytest.approx([100.0, 50.0, 80.0, 0.0, 0.0], rel=1e-5)  # |η| < 4.7, pT > 5
    assert not t["gen_tau_pt"].any()  # no τ record in these events
    assert t["gen_ht"] == pytest.approx([100.0, 100.0, 40.0, 0.0, 0.0], rel=1e-5)  # > 30 GeV, |η| < 2.4
    assert t["gen_mht"] == pytest.approx([100.0, 0.0, 40.0, 0.0, 0.0], abs=1e-3)
    assert t["gen_jet_pt"][3] == 0.0
    assert t["gen_met"][3] == pytest.approx(200.0)


def test_two_close_particles_make_one_jet() -> None:
    t = compute_truth(make_pool([[(211, 60.0, 0.0, 0.0), (22, 40.0, 0.1, 0.1)]]))
    assert t["gen_jet_pt"][0] == pytest.approx(100.0, rel=5e-3)  # vector sum, Δφ = 0.1


def test_columns_are_float32_per_event_and_match_the_per_event_references() -> None:
    gen = fake_generated(60, seed=3)
    pool = ParticlePool(PoolSettings("ttbar", events=60), gen.offsets, gen.pt * 6, gen.eta, gen.phi, gen.e * 6,
                        np.where(np.arange(len(gen.pid)) % 7 == 0, 13, gen.pid), gen.charge)  # fmt: skip
    t = compute_truth(pool)
    assert set(t) == set(GEN_COLUMNS)
    assert all(a.dtype == np.float32 and a.shape == (60,) for a in t.values())
    assert t["gen_jet_pt"] == pytest.approx(leading_jet_pt(pool), rel=1e-5)  # fastjet, one event at a time
    assert t["gen_mu_pt"] == pytest.approx(leading_muon_pt(pool))
    assert (t["gen_jet_pt"] > 0).mean() > 0.5
    assert np.all(t["gen_ht"] >= t["gen_mht"] - 1e-3)


def test_concat_truth_keeps_order() -> None:
    a = compute_truth(make_pool([[(13, 10.0, 0.0, 0.0)]]))
    b = compute_truth(make_pool([[(13, 20.0, 0.0, 0.0)], []]))
    assert concat_truth([a, b])["gen_mu_pt"].tolist() == [10.0, 20.0, 0.0]


# -- cache ---------------------------------------------------------------------------
def test_truth_is_cached_next_to_the_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pool = make_pool([[(13, 25.0, 0.0, 0.0)], [(11, 35.0, 1.0, 0.0)]])
    first = load_truth(pool, cache_dir=tmp_path)
    path = tmp_path / truth_filename(pool)
    assert path.is_file()
    assert path.name.startswith("truth-ttbar-2-")

    def fail(_: ParticlePool) -> None:
        msg = "recomputed"
        raise AssertionError(msg)

    monkeypatch.setattr(truth_mod, "compute_truth", fail)
    again = load_truth(pool, cache_dir=tmp_path)
    assert {c: a.tolist() for c, a in again.items()} == {c: a.tolist() for c, a in first.items()}


def test_stale_or_corrupt_truth_cache_is_recomputed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pool = make_pool([[(13, 25.0, 0.0, 0.0)]])
    path = tmp_path / truth_filename(pool)
    path.write_bytes(b"not a zip")
    assert load_truth(pool, cache_dir=tmp_path)["gen_mu_pt"].tolist() == [25.0]
    assert "unreadable truth cache" in caplog.text
    other = make_pool([[(13, 99.0, 0.0, 0.0)]])
    truth_mod._write(path, "another-key", compute_truth(other))
    assert load_truth(pool, cache_dir=tmp_path)["gen_mu_pt"].tolist() == [25.0]
    assert "made for pool key 'another-key'" in caplog.text


# -- premixing -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def towers() -> tuple[TowerPool, TowerPool]:
    l1 = L1SimConfig()
    mb = fake_generated(20, seed=1)
    mb_pool = ParticlePool(PoolSettings(events=20), mb.offsets, mb.pt, mb.eta, mb.phi, mb.e, mb.pid, mb.charge)
    hard = make_pool([[(13, 10.0 * (i + 1), 0.0, 0.0)] for i in range(3)])
    return pool_towers(mb_pool, l1, seed=1), pool_towers(hard, l1, seed=2)


def test_premix_attaches_the_hard_event_columns(towers: tuple[TowerPool, TowerPool]) -> None:
    pileup, hard = towers
    cols = {"gen_mu_pt": np.array([10, 20, 30], np.float32)}
    src = PremixSource(pileup, config=PremixConfig(mu=2, events=7, seed=1), hard=hard, hard_columns=cols)
    b = src.batch_at(2, 5)
    assert b["gen_mu_pt"].dtype == np.float32
    assert b["gen_mu_pt"].tolist() == [30, 10, 20, 30, 10]  # crossing i: hard event i mod 3


@pytest.mark.parametrize(("cols", "hard", "match"), [
    ({"gen_mu_pt": np.zeros(2, np.float32)}, True, "one value per 3"),
    ({"jet_pt": np.zeros(3, np.float32)}, True, "base column"),
    ({"gen mu": np.zeros(3, np.float32)}, True, "does not match"),
    ({"gen_mu_pt": np.zeros(3, np.float32)}, False, "without a hard-scatter pool"),
], ids=["length", "base-name", "bad-name", "no-hard"])  # fmt: skip
def test_premix_rejects_bad_hard_columns(towers: tuple[TowerPool, TowerPool], cols: dict[str, np.ndarray],
                                         hard: bool, match: str) -> None:
    pileup, hard_pool = towers
    with pytest.raises(ConfigError, match=match):
        PremixSource(pileup, config=PremixConfig(mu=1, events=3), hard=hard_pool if hard else None,
                     hard_columns=cols)


# -- samples and ``l1emu generate`` --------------------------------------------------
def fake_w(n: int, seed: int) -> GeneratedParticles:
    """W → μν / eν-like events: one charged lepton, its neutrino and some soft pions."""
    rng = np.random.default_rng(seed)
    events: list[list[Particle]] = []
    for _ in range(n):
        pt, phi = float(rng.uniform(15, 100)), float(rng.uniform(-3, 3))
        lepton = 13 if rng.random() < 0.7 else 11
        ev = [(lepton, pt, float(rng.uniform(-2.3, 2.3)), phi), (-lepton - 1, pt, float(rng.normal(0, 2)), -phi)]
        ev += [(211, float(rng.exponential(2) + 0.5), float(rng.uniform(-4, 4)), float(rng.uniform(-3, 3)))
               for _ in range(int(rng.integers(0, 10)))]
        events.append(ev)
    pool = make_pool(events)
    return GeneratedParticles(pool.offsets.astype(np.int64), pool.pt, pool.eta, pool.phi, pool.e, pool.pid,
                              pool.charge, sigma_mb=1e-5, sigma_err_mb=1e-7)


@pytest.fixture
def fake_pythia(monkeypatch: pytest.MonkeyPatch) -> None:
    def run(lines: tuple[str, ...], n: int, **_: object) -> GeneratedParticles:
        is_w = "WeakSingleBoson:ffbar2W = on" in lines
        return fake_w(n, seed=5) if is_w else fake_generated(n, seed=1)

    monkeypatch.setattr(pool_mod, "run_pythia", run)

    monkeypatch.setenv("L1EMU_POOL_JOBS", "1")  # the fake lives in this process


@pytest.mark.usefixtures("fake_pythia")
def test_minbias_samples_have_no_gen_columns(tmp_path: Path) -> None:
    src, prov = build_source(SampleSpec(process="minbias", mu=5, events=10, pool_events=30, stitch=False),
                             cache_dir=tmp_path, progress=False)  # fmt: skip
    assert not any(c.startswith("gen_") for c in src.batch_at(0, 10).columns)
    assert prov["gen_columns"] == {}
    assert not list(tmp_path.glob("truth-*"))


@pytest.mark.usefixtures("fake_pythia")
def test_generate_wlnu_writes_gen_columns_that_follow_the_l1_muon(tmp_path: Path) -> None:
    out = tmp_path / "w.h5"
    rc = main(["generate", "--process", "wlnu", "--pileup", "0", "--events", "500", "--pool-events", "30",
               "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--no-progress"])  # fmt: skip
    assert rc == 0
    src = HDF5Source(out)
    b = next(src.batches(500))
    assert set(GEN_COLUMNS) <= set(b.columns)
    assert all(b[c].dtype == np.float32 for c in GEN_COLUMNS)
    assert src.provenance["gen_columns"]["definitions"]["gen_mu_pt"].startswith("leading final-state muon")
    gen, l1 = b["gen_mu_pt"], b["mu_pt"][:, 0] * 0.5
    both = (gen > 0) & (l1 > 0)
    assert both.sum() > 250  # 70 % muons, 95 % efficient
    # the track finders' pT scale: 90 % efficiency at threshold, 1 + 1.28 σ with σ = 12-22 % by region
    assert 1.12 < np.median(l1[both] / gen[both]) < 1.30
    assert np.corrcoef(gen[both], l1[both])[0, 1] > 0.75  # 12-22 % resolution on 15-100 GeV
    assert np.corrcoef(1 / gen[both], 1 / l1[both])[0, 1] > 0.9  # the resolution is Gaussian in 1/pT
    assert (l1[gen == 0] > 0).mean() < 0.05  # electron events: no muon (but π/K decays in flight)
    assert np.all((gen > 0) ^ (b["gen_ele_pt"] > 0))
    assert b["gen_met"] == pytest.approx(np.maximum(gen, b["gen_ele_pt"]), rel=1e-4)  # ν balances the lepton


@pytest.mark.pythia
def test_generate_wlnu_with_pythia(tmp_path: Path) -> None:
    out = tmp_path / "w.h5"
    rc = main(["generate", "--process", "wlnu", "--pileup", "0", "--events", "500", "--pool-events", "20",
               "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--no-progress"])  # fmt: skip
    assert rc == 0
    b = next(HDF5Source(out).batches(500))
    gen, l1 = b["gen_mu_pt"], b["mu_pt"][:, 0] * 0.5
    both = (gen > 20) & (l1 > 0)
    assert both.sum() > 100  # about half of the W decay to μν
    assert 1.1 < np.median(l1[both] / gen[both]) < 1.32  # scaled to 90 % efficiency at threshold
    assert np.corrcoef(gen[both], l1[both])[0, 1] > 0.6
    assert np.median(b["gen_met"][gen > 20]) > 20  # the neutrino of the W
    assert (b["gen_jet_pt"] > 0).mean() > 0.5


def test_visible_tau_skips_copies_and_leptonic_decays_and_keeps_the_leading_hadronic_one() -> None:
    from streams.generators._taus import leading_visible_tau

    # event 0: τ⁻ (1) → τ⁻ copy (2) → ν_τ π⁻ (3, 4); τ⁺ (5) → ν̄_τ e⁺ ν_e (6, 7, 8): only the π⁻ is visible
    # event 1: τ⁻ → ν_τ π⁻ π⁰ (20 + 15 GeV) at |η| = 3 (outside 2.5) and τ⁺ → ν̄_τ π⁺ (25 GeV): the π⁺
    pid = [90, 15, 15, 16, -211, -15, -16, -11, 12,   90, 15, 16, -211, 111, -15, -16, 211]
    d1 = [0, 2, 3, 0, 0, 6, 0, 0, 0,                   0, 2, 0, 0, 0, 6, 0, 0]
    d2 = [0, 0, 4, 0, 0, 8, 0, 0, 0,                   0, 4, 0, 0, 0, 7, 0, 0]
    sh = np.sinh(3.0)
    px = [0, 40, 40, 10, 30, 70, 10, 50, 10,           0, 45, 10, 20, 15, 30, 5, 25]
    pz = [0, 0, 0, 0, 0, 0, 0, 0, 0,                   0, 45 * sh, 10 * sh, 20 * sh, 15 * sh, 0, 0, 0]
    out = leading_visible_tau(np.array([9, 8]), np.array(pid), np.array(d1), np.array(d2),
                              np.array(px, float), np.zeros(17), np.array(pz, float), 2.5)
    assert out[:, 0].tolist() == [30.0, 25.0]
    assert out[1, 1] == 0.0
