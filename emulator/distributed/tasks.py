"""What a Dask worker runs: the chain's :class:`~emulator.pipeline.Pipeline` over one partition.

A task carries the chain, where the events are (a :class:`~streams.run.SourceSpec` every host
can open, or a shard file), the partition and an *extract*: what to keep of each processed
batch (the columns a rate sink reads, critical values of a scan, scores). The worker builds
the pipeline once per process (warm-up included) and reuses it for every later task of the
same chain; it returns the extracts batch by batch with the partition's per-stage timings.
Tasks are pure functions of their inputs, so a rerun after a lost worker gives the same result.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from emulator.chain import ChainConfig
from emulator.executor import Extract
from emulator.pipeline import Pipeline, StageTimings
from streams.errors import ConfigError
from streams.event import EventBatch
from streams.latency import LatencyRecorder
from streams.partitions import Partition, read_partition
from streams.run import SourceSpec
from streams.sources import open_source
from streams.sources.base import Source

__all__ = ["ColumnsExtract", "PartitionOutput", "PartitionTask", "PipelineSpec", "merge_timings", "run_partition",
           "warm_worker"]

_CACHED = 4  # pipelines and sources kept per worker thread

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class PipelineSpec:
    """The pipeline a task runs: the chain and the algorithm types left out; ``token`` keys the
    workers' caches (the same chain and selection give the same token)."""

    chain: ChainConfig
    skip_types: tuple[str, ...] = ()
    token: str = field(default="", compare=False)

    @classmethod
    def of(cls, chain: ChainConfig, *, skip_types: Collection[str] = ()) -> PipelineSpec:
        skip = tuple(sorted(t.lower() for t in skip_types))
        digest = hashlib.sha256(pickle.dumps((chain, skip))).hexdigest()[:16]
        return cls(chain, skip, digest)

    def build(self) -> Pipeline:
        pipe = Pipeline.from_chain(self.chain, skip_types=set(self.skip_types))
        pipe.warm_up()
        return pipe


@dataclass(frozen=True, slots=True)
class PartitionTask:
    """One partition through one pipeline, reduced by ``extract``."""

    pipeline: PipelineSpec
    source: SourceSpec
    part: Partition
    batch_size: int
    extract: Extract


@dataclass
class PartitionOutput:
    """The extract of each batch (``(first event, columns)`` in order) and the per-stage timings."""

    part: Partition
    batches: list[tuple[int, dict[str, np.ndarray]]]
    timings: dict[str, StageTimings]
    seconds: float

    @property
    def events(self) -> int:
        return sum(len(next(iter(cols.values()), ())) for _, cols in self.batches)


@dataclass(frozen=True, slots=True)
class ColumnsExtract:
    """Keep ``columns`` of every batch; a missing one is a ConfigError naming ``where``."""

    columns: tuple[str, ...]
    where: str = "the chain"

    def __call__(self, batch: EventBatch) -> dict[str, np.ndarray]:
        missing = [c for c in self.columns if c not in batch]
        if missing:
            msg = f"{self.where}: no algorithm of the chain adds column(s) {missing}"
            raise ConfigError(msg)
        return {c: np.asarray(batch[c]) for c in self.columns}


_lock = threading.Lock()
_pipelines: OrderedDict[tuple[str, int], Pipeline] = OrderedDict()
_sources: OrderedDict[tuple[SourceSpec, int], Source] = OrderedDict()


def _cached(cache: OrderedDict[tuple[K, int], V], key: K, make: Callable[[], V]) -> V:
    """``cache[key]`` for this thread (a pipeline is not shared between threads), else ``make()``."""
    k = (key, threading.get_ident())
    with _lock:
        if k in cache:
            cache.move_to_end(k)
            return cache[k]
    value = make()
    with _lock:
        cache[k] = value
        while len(cache) > _CACHED:
            cache.popitem(last=False)
    return value


def _pipeline(spec: PipelineSpec) -> Pipeline:
    return _cached(_pipelines, spec.token, spec.build)


def _source(spec: SourceSpec) -> Source:
    return _cached(_sources, spec, lambda: open_source(spec.path, events=spec.events, mu=spec.mu, seed=spec.seed))


def warm_worker(spec: PipelineSpec) -> str:
    """Build (and warm up) the pipeline on this worker now, before any timing starts."""
    _pipeline(spec)
    return spec.token


def run_partition(task: PartitionTask) -> PartitionOutput:
    """The pipeline over ``task.part``; what ``task.extract`` keeps of each batch."""
    t0 = time.perf_counter()
    pipe = _pipeline(task.pipeline)
    pipe.timings = {s.name: StageTimings() for s in pipe.stages}
    source = None if task.part.shard is not None else _source(task.source)
    out = [(batch.meta.first, task.extract(pipe.run(batch)))
           for batch in read_partition(source, task.part, batch_size=task.batch_size)]
    return PartitionOutput(task.part, out, pipe.timings, time.perf_counter() - t0)


def merge_timings(into: dict[str, LatencyRecorder], per_event: dict[str, LatencyRecorder],
                  timings: dict[str, StageTimings]) -> None:
    """Append a partition's per-stage samples (per batch, per event) to the run's recorders."""
    for name, t in timings.items():
        for dst, src in ((into.setdefault(name, LatencyRecorder()), t.batch),
                         (per_event.setdefault(name, LatencyRecorder()), t.event)):
            # LatencyRecorder keeps its samples; a partition's are appended in partition order
            dst._values.extend(src._values)
            dst._weights.extend(src._weights)
