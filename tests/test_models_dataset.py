"""Model inputs: exact power-of-two scalings, region geometry, per-jet features, upstream algorithms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.models.dataset import read_sample, tagger_candidates
from emulator.models.inputs import (
    AXOL1TL_SHIFTS,
    TAGGER_FEATURES,
    axol1tl_inputs,
    cicada_inputs,
    jet_region_index,
    tagger_features,
)
from emulator.models.train import upstream_pipeline
from streams.event import EventBatch
from streams.hdf5 import write_batches
from streams.l1sim.geometry import REGION_OF_IETA, tower_ieta
from streams.schema import CALO_ETA_LSB
from streams.views import axol1tl_features

ROOT = Path(__file__).resolve().parents[1]


def test_axol1tl_inputs_are_exact_shifts(zb_batch: EventBatch) -> None:
    hw = axol1tl_features(zb_batch, units="hw").astype(np.float64)
    x = axol1tl_inputs(zb_batch).astype(np.float64)
    assert np.array_equal(x * 2.0**AXOL1TL_SHIFTS, hw)
    assert AXOL1TL_SHIFTS.shape == (57,)
    assert AXOL1TL_SHIFTS[3] == 4
    assert AXOL1TL_SHIFTS[3 * 5 + 3 + 2] == 7


def test_cicada_inputs_prefer_calibrated_regions(zb_batch: EventBatch) -> None:
    raw = cicada_inputs(zb_batch)
    assert raw.shape == (len(zb_batch), 18, 14, 1)
    assert np.array_equal(raw[..., 0] * 8, zb_batch["regions"].astype(np.float32))
    cal = zb_batch.with_columns(regions_cal=np.full_like(zb_batch["regions"], 16))
    assert np.all(cicada_inputs(cal) == 2.0)


@given(st.integers(-200, 200), st.integers(0, 143))
def test_region_index_follows_tower_geometry(eta_hw: int, phi_hw: int) -> None:
    iphi, ieta = jet_region_index(np.array([eta_hw]), np.array([phi_hw]))
    tower = int(tower_ieta(eta_hw * CALO_ETA_LSB))
    expect_eta = int(REGION_OF_IETA[tower]) if tower >= 0 else -1
    assert int(ieta[0]) == expect_eta
    assert int(iphi[0]) == phi_hw // 8


def _one_jet(pt: int, eta: int, phi: int, tau_dphi: int) -> EventBatch:
    b = EventBatch.empty(1)
    cols = {k: v.copy() for k, v in b.columns.items()}
    cols["jet_pt"][0, 0], cols["jet_eta"][0, 0], cols["jet_phi"][0, 0] = pt, eta, phi
    cols["tau_pt"][0, 0], cols["tau_eta"][0, 0], cols["tau_phi"][0, 0] = pt - 4, eta, (phi + tau_dphi) % 144
    cols["tau_iso"][0, 0] = 3
    iphi, ieta = jet_region_index(np.array([eta]), np.array([phi]))
    if ieta[0] >= 0:
        cols["regions"][0, iphi[0], ieta[0]] = 80
        cols["regions"][0, (iphi[0] + 1) % 18, ieta[0]] = 64
    return EventBatch(cols)


@settings(max_examples=60, deadline=None)
@given(st.integers(40, 400), st.integers(-60, 60), st.integers(0, 143), st.integers(-8, 8))
def test_tagger_features_of_one_jet(pt: int, eta: int, phi: int, tau_dphi: int) -> None:
    f = tagger_features(_one_jet(pt, eta, phi, tau_dphi))
    assert f.shape == (1, 12, len(TAGGER_FEATURES))
    got = dict(zip(TAGGER_FEATURES, f[0, 0].tolist(), strict=True))
    matched = abs(tau_dphi) <= 5
    assert got["jet_pt"] == pt >> 4
    assert got["jet_abseta"] == abs(eta) >> 5
    assert got["tau_pt"] == ((pt - 4) >> 4 if matched else 0)
    assert got["tau_iso"] == (3 if matched else 0)
    assert got["region_et"] == 80 >> 4
    assert got["ring_et"] == 64 >> 5
    assert not f[0, 1:].any()  # empty slots are zero
    central = abs(eta) * CALO_ETA_LSB <= 2.3
    assert bool(tagger_candidates(_one_jet(pt, eta, phi, tau_dphi))[0, 0]) == (matched and pt >= 40 and central)


def test_tagger_features_are_invariant_under_a_region_rotation(zb_batch: EventBatch) -> None:
    """Rotating every object by one region in φ (8 calo φ units) and the regions by one row changes nothing."""
    b = zb_batch.select(slice(0, 500))
    rot = dict(b.columns.items())
    for p in ("jet", "tau", "eg"):
        rot[f"{p}_phi"] = ((b[f"{p}_phi"].astype(np.int64) + 8) % 144).astype(np.int16)
    rot["regions"] = np.roll(b["regions"], 1, axis=1)
    assert np.array_equal(tagger_features(EventBatch(rot)), tagger_features(b))


def _upstream(kind: str) -> list[str]:
    return [type(a).__name__ for _, _, a in upstream_pipeline(ROOT / "configs" / "default.yaml", kind).algorithms()]


def test_upstream_algorithms_stop_before_the_model(tmp_path: Path) -> None:
    names = _upstream("tagger")
    assert names[:2] == ["RegionCalibration", "RegionSums"]
    assert "JetCalibration" in names
    assert "MenuAlgorithm" not in names
    assert "TauTagger" not in names
    cicada = _upstream("cicada")
    assert cicada == ["RegionCalibration", "RegionSums"]


def test_read_sample_and_upstream(tmp_path: Path, zb_batch: EventBatch) -> None:
    path = tmp_path / "zb.h5"
    write_batches(path, [zb_batch.select(slice(0, 300)), zb_batch.select(slice(300, 700))])
    batch = read_sample(path, limit=500)
    assert len(batch) == 500
    assert np.array_equal(batch["jet_pt"], zb_batch["jet_pt"][:500])
    out = upstream_pipeline(ROOT / "configs" / "default.yaml", "cicada").run(batch)
    assert "regions_cal" in out


@pytest.mark.parametrize("kind", ["nosuch"])
def test_upstream_of_a_missing_type_uses_every_other_algorithm(kind: str) -> None:
    names = _upstream(kind)
    assert "MenuAlgorithm" not in names
    assert "JetSums" in names


def test_tagger_kernel_equals_numpy_reference_on_random_events() -> None:
    from emulator.models.inputs import tagger_features, tagger_features_numpy
    from streams.sources.parametric import ParametricConfig, ParametricSource

    batch = next(ParametricSource(ParametricConfig(events=3000, mu=120, seed=9)).batches(3000))
    rng = np.random.default_rng(4)
    # crowd the windows: many τ/e/γ near jets, equal pTs (ties), φ wrap-around at 0/143
    cols = {}
    for p in ("tau", "eg"):
        cols[f"{p}_eta"] = (batch["jet_eta"] + rng.integers(-6, 7, batch["jet_eta"].shape)).astype(np.int16)
        cols[f"{p}_phi"] = ((batch["jet_phi"] + rng.integers(-6, 7, batch["jet_phi"].shape)) % 144).astype(np.int16)
        cols[f"{p}_pt"] = -np.sort(-rng.choice(np.array([0, 20, 20, 40], np.int16), batch["jet_pt"].shape), axis=1)
    batch = batch.with_columns(**cols)
    np.testing.assert_array_equal(tagger_features(batch, "regions"), tagger_features_numpy(batch, "regions"))
