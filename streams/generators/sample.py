"""Build a premixed sample: cached pools → detector response → :class:`PremixSource`.

The minimum-bias (pileup) pool has its own seed (``pool_seed``), so samples with
different seeds share one cached pool; the hard-scatter pool of a signal process
uses the sample seed. Zero bias (``minbias``) is *stitched* by default: soft minimum
bias below p̂T₀ plus importance-sampled hard pools (:data:`STITCH_COMPONENTS`, also
seeded by ``pool_seed``) with exact weights (:mod:`streams.generators.stitch`);
``stitch=False`` gives plain, unweighted minimum bias. QCD is generated in p̂T bins whose events carry the weight
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

from streams.errors import ConfigError
from streams.generators.pool import ParticlePool, PoolSettings, load_pool
from streams.generators.pool_jobs import prefetch_pools
from streams.generators.premix import PremixConfig, PremixSource, Stitching
from streams.generators.processes import STITCH_COMPONENTS, StitchComponent, get_process
from streams.generators.stitch import DEFENSIVE, HardComponent, StitchPlan, defensive_mixture
from streams.generators.truth import GEN_COLUMNS, TRUTH_DEFINITIONS, TRUTH_FORMAT, concat_truth, load_truth
from streams.l1sim.config import L1SimConfig
from streams.l1sim.response import TowerPool, compute_towers, concat_tower_pools

__all__ = ["DEFAULT_HARD_EVENTS", "SampleSpec", "build_source", "pool_towers", "stitched_pool"]

log = logging.getLogger(__name__)

_MB_TO_PB = 1e9
#: Hard events of a stitched zero-bias sample (all pools): ~80 s of Pythia here, cached afterwards.
DEFAULT_HARD_EVENTS = 14_000
_MIN_POOL = 100  # events of the smallest hard pool


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
    stitch: bool = True  # zero bias: soft pool + weighted hard pools (False: plain minimum bias)
    hard_events: int = DEFAULT_HARD_EVENTS  # hard events of a stitched sample, shared by its pools as they are drawn
    pthat_min: float = 20.0  # p̂T₀ of the soft/hard split, GeV
    mu_profile: tuple[float, ...] = ()  # ⟨μ⟩ per chunk of 1024 crossings, cycled; empty: ``mu``
    muon_boost: float = 30.0  # stitched zero bias: rare decays in flight forced ×30, weighted back
    neighbour_muons: tuple[int, ...] = ()  # crossing offsets whose muons are written too (bx −1: (-1,))

    def __post_init__(self) -> None:
        get_process(self.process)
        if self.hard_events < 1 or not self.pthat_min > 0:
            msg = f"hard_events must be >= 1 and pthat_min > 0, got {self.hard_events}, {self.pthat_min}"
            raise ConfigError(msg)

    @property
    def stitched(self) -> bool:
        return self.stitch and get_process(self.process).pileup_only

    def stitch_pool_settings(self) -> list[tuple[StitchComponent, PoolSettings]]:
        """The hard pools of a stitched zero-bias sample (none otherwise); bins start at ``pthat_min``."""
        if not self.stitched:
            return []
        comps = [c for c in STITCH_COMPONENTS if c.pthat is None or c.pthat[1] < 0 or c.pthat[1] > self.pthat_min]
        share = defensive_mixture(np.array([c.sigma_hint_mb for c in comps]), DEFENSIVE)
        out = []
        for c, q in zip(comps, share, strict=True):
            pthat = None if c.pthat is None else (max(c.pthat[0], self.pthat_min), c.pthat[1])
            n = max(_MIN_POOL, round(self.hard_events * float(q)))
            out.append((c, PoolSettings(c.process, n, self.pool_seed, self.ecm_gev, pthat=pthat)))
        return out

    def pool_settings(self) -> list[PoolSettings]:
        """Every pool this sample draws from (pileup, hard scatter, stitched hard pools), each once."""
        stitch = [s for _, s in self.stitch_pool_settings()] if self.stitched else []
        found = [self.pileup_pool_settings(), *self.hard_pool_settings(), *stitch]
        return list({s.filename(): s for s in found}.values())

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


def stitched_pool(
    spec: SampleSpec, mb: ParticlePool, mb_towers: TowerPool, l1: L1SimConfig, *, cache_dir: Path | None,
    progress: bool,
) -> tuple[TowerPool, Stitching]:
    """Soft minimum bias + hard pools as one tower pool, and the stitching plan over it."""
    planned = spec.stitch_pool_settings()
    pools = [load_pool(s, cache_dir=cache_dir, progress=progress) for _, s in planned]
    comps, first = [], 0
    for (c, _), p in zip(planned, pools, strict=True):
        comps.append(HardComponent(c.name, p.sigma_mb, len(p), first, c.in_minbias))
        first += len(p)
    plan = StitchPlan(sigma_inel_mb=mb.sigma_mb, pthat_min=spec.pthat_min, components=tuple(comps))
    towers = [pool_towers(p, l1, seed=spec.pool_seed + 1 + k) for k, p in enumerate(pools)]
    soft = np.flatnonzero(mb.event_pthat() < spec.pthat_min).astype(np.int64)
    log.info("stitched zero bias: %d soft of %d minimum-bias events, %d hard events in %d pools",
             len(soft), len(mb), first, len(pools))
    return concat_tower_pools([mb_towers, *towers]), Stitching(plan, soft, len(mb))


def build_source(
    spec: SampleSpec, *, l1: L1SimConfig | None = None, cache_dir: Path | None = None,
    progress: bool = True, pool_jobs: int | None = None,
) -> tuple[PremixSource, dict[str, Any]]:
    """The premixed source for ``spec`` and its provenance (settings, seeds, σ, versions).

    Pools missing from the cache are generated first, in up to ``pool_jobs`` processes (default:
    the CPUs this process may use; 1: one after the other, here).
    """
    l1 = l1 or L1SimConfig()
    prefetch_pools(spec.pool_settings(), cache_dir=cache_dir, jobs=pool_jobs)
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
    stitch: Stitching | None = None
    if spec.stitched:
        pileup, stitch = stitched_pool(spec, mb, pileup, l1, cache_dir=cache_dir, progress=progress)
    config = PremixConfig(mu=spec.mu, events=spec.events, seed=spec.seed, mu_profile=spec.mu_profile,
                          muon_boost=spec.muon_boost if spec.stitched else 1.0,
                          neighbour_muons=tuple(spec.neighbour_muons))
    source = PremixSource(
        pileup, config=config, hard=hard, hard_weights=weights, hard_columns=truth, l1=l1,
        name=f"{spec.process}-pu{spec.mu:g}", stitch=stitch, pileup_pthat=mb.event_pthat(),
        cluster_pthat=spec.pthat_min,
    )
    provenance = {
        "generator": "l1emu premix", "spec": asdict(spec), "l1sim": asdict(l1),
        "pileup_pool": {"sigma_mb": mb.sigma_mb, **mb.meta},
        "hard_pools": [{"sigma_mb": p.sigma_mb, "pthat": p.settings.pthat, "events": len(p),
                        "pythia_lines": list(p.settings.pythia_lines())} for p in hard_pools],
        "weight_unit": ("pb per event (sigma_bin / N_bin)" if weights is not None
                        else "likelihood ratio to plain minimum bias (mean 1)" if stitch is not None else "1"),
        "stitching": stitch.plan.describe() if stitch is not None else None,
        "hard_event": "pool event that makes the crossing hard (stitched: rarest hard interaction; plain: "
                      "hardest pileup event with pthat >= pthat_min; signal: the hard scatter); -1: none",
        "gen_columns": {"format": TRUTH_FORMAT, "unit": "GeV",
                        "definitions": {c: TRUTH_DEFINITIONS[c] for c in GEN_COLUMNS}} if truth is not None else {},
    }
    return source, provenance
