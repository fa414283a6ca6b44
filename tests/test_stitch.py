"""Stitched zero bias: the proposal's weights reproduce the natural crossing, exactly and statistically."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from streams.errors import ConfigError
from streams.generators.premix import PremixConfig, PremixSource, Stitching
from streams.generators.stitch import HardComponent, StitchPlan, _truncated_poisson
from streams.l1sim.response import TowerPool

# Two QCD-like bins (one common, one rare) and an additive W-like process.
PLAN = StitchPlan(sigma_inel_mb=80.0, pthat_min=20.0, components=(
    HardComponent("qcd-20", 0.8, 300, 0), HardComponent("qcd-170", 1e-4, 50, 300),
    HardComponent("wlnu", 4e-5, 40, 350, in_minbias=False)))  # fmt: skip
Z = 4.5  # every statistical check below is two-sided at 4.5 σ (false alarm < 1e-5 per check)


def _weighted_mean_z(x: np.ndarray, w: np.ndarray, expected: float) -> float:
    """z of the importance-sampling estimate Σ w x / N against its expectation."""
    n = len(w)
    est = (w * x).sum() / n
    return float((est - expected) / (np.std(w * x) / math.sqrt(n)))


def test_weights_reproduce_poisson_hard_counts_and_the_natural_mix() -> None:
    mu = np.full(400_000, 60.0)
    d = PLAN.draw(np.random.default_rng(11), mu)
    f = PLAN.fractions
    lam = 60.0 * f.sum()
    assert abs(_weighted_mean_z(np.ones_like(d.weight), d.weight, 1.0)) < Z  # E_q[w] = 1
    for k in range(4):  # P(h = k) under the weights is Poisson(μF)
        assert abs(_weighted_mean_z((d.counts == k).astype(float), d.weight, stats.poisson.pmf(k, lam))) < Z
    crossing = np.repeat(np.arange(len(mu)), d.counts)
    comp = np.searchsorted([300, 350], d.event, side="right")
    for c in range(3):  # expected interactions of component c per crossing: μ f_c
        per_crossing = np.bincount(crossing[comp == c], minlength=len(mu)).astype(float)
        assert abs(_weighted_mean_z(per_crossing, d.weight, 60.0 * f[c])) < Z
    # and the proposal does over-sample the rare bin: far more than its natural share
    assert (comp == 1).mean() > 100 * f[1] / f.sum()


def test_weights_at_low_pileup_and_zero_pileup() -> None:
    d = PLAN.draw(np.random.default_rng(2), np.full(100_000, 1.0))
    assert (d.counts > 0).mean() == pytest.approx(0.5, abs=0.01)  # h ≥ 1 enriched from 1 % to 50 %
    assert abs(_weighted_mean_z((d.counts > 0).astype(float), d.weight, -math.expm1(-PLAN.fractions.sum()))) < Z
    zero = PLAN.draw(np.random.default_rng(2), np.zeros(100))
    assert (zero.counts == 0).all()
    assert np.allclose(zero.weight, 1.0)
    assert (zero.hard_event == -1).all()


def test_hard_event_is_the_rarest_interaction_of_the_crossing() -> None:
    d = PLAN.draw(np.random.default_rng(5), np.full(50_000, 200.0))
    start = np.concatenate([[0], np.cumsum(d.counts)])
    def f_of(event: np.ndarray) -> np.ndarray:  # σ of the component an event belongs to
        return np.where(event < 300, 0.8, np.where(event < 350, 1e-4, 4e-5))

    for i in np.flatnonzero(d.counts > 1)[:200]:
        events = d.event[start[i]:start[i + 1]]
        assert d.hard_event[i] in events
        assert f_of(events).min() == f_of(np.array([d.hard_event[i]]))[0]
    assert ((d.hard_event >= 0) == (d.counts > 0)).all()


@settings(max_examples=60, deadline=None)
@given(lam=st.floats(1e-4, 30.0))
def test_truncated_poisson_is_poisson_above_zero(lam: float) -> None:
    k = _truncated_poisson(np.random.default_rng(0), np.full(4000, lam))
    assert (k >= 1).all()
    mean = lam / -math.expm1(-lam)  # E[k | k ≥ 1]
    var = (lam + lam**2) / -math.expm1(-lam) - mean**2
    assert abs(k.mean() - mean) < Z * math.sqrt(var / 4000) + 1e-9


def test_bad_plans_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least one"):
        StitchPlan(80.0, 20.0, ())
    with pytest.raises(ConfigError, match="hold"):
        StitchPlan(80.0, 20.0, (HardComponent("qcd", 90.0, 10, 0),))
    with pytest.raises(ConfigError, match="sigma > 0"):
        HardComponent("qcd", 0.0, 10, 0)


def _pool(n: int, seed: int) -> TowerPool:
    """n events of one random tower deposit each (a jet-like blob), no muons."""
    rng = np.random.default_rng(seed)
    z = np.zeros(0, np.float32)
    return TowerPool(np.arange(n + 1, dtype=np.int64), rng.integers(0, 80, n).astype(np.uint8),
                     rng.integers(0, 72, n).astype(np.uint8), rng.integers(0, 800, n).astype(np.uint16),
                     rng.integers(0, 800, n).astype(np.uint16), np.zeros(n + 1, np.int64), z, z, z,
                     np.zeros(0, np.int8), z)  # fmt: skip


def test_stitched_source_is_independent_of_batching_and_sharding() -> None:
    plan = StitchPlan(80.0, 20.0, (HardComponent("qcd-20", 0.8, 300, 0), HardComponent("qcd-170", 1e-4, 50, 300)))
    pool = _pool(400 + 350, 3)  # 400 minimum-bias events (the first 380 soft), then 350 hard
    stitch = Stitching(plan, np.arange(380, dtype=np.int64), hard_offset=400)
    src = PremixSource(pool, config=PremixConfig(mu=40, events=3000, seed=7, mu_profile=(20.0, 60.0)), stitch=stitch)
    whole = src.batch_at(0, 3000)
    parts = [b for i in range(3) for b in src.batches(700, shard=(i, 3))]
    parts.sort(key=lambda b: b.meta.first)
    for name in ("weight", "hard_event", "pileup", "jet_pt", "ett"):
        assert np.array_equal(np.concatenate([b[name] for b in parts]), whole[name]), name
    assert whole["pileup"][:1024].mean() < whole["pileup"][1024:2048].mean()  # the μ profile: 20, then 60
    assert (whole["hard_event"][whole["hard_event"] >= 0] < 350).all()


def test_a_stitched_source_takes_no_separate_hard_scatter_pool() -> None:
    stitch = Stitching(PLAN, np.arange(10, dtype=np.int64), hard_offset=10)
    with pytest.raises(ConfigError, match="stitched"):
        PremixSource(_pool(20, 1), config=PremixConfig(events=5), stitch=stitch)  # 10 + 390 hard > 20 events


def test_a_stitched_source_needs_soft_events() -> None:
    stitch = Stitching(PLAN, np.zeros(0, np.int64), hard_offset=10)
    with pytest.raises(ConfigError, match="no soft minimum-bias events"):
        PremixSource(_pool(400, 1), config=PremixConfig(events=5), stitch=stitch)
