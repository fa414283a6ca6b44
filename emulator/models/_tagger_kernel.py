"""The τ-tagger feature extraction as one numba kernel (per present jet: 12 τ/e/γ + 9 regions)."""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["tagger_features_kernel"]


@nb.njit(cache=True, nogil=True)
def _leading_in_window(
    pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, je: int, jp: int, win_eta: int, win_phi: int
) -> int:
    """Index of the highest-pT object in the window around (je, jp), or −1."""
    best, best_pt = -1, 0
    for i in range(pt.shape[0]):
        p = int(pt[i])
        if p <= best_pt:  # pT-ordered with ties kept first, like argmax
            continue
        if abs(je - np.int64(eta[i])) > win_eta:
            continue
        d = (jp - np.int64(phi[i])) % 144
        if d <= win_phi or d >= 144 - win_phi:
            best, best_pt = i, p
    return best


@nb.njit(cache=True, nogil=True)
def tagger_features_kernel(
    jet_pt: np.ndarray, jet_eta: np.ndarray, jet_phi: np.ndarray,
    tau_pt: np.ndarray, tau_eta: np.ndarray, tau_phi: np.ndarray, tau_iso: np.ndarray,
    eg_pt: np.ndarray, eg_eta: np.ndarray, eg_phi: np.ndarray,
    regions: np.ndarray, region_eta_lut: np.ndarray, win_eta: int, win_phi: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Features (M, 7) of the M present jets (pT > 0) and their flat slots ``event · 12 + jet``:
    pT>>4, |η|>>5, τ pT>>4, τ iso, e/γ pT>>4, centre region>>4, ring>>5."""
    n, k = jet_pt.shape
    nphi, neta = regions.shape[1], regions.shape[2]
    m = 0
    for e in range(n):
        for j in range(k):
            if jet_pt[e, j] > 0:
                m += 1
    out = np.zeros((m, 7), np.float32)
    slot = np.empty(m, np.int64)
    r = 0
    for e in range(n):
        for j in range(k):
            pt = np.int64(jet_pt[e, j])
            if pt <= 0:
                continue
            slot[r] = e * k + j
            je, jp = int(jet_eta[e, j]), int(jet_phi[e, j])
            t = _leading_in_window(tau_pt[e], tau_eta[e], tau_phi[e], je, jp, win_eta, win_phi)
            g = _leading_in_window(eg_pt[e], eg_eta[e], eg_phi[e], je, jp, win_eta, win_phi)
            ieta = int(region_eta_lut[min(max(je, -256), 255) + 256])
            iphi = (jp % 144) // 8
            centre = np.int64(0)
            box = np.int64(0)
            if ieta >= 0:
                centre = np.int64(regions[e, iphi, ieta])
                e0, e1 = max(ieta - 1, 0), min(ieta + 1, neta - 1)
                for pp in ((iphi + nphi - 1) % nphi, iphi, (iphi + 1) % nphi):
                    for ee in range(e0, e1 + 1):
                        box += np.int64(regions[e, pp, ee])
            out[r, 0] = pt >> 4
            out[r, 1] = abs(je) >> 5
            if t >= 0:
                out[r, 2] = np.int64(tau_pt[e, t]) >> 4
                out[r, 3] = tau_iso[e, t]
            if g >= 0:
                out[r, 4] = np.int64(eg_pt[e, g]) >> 4
            out[r, 5] = centre >> 4
            out[r, 6] = (box - centre) >> 5
            r += 1
    return out, slot
