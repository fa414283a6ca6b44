"""Counter-based random numbers for numba kernels (splitmix64): reproducible and
independent of how work is split into batches.

>>> 0.0 <= uniform_hash(np.uint64(1), np.uint64(2)) < 1.0
True
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["M2", "gauss_hash", "uniform_hash"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


@numba.njit(cache=True)
def uniform_hash(key: np.uint64, counter: np.uint64) -> float:
    """A uniform double in [0, 1) from splitmix64 of ``key + (counter + 1)·golden``."""
    z = key + (counter + np.uint64(1)) * _GOLD
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * M2
    z = z ^ (z >> _S31)
    return float(z >> _S11) * (1.0 / 9007199254740992.0)


@numba.njit(cache=True)
def gauss_hash(key: np.uint64, counter: np.uint64) -> float:
    """A standard normal from two hashed uniforms (Box-Muller); uses counters c, c + 1."""
    u1 = max(uniform_hash(key, counter), 1e-300)
    u2 = uniform_hash(key, counter + np.uint64(1))
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
