"""Event generation: Pythia 8 pools cached on disk, hard processes, pileup premixing.

Pythia (``pythia8mc``) is imported only when a pool has to be generated.
"""

from __future__ import annotations

from streams.generators.pool import ParticlePool, PoolSettings, default_cache_dir, load_pool
from streams.generators.premix import PremixConfig, PremixSource, draw_crossings
from streams.generators.processes import PROCESSES, Process, get_process
from streams.generators.sample import SampleSpec, build_source, pool_towers
from streams.generators.truth import GEN_COLUMNS, compute_truth, load_truth

__all__ = [
    "GEN_COLUMNS",
    "PROCESSES",
    "ParticlePool",
    "PoolSettings",
    "PremixConfig",
    "PremixSource",
    "Process",
    "SampleSpec",
    "build_source",
    "compute_truth",
    "default_cache_dir",
    "draw_crossings",
    "get_process",
    "load_pool",
    "load_truth",
    "pool_towers",
]
