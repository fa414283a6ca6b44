"""Generate the missing pools of a sample in parallel processes, before it is built.

A first ``l1emu generate`` (or a clean CI machine) generates a stitched sample's pools one after
the other: the minimum-bias pool and eleven hard pools, minutes of Pythia on one core while the
others idle. :func:`prefetch_pools` runs the missing ones in a process pool (largest first), each
child writing the cache exactly as :func:`~streams.generators.pool.load_pool` does; the sample is
then built from the cache. Pools are the same whichever process makes them (Pythia is seeded from
the settings).

>>> prefetch_pools([], cache_dir=None)
[]
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from streams.errors import ConfigError
from streams.generators.pool import PoolSettings, load_pool, pool_path

__all__ = ["available_cpus", "default_jobs", "make_pool", "missing_pools", "prefetch_pools"]

log = logging.getLogger(__name__)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def default_jobs() -> int:
    """``$L1EMU_POOL_JOBS`` if set (1: generate in this process), else :func:`available_cpus`."""
    text = os.environ.get("L1EMU_POOL_JOBS", "").strip()
    if not text:
        return available_cpus()
    if not text.isdigit() or int(text) < 1:
        msg = f"L1EMU_POOL_JOBS={text!r}: expected a number of processes >= 1"
        raise ConfigError(msg)
    return int(text)


def missing_pools(settings: Sequence[PoolSettings], cache_dir: Path | None) -> list[PoolSettings]:
    """The distinct settings whose pool file is not in the cache, largest first."""
    todo = {s: None for s in settings if not pool_path(s, cache_dir).exists()}
    return sorted(todo, key=lambda s: -s.events)


def make_pool(task: tuple[PoolSettings, str | None]) -> int:
    """Generate one pool into the cache (or find it there); its number of events. A task of a
    process pool here and of a Dask cluster (``streams.sharded``): arguments that pickle small."""
    settings, cache_dir = task
    return len(load_pool(settings, cache_dir=Path(cache_dir) if cache_dir else None, progress=False))


def prefetch_pools(settings: Sequence[PoolSettings], *, cache_dir: Path | None,
                   jobs: int | None = None) -> list[PoolSettings]:
    """Generate the missing pools of ``settings`` in up to ``jobs`` processes (default: :func:`default_jobs`);
    the ones generated here. With one job or one missing pool nothing is done here (the sample's
    own :func:`load_pool` calls generate it, with their progress bars)."""
    todo = missing_pools(settings, cache_dir)
    n = min(len(todo), jobs if jobs is not None else default_jobs())
    if n <= 1:
        return []
    log.info("generating %d pools in %d processes (%s)", len(todo), n, ", ".join(s.filename() for s in todo))
    ctx = multiprocessing.get_context("spawn")  # no inherited threads or numba state
    with ProcessPoolExecutor(n, mp_context=ctx) as pool:
        cache = str(cache_dir) if cache_dir else None
        for s, events in zip(todo, pool.map(make_pool, [(s, cache) for s in todo]), strict=True):
            log.info("pool %s: %d events written", s.filename(), events)
    return todo
