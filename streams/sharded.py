"""Premixed samples generated on Dask as shards plus a manifest (``l1emu generate --dask``).

Every crossing is a function of the sample seed and its crossing number alone
(:meth:`~streams.generators.premix.PremixSource.batch_at`), so shard *k* — crossings
``k·S … (k+1)·S − 1`` for ``S = shard_events`` — has the same content whichever worker
writes it and however many there are. First the pools are made (one task per pool, cached
in ``cache_dir``, which the workers must share); then each worker builds the premixed source
once from the cache and writes its shards; the manifest (:mod:`streams.shards`) is written
here last. ``--source manifest.h5`` then reads the whole sample.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.errors import SourceError
from streams.generators import SampleSpec, build_source
from streams.generators.pool_jobs import make_pool
from streams.generators.premix import PremixSource
from streams.hdf5 import HDF5Writer
from streams.run.dask import DaskSession, Failure, ordered_map
from streams.shards import Manifest, Shard, shard_name, write_manifest

__all__ = ["ShardJob", "generate_sharded", "make_pool", "shard_dir", "write_shard"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ShardJob:
    """Crossings ``first … first + events − 1`` of ``spec`` into the shard file ``path``."""

    spec: SampleSpec
    cache_dir: str | None
    path: str
    name: str
    first: int
    events: int
    batch_size: int


def shard_dir(manifest: Path) -> Path:
    """Where the shards of ``manifest`` go: ``zb.h5`` → ``zb.shards/``."""
    return manifest.with_name(manifest.stem + ".shards")


_lock = threading.Lock()
_built: dict[tuple[SampleSpec, str | None], tuple[PremixSource, dict[str, Any]]] = {}


def _source(spec: SampleSpec, cache_dir: str | None) -> tuple[PremixSource, dict[str, Any]]:
    with _lock:
        hit = _built.get((spec, cache_dir))
        if hit is None:
            _built.clear()  # one sample at a time per worker: pools are large
            hit = build_source(spec, cache_dir=Path(cache_dir) if cache_dir else None, progress=False,
                               pool_jobs=1)  # the pools were made as tasks; a worker has no child processes
            _built[(spec, cache_dir)] = hit
    return hit


def write_shard(job: ShardJob) -> tuple[Shard, dict[str, Any]]:
    """Write one shard; its manifest entry and the sample's provenance."""
    source, provenance = _source(job.spec, job.cache_dir)
    shard = {"name": job.name, "first": job.first, "events": job.events}
    with HDF5Writer(job.path, provenance={**provenance, "shard": shard}) as writer:
        for first in range(job.first, job.first + job.events, job.batch_size):
            writer.append(source.batch_at(first, min(job.batch_size, job.first + job.events - first)))
    return Shard(f"{Path(job.path).parent.name}/{job.name}", job.first, job.events), provenance


def generate_sharded(
    session: DaskSession, spec: SampleSpec, out: Path, *, shard_events: int, batch_size: int = 4096,
    cache_dir: Path | None = None, on_progress: Callable[[int, int], None] | None = None,
) -> Manifest:
    """Pools, then shards of ``shard_events`` crossings on the cluster, then the manifest ``out``."""
    if shard_events < 1:
        msg = f"--shard-events {shard_events}: must be >= 1"
        raise SourceError(msg)
    cache = str(cache_dir) if cache_dir else None
    window = 3 * max(session.n_workers(), 1) + 2
    for settings, made in ordered_map(session.client, make_pool, [(s, cache) for s in spec.pool_settings()],
                                      window=window, name="l1emu-pool"):
        if isinstance(made, Failure):
            msg = f"pool {settings[0].filename()} failed on the cluster: {type(made.error).__name__}: {made.error}"
            raise SourceError(msg)
        log.info("pool %s: %d events", settings[0].filename(), made)
    folder = shard_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [ShardJob(spec, cache, str(folder / shard_name(k)), shard_name(k), first,
                     min(shard_events, spec.events - first), batch_size)
            for k, first in enumerate(range(0, spec.events, shard_events))]
    done = 0

    def finished(job: ShardJob) -> None:
        nonlocal done
        done += job.events
        if on_progress is not None:
            on_progress(done, spec.events)

    shards: list[Shard] = []
    provenance: dict[str, Any] = {}
    for job, result in ordered_map(session.client, write_shard, jobs, window=window, name="l1emu-shard",
                                   on_done=finished):
        if isinstance(result, Failure):
            msg = (f"shard {job.name} (crossings {job.first}-{job.first + job.events - 1}) failed on the cluster: "
                   f"{type(result.error).__name__}: {result.error}")
            raise SourceError(msg)
        shard, provenance = result
        shards.append(shard)
    sample = {"shard_events": shard_events, "shards": len(shards)}
    return write_manifest(out, shards, provenance={**provenance, "sharded": sample})
