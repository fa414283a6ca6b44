"""A fast, seeded, parametric zero-bias-like event source (no Pythia needed).

Each bunch crossing has ``mu``-dependent object multiplicities (Poisson) and
power-law pT spectra, so rates fall steeply with threshold and grow with pileup
the way L1 rates do. It is a stand-in for the Pythia-based generator, good for
tests and throughput measurements; it is not physics. Model (per crossing, ⟨μ⟩ = mu,
true pileup n ~ Poisson(mu)):

* jets:   k ~ Poisson(0.6 + 0.045 n), pT = 12 GeV · u^(-1/3.6), |η| < 4.7
* e/γ:    k ~ Poisson(0.3 + 0.030 n), pT = 3 GeV · u^(-1/3.3),  |η| < 2.5
* τ:      k ~ Poisson(0.3 + 0.025 n), pT = 8 GeV · u^(-1/3.4),  |η| < 2.1
* μ:      k ~ Poisson(0.01 + 0.0015 n), pT = 3 GeV · u^(-1/2.9), |η| < 2.4
* dijets: with probability 1 − exp(−8·10⁻⁴ n) a back-to-back pair, pT = 40 GeV · u^(-1/4.2),
          sub-leading 0.6–1.0 of the leading, |η| < 3 (the hard-QCD tail HT and multijet seeds see)
* sums:   HTT = Σ jets (pT > 30 GeV, |η| < 2.4); ETM = 0.5 · |Σ jets with |η| ≤ 3| ⊕ Gaussian(0.45·√ETT);
          ETT = Σ regions; ETMHF = ETM plus 0.5 · the forward jets.
* regions: Gamma(0.35 + 0.012 n, 4.3 GeV) pileup ET per 18×14 region plus the deposited objects
  (⟨ETT⟩ ≈ 1150 GeV at ⟨μ⟩ = 60, as the Pythia-based emulation gives).

where u ~ U(0, 1]. All outputs are in uGT hardware units.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from streams.event import BatchMeta, EventBatch
from streams.filling import STANDARD
from streams.l1sim._muons import muon_indices
from streams.schema import (
    BASE_COLUMNS,
    CALO_ETA_LSB,
    CALO_PHI_BINS,
    COLLECTIONS,
    MU_ETA_LSB,
    MU_PHI_BINS,
    N_REGION_ETA,
    PT_LSB,
)

__all__ = ["ParametricConfig", "ParametricSource"]


@dataclass(frozen=True, slots=True)
class _Spectrum:
    base: float
    per_pu: float
    pt_min: float
    index: float
    eta_max: float


_SPECTRA = {
    "jet": _Spectrum(0.6, 0.045, 12.0, 3.6, 4.7),
    "egamma": _Spectrum(0.3, 0.030, 3.0, 3.3, 2.5),
    "tau": _Spectrum(0.3, 0.025, 8.0, 3.4, 2.1),
    "muon": _Spectrum(0.01, 0.0015, 3.0, 2.9, 2.4),
}
_MISMEASURED = 0.5  # fraction of jet pT that shows up as missing energy
_DIJET_PER_PU = 8e-4  # hard dijets per pileup interaction
_DIJET_PT_MIN, _DIJET_INDEX = 40.0, 4.2
_PT_MAX_HW = {"jet": 2047, "egamma": 511, "tau": 511, "muon": 511}


@dataclass(frozen=True, slots=True)
class ParametricConfig:
    """Settings of :class:`ParametricSource`."""

    events: int = 10_000
    mu: float = 60.0
    seed: int = 1
    run: int = 1
    first_bx: int = 1


_COLLIDING = STANDARD.colliding_bx()  # the colliding slots of the default fill, in turn
_BLOCK = 512  # events are generated in seeded blocks, so batch size does not change them


class ParametricSource:
    """Seeded parametric events; the same events whatever the batch size or sharding.

    >>> src = ParametricSource(ParametricConfig(events=100, mu=60, seed=3))
    >>> sum(len(b) for b in src.batches(32))
    100
    """

    name = "parametric"

    def __init__(self, config: ParametricConfig) -> None:
        self.config = config

    def __len__(self) -> int:
        return self.config.events

    def batches(self, batch_size: int, *, shard: tuple[int, int] = (0, 1)) -> Iterator[EventBatch]:
        c = self.config
        index, count = shard
        for first in range(index * batch_size, c.events, count * batch_size):
            stop = min(first + batch_size, c.events)
            blocks = [self._block(b) for b in range(first // _BLOCK, (stop - 1) // _BLOCK + 1)]
            merged = EventBatch.concat(blocks)
            offset = first - (first // _BLOCK) * _BLOCK
            yield merged.select(slice(offset, offset + stop - first)).with_meta(first=first)

    def _block(self, block: int) -> EventBatch:
        c = self.config
        rng = np.random.default_rng([c.seed, block])
        return generate(rng, _BLOCK, mu=c.mu, first=block * _BLOCK, run=c.run, first_bx=c.first_bx)


def _objects(
    rng: np.random.Generator, npu: np.ndarray, name: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pT (GeV), η, φ (rad, [0, 2π)) of one collection, pT-ordered, zero-padded."""
    spec, size = _SPECTRA[name], COLLECTIONS[name].size
    n = npu.shape[0]
    k = np.minimum(rng.poisson(spec.base + spec.per_pu * npu), size)
    u = 1.0 - rng.random((n, size))
    pt = spec.pt_min * u ** (-1.0 / spec.index)
    pt = np.where(np.arange(size)[None, :] < k[:, None], pt, 0.0)
    pt = -np.sort(-pt, axis=1)
    eta = rng.uniform(-spec.eta_max, spec.eta_max, (n, size))
    phi = rng.uniform(0.0, 2 * np.pi, (n, size))
    empty = pt == 0
    eta[empty] = 0.0
    phi[empty] = 0.0
    return pt, eta, phi


def _add_dijets(
    rng: np.random.Generator, npu: np.ndarray, pt: np.ndarray, eta: np.ndarray, phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Put a back-to-back dijet (the hard-QCD tail) into a fraction of crossings."""
    n, size = pt.shape
    hard = rng.random(n) < -np.expm1(-_DIJET_PER_PU * npu)
    lead = _DIJET_PT_MIN * (1.0 - rng.random(n)) ** (-1.0 / _DIJET_INDEX)
    pair_pt = np.stack([lead, lead * rng.uniform(0.6, 1.0, n)], axis=1)
    pair_eta = rng.uniform(-3.0, 3.0, (n, 2))
    phi0 = rng.uniform(0.0, 2 * np.pi, n)
    pair_phi = np.stack([phi0, (phi0 + np.pi + rng.normal(0, 0.15, n)) % (2 * np.pi)], axis=1)
    pair_pt[~hard] = 0.0
    all_pt = np.concatenate([pt, pair_pt], axis=1)
    order = np.argsort(-all_pt, axis=1, kind="stable")[:, :size]
    all_eta = np.concatenate([eta, pair_eta], axis=1)
    all_phi = np.concatenate([phi, pair_phi], axis=1)
    return tuple(np.take_along_axis(a, order, axis=1) for a in (all_pt, all_eta, all_phi))  # type: ignore[return-value]


def _fill_collection(
    cols: dict[str, np.ndarray], rng: np.random.Generator, name: str,
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray,
) -> None:
    coll = COLLECTIONS[name]
    phi_bins = MU_PHI_BINS if name == "muon" else CALO_PHI_BINS
    eta_lsb = MU_ETA_LSB if name == "muon" else CALO_ETA_LSB
    present = pt > 0
    hw_pt = np.minimum(np.floor(pt / PT_LSB), _PT_MAX_HW[name]).astype(np.int16)
    cols[coll.column("pt")] = hw_pt
    cols[coll.column("eta")] = np.round(eta / eta_lsb).astype(np.int16)
    cols[coll.column("phi")] = (np.floor(phi / (2 * np.pi) * phi_bins) % phi_bins).astype(np.int16)
    shape = pt.shape
    if name == "muon":
        qual = rng.choice(np.array([4, 8, 12, 15], dtype=np.uint8), size=shape, p=[0.1, 0.2, 0.3, 0.4])
        charge = rng.choice(np.array([-1, 1], dtype=np.int8), size=shape)
        cols[coll.column("charge")] = np.where(present, charge, 0).astype(np.int8)
        cols[coll.column("iso")] = np.where(present, rng.integers(0, 4, shape), 0).astype(np.uint8)
    else:
        qual = rng.integers(0, 16, shape).astype(np.uint8)
        iso = (rng.random(shape) < 0.3).astype(np.uint8) * np.uint8(3)
        cols[coll.column("iso")] = np.where(present, iso, 0).astype(np.uint8)
    cols[coll.column("qual")] = np.where(present, qual, 0).astype(np.uint8)


def _hw_sum(px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    et = np.minimum(np.floor(np.hypot(px, py) / PT_LSB), 65535).astype(np.int32)
    phi = np.floor((np.arctan2(py, px) % (2 * np.pi)) / (2 * np.pi) * CALO_PHI_BINS) % CALO_PHI_BINS
    return et, phi.astype(np.int16)


def generate(
    rng: np.random.Generator, n: int, *, mu: float, first: int = 0, run: int = 1, first_bx: int = 1
) -> EventBatch:
    """One batch of ``n`` parametric crossings (see the module docstring)."""
    npu = rng.poisson(mu, n).astype(np.float64)
    cols: dict[str, np.ndarray] = {
        "run": np.full(n, run, np.uint32),
        "lumi": (1 + (first + np.arange(n)) // 100_000).astype(np.uint32),
        "event": (first + 1 + np.arange(n)).astype(np.uint64),
        "bx": _COLLIDING[(first_bx - 1 + first + np.arange(n)) % len(_COLLIDING)],
        "pileup": npu.astype(np.float32),
        "weight": np.ones(n, np.float32),
    }
    regions = rng.gamma(shape=0.35 + 0.012 * npu[:, None, None], scale=4.3, size=(n, 18, N_REGION_ETA))
    jet_px = np.zeros(n)
    jet_py = np.zeros(n)
    for name in ("jet", "egamma", "tau", "muon"):
        pt, eta, phi = _objects(rng, npu, name)
        if name == "jet":
            pt, eta, phi = _add_dijets(rng, npu, pt, eta, phi)
        _fill_collection(cols, rng, name, pt, eta, phi)
        if name != "muon":
            ieta = np.clip(((eta + 3.0) / 6.0 * N_REGION_ETA).astype(int), 0, N_REGION_ETA - 1)
            iphi = (phi / (2 * np.pi) * 18).astype(int) % 18
            rows = np.repeat(np.arange(n), pt.shape[1])
            np.add.at(regions, (rows, iphi.ravel(), ieta.ravel()), pt.ravel())
        if name == "jet":
            central = (pt > 30.0) & (np.abs(eta) < 2.4)
            cols["htt"] = np.floor((pt * central).sum(axis=1) / PT_LSB).astype(np.int32)
            hx = -(pt * central * np.cos(phi)).sum(axis=1)
            hy = -(pt * central * np.sin(phi)).sum(axis=1)
            cols["htm"], cols["htm_phi"] = _hw_sum(hx, hy)
            barrel = np.abs(eta) <= 3.0  # ETM: |eta| <= 3; ETMHF adds the forward jets once
            jet_px = -_MISMEASURED * (pt * barrel * np.cos(phi)).sum(axis=1)
            jet_py = -_MISMEASURED * (pt * barrel * np.sin(phi)).sum(axis=1)
            fx = -_MISMEASURED * (pt * ~barrel * np.cos(phi)).sum(axis=1)
            fy = -_MISMEASURED * (pt * ~barrel * np.sin(phi)).sum(axis=1)
    ett = regions.sum(axis=(1, 2))
    sigma = 0.45 * np.sqrt(ett)
    mx = jet_px + rng.normal(0, 1, n) * sigma
    my = jet_py + rng.normal(0, 1, n) * sigma
    cols["etm"], cols["etm_phi"] = _hw_sum(mx, my)
    cols["etmhf"], cols["etmhf_phi"] = _hw_sum(mx + fx, my + fy)
    cols["ett"] = np.minimum(np.floor(ett / PT_LSB), 1 << 20).astype(np.int32)
    cols["regions"] = np.minimum(np.floor(regions / PT_LSB), 1023).astype(np.uint16)
    # schema 2: prompt muons (uPT = pT, IP 0) indexed by their track finder's link; no LLP signals
    cols["mu_upt"] = np.minimum(cols["mu_pt"] // 2, 255).astype(np.uint8)
    cols["mu_tfindex"] = muon_indices(cols["mu_eta"], cols["mu_phi"], cols["mu_pt"])
    for name in ("mu_ip", "jet_disp", "mu_shower"):
        cols[name] = np.zeros((n, *BASE_COLUMNS[name].shape), BASE_COLUMNS[name].dtype)
    meta = BatchMeta(stream="parametric", first=first)
    return EventBatch({k: cols[k] for k in BASE_COLUMNS}, meta)
