"""Simplified L1 detector emulation in numba: towers, e/γ, τ, jets, muons, sums, regions.

The model is written down in ``docs/physics.md``. Entry points:
:func:`~streams.l1sim.response.compute_towers` (particles → per-event tower
deposits and muon sources) and :class:`~streams.l1sim.crossing.CrossingEmulator`
(sums of pool events → L1 objects in uGT hardware units).
"""

from __future__ import annotations

from streams.l1sim.config import L1SimConfig
from streams.l1sim.crossing import L1_COLUMNS, CrossingEmulator
from streams.l1sim.response import TowerPool, compute_towers, concat_tower_pools

__all__ = ["L1_COLUMNS", "CrossingEmulator", "L1SimConfig", "TowerPool", "compute_towers", "concat_tower_pools"]
