"""Pileup by premixing: each bunch crossing sums Poisson(⟨μ⟩) pool events (+ a hard scatter).

Pool events are reused, decorrelated by a random φ rotation (whole towers, 5°) and
an η reflection. Draws are made in fixed chunks of crossings from
``default_rng([seed, chunk])``, and in-crossing randomness hashes the crossing
number, so the output is identical for any batch size. The true number of
pileup interactions of each crossing goes to the ``pileup`` column. Per-hard-event
columns (``hard_columns``, e.g. the ``gen_*`` truth) follow the hard scatter.

>>> import numpy as np
>>> from streams.l1sim.response import TowerPool
>>> z = np.zeros(0, np.float32)
>>> pool = TowerPool(np.array([0, 1]), np.array([40], np.uint8), np.array([3], np.uint8),
...                  np.array([48], np.uint16), np.array([48], np.uint16),
...                  np.array([0, 0]), z, z, z, np.zeros(0, np.int8), z)
>>> src = PremixSource(pool, config=PremixConfig(mu=5, events=10, seed=2))
>>> b = next(src.batches(4))
>>> len(b), b["pileup"].dtype.name, int(b.meta.first)
(4, 'float32', 0)
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

import numpy as np

from streams.errors import ConfigError
from streams.event import BatchMeta, EventBatch
from streams.filling import STANDARD
from streams.generators.stitch import StitchPlan
from streams.l1sim.config import L1SimConfig
from streams.l1sim.crossing import MUON_WEIGHT, CrossingEmulator, MuonBoost
from streams.l1sim.geometry import N_PHI
from streams.l1sim.response import TowerPool
from streams.schema import (
    ALLOWED_DTYPES,
    BASE_COLUMNS,
    COLLECTIONS,
    COLUMN_NAME_RE,
    HARD_EVENT,
    NEIGHBOUR_BX,
    neighbour_column,
)

__all__ = ["Draws", "PremixConfig", "PremixSource", "Stitching", "chunk_mu", "draw_crossings"]

_CHUNK = 1024
_COLLIDING = STANDARD.colliding_bx()  # crossings fill the colliding slots of the default fill in turn
_COLLIDES = STANDARD.signal("EXT_ZeroBias_BPTX_AND_VME")  # per slot (bx − 1): both beams
_MUON_COLUMNS = tuple(COLLECTIONS["muon"].column(f) for f in COLLECTIONS["muon"].fields)


def _neighbour_seed(seed: int, bx: int) -> int:
    """The seed of the crossings ``bx`` away: draws and in-crossing randomness independent of the central ones."""
    return seed + (bx + 3) * (1 << 40)


@dataclass(frozen=True, slots=True)
class PremixConfig:
    """How crossings are assembled from pools."""

    mu: float = 60.0  # ⟨μ⟩: mean pileup interactions per crossing
    events: int = 10_000  # crossings to produce
    seed: int = 1
    rotate: bool = True  # random φ rotation of each pileup event
    reflect: bool = True  # random η reflection of each pileup event
    poisson: bool = True  # False: exactly round(mu) interactions per crossing
    run: int = 1
    #: ⟨μ⟩ per chunk of 1024 crossings, cycled (a fill's μ profile); empty: ``mu`` everywhere
    mu_profile: tuple[float, ...] = ()
    #: forced decays in flight (:class:`~streams.l1sim.crossing.MuonBoost` factor; 1: off, unweighted)
    muon_boost: float = 1.0
    #: crossing offsets (−2, −1, 1, 2) whose muons are written too (``bxm1_mu_pt``, ...): each an
    #: independent crossing of the same kind where the fill has a colliding bunch there, none otherwise
    neighbour_muons: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        bad = [k for k in self.neighbour_muons if k not in NEIGHBOUR_BX]
        if bad or len(set(self.neighbour_muons)) != len(self.neighbour_muons):
            msg = f"neighbour_muons {list(self.neighbour_muons)}: distinct crossing offsets from {NEIGHBOUR_BX}"
            raise ConfigError(msg)
        for mu in (self.mu, *self.mu_profile):
            if not 0.0 <= mu <= 400.0:
                msg = f"pileup <mu> = {mu} outside 0 … 400"
                raise ConfigError(msg)
        if self.events < 0:
            msg = f"number of crossings must be >= 0, got {self.events}"
            raise ConfigError(msg)


@dataclass(frozen=True, slots=True)
class Draws:
    """Pool draws for a range of crossings."""

    counts: np.ndarray  # int64 (n,) pileup interactions per crossing
    idx: np.ndarray  # int64 (Σ counts,) pool event indices
    rot: np.ndarray  # int64 φ rotation in towers
    flip: np.ndarray  # bool η reflection
    weight: np.ndarray  # float64 (n,) stitching weight (1 without stitching)
    hard_event: np.ndarray  # int64 (n,) stitched: rarest hard event; else −1


@dataclass(frozen=True, slots=True)
class Stitching:
    """A stitched sample's plan, the soft events' pool indices, and where hard events start."""

    plan: StitchPlan
    soft: np.ndarray  # int64 pool indices of the soft (p̂T < p̂T₀) minimum-bias events
    hard_offset: int  # pool index of the first hard event


def chunk_mu(config: PremixConfig, chunk: int) -> float:
    """⟨μ⟩ of a chunk of crossings."""
    return config.mu_profile[chunk % len(config.mu_profile)] if config.mu_profile else config.mu


def _chunk_draws(config: PremixConfig, chunk: int, pool_size: int, stitch: Stitching | None) -> Draws:
    rng = np.random.default_rng([config.seed, chunk])
    mu = chunk_mu(config, chunk)
    if stitch is not None:
        return _stitched_draws(config, rng, mu, stitch)
    if config.poisson:
        counts = rng.poisson(mu, _CHUNK).astype(np.int64)
    else:
        counts = np.full(_CHUNK, round(mu), np.int64)
    total = int(counts.sum())
    idx = rng.integers(0, pool_size, total, dtype=np.int64)
    rot = rng.integers(0, N_PHI, total, dtype=np.int64) if config.rotate else np.zeros(total, np.int64)
    flip = rng.random(total) < 0.5 if config.reflect else np.zeros(total, np.bool_)
    return Draws(counts, idx, rot, flip, np.ones(_CHUNK), np.full(_CHUNK, -1, np.int64))


def _stitched_draws(config: PremixConfig, rng: np.random.Generator, mu: float, stitch: Stitching) -> Draws:
    """Soft draws then hard draws, merged crossing by crossing (soft first)."""
    soft_mu = float(stitch.plan.soft_mu(np.array([mu]))[0])
    soft = rng.poisson(soft_mu, _CHUNK).astype(np.int64) if config.poisson else np.full(
        _CHUNK, round(soft_mu), np.int64)
    soft_idx = stitch.soft[rng.integers(0, max(len(stitch.soft), 1), int(soft.sum()), dtype=np.int64)]
    hard = stitch.plan.draw(rng, np.full(_CHUNK, mu))
    crossing = np.concatenate([np.repeat(np.arange(_CHUNK), soft), np.repeat(np.arange(_CHUNK), hard.counts)])
    order = np.argsort(crossing, kind="stable")
    idx = np.concatenate([soft_idx, hard.event + stitch.hard_offset])[order]
    total = len(idx)
    rot = rng.integers(0, N_PHI, total, dtype=np.int64) if config.rotate else np.zeros(total, np.int64)
    flip = rng.random(total) < 0.5 if config.reflect else np.zeros(total, np.bool_)
    return Draws(soft + hard.counts, idx, rot, flip, hard.weight, hard.hard_event)


def draw_crossings(
    config: PremixConfig, first: int, n: int, pool_size: int, stitch: Stitching | None = None,
) -> Draws:
    """Draws for crossings ``first … first + n − 1`` (independent of how they are batched)."""
    if pool_size < 1 and (config.mu > 0 or any(config.mu_profile)):
        msg = "cannot draw pileup from an empty pool"
        raise ConfigError(msg)
    parts = []
    for chunk in range(first // _CHUNK, (first + n - 1) // _CHUNK + 1 if n else first // _CHUNK):
        d = _chunk_draws(config, chunk, max(pool_size, 1), stitch)
        lo = max(first - chunk * _CHUNK, 0)
        hi = min(first + n - chunk * _CHUNK, _CHUNK)
        start = np.concatenate([[0], np.cumsum(d.counts)])
        a, b = int(start[lo]), int(start[hi])
        parts.append(Draws(d.counts[lo:hi], d.idx[a:b], d.rot[a:b], d.flip[a:b], d.weight[lo:hi],
                           d.hard_event[lo:hi]))
    fields = ("counts", "idx", "rot", "flip", "weight", "hard_event")
    if not parts:
        return Draws(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.bool_),
                     np.zeros(0), np.zeros(0, np.int64))
    return Draws(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


class PremixSource:
    """A :class:`~streams.sources.base.Source` of premixed, L1-emulated crossings.

    With a ``hard`` pool, crossing ``i`` also contains hard-scatter event
    ``i mod len(hard)``; ``hard_weights`` (one per hard event) fill ``weight``, and
    each ``hard_columns`` array (one value per hard event) becomes an extra column.
    With ``stitch``, ``pileup`` holds the soft and the hard events and every crossing
    is drawn from the stitching plan with its weight (:mod:`streams.generators.stitch`).
    ``pileup_pthat`` (p̂T per pool event) names, for plain minimum bias, the crossing's
    hardest pool event above ``cluster_pthat`` in :data:`HARD_EVENT`.
    """

    def __init__(
        self, pileup: TowerPool, *, config: PremixConfig, hard: TowerPool | None = None,
        hard_weights: np.ndarray | None = None, hard_columns: Mapping[str, np.ndarray] | None = None,
        l1: L1SimConfig | None = None, name: str = "premix", stitch: Stitching | None = None,
        pileup_pthat: np.ndarray | None = None, cluster_pthat: float = 20.0,
    ) -> None:
        self.config = config
        self.name = name
        self.stitch = stitch
        self._pthat = pileup_pthat
        self._cluster_pthat = cluster_pthat
        self._n_pool = len(pileup)
        if stitch is not None and (hard is not None or stitch.hard_offset + stitch.plan.n_hard_events > len(pileup)):
            msg = "a stitched source takes its hard events from the pileup pool, not from a hard-scatter pool"
            raise ConfigError(msg)
        if stitch is not None and len(stitch.soft) == 0:
            msg = f"stitched sample: no soft minimum-bias events (pthat < {stitch.plan.pthat_min:g} GeV) in the pool"
            raise ConfigError(msg)
        self._hard_n = len(hard) if hard is not None else 0
        if hard is not None and self._hard_n == 0:
            msg = "hard-scatter pool is empty"
            raise ConfigError(msg)
        if hard_weights is not None and len(hard_weights) != self._hard_n:
            msg = f"{len(hard_weights)} hard-scatter weights for {self._hard_n} hard-scatter events"
            raise ConfigError(msg)
        self._weights = hard_weights
        self._hard_columns = self._check_hard_columns(dict(hard_columns or {}))
        self.emulator = CrossingEmulator(pileup, hard, config=l1, seed=config.seed,
                                         muon_boost=MuonBoost(config.muon_boost))
        self._neighbours = {
            k: (replace(config, seed=_neighbour_seed(config.seed, k), neighbour_muons=()),
                CrossingEmulator(pileup, None, config=l1, seed=_neighbour_seed(config.seed, k),
                                 muon_boost=MuonBoost(config.muon_boost)))
            for k in config.neighbour_muons
        }

    def with_l1(self, l1: L1SimConfig) -> PremixSource:
        """The same crossings emulated with another object-finding configuration, sharing the tower pools
        (no new detector response: ``l1.response_key()`` must equal this source's)."""
        new = copy.copy(self)
        new.emulator = self.emulator.reconfigured(l1)
        new._neighbours = {k: (cfg, emu.reconfigured(l1)) for k, (cfg, emu) in self._neighbours.items()}
        return new

    def _check_hard_columns(self, cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if cols and not self._hard_n:
            msg = f"hard_columns {sorted(cols)} given without a hard-scatter pool"
            raise ConfigError(msg)
        for name, arr in cols.items():
            if name in BASE_COLUMNS or not COLUMN_NAME_RE.match(name):
                msg = f"hard column name {name!r} is a base column or does not match {COLUMN_NAME_RE.pattern}"
                raise ConfigError(msg)
            if arr.shape != (self._hard_n,) or arr.dtype.str not in ALLOWED_DTYPES:
                msg = f"hard column {name!r}: {arr.dtype}{arr.shape}, expected one value per {self._hard_n} hard events"
                raise ConfigError(msg)
        return cols

    def __len__(self) -> int:
        return self.config.events

    def batch_at(self, first: int, n: int) -> EventBatch:
        """Crossings ``first … first + n − 1`` as one batch."""
        d = draw_crossings(self.config, first, n, self._n_pool, self.stitch)
        gid = np.arange(first, first + n, dtype=np.int64)
        hard = gid % self._hard_n if self._hard_n else None
        cols = self.emulator.emulate(draw_counts=d.counts, draw_idx=d.idx, draw_rot=d.rot,
                                     draw_flip=d.flip, hard_idx=hard, first_gid=first)
        weight = (d.weight * cols.pop(MUON_WEIGHT)).astype(np.float32)
        if self._weights is not None and hard is not None:
            weight = self._weights[hard].astype(np.float32)
        cols |= {
            "run": np.full(n, self.config.run, np.uint32),
            "lumi": np.ones(n, np.uint32),
            "event": (gid + 1).astype(np.uint64),
            "bx": _COLLIDING[gid % len(_COLLIDING)],
            "pileup": d.counts.astype(np.float32),
            "weight": weight,
        }
        extra = {k: v[hard] for k, v in self._hard_columns.items()} if hard is not None else {}
        extra[HARD_EVENT] = self._hard_event(d, hard).astype(np.int32)
        for k in self._neighbours:
            muons, w = self._neighbour_muons(k, first, n, cols["bx"])
            extra |= muons
            cols["weight"] = (cols["weight"] * w).astype(np.float32)
        return EventBatch({**{k: cols[k] for k in BASE_COLUMNS}, **extra}, BatchMeta(stream=self.name, first=first))

    def _neighbour_muons(self, k: int, first: int, n: int, bx: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The muon columns of the crossings ``k`` away and their weight factor: independent pileup-only
        crossings (stitched like the central ones), empty where the fill has no colliding bunch."""
        config, emulator = self._neighbours[k]
        d = draw_crossings(config, first, n, self._n_pool, self.stitch)
        cols = emulator.emulate(draw_counts=d.counts, draw_idx=d.idx, draw_rot=d.rot, draw_flip=d.flip,
                                first_gid=first)  # fmt: skip
        collides = _COLLIDES[(bx.astype(np.int64) - 1 + k) % len(_COLLIDES)]
        weight = np.where(collides, d.weight * cols[MUON_WEIGHT], 1.0)
        out = {neighbour_column(c, k): np.where(collides[:, None], cols[c], 0).astype(cols[c].dtype)
               for c in _MUON_COLUMNS}  # fmt: skip
        return out, weight

    def _hard_event(self, d: Draws, hard: np.ndarray | None) -> np.ndarray:
        if self.stitch is not None:
            return d.hard_event
        if hard is not None:
            return hard
        if self._pthat is None or len(d.idx) == 0:
            return np.full(len(d.counts), -1, np.int64)
        return _hardest(d, self._pthat, self._cluster_pthat)

    def batches(self, batch_size: int, *, shard: tuple[int, int] = (0, 1)) -> Iterator[EventBatch]:
        """Batches ``i, i + n, …`` of ``shard=(i, n)``; crossings only depend on their number."""
        if batch_size < 1:
            msg = f"batch_size must be positive, got {batch_size}"
            raise ValueError(msg)
        index, count = shard
        for k, first in enumerate(range(0, self.config.events, batch_size)):
            if k % count == index:
                yield self.batch_at(first, min(batch_size, self.config.events - first))


def _hardest(d: Draws, pthat: np.ndarray, cut: float) -> np.ndarray:
    """Per crossing, the drawn pool event of highest p̂T if that is ≥ ``cut``, else −1."""
    n = len(d.counts)
    crossing = np.repeat(np.arange(n), d.counts)
    pt = pthat[d.idx]
    order = np.lexsort((pt, crossing))
    last = np.flatnonzero(np.diff(crossing[order], append=n))
    out = np.full(n, -1, np.int64)
    best = order[last]
    hard = pt[best] >= cut
    out[crossing[best][hard]] = d.idx[best][hard]
    return out
