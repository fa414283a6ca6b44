"""τ as CMS layer 2 builds it (CMSSW ``Stage2Layer2TauAlgorithmFirmwareImp1``), on one crossing's towers.

* The **main cluster** sits on a tower of E+H ET ≥ the seed threshold that is the maximum of its
  3 η × 9 φ window (the cluster filter CMS's e/γ, τ and jet clusters share). Neighbours join with
  ET ≥ the neighbour threshold: the 3 × 3 towers and, in the seed column, φ ± 2 next to an included
  φ ± 1; the cluster is trimmed to the seed column and the η-neighbour column with more ET (+η on
  ties): at most 8 towers.
* **Merging**: a secondary cluster is looked for at eight sites only, (0, ±3), (0, ±2) and (±1, ±2)
  towers from the main seed (η, φ) — a tower there that is a 3 × 3 maximum with ET ≥ the secondary
  seed threshold (CMS: egSeedThreshold, 2 GeV), the (0, ±2) site only when the main cluster does not
  include that tower. Per φ side CMS's firmware priority picks one: (0, ±3), else (0, ±2), else the
  stronger of (∓1, ±2) and (±1, ±2) (η − 1 on ties); then the +φ side if its cluster has more ET,
  else the −φ side. The secondary's cluster is built like the main one, its towers that the main
  cluster includes are dropped, and the τ's raw ET is the sum of both.
* No pileup subtraction: CMS's τ calibration LUT absorbs the average pileup; l1emu's (``_luts.py``)
  is measured on a sample with pileup the same way.

Tower positions of a cluster are a 15-bit mask over (Δη, Δφ) ∈ {−1, 0, 1} × {−2 … 2} around its
seed, bit (Δη + 1) · 5 + Δφ + 2.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from streams.l1sim._objects import MAX_CAND, PAD, eg_cluster, is_local_max, tau_iso_bits
from streams.l1sim.geometry import N_PHI

__all__ = ["find_taus_cms", "tau_cluster"]

#: the merging sites (Δη, Δφ) around the main seed, in CMS's numbering: 0-3 on the +φ side, 4-7 on −φ
_SITE_ETA = (0, -1, 0, 1, -1, 0, 1, 0)
_SITE_PHI = (3, 2, 2, 2, -2, -2, -2, -3)


@numba.njit(cache=True, inline="always")
def _bit(de: int, dp: int) -> int:
    return 1 << ((de + 1) * 5 + dp + 2)


@numba.njit(cache=True)
def tau_cluster(tot: np.ndarray, ie: int, ip: int, nb: int) -> tuple[int, int, int]:
    """(ET, η side, mask) of CMS's trimmed cluster on the E+H grid around tower (ie, ip): the e/γ
    cluster (:func:`~streams.l1sim._objects.eg_cluster`, the same firmware clustering) with its 7-bit
    shape as a mask of tower positions.

    >>> from streams.l1sim.geometry import N_ETA
    >>> g = np.zeros((N_ETA + 2 * PAD, N_PHI + 2 * PAD), np.int32)
    >>> g[PAD + 10, PAD + 5] = 20; g[PAD + 10, PAD + 6] = 3; g[PAD + 10, PAD + 7] = 2; g[PAD + 9, PAD + 5] = 1
    >>> tau_cluster(g, 10, 5, 2)  # the η − 1 tower is below threshold: trimmed to +η, φ + 2 joins
    (25, 1, 896)
    """
    et, side, shape = eg_cluster(tot, ie, ip, nb)
    mask = _bit(0, 0)  # the shape's bits: φ − 1, φ + 1, side, side φ − 1, side φ + 1, φ − 2, φ + 2
    mask |= (_bit(0, -1) if shape & 1 else 0) | (_bit(0, 1) if shape & 2 else 0)
    mask |= (_bit(side, 0) if shape & 4 else 0) | (_bit(side, -1) if shape & 8 else 0)
    mask |= (_bit(side, 1) if shape & 16 else 0) | (_bit(0, -2) if shape & 32 else 0)
    mask |= _bit(0, 2) if shape & 64 else 0
    return et, side, mask


@numba.njit(cache=True, inline="always")
def _masked_et(tot: np.ndarray, ie: int, ip: int, mask: int) -> tuple[int, int]:
    """ET and tower count of the towers of ``mask`` around (ie, ip)."""
    et, n = 0, 0
    for de in range(-1, 2):
        for dp in range(-2, 3):
            if mask & _bit(de, dp):
                et += int(tot[ie + PAD + de, ip + PAD + dp])
                n += 1
    return et, n


@numba.njit(cache=True, inline="always")
def _unshift(mask: int, se: int, sp: int) -> int:
    """The main-frame ``mask`` in the frame of the cluster seeded at (se, sp)."""
    out = 0
    for de in range(-1, 2):
        for dp in range(-2, 3):
            if mask & _bit(de, dp):
                e, p = de - se, dp - sp
                if -1 <= e <= 1 and -2 <= p <= 2:
                    out |= _bit(e, p)
    return out


@numba.njit(cache=True)
def _pick_site(tot: np.ndarray, ie: int, ip: int, main_mask: int, sec_seed: int, nb: int,
               site_et: np.ndarray, site_mask: np.ndarray) -> int:
    """CMS's choice of the secondary site (0-7), or −1; ``site_et`` / ``site_mask`` get each valid site's
    cluster ET and towers."""
    for k in range(8):
        site_et[k] = -1
        de, dp = _SITE_ETA[k], _SITE_PHI[k]
        if de == 0 and abs(dp) == 2 and main_mask & _bit(0, dp):
            continue
        if tot[ie + de + PAD, (ip + dp) % N_PHI + PAD] < sec_seed or not is_local_max(
                tot, ie + de, (ip + dp) % N_PHI, 1, 1):
            continue
        site_et[k], _, site_mask[k] = tau_cluster(tot, ie + de, (ip + dp) % N_PHI, nb)
    best = np.full(2, -1, np.int64)
    for side in range(2):
        o = 4 * side
        first, second, wa, wb = (o, o + 2, o + 1, o + 3) if side == 0 else (o + 3, o + 1, o, o + 2)
        if site_et[first] >= 0:
            best[side] = first
        elif site_et[second] >= 0:
            best[side] = second
        elif site_et[wa] >= 0 and site_et[wb] >= 0:
            best[side] = wa if site_et[wa] >= site_et[wb] else wb
        elif site_et[wa] >= 0:
            best[side] = wa
        elif site_et[wb] >= 0:
            best[side] = wb
    if best[0] >= 0 and best[1] >= 0:
        return int(best[0] if site_et[best[0]] > site_et[best[1]] else best[1])
    return int(best[0] if best[0] >= 0 else best[1])


@numba.njit(cache=True)
def find_taus_cms(
    tot: np.ndarray, S: np.ndarray, rho: float, ie_lo: int, ie_hi: int, seed: int, sec_seed: int, nb: int,
    calib: np.ndarray, loose: float, tight: float, iso_lut: np.ndarray, eta_c: np.ndarray, et_c: np.ndarray,
    ntt_c: int, c_pt: np.ndarray, c_ie: np.ndarray, c_ip: np.ndarray, c_iso: np.ndarray,
) -> int:
    """τ candidates of one crossing (see the module); returns their number.

    ``pt`` = raw ET × ``calib[ieta, merged]``. Isolation as :func:`streams.l1sim._objects.find_taus`:
    with ``ntt_c`` < 0 the 7 × 9 box around the main seed minus the τ's towers and ρ × the rest of the
    box, against ``loose`` and ``tight`` × the raw ET (bits 0, 1); else CMS's LUT on the 6 η × 9 φ box
    around the main cluster (one more tower on the side it grew to) minus the τ's towers.
    """
    site_et = np.empty(8, np.int64)
    site_mask = np.empty(8, np.int64)
    n = 0
    for ie in range(ie_lo, ie_hi):
        for ip in range(N_PHI):
            if tot[ie + PAD, ip + PAD] < seed or not is_local_max(tot, ie, ip, 1, 4) or n >= MAX_CAND:
                continue
            raw, side, mask = tau_cluster(tot, ie, ip, nb)
            area = _masked_et(tot, ie, ip, mask)[1]
            k = _pick_site(tot, ie, ip, mask, sec_seed, nb, site_et, site_mask)
            if k >= 0:
                se, sp = _SITE_ETA[k], _SITE_PHI[k]
                sec = site_mask[k] & ~_unshift(mask, se, sp)
                et_s, n_s = _masked_et(tot, ie + se, (ip + sp) % N_PHI, sec)
                raw += et_s
                area += n_s
            if raw <= 0:
                continue
            c_pt[n] = math.floor(raw * calib[ie, 1 if k >= 0 else 0] + 0.5)
            c_iso[n] = tau_iso_bits(S, ie, ip, -1 if side < 0 else 0, raw, raw, area, rho, loose, tight,
                                    iso_lut, eta_c, et_c, ntt_c)
            c_ie[n], c_ip[n] = ie, ip
            n += 1
    return n
