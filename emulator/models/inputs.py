"""Model inputs from event batches: the exact arrays the trigger models see, in numpy only.

Every scaling is a power-of-two shift of a hardware integer (exact in float, a wire
shift in firmware), so the float arrays here are what both the fixed-point engine and
the hls4ml C simulation receive. The chain algorithms, the firmware testbenches and
training call the same functions; this module imports nothing of training.

>>> from streams.event import EventBatch
>>> b = EventBatch.empty(3)
>>> axol1tl_inputs(b).shape, cicada_inputs(b).shape, tagger_features(b).shape
((3, 57), (3, 18, 14, 1), (3, 12, 7))
"""

from __future__ import annotations

import numba
import numpy as np

from emulator.models._tagger_kernel import tagger_features_kernel
from streams.event import EventBatch
from streams.l1sim.geometry import REGION_OF_IETA, tower_ieta
from streams.schema import CALO_ETA_LSB, COLLECTIONS, N_REGION_ETA, N_REGION_PHI
from streams.views import AXOL1TL_LAYOUT

__all__ = [
    "AXOL1TL_SHIFTS",
    "CICADA_SHIFT",
    "TAGGER_FEATURES",
    "axol1tl_inputs",
    "cicada_inputs",
    "jet_region_index",
    "leading_in_window",
    "present_jet_features",
    "tagger_features",
    "tagger_features_numpy",
]

_PT, _CETA, _CPHI, _MUETA, _MUPHI = 4, 5, 5, 6, 7  # right shifts per quantity


def _axol1tl_shifts() -> np.ndarray:
    shifts = [_PT, 0, _CPHI]  # MET: ET, (η = 0), φ
    for name, k in AXOL1TL_LAYOUT:
        eta, phi = (_MUETA, _MUPHI) if name == "muon" else (_CETA, _CPHI)
        shifts += [_PT, eta, phi] * k
    return np.asarray(shifts, np.int64)


#: Right shift applied to each of the 57 AXOL1TL inputs (pT: 8 GeV units, η/φ: O(1)).
AXOL1TL_SHIFTS: np.ndarray = _axol1tl_shifts()
_AXO_SCALE = np.ldexp(np.float32(1.0), -AXOL1TL_SHIFTS).astype(np.float32)

#: Right shift of the CICADA region ETs (0.5 GeV LSB → 4 GeV units).
CICADA_SHIFT = 3

#: Per-jet tagger features (hardware integers, shifted), in input order.
TAGGER_FEATURES: tuple[str, ...] = (
    "jet_pt",  # jet pT >> 4 (8 GeV units)
    "jet_abseta",  # |jet η| >> 5
    "tau_pt",  # pT of the leading L1 τ within the match window >> 4
    "tau_iso",  # its 2-bit isolation (0 when none)
    "eg_pt",  # pT of the leading L1 e/γ within the window >> 4
    "region_et",  # calibrated ET of the jet's region >> 4
    "ring_et",  # ET of the 8 regions around it >> 5
)
_MATCH_ETA, _MATCH_PHI = 5, 5  # |Δη|, |Δφ| window in calo LSBs (≈ 0.22 rad)


def axol1tl_inputs(batch: EventBatch) -> np.ndarray:
    """The 57 GT inputs in hardware units, each right-shifted by :data:`AXOL1TL_SHIFTS`
    (:func:`streams.views.axol1tl_features` ``× 2^-shift``, filled in one numba pass)."""
    n = len(batch)
    out = np.empty((n, 57), np.float32)
    _scaled_column(np.ascontiguousarray(batch["etm"]).reshape(n, 1), _AXO_SCALE, 0, out)
    out[:, 1] = 0.0
    _scaled_column(np.ascontiguousarray(batch["etm_phi"]).reshape(n, 1), _AXO_SCALE, 2, out)
    col = 3
    for name, k in AXOL1TL_LAYOUT:
        coll = COLLECTIONS[name]
        for f, field in enumerate(("pt", "eta", "phi")):
            _scaled_column(np.ascontiguousarray(batch[coll.column(field)][:, :k]), _AXO_SCALE, col + f, out, 3)
        col += 3 * k
    return out


def cicada_inputs(batch: EventBatch, column: str = "regions_cal") -> np.ndarray:
    """Region ETs ``(N, 18, 14, 1)`` in 4 GeV units (``>> CICADA_SHIFT``) as float32."""
    col = column if column in batch else "regions"
    regions = np.ascontiguousarray(batch[col])
    n = len(batch)
    out = np.empty((n, N_REGION_PHI * N_REGION_ETA), np.float32)
    _scaled_column(regions.reshape(n, -1), np.full(out.shape[1], 2.0**-CICADA_SHIFT, np.float32), 0, out)
    return out.reshape(n, N_REGION_PHI, N_REGION_ETA, 1)


@numba.njit(cache=True, nogil=True)
def _scaled_column(src: np.ndarray, scale: np.ndarray, start: int, out: np.ndarray, stride: int = 1) -> None:
    """``out[:, start + stride·j] = float32(src[:, j]) · scale[start + stride·j]`` (float32 products)."""
    n, k = src.shape
    for i in range(n):
        for j in range(k):
            c = start + stride * j
            out[i, c] = np.float32(src[i, j]) * scale[c]


def _region_eta_lut() -> np.ndarray:
    hw = np.arange(-256, 256)
    ieta = tower_ieta(hw * CALO_ETA_LSB)
    return np.where(ieta >= 0, REGION_OF_IETA[np.maximum(ieta, 0)], -1).astype(np.int64)


_REGION_ETA_LUT = _region_eta_lut()


def jet_region_index(eta_hw: np.ndarray, phi_hw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Region (iφ, iη) of calo objects; iη = −1 outside the regions (|η| > 3).

    >>> jet_region_index(np.array([1, -1, 120]), np.array([0, 143, 8]))
    (array([ 0, 17,  1]), array([ 7,  6, -1]))
    """
    ieta = _REGION_ETA_LUT[np.clip(eta_hw.astype(np.int64), -256, 255) + 256]
    iphi = (phi_hw.astype(np.int64) % 144) // 8
    return iphi, ieta


def _box3_at(regions: np.ndarray, iphi: np.ndarray, ieta: np.ndarray) -> np.ndarray:
    """Sum of the 3 × 3 regions around (iφ, iη) per jet (φ cyclic, η zero-padded), int64 (N, k)."""
    rows = np.arange(len(regions))[:, None]
    out = np.zeros(iphi.shape, np.int64)
    for de in (-1, 0, 1):
        e = ieta + de
        ok = (e >= 0) & (e < N_REGION_ETA)
        e = np.clip(e, 0, N_REGION_ETA - 1)
        for dp in (-1, 0, 1):
            out += np.where(ok, regions[rows, (iphi + dp) % N_REGION_PHI, e], 0)
    return out


def leading_in_window(
    batch: EventBatch, prefix: str, jet_eta: np.ndarray, jet_phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """pT and iso of the leading object of ``prefix`` in each jet's window (0 when none)."""
    pt = batch[f"{prefix}_pt"].astype(np.int32)[:, None, :]
    deta = np.abs(jet_eta[:, :, None].astype(np.int32) - batch[f"{prefix}_eta"].astype(np.int32)[:, None, :])
    dphi = (jet_phi[:, :, None].astype(np.int32) - batch[f"{prefix}_phi"].astype(np.int32)[:, None, :]) % 144
    inside = (deta <= _MATCH_ETA) & ((dphi <= _MATCH_PHI) | (dphi >= 144 - _MATCH_PHI)) & (pt > 0)
    masked = np.where(inside, pt, 0)
    best = masked.argmax(axis=2)[..., None]
    rows = np.arange(masked.shape[0])[:, None]
    iso = batch[f"{prefix}_iso"].astype(np.int64)[rows, best[..., 0]]
    best_pt = np.take_along_axis(masked, best, 2)[..., 0].astype(np.int64)
    return best_pt, np.where(best_pt > 0, iso, 0)


def tagger_features(batch: EventBatch, regions_column: str = "regions_cal") -> np.ndarray:
    """Per-jet features ``(N, 12, 7)`` float32 (see :data:`TAGGER_FEATURES`); empty jets are 0."""
    feats, slot = present_jet_features(batch, regions_column)
    n, k = batch["jet_pt"].shape
    out = np.zeros((n * k, feats.shape[1]), np.float32)
    out[slot] = feats
    return out.reshape(n, k, feats.shape[1])


def present_jet_features(batch: EventBatch, regions_column: str = "regions_cal") -> tuple[np.ndarray, np.ndarray]:
    """The features ``(M, 7)`` of the M jets with pT > 0 only, and their flat slots ``event · 12 + jet``."""
    col = regions_column if regions_column in batch else "regions"
    c = {k: np.ascontiguousarray(batch[k]) for k in (
        "jet_pt", "jet_eta", "jet_phi", "tau_pt", "tau_eta", "tau_phi", "tau_iso", "eg_pt", "eg_eta", "eg_phi")}
    return tagger_features_kernel(
        c["jet_pt"], c["jet_eta"], c["jet_phi"], c["tau_pt"], c["tau_eta"], c["tau_phi"], c["tau_iso"],
        c["eg_pt"], c["eg_eta"], c["eg_phi"], np.ascontiguousarray(batch[col]), _REGION_ETA_LUT,
        _MATCH_ETA, _MATCH_PHI,
    )


def tagger_features_numpy(batch: EventBatch, regions_column: str = "regions_cal") -> np.ndarray:
    """The same features in plain numpy (the reference the kernel is tested against)."""
    eta = batch["jet_eta"].astype(np.int64)
    phi = batch["jet_phi"].astype(np.int64)
    pt = batch["jet_pt"].astype(np.int64)
    tau_pt, tau_iso = leading_in_window(batch, "tau", eta, phi)
    eg_pt, _ = leading_in_window(batch, "eg", eta, phi)
    col = regions_column if regions_column in batch else "regions"
    regions = batch[col].astype(np.int64)
    iphi, ieta = jet_region_index(eta, phi)
    ok = ieta >= 0
    rows = np.arange(len(batch))[:, None]
    centre = np.where(ok, regions[rows, iphi, np.maximum(ieta, 0)], 0)
    ring = np.where(ok, _box3_at(regions, iphi, ieta), 0) - centre
    feats = np.stack([pt >> 4, np.abs(eta) >> 5, tau_pt >> 4, tau_iso, eg_pt >> 4, centre >> 4, ring >> 5], -1)
    return np.where((pt > 0)[..., None], feats, 0).astype(np.float32)
