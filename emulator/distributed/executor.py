"""The Dask executor of a replay, and the studies' passes on Dask.

Workers run the chain's :class:`~emulator.pipeline.Pipeline` on contiguous partitions of the
source and return, per batch, only the columns the :class:`~emulator.replay_report.RateSink`
reads (found by watching a sink on the first batch, so no list of them can go stale). This
process feeds the one sink with those batches **in partition order**, the global event order:
the prescale counters, and with them every count, are those of the in-process replay by
construction, for any number of workers and partitions and whatever order partitions finish
in. A partition rerun after a lost worker replaces nothing: its result is consumed once.
See docs/dask.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter as Tally
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from emulator.chain import ChainConfig
from emulator.distributed.tasks import (
    PartitionOutput,
    PartitionTask,
    PipelineSpec,
    merge_timings,
    run_partition,
    warm_worker,
)
from emulator.executor import Extract, ReplayJob
from emulator.menu import Menu
from emulator.replay_report import RateSink
from streams.collector import CollectorResult
from streams.errors import L1EmuError, StageError, TransportError
from streams.event import BatchMeta, EventBatch
from streams.partitions import Partition, default_partition_events, plan_partitions
from streams.run import SourceSpec
from streams.run.dask import DaskSession, DaskTarget, Failure, ordered_map
from streams.shards import read_manifest
from streams.sources.base import Source

__all__ = ["DaskExecutor", "DaskPasses", "SinkColumns", "partition_error", "plan_source"]

log = logging.getLogger(__name__)

_names_lock = threading.Lock()
_sink_names: dict[tuple[str, str | None, tuple[str, ...]], tuple[str, ...]] = {}


class _WatchedColumns(Mapping[str, np.ndarray]):
    """``batch.columns`` of a watched batch: look-ups are noted, iteration means every column."""

    def __init__(self, owner: _Watched) -> None:
        self._owner = owner

    def __getitem__(self, name: str) -> np.ndarray:
        self._owner.read.add(name)
        return self._owner.batch.columns[name]

    def __contains__(self, name: object) -> bool:
        if isinstance(name, str):
            self._owner.read.add(name)
        return name in self._owner.batch.columns

    def __iter__(self) -> Iterator[str]:
        self._owner.whole = True
        return iter(self._owner.batch.columns)

    def __len__(self) -> int:
        return len(self._owner.batch.columns)


class _Watched:
    """A batch that notes which columns are read (``in``, ``[]``, ``.columns`` look-ups); any
    iteration over its columns means the whole batch is needed."""

    def __init__(self, batch: EventBatch) -> None:
        self.batch = batch
        self.read: set[str] = set()
        self.whole = False
        self.columns = _WatchedColumns(self)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __len__(self) -> int:
        return len(self.batch)

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __getattr__(self, attr: str) -> Any:  # meta, select, ...: a derived batch may read anything
        if attr not in ("meta", "gid"):
            self.whole = True
        return getattr(self.batch, attr)


@dataclass(frozen=True, slots=True)
class SinkColumns:
    """The columns of a processed batch that a :class:`RateSink` of this menu reads."""

    menu: Menu
    chain: ChainConfig
    column: str | None = None

    def names(self, batch: EventBatch) -> tuple[str, ...]:
        key = (self.menu.name, self.column, tuple(batch))
        with _names_lock:
            found = _sink_names.get(key)
        if found is None:
            watched = _Watched(batch)
            scratch = RateSink(self.menu, self.chain, column=self.column)  # counts nothing that matters
            scratch.on_batch(cast(EventBatch, watched))
            found = tuple(batch) if watched.whole else tuple(c for c in batch if c in watched.read)
            with _names_lock:
                _sink_names[key] = found
        return found

    def __call__(self, batch: EventBatch) -> dict[str, np.ndarray]:
        return {c: batch[c] for c in self.names(batch)}


def plan_source(spec: SourceSpec, source: Source, *, batch_size: int, partition_events: int | None,
                workers: int) -> list[Partition]:
    """Partitions of the job's source: within each shard of a manifest, else of the whole source."""
    per = partition_events or default_partition_events(len(source), batch_size=batch_size, workers=workers)
    manifest = read_manifest(spec.path)
    if manifest is not None:
        return manifest.partitions(batch_size=batch_size, partition_events=per, limit=len(source))
    return plan_partitions(len(source), batch_size=batch_size, partition_events=per)


def partition_error(part: Partition, error: BaseException) -> L1EmuError:
    """The error that ends a run on a failed partition, naming it (same class for l1emu's own)."""
    msg = f"{part.describe()} failed on the cluster: {type(error).__name__}: {error}"
    if isinstance(error, L1EmuError):
        try:
            return type(error)(msg)
        except TypeError:
            return StageError(msg)
    if type(error).__name__ == "KilledWorker":
        return TransportError(msg + " (its workers kept dying: out of memory, or a crash in a kernel?)")
    return StageError(msg)


class DaskExecutor:
    """The job's pipeline on a Dask cluster, partition by partition; the sink fed here in order."""

    name = "dask"

    def __init__(self, target: DaskTarget, *, partition_events: int | None = None, skip_bad: bool = False,
                 dashboard_address: str | None = ":8787", on_status: Callable[[str], None] | None = None) -> None:
        self.target = target
        self.partition_events = partition_events
        self.skip_bad = skip_bad
        self.dashboard_address = dashboard_address
        self.on_status = on_status

    def execute(self, job: ReplayJob) -> tuple[RateSink, CollectorResult]:
        with DaskSession(self.target, dashboard_address=self.dashboard_address) as dask:
            info = dask.describe()
            if self.on_status is not None:
                self.on_status(f"dask: scheduler {info['scheduler']}, {info['workers']} workers, "
                               f"dashboard {info['dashboard'] or '(none)'}")
            bs = job.chain.stream.batch_size
            parts = plan_source(job.opts.source_spec(), job.source, batch_size=bs,
                                partition_events=self.partition_events, workers=max(info["workers"], 1))
            spec = PipelineSpec.of(job.chain)
            extract = SinkColumns(job.menu, job.chain, job.opts.column)
            tasks = [PartitionTask(spec, job.opts.source_spec(), p, bs, extract) for p in parts]
            _warm(dask, spec)
            sink = job.sink()
            result = self._run(dask, job, tasks, sink)
            job.run["dask"] = {**info, "workers": dask.n_workers(), "partitions": len(parts),
                               "partition_events": max((p.events for p in parts), default=0),
                               "skipped": job.run.get("skipped", [])}
            job.run.pop("skipped", None)
        return sink, result

    def _run(self, dask: DaskSession, job: ReplayJob, tasks: list[PartitionTask], sink: RateSink) -> CollectorResult:
        result = CollectorResult(complete=True)
        total = sum(t.part.events for t in tasks)
        done = 0
        skipped: list[dict[str, Any]] = []
        job.run["skipped"] = skipped

        def finished(task: PartitionTask) -> None:
            nonlocal done
            done += task.part.events
            if job.on_progress is not None:
                job.on_progress(done, total)

        result.t_first_origin = time.time()
        window = 3 * max(dask.n_workers(), 1) + 2
        for task, out in ordered_map(dask.client, run_partition, tasks, window=window, name="l1emu-replay",
                                     on_done=finished):
            part = task.part
            result.produced += part.events
            if isinstance(out, Failure):
                if not self.skip_bad:
                    raise partition_error(part, out.error)
                log.warning("skipping %s: %s: %s", part.describe(), type(out.error).__name__, out.error)
                result.errored += part.events
                result.errors[f"partition:{type(out.error).__name__}"] += 1
                skipped.append({"partition": part.index, "first": part.start, "events": part.events,
                                "shard": part.shard, "error": f"{type(out.error).__name__}: {out.error}"})
            else:
                _feed(sink, result, out)
            if job.stop.is_set():
                log.warning("stopped after %s", part.describe())
                break
        result.t_last_recv = time.time()
        return result


def _feed(sink: RateSink, result: CollectorResult, out: PartitionOutput) -> None:
    for first, cols in out.batches:
        batch = EventBatch.checked(cols, BatchMeta(stream=f"partition-{out.part.index}", first=first))
        sink.on_batch(batch)
        result.received += len(batch)
        result.batches += 1
    merge_timings(result.stage_batch, result.stage_event, out.timings)


def _warm(dask: DaskSession, spec: PipelineSpec) -> None:
    """Build the pipeline on every worker there now (JIT, model loads), outside the timed run."""
    client = dask.client
    workers = list(client.scheduler_info(n_workers=-1).get("workers", {}))
    futures = [client.submit(warm_worker, spec, workers=[w], allow_other_workers=False, pure=False,
                             key=f"l1emu-warm-{spec.token}-{i}-{time.monotonic_ns()}") for i, w in enumerate(workers)]
    client.gather(futures, errors="skip")  # a worker lost here is warmed by its first task instead


class DaskPasses:
    """A study's pass over a source on Dask: ``extract`` of every batch, in source order.

    >>> # with DaskSession(DaskTarget.parse("local:2")) as dask:
    >>> #     passes = DaskPasses(dask, SourceSpec(path="zb.h5"), source)
    >>> #     scan_thresholds(chain, source, requests, thresholds, passes=passes)
    """

    def __init__(self, session: DaskSession, spec: SourceSpec, source: Source, *, partition_events: int | None = None,
                 on_progress: Callable[[int, int], None] | None = None) -> None:
        self.session = session
        self.spec = spec
        self.source = source
        self.partition_events = partition_events
        self.on_progress = on_progress
        self.stats: Tally[str] = Tally()

    def map(self, chain: ChainConfig, extract: Extract, *, skip_types: Collection[str] = ()) -> Iterator[
            dict[str, np.ndarray]]:
        bs = chain.stream.batch_size
        parts = plan_source(self.spec, self.source, batch_size=bs, partition_events=self.partition_events,
                            workers=max(self.session.n_workers(), 1))
        spec = PipelineSpec.of(chain, skip_types=skip_types)
        tasks = [PartitionTask(spec, self.spec, p, bs, extract) for p in parts]
        total, done = sum(p.events for p in parts), 0

        def finished(task: PartitionTask) -> None:
            nonlocal done
            done += task.part.events
            if self.on_progress is not None:
                self.on_progress(done, total)

        window = 3 * max(self.session.n_workers(), 1) + 2
        for task, out in ordered_map(self.session.client, run_partition, tasks, window=window, name="l1emu-pass",
                                     on_done=finished):
            if isinstance(out, Failure):
                raise partition_error(task.part, out.error)
            self.stats["partitions"] += 1
            self.stats["events"] += out.events
            for _, cols in out.batches:
                yield cols
