"""The visible hadronic τ of Pythia events: the truth a τ trigger is calibrated against.

A τ lepton's last copy (its daughters hold no τ) that decays hadronically (no e or μ among its
daughters) has visible momentum p(τ) − Σ p(neutrino daughters); per event the one of highest pT with
|η| < ``eta_max`` is kept, (0, 0, 0) when there is none.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["leading_visible_tau"]


@numba.njit(cache=True)
def leading_visible_tau(
    counts: np.ndarray, pid: np.ndarray, d1: np.ndarray, d2: np.ndarray, px: np.ndarray, py: np.ndarray,
    pz: np.ndarray, eta_max: float,
) -> np.ndarray:
    """(pT, η, φ) float32 (n, 3) of each event's leading visible τ_h; arrays hold every particle of the
    event record (daughter indices are positions within the event).

    >>> c = np.array([4]); pid = np.array([90, 15, 16, -211])
    >>> d1, d2 = np.array([0, 2, 0, 0]), np.array([0, 3, 0, 0])
    >>> px, py, pz = np.array([0., 30, 10, 20]), np.zeros(4), np.zeros(4)
    >>> leading_visible_tau(c, pid, d1, d2, px, py, pz, 2.5).tolist()
    [[20.0, 0.0, 0.0]]
    """
    out = np.zeros((len(counts), 3), np.float32)
    start = 0
    for ev in range(len(counts)):
        n = counts[ev]
        for i in range(start, start + n):
            if abs(pid[i]) != 15 or d1[i] <= 0:
                continue
            lo, hi = d1[i], max(d1[i], d2[i])
            vx, vy, vz, ok = px[i], py[i], pz[i], True
            for j in range(start + lo, min(start + hi + 1, start + n)):
                a = abs(pid[j])
                if a == 15 or a == 11 or a == 13:
                    ok = False
                    break
                if a == 12 or a == 14 or a == 16:
                    vx -= px[j]
                    vy -= py[j]
                    vz -= pz[j]
            pt = math.hypot(vx, vy)
            if not ok or pt <= 0.0:
                continue
            eta = math.asinh(vz / pt)
            if abs(eta) < eta_max and pt > out[ev, 0]:
                out[ev, 0], out[ev, 1], out[ev, 2] = pt, eta, math.atan2(vy, vx)
        start += n
    return out
