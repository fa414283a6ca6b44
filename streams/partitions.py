"""Contiguous partitions of a source: event ranges any host can read back on its own.

A partition is the events ``start … stop − 1`` of a source (global sequence numbers, as
producers and the collector count them). Partitions start on batch boundaries, so a
partition's batches are the source's own batches; they never straddle a shard of a
manifest (:mod:`streams.shards`), whose events are read from the shard file itself.

>>> parts = plan_partitions(10_000, batch_size=1000, partition_events=3000)
>>> [(p.start, p.stop) for p in parts]
[(0, 3000), (3000, 6000), (6000, 9000), (9000, 10000)]
>>> from streams.sources import open_source
>>> src = open_source(None, events=10_000, mu=20.0)
>>> [(b.meta.first, len(b)) for b in read_partition(src, parts[3], batch_size=600)]
[(9000, 600), (9600, 400)]
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import h5py
import numpy as np

from streams.errors import ConfigError, SourceError
from streams.event import BatchMeta, EventBatch
from streams.hdf5 import HDF5Source
from streams.sources import LimitedSource
from streams.sources.base import Source

__all__ = ["Partition", "default_partition_events", "plan_partitions", "read_partition"]

_READ_EVENTS = 1 << 15  # events per h5py read (h5py costs per call)


@dataclass(frozen=True, slots=True)
class Partition:
    """Events ``start … stop − 1``; ``shard``: the file holding them, its first event ``offset``."""

    index: int
    start: int
    stop: int
    shard: str | None = None
    offset: int = 0

    @property
    def events(self) -> int:
        return self.stop - self.start

    def describe(self) -> str:
        """``partition 3 (events 300-399 of shard-00001.h5)``: how errors name it."""
        where = f" of {Path(self.shard).name}" if self.shard else ""
        return f"partition {self.index} (events {self.start}-{self.stop - 1}{where})"


def default_partition_events(n_events: int, *, batch_size: int, workers: int) -> int:
    """About four partitions a worker (for balance and reruns), 1-64 batches each."""
    per = math.ceil(n_events / max(4 * workers, 1) / batch_size)
    return min(max(per, 1), 64) * batch_size


def plan_partitions(
    n_events: int, *, batch_size: int, partition_events: int, first_index: int = 0, offset: int = 0,
    shard: str | None = None,
) -> list[Partition]:
    """Partitions of ``n_events`` events from ``offset`` on, each a whole number of batches."""
    if batch_size < 1 or partition_events < 1:
        msg = f"batch size {batch_size} and partition size {partition_events} must be >= 1"
        raise ConfigError(msg)
    per = max(1, round(partition_events / batch_size)) * batch_size
    stop = offset + n_events
    return [Partition(first_index + i, s, min(s + per, stop), shard, offset if shard else 0)
            for i, s in enumerate(range(offset, stop, per))]


@runtime_checkable
class _RandomAccess(Protocol):
    """A source that builds any range of events directly (the premix generator)."""

    def batch_at(self, first: int, n: int) -> EventBatch: ...


def read_partition(source: Source | None, part: Partition, *, batch_size: int) -> Iterator[EventBatch]:
    """The batches of ``part`` (``meta.first`` global), read as directly as the source allows.

    A shard's partition reads its rows of the shard file (``source`` is not needed); l1emu
    HDF5 files read their row range; the premix generator builds the range; any other source
    yields the partition's batches as one-batch shards (``batches(bs, shard=(b, n))`` with ``n``
    batches in all: exactly batch ``b``, by the :class:`Source` contract).
    """
    if part.shard is not None:
        yield from _read_hdf5(Path(part.shard), part.start - part.offset, part.stop - part.offset,
                              batch_size=batch_size, first=part.start)
        return
    if source is None:
        msg = f"{part.describe()}: no source to read it from"
        raise SourceError(msg)
    if isinstance(source, LimitedSource):
        source = source.inner  # the plan already stops at the limit
    if isinstance(source, HDF5Source):
        yield from _read_hdf5(source.path, part.start, part.stop, batch_size=batch_size, first=part.start,
                              stream=source.name)
    elif isinstance(source, _RandomAccess):
        for first in range(part.start, part.stop, batch_size):
            yield source.batch_at(first, min(batch_size, part.stop - first))
    else:
        if part.start % batch_size:
            msg = f"{part.describe()}: does not start on a batch of {batch_size} events"
            raise ConfigError(msg)
        count = math.ceil(len(source) / batch_size)
        for b in range(part.start // batch_size, math.ceil(part.stop / batch_size)):
            batch = next(iter(source.batches(batch_size, shard=(b, count))), None)
            if batch is None or batch.meta.first != b * batch_size:
                msg = f"{source.name}: batch {b} of {batch_size} events missing ({part.describe()})"
                raise SourceError(msg)
            yield batch if batch.meta.first + len(batch) <= part.stop else batch.select(
                slice(0, part.stop - batch.meta.first))


def _read_hdf5(
    path: Path, row0: int, row1: int, *, batch_size: int, first: int, stream: str | None = None,
) -> Iterator[EventBatch]:
    """Rows ``row0 … row1 − 1`` of an l1emu HDF5 file as batches numbered from ``first``."""
    stream = stream or f"hdf5:{path.name}"
    try:
        with h5py.File(path, "r") as f:
            g = f["events"]
            n = min(len(g[c]) for c in g)
            if row1 > n:
                msg = f"{path}: {n} events, the partition needs rows {row0}-{row1 - 1}"
                raise SourceError(msg)
            per_block = max(1, _READ_EVENTS // batch_size) * batch_size
            for start in range(row0, row1, per_block):
                stop = min(start + per_block, row1)
                block = {c: np.asarray(g[c][start:stop]) for c in g}
                for a in range(start, stop, batch_size):
                    b = min(a + batch_size, stop)
                    cols = {c: v[a - start : b - start] for c, v in block.items()}
                    yield EventBatch(cols, BatchMeta(stream=stream, first=first + a - row0))
    except (OSError, KeyError) as exc:
        msg = f"{path}: read failed ({type(exc).__name__}: {exc}); is the file missing or truncated?"
        raise SourceError(msg) from exc
