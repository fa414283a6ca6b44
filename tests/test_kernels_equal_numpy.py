"""The chain's numba kernels against the plain-numpy formulations they replaced (issue: throughput).

Each reference below is the numpy code the algorithm ran before its kernel; on random and edge
inputs (empty slots, negative η, saturation, ties in pT, prescale 0, pileup outside the edges,
reused hard events) the kernels give the same integers and the same float sums up to rounding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.algorithm import BuildContext
from emulator.algorithms.jet_calibration import JetCalibration
from emulator.algorithms.jet_sums import _COS, _SIN, _TRIG_SCALE, JetSums
from emulator.algorithms.region_calibration import RegionCalibration
from emulator.algorithms.region_sums import RegionSums
from emulator.models.inputs import _AXO_SCALE, CICADA_SHIFT, axol1tl_inputs, cicada_inputs
from emulator.rate_reuse import ReuseStats
from emulator.rates import RateAccumulator, apply_prescales
from streams.event import EventBatch
from streams.schema import CALO_PHI_BINS, COLLECTIONS, N_REGION_ETA, N_REGION_PHI
from streams.views import axol1tl_features

CTX = BuildContext(Path("configs"))
SEEDS = st.integers(0, 2**32 - 1)


def _jets(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    pt = rng.choice([0, 0, 0, 1, 30, 60, 61, 200, 2047, 4000], size=(n, 12)).astype(np.int16)
    return {
        "jet_pt": pt, "jet_eta": rng.integers(-120, 121, (n, 12)).astype(np.int16),
        "jet_phi": rng.integers(-10, 160, (n, 12)).astype(np.int16),
        "jet_iso": rng.integers(0, 4, (n, 12)).astype(np.uint8),
        "jet_qual": rng.integers(0, 16, (n, 12)).astype(np.uint8),
        "jet_disp": rng.integers(0, 2, (n, 12)).astype(np.uint8),
    }  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(SEEDS, st.integers(1, 300))
def test_region_calibration_kernel(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    scale = rng.integers(0, 600, N_REGION_ETA)
    offset = rng.integers(-5, 40, N_REGION_ETA)
    algo = RegionCalibration.build("rc", {"scale": scale.tolist(), "offset": offset.tolist(), "saturation": 900}, CTX)
    regions = rng.choice([0, 1, 7, 255, 1023, 65535], size=(n, N_REGION_PHI, N_REGION_ETA)).astype(np.uint16)
    got = algo.process(EventBatch.empty(n).with_columns(regions=regions))["regions_cal"]
    want = np.clip(((regions.astype(np.int32) * scale.astype(np.int32)) >> 8) - offset, 0, 900).astype(np.uint16)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@settings(max_examples=25, deadline=None)
@given(SEEDS, st.integers(1, 300))
def test_jet_calibration_kernel(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    algo = JetCalibration.build("jc", {"eta_edges": [34, 69], "scale": [281, 258, 237]}, CTX)
    jets = _jets(rng, n)
    got = algo.process(EventBatch.empty(n).with_columns(**jets))
    coll = COLLECTIONS["jet"]
    bins = np.searchsorted(algo._edges, np.abs(jets["jet_eta"].astype(np.int32)), side="right")
    cal = np.minimum((jets["jet_pt"].astype(np.int32) * algo._scale[bins]) >> 8, 2047)
    order = np.argsort(-cal, axis=1, kind="stable")
    np.testing.assert_array_equal(got["jet_pt"], np.take_along_axis(cal, order, axis=1).astype(np.int16))
    for f in coll.fields[1:]:
        want = np.take_along_axis(jets[coll.column(f)], order, axis=1)
        assert got[coll.column(f)].dtype == want.dtype
        np.testing.assert_array_equal(got[coll.column(f)], want)


@settings(max_examples=25, deadline=None)
@given(SEEDS, st.integers(1, 300))
def test_jet_sums_kernel(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    jets = _jets(rng, n)
    algo = JetSums.build("js", {}, CTX)
    got = algo.process(EventBatch.empty(n).with_columns(**jets))
    pt = jets["jet_pt"].astype(np.int64)
    sel = (pt >= algo._pt_min_hw) & (np.abs(jets["jet_eta"].astype(np.int64)) <= algo._eta_max_hw)
    pt = np.where(sel, pt, 0)
    phi = jets["jet_phi"].astype(np.int64) % CALO_PHI_BINS
    hx, hy = -(pt * _COS[phi]).sum(axis=1), -(pt * _SIN[phi]).sum(axis=1)
    np.testing.assert_array_equal(got["htt"], pt.sum(axis=1).astype(np.int32))
    np.testing.assert_array_equal(got["htm"], np.floor(np.hypot(hx, hy) / _TRIG_SCALE).astype(np.int32))


class _NumpyAccumulator:
    """The accumulator's sums as numpy formulated them before the kernel."""

    def __init__(self, prescales: np.ndarray, edges: np.ndarray) -> None:
        s, nb = len(prescales), len(edges) - 1
        self.p, self.edges, self.counters = prescales, edges, np.zeros(s, np.int64)
        self.count, self.count_raw, self.pure = (np.zeros(s, np.int64) for _ in range(3))
        self.seed_w, self.raw_w, self.overlap = np.zeros((4, s)), np.zeros((2, s)), np.zeros((s, s), np.int64)
        self.pu_events, self.pu_w, self.pu_acc = np.zeros(nb, np.int64), np.zeros(nb), np.zeros(nb)
        self.pu_seed_w, self.pu_seed_w2 = np.zeros((nb, s)), np.zeros((nb, s + 1))
        self.reuse = _Reuse(s + 1)

    def update(self, raw: np.ndarray, w: np.ndarray, pu: np.ndarray, cluster: np.ndarray) -> np.ndarray:
        fired, self.counters = apply_prescales(raw, self.p, self.counters)
        l1a = np.asarray(fired.any(axis=1))
        pure = fired & (fired.sum(axis=1) == 1)[:, None]
        self.count += fired.sum(axis=0)
        self.count_raw += raw.sum(axis=0)
        self.pure += pure.sum(axis=0)
        ww = np.stack([w, w * w])
        self.seed_w += np.concatenate([ww @ fired, ww @ pure])
        self.raw_w += ww @ raw
        self.overlap += fired.T.astype(np.int64) @ fired.astype(np.int64)
        nb = len(self.pu_events)
        b = np.searchsorted(self.edges, pu, side="right") - 1
        ok = (b >= 0) & (b < nb)
        b, wb, fb, lb = b[ok], w[ok], fired[ok], l1a[ok]
        self.pu_events += np.bincount(b, minlength=nb)
        self.pu_w += np.bincount(b, weights=wb, minlength=nb)
        self.pu_acc += np.bincount(b, weights=wb * lb, minlength=nb)
        for k in range(nb):
            m = b == k
            self.pu_seed_w[k] += wb[m] @ fb[m]
            self.pu_seed_w2[k] += (wb[m] ** 2) @ np.concatenate([fb[m], lb[m, None]], axis=1)
        self.reuse(np.concatenate([fired, l1a[:, None]], axis=1), w, cluster)
        return fired


class _Reuse:
    """Cluster-robust variance by brute force: Σ over hard events of (Σw)², plus w² of the rest."""

    def __init__(self, s: int) -> None:
        self.free = np.zeros(s)
        self.by_event: dict[tuple[int, int], float] = {}

    def __call__(self, fired: np.ndarray, w: np.ndarray, cluster: np.ndarray) -> None:
        for i, j in zip(*np.nonzero(fired), strict=True):
            if cluster[i] < 0:
                self.free[j] += w[i] ** 2
            else:
                key = (int(j), int(cluster[i]))
                self.by_event[key] = self.by_event.get(key, 0.0) + float(w[i])

    def variance(self) -> np.ndarray:
        v = self.free.copy()
        for (j, _), sw in self.by_event.items():
            v[j] += sw**2
        return v


@settings(max_examples=30, deadline=None)
@given(SEEDS, st.lists(st.integers(0, 200), min_size=1, max_size=4))
def test_rate_accumulator_kernel_equals_numpy(seed: int, sizes: list[int]) -> None:
    rng = np.random.default_rng(seed)
    s = int(rng.integers(1, 7))
    prescales = rng.choice([0, 1, 2, 3, 17], size=s).astype(np.int64)
    edges = np.array([0.0, 20.0, 40.0, 60.0])
    acc = RateAccumulator([f"S{i}" for i in range(s)], prescales, n_bunches=1, f_rev_hz=1000.0,
                          pileup_edges=tuple(edges))  # fmt: skip
    ref = _NumpyAccumulator(prescales, edges)
    for n in sizes:
        raw = rng.random((n, s)) < rng.random(s)
        w = rng.choice([1.0, 0.25, 3.5e-3, 7.0], size=n)
        pu = rng.choice([-1.0, 0.0, 19.99, 20.0, 55.0, 60.0, 99.0, np.nan], size=n)
        cluster = rng.choice([-1, -1, 0, 1, 2, 5], size=n).astype(np.int64)
        fired, l1a = acc.update(raw, w, pu, cluster)
        want = ref.update(raw, w, pu, cluster)
        np.testing.assert_array_equal(fired, want)
        np.testing.assert_array_equal(l1a, want.any(axis=1))
    for name in ("counters", "count", "count_raw", "pure", "overlap", "pu_events"):
        np.testing.assert_array_equal(getattr(acc, name), getattr(ref, name), err_msg=name)
    pairs = ((acc.seed_w, ref.seed_w), (acc.raw_w, ref.raw_w), (acc.pu_w, ref.pu_w), (acc.pu_accepted_w, ref.pu_acc),
             (acc.pu_seed_w, ref.pu_seed_w), (acc.pu_seed_w2, ref.pu_seed_w2),
             (acc.reuse.variance()[0], ref.reuse.variance()))  # fmt: skip
    for mine, theirs in pairs:
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


def test_reuse_stats_without_clusters_is_the_naive_sum() -> None:
    r = ReuseStats(2)
    r.update(np.array([[1, 0], [1, 1]], bool), np.array([2.0, 3.0]), None)
    v, distinct = r.variance()
    assert v.tolist() == [13.0, 9.0]
    assert distinct.tolist() == [0, 0]


@settings(max_examples=25, deadline=None)
@given(SEEDS, st.integers(1, 300), st.integers(-3, 70000))
def test_region_sums_kernel(seed: int, n: int, hot: int) -> None:
    rng = np.random.default_rng(seed)
    regions = rng.choice([0, 1, 19, 20, 21, 1023, 65535], size=(n, N_REGION_PHI, N_REGION_ETA)).astype(np.uint16)
    algo = RegionSums.build("rs", {"hot_threshold": hot}, CTX)
    got = algo.process(EventBatch.empty(n).with_columns(regions_cal=regions))
    np.testing.assert_array_equal(got["region_ett"], regions.sum(axis=(1, 2), dtype=np.int32))
    want = (regions >= hot).sum(axis=(1, 2), dtype=np.int32).astype(np.uint16)
    assert got["region_nhot"].dtype == want.dtype
    np.testing.assert_array_equal(got["region_nhot"], want)


def test_model_inputs_equal_the_views_they_scale(zb_batch: EventBatch) -> None:
    """AXOL1TL's 57 inputs are the GT view × 2^-shift; CICADA's the regions × 2^-3 (float32)."""
    want = axol1tl_features(zb_batch, units="hw") * _AXO_SCALE
    got = axol1tl_inputs(zb_batch)
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    regions = zb_batch["regions"]
    want_c = (regions.astype(np.float32) * np.float32(2.0**-CICADA_SHIFT)).reshape(len(zb_batch), 18, 14, 1)
    np.testing.assert_array_equal(cicada_inputs(zb_batch, "regions"), want_c)
