"""Pools (cache, keys), processes, premixing and physics validation of generated events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import streams.generators.pool as pool_mod
from streams.errors import ConfigError, SourceError
from streams.event import EventBatch
from streams.filling import STANDARD
from streams.generators import (
    PROCESSES,
    PoolSettings,
    PremixConfig,
    PremixSource,
    SampleSpec,
    build_source,
    draw_crossings,
    get_process,
    load_pool,
    pool_towers,
)
from streams.generators._pythia import GeneratedParticles
from streams.generators.validation import CMS_DNDETA_13TEV, dndeta_central, lumi_from_mu, mu_from_lumi
from streams.l1sim import L1SimConfig, compute_towers
from streams.sources.base import Source


def fake_generated(n: int, seed: int = 0, lines: Sequence[str] = ("SoftQCD:inelastic = on",)) -> GeneratedParticles:
    """n events of 0…30 random particles (charged pions and photons).

    σ is 79 mb for minimum-bias settings, else 10 µb (a hard pool of a stitched sample).
    """
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 30, n)
    m = int(counts.sum())
    pid = rng.choice(np.array([211, -211, 22, 130], np.int32), m)
    pt = rng.exponential(2.0, m).astype(np.float32) + 0.8
    eta = rng.uniform(-5, 5, m).astype(np.float32)
    return GeneratedParticles(
        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64), pt=pt, eta=eta,
        phi=rng.uniform(-np.pi, np.pi, m).astype(np.float32), e=(pt * np.cosh(eta)).astype(np.float32),
        pid=pid, charge=np.sign(pid * (np.abs(pid) == 211)).astype(np.int8),
        sigma_mb=79.0 if any(line.startswith("SoftQCD") for line in lines) else 0.01, sigma_err_mb=0.1,
        pthat=rng.exponential(4.0, n).astype(np.float32),
    )


@pytest.fixture
def fake_pythia(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Replace Pythia by fake_generated; returns the list of requested event counts."""
    calls: list[int] = []

    def run(lines: tuple[str, ...], n: int, **_: object) -> GeneratedParticles:
        calls.append(n)
        return fake_generated(n, seed=len(calls), lines=lines)

    monkeypatch.setattr(pool_mod, "run_pythia", run)

    monkeypatch.setenv("L1EMU_POOL_JOBS", "1")  # the fake lives in this process
    return calls


# -- processes ----------------------------------------------------------------------
def test_every_issue_process_is_defined() -> None:
    for name in ("minbias", "ttbar", "zll", "wlnu", "qcd", "htautau", "hh4b", "a4l", "lq_btau",
                 "h0_tautau", "hpm_taunu"):
        assert get_process(name).settings
    assert PROCESSES["minbias"].pileup_only
    assert not PROCESSES["ttbar"].pileup_only
    assert all(lo < hi or hi == -1 for lo, hi in PROCESSES["qcd"].bins)


def test_unknown_process_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match="known: minbias"):
        get_process("susy")


# -- pool settings and cache ----------------------------------------------------------
def test_pool_key_changes_with_settings_seed_and_events() -> None:
    base = PoolSettings(events=100, seed=1)
    keys = {base.key(), replace(base, seed=2).key(), replace(base, events=101).key(),
            replace(base, ecm_gev=13000.0).key(), replace(base, extra=("Tune:pp = 5",)).key()}
    assert len(keys) == 5
    assert base.key() == PoolSettings(events=100, seed=1).key()
    assert "Random:seed = 1" in base.pythia_lines()
    assert "SoftQCD:inelastic = on" in base.pythia_lines()
    assert "ParticleDecays:tau0Max = 10." in base.pythia_lines()


def test_pool_settings_validate() -> None:
    with pytest.raises(ConfigError, match="seed"):
        PoolSettings(seed=10**10)
    with pytest.raises(ConfigError, match="events"):
        PoolSettings(events=0)


def test_pool_is_cached_and_regenerated_when_settings_change(tmp_path: Path, fake_pythia: list[int]) -> None:
    s = PoolSettings(events=50, seed=3)
    a = load_pool(s, cache_dir=tmp_path, progress=False)
    b = load_pool(s, cache_dir=tmp_path, progress=False)
    assert fake_pythia == [50]
    assert len(b) == 50
    np.testing.assert_array_equal(a.pt, b.pt)
    assert b.sigma_mb == pytest.approx(79.0)
    load_pool(replace(s, seed=4), cache_dir=tmp_path, progress=False)
    assert fake_pythia == [50, 50]
    assert len(list(tmp_path.glob("pool-*.npz"))) == 2


def test_corrupt_or_foreign_cache_is_regenerated(tmp_path: Path, fake_pythia: list[int]) -> None:
    s = PoolSettings(events=20, seed=3)
    path = tmp_path / s.filename()
    path.write_bytes(b"PK\x03\x04 truncated")
    load_pool(s, cache_dir=tmp_path, progress=False)
    assert fake_pythia == [20]
    with pytest.raises(SourceError, match="does not match"):
        pool_mod.ParticlePool.read(path, replace(s, seed=9))
    assert len(load_pool(s, cache_dir=tmp_path, progress=False)) == 20
    assert fake_pythia == [20]


def test_cache_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("L1EMU_CACHE", str(tmp_path))
    assert pool_mod.default_cache_dir() == tmp_path


# -- premixing ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def towers() -> object:
    gen = fake_generated(300)
    pool = pool_mod.ParticlePool.from_generated(PoolSettings(events=300), gen)
    return pool_towers(pool, L1SimConfig(), seed=1)


def test_draws_are_poisson_and_independent_of_batching() -> None:
    cfg = PremixConfig(mu=60, events=5000, seed=4)
    whole = draw_crossings(cfg, 0, 3000, 1000)
    assert whole.counts.mean() == pytest.approx(60, abs=0.6)
    assert whole.counts.var() == pytest.approx(60, rel=0.1)
    part = draw_crossings(cfg, 1000, 1100, 1000)
    np.testing.assert_array_equal(part.counts, whole.counts[1000:2100])
    start = int(whole.counts[:1000].sum())
    np.testing.assert_array_equal(part.idx, whole.idx[start:start + len(part.idx)])
    assert whole.rot.min() >= 0
    assert whole.rot.max() == 71
    assert 0.45 < whole.flip.mean() < 0.55
    fixed = draw_crossings(replace(cfg, poisson=False, rotate=False, reflect=False), 0, 10, 1000)
    assert (fixed.counts == 60).all()
    assert not fixed.rot.any()
    assert not fixed.flip.any()


def test_premix_source_is_a_source_independent_of_batch_size(towers: object) -> None:
    src = PremixSource(towers, config=PremixConfig(mu=20, events=300, seed=2))  # type: ignore[arg-type]
    assert isinstance(src, Source)
    assert len(src) == 300
    a = EventBatch.concat(list(src.batches(64)))
    b = EventBatch.concat(list(src.batches(300)))
    for name in a.columns:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert [x.meta.first for x in src.batches(128)] == [0, 128, 256]
    assert a["pileup"].mean() == pytest.approx(20, abs=1.5)
    assert (a["event"] == np.arange(1, 301)).all()


def test_pileup_raises_activity(towers: object) -> None:
    def ett(mu: float) -> float:
        src = PremixSource(towers, config=PremixConfig(mu=mu, events=200, seed=2))  # type: ignore[arg-type]
        return float(next(src.batches(200))["ett"].mean())

    assert ett(0) == 0
    assert 2.5 < ett(60) / ett(20) < 3.5


def test_hard_scatter_and_weights(towers: object) -> None:
    w = np.arange(300, dtype=np.float64)
    src = PremixSource(towers, config=PremixConfig(mu=0, events=400, seed=2),  # type: ignore[arg-type]
                       hard=towers, hard_weights=w)  # type: ignore[arg-type]
    b = next(src.batches(400))
    assert b["weight"][5] == 5
    assert b["weight"][305] == 5
    assert (b["pileup"] == 0).all()
    assert (b["ett"] > 0).mean() > 0.5
    with pytest.raises(ConfigError, match="weights"):
        PremixSource(towers, config=PremixConfig(), hard=towers, hard_weights=w[:3])  # type: ignore[arg-type]


def test_premix_config_validates() -> None:
    with pytest.raises(ConfigError, match="mu"):
        PremixConfig(mu=-1)


def test_build_source_with_binned_qcd_weights(tmp_path: Path, fake_pythia: list[int]) -> None:
    spec = SampleSpec(process="qcd", mu=5, events=80, seed=2, pool_events=40)
    src, prov = build_source(spec, cache_dir=tmp_path, progress=False)
    n_bins = len(get_process("qcd").bins)
    assert fake_pythia == [40] + [10] * n_bins
    assert prov["weight_unit"].startswith("pb")
    b = next(src.batches(80))
    assert b["weight"][0] == pytest.approx(0.01 * 1e9 / 10)  # the fake σ of a hard pool, pb per event
    assert prov["spec"]["process"] == "qcd"
    assert len(prov["hard_pools"]) == n_bins


# -- validation helpers -----------------------------------------------------------
def test_mu_luminosity_relation() -> None:
    assert mu_from_lumi(2e34, sigma_mb=79.0) == pytest.approx(55.2, abs=0.05)
    assert lumi_from_mu(mu_from_lumi(1.7e34, sigma_mb=80.0), sigma_mb=80.0) == pytest.approx(1.7e34)


def test_dndeta_counts_charged_particles_per_unit_eta() -> None:
    gen = fake_generated(1)
    gen = replace(gen, offsets=np.array([0, 4]), eta=np.array([0.1, -0.4, 0.2, 2.0], np.float32),
                  charge=np.array([1, -1, 0, 1], np.int8), pt=gen.pt[:4], phi=gen.phi[:4], e=gen.e[:4],
                  pid=np.array([211, -11, 22, 211], np.int32))
    pool = pool_mod.ParticlePool.from_generated(PoolSettings(events=1), gen)
    assert dndeta_central(pool)[0] == pytest.approx(1.0)
    assert dndeta_central(pool, hadrons_only=False)[0] == pytest.approx(2.0)


# -- Pythia (real generator, small samples) -----------------------------------------
@pytest.fixture(scope="module")
def minbias(tmp_path_factory: pytest.TempPathFactory) -> pool_mod.ParticlePool:
    # 13 TeV, to compare with the CMS 13 TeV measurement
    return load_pool(PoolSettings(events=3000, seed=11, ecm_gev=13000.0),
                     cache_dir=tmp_path_factory.mktemp("pool"), progress=False)


@pytest.mark.pythia
def test_pythia_minbias_dndeta_matches_cms_within_10_percent(minbias: pool_mod.ParticlePool) -> None:
    value, err = dndeta_central(minbias)
    assert err < 0.16
    assert abs(value / CMS_DNDETA_13TEV[0] - 1) < 0.10, f"dN/deta = {value:.2f} +- {err:.2f}"


@pytest.mark.pythia
def test_pythia_sigma_inel_and_particle_content(minbias: pool_mod.ParticlePool) -> None:
    assert 75.0 < minbias.sigma_mb < 81.0  # Pythia: 78.0 mb at 13 TeV
    assert 100 < minbias.n_particles / len(minbias) < 250
    assert np.isin(np.abs(minbias.pid), [310, 3122]).any()  # K0S and Λ stay undecayed (cτ > 10 mm)
    assert set(np.unique(minbias.charge)) <= {-2, -1, 0, 1, 2}


@pytest.mark.pythia
def test_pythia_hard_process_pool(tmp_path: Path) -> None:
    pool = load_pool(PoolSettings(process="zll", events=30, seed=5), cache_dir=tmp_path, progress=False)
    leptons = np.isin(np.abs(pool.pid), [11, 13]) & (pool.pt > 20)
    per_event = np.bincount(pool.event_index()[leptons], minlength=len(pool))
    assert (per_event >= 1).mean() > 0.8
    assert pool.sigma_mb > 0


def test_premix_shards_split_batches(towers: object) -> None:
    src = PremixSource(towers, config=PremixConfig(mu=5, events=250, seed=2))  # type: ignore[arg-type]
    firsts = [[b.meta.first for b in src.batches(50, shard=(i, 2))] for i in range(2)]
    assert firsts == [[0, 100, 200], [50, 150]]
    whole = EventBatch.concat(list(src.batches(50)))
    odd = next(src.batches(50, shard=(1, 2)))
    np.testing.assert_array_equal(odd["jet_pt"], whole["jet_pt"][50:100])


def test_neighbour_crossings_muons_are_independent_crossings_where_the_fill_collides() -> None:
    k = 40  # pool events, each one μ⁻ of 5-44 GeV
    pt = np.linspace(5.0, 44.0, k).astype(np.float32)
    pool = compute_towers(
        offsets=np.arange(k + 1), pt=pt, eta=np.full(k, 0.5, np.float32), phi=np.full(k, 1.0, np.float32),
        e=pt * np.float32(np.cosh(0.5)), pid=np.full(k, 13, np.int32), charge=np.full(k, -1, np.int8),
        config=L1SimConfig(), seed=1)
    cfg = PremixConfig(mu=1, events=3000, seed=3, poisson=False, neighbour_muons=(-1,))
    with_prev = PremixSource(pool, config=cfg)
    a = EventBatch.concat(list(with_prev.batches(3000)))
    b = EventBatch.concat(list(with_prev.batches(700)))
    central = EventBatch.concat(list(PremixSource(pool, config=replace(cfg, neighbour_muons=())).batches(3000)))
    for name in central.columns:  # the central crossings do not change
        np.testing.assert_array_equal(a[name], central[name], err_msg=name)
    for name in ("bxm1_mu_pt", "bxm1_mu_tfindex", "bxm1_mu_upt"):
        assert a[name].dtype == a[name[5:]].dtype
        np.testing.assert_array_equal(a[name], b[name])
    first = STANDARD.signal("EXT_BPTX_FirstCollisionInTrain_VME")[a["bx"].astype(np.int64) - 1]
    assert 50 < first.sum() < 80  # 3000 crossings over trains of 48
    assert not a["bxm1_mu_pt"][first].any()  # the slot before a train is empty: no muons
    prev = a["bxm1_mu_pt"][~first, 0]
    assert (prev > 0).mean() > 0.9
    assert (prev == a["mu_pt"][~first, 0]).mean() < 0.2  # another crossing, not a copy
    with pytest.raises(ConfigError, match="neighbour_muons"):
        PremixConfig(neighbour_muons=(0,))
