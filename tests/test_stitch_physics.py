"""Stitched zero bias against plain minimum bias, with real Pythia pools: the same rates within errors.

Both samples premix the same cached 20 000-event minimum-bias pool at ⟨μ⟩ = 60; the stitched one
replaces its p̂T ≥ 20 GeV events by the weighted hard pools. For thresholds the plain sample can
measure (its rate rests on ≥ 30 independent pool events), the rates must agree: |z| < 3.5 for each
observable, two-sided (a false alarm probability of 5 × 10⁻⁴ per observable), with the
cluster-robust errors that count pool reuse. Where the plain sample rests on a handful of reused
events its own error is not trustworthy (it cannot see the events its pool lacks): those
thresholds are what stitching is for, and the second test shows it measures them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from emulator.rate_reuse import hard_events
from emulator.rates import RateAccumulator
from streams.event import EventBatch
from streams.generators.pool import default_cache_dir
from streams.generators.premix import PremixSource
from streams.generators.sample import SampleSpec, build_source

pytestmark = pytest.mark.pythia

CROSSINGS = 150_000
Z_MAX = 3.5


def _observables(b: EventBatch) -> dict[str, np.ndarray]:
    """Single-object and sum thresholds (hardware units: 0.5 GeV)."""
    return {
        "SingleJet40": b["jet_pt"][:, 0] >= 80,
        "SingleJet60": b["jet_pt"][:, 0] >= 120,
        "SingleJet90": b["jet_pt"][:, 0] >= 180,
        "DoubleJet40": b["jet_pt"][:, 1] >= 80,
        "SingleEG10": b["eg_pt"][:, 0] >= 20,
        "SingleEG15": b["eg_pt"][:, 0] >= 30,
        "SingleEG20": b["eg_pt"][:, 0] >= 40,
        "SingleTau30": b["tau_pt"][:, 0] >= 60,
        "HTT150": b["htt"] >= 300,
        "HTT200": b["htt"] >= 400,
        "ETT600": b["ett"] >= 1200,
        "ETM40": b["etm"] >= 80,
        "ETM50": b["etm"] >= 100,
        "SingleMu3": b["mu_pt"][:, 0] >= 6,
        "SingleMu5": b["mu_pt"][:, 0] >= 10,
    }


def _rates(source: PremixSource) -> dict[str, Any]:
    names = list(_observables(source.batch_at(0, 1)))
    acc = RateAccumulator(names, np.ones(len(names), np.int64), n_bunches=2544, f_rev_hz=11245.613)
    for b in source.batches(16384):
        raw = np.stack(list(_observables(b).values()), axis=1)
        acc.update(raw, b["weight"], b["pileup"], hard_events(b))
    return acc.result()


@pytest.fixture(scope="module")
def samples() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    cache = default_cache_dir()  # the pools every zero-bias sample of the suite draws from (built once)
    stitched, prov = build_source(SampleSpec(mu=60, events=CROSSINGS, seed=1), cache_dir=cache, progress=False)
    plain, _ = build_source(SampleSpec(mu=60, events=CROSSINGS, seed=2, stitch=False), cache_dir=cache,
                            progress=False)  # fmt: skip
    return _rates(stitched), _rates(plain), prov


def test_stitched_and_plain_minimum_bias_agree_within_errors(samples: tuple[dict[str, Any], ...]) -> None:
    stitched, plain, _ = samples
    measurable = [n for n, p in plain["seeds"].items() if p["n_indep"] >= 30]
    assert len(measurable) >= 8, measurable
    for name in measurable:
        s, p = stitched["seeds"][name], plain["seeds"][name]
        z = (s["rate_khz"] - p["rate_khz"]) / np.hypot(s["rate_err_khz"], p["rate_err_khz"])
        why = (f"{name}: stitched {s['rate_khz']:.2f} ± {s['rate_err_khz']:.2f} kHz, "
               f"plain {p['rate_khz']:.2f} ± {p['rate_err_khz']:.2f} kHz (z = {z:.2f})")
        assert abs(z) < Z_MAX, why
    assert stitched["pileup"]["mean"] == pytest.approx(60.0, abs=0.5)  # weighted pileup is Poisson(60)


def test_stitching_measures_high_thresholds_better_than_plain(samples: tuple[dict[str, Any], ...]) -> None:
    """Where the plain sample rests on a few reused pool events, the stitched one has many independent ones."""
    stitched, plain, prov = samples
    for name in ("SingleJet90", "SingleEG20"):
        s, p = stitched["seeds"][name], plain["seeds"][name]
        assert s["n_indep"] > 3 * p["n_indep"], name
        assert s["rate_err_khz"] / s["rate_khz"] < 0.5 * p["rate_err_khz"] / p["rate_khz"], name
    assert plain["seeds"]["SingleJet90"]["reuse"] > 5  # plain premixing reuses its few hard events
    comps = {c["name"]: c for c in prov["stitching"]["components"]}
    assert set(comps) >= {"qcd-20", "qcd-470", "photon-20", "wlnu", "zll"}
    assert prov["stitching"]["sigma_inel_mb"] == pytest.approx(78.6, rel=0.03)
