"""Event generation: Pythia 8 pools cached on disk, hard processes, pileup premixing.

Pythia (``pythia8mc``) is imported only when a pool has to be generated.
"""

from __future__ import annotations

from streams.generators.pool import ParticlePool, PoolSettings, default_cache_dir, load_pool
from streams.generators.premix import PremixConfig, PremixSource, draw_crossings
from streams.generators.processes import PROCESSES, Process, get_process
from streams.generators.sample import SampleSpec, build_source, pool_towers

__all__ = [
    "PROCESSES",
    "ParticlePool",
    "PoolSettings",
    "PremixConfig",
    "PremixSource",
    "Process",
    "SampleSpec",
    "build_source",
    "default_cache_dir",
    "draw_crossings",
    "get_process",
    "load_pool",
    "pool_towers",
]
