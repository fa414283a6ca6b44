"""Build a premixed sample: cached pools → detector response → :class:`PremixSource`.

The minimum-bias (pileup) pool has its own seed (``pool_seed``), so samples with
different seeds share one cached pool; the hard-scatter pool of a signal process
uses the sample seed. QCD is generated in p̂T bins whose events carry the weight
σ_bin / N_bin (pb per event), so that Σ weights estimates the cross-section.
Samples with a hard scatter carry its generator-level truth (``gen_*`` columns,
:mod:`streams.generators.truth`); minimum-bias samples have none.

>>> spec = SampleSpec(process="ttbar", mu=60, events=100, seed=5)
>>> spec.hard_pool_settings()[0].process, spec.hard_pool_settings()[0].events
('ttbar', 100)
>>> SampleSpec(process="minbias", mu=60, events=10).hard_pool_settings()
[]
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from streams.generators.pool import ParticlePool, PoolSettings, load_pool
from streams.generators.premix import PremixConfig, PremixSource
from streams.generators.processes import get_process
from streams.generators.truth import GEN_COLUMNS, TRUTH_DEFINITIONS, TRUTH_FORMAT, concat_truth, load_truth
from streams.l1sim.config import L1SimConfig
from streams.l1sim.response import TowerPool, compute_towers, concat_tower_pools

__all__ = ["SampleSpec", "build_source", "pool_towers"]

log = logging.getLogger(__name__)

_MB_TO_PB = 1e9


@dataclass(frozen=True, slots=True)
class SampleSpec:
    """What ``l1emu generate`` makes: process, ⟨μ⟩, number of crossings, seeds."""

    process: str = "minbias"
    mu: float = 60.0
    events: int = 10_000
    seed: int = 1
    pool_events: int = 20_000  # minimum-bias pool size
    pool_seed: int = 1
    ecm_gev: float = 13600.0

    def __post_init__(self) -> None:
        get_process(self.process)

    def pileup_pool_settings(self) -> PoolSettings:
        return PoolSettings("minbias", self.pool_events, self.pool_seed, self.ecm_gev)

    def hard_pool_settings(self) -> list[PoolSettings]:
        """One pool per p̂T bin (or one pool); none for minimum bias."""
        proc = get_process(self.process)
        if proc.pileup_only:
            return []
        if not proc.bins:
            return [PoolSettings(proc.name, self.events, self.seed, self.ecm_gev)]
        per_bin = max(1, math.ceil(self.events / len(proc.bins)))
        return [PoolSettings(proc.name, per_bin, self.seed, self.ecm_gev, pthat=b) for b in proc.bins]


def pool_towers(pool: ParticlePool, l1: L1SimConfig, *, seed: int) -> TowerPool:
    """Apply the detector response to a whole pool."""
    return compute_towers(offsets=pool.offsets, pt=pool.pt, eta=pool.eta, phi=pool.phi, e=pool.e,
                          pid=pool.pid, charge=pool.charge, config=l1, seed=seed)


def build_source(
    spec: SampleSpec, *, l1: L1SimConfig | None = None, cache_dir: Path | None = None,
    progress: bool = True,
) -> tuple[PremixSource, dict[str, Any]]:
    """The premixed source for ``spec`` and its provenance (settings, seeds, σ, versions)."""
    l1 = l1 or L1SimConfig()
    mb = load_pool(spec.pileup_pool_settings(), cache_dir=cache_dir, progress=progress)
    pileup = pool_towers(mb, l1, seed=spec.pool_seed)
    hard_pools = [load_pool(s, cache_dir=cache_dir, progress=progress) for s in spec.hard_pool_settings()]
    hard: TowerPool | None = None
    weights: np.ndarray | None = None
    truth: dict[str, np.ndarray] | None = None
    if hard_pools:
        truth = concat_truth([load_truth(p, cache_dir=cache_dir) for p in hard_pools])
        hard = concat_tower_pools([pool_towers(p, l1, seed=spec.seed + i) for i, p in enumerate(hard_pools)])
        if len(hard_pools) > 1:
            weights = np.concatenate([np.full(len(p), p.sigma_mb * _MB_TO_PB / len(p)) for p in hard_pools])
    source = PremixSource(
        pileup, config=PremixConfig(mu=spec.mu, events=spec.events, seed=spec.seed),
        hard=hard, hard_weights=weights, hard_columns=truth, l1=l1, name=f"{spec.process}-pu{spec.mu:g}",
    )
    provenance = {
        "generator": "l1emu premix", "spec": asdict(spec), "l1sim": asdict(l1),
        "pileup_pool": {"sigma_mb": mb.sigma_mb, **mb.meta},
        "hard_pools": [{"sigma_mb": p.sigma_mb, "pthat": p.settings.pthat, "events": len(p),
                        "pythia_lines": list(p.settings.pythia_lines())} for p in hard_pools],
        "weight_unit": "pb per event (sigma_bin / N_bin)" if weights is not None else "1",
        "gen_columns": {"format": TRUTH_FORMAT, "unit": "GeV",
                        "definitions": {c: TRUTH_DEFINITIONS[c] for c in GEN_COLUMNS}} if truth is not None else {},
    }
    return source, provenance
