"""The executor seam of a replay: what every executor is given and what it returns.

After coffea's processor/executor split: the chain's stages (one
:class:`~emulator.pipeline.Pipeline`) are the processor; an executor decides where they run —
in this process, streamed through node processes, or (later) on a cluster — and hands back
what the collector saw. :func:`emulator.replay.replay` prepares the :class:`ReplayJob`, picks
the executor and builds the same report from any of them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from emulator.chain import ChainConfig
from emulator.menu import Menu
from emulator.replay_report import RateSink
from streams.collector import CollectorResult
from streams.event import EventBatch
from streams.metrics import NodeMetrics
from streams.run import ChainOverrides, SourceSpec
from streams.sources.base import Source

__all__ = ["BatchPasses", "Executor", "Extract", "ReplayJob", "ReplayOptions"]

#: What a pass keeps of each processed batch: a few named columns (e.g. scores and weights).
Extract = Callable[[EventBatch], dict[str, np.ndarray]]


@dataclass(frozen=True, slots=True)
class ReplayOptions:
    """What ``l1emu replay`` was asked to do (CLI flags map 1:1 onto fields)."""

    config: str
    events: int | None = None
    source: str | None = None
    workers: int | None = None
    transport: Literal["ipc", "tcp"] | None = None
    rate_hz: float = 0.0
    producers: int = 1
    mu: float = 60.0
    seed: int = 1
    column: str | None = None
    in_process: bool = False
    progress: bool = False
    policy: Literal["block", "drop"] | None = None
    batch_size: int | None = None
    linger_s: float = 0.0  # keep nodes and metrics endpoints up after the last event
    run_dir: str | None = None  # node logs, nodes.json (pids) and progress.json go here
    max_restarts: int = 3  # dead workers replaced per replay (their in-flight events are lost)
    collect_timeout_s: float | None = None  # overrides stream.collect_timeout_s
    metrics_port: int | None = None  # base port of the nodes' metrics endpoints
    realtime_priority: int | None = None  # overrides stream.realtime_priority (SCHED_FIFO, 0: off)
    dask: str | None = None  # run on Dask: a scheduler address or local[:N] (docs/dask.md)
    partition_events: int | None = None  # events per Dask partition (default: about 4 per worker)
    skip_bad: bool = False  # a Dask partition that fails is reported as errored events, not fatal
    menu: str | None = None  # a menu run instead of the chain's (YAML, uGT XML or a menu reference)
    prescales: tuple[str, ...] = ()  # prescale tables and FinOR/veto masks (CSV or run-settings XML)

    def overrides(self, ipc_dir: str = "", menu: str = "") -> ChainOverrides:
        """The chain overrides these options ask for (``ipc_dir``: where ipc endpoints go; ``menu``: the
        menu file to run instead of the chain's, see :func:`emulator.launch.menu_reference`)."""
        return ChainOverrides(
            workers=self.workers, transport=self.transport, ipc_dir=ipc_dir, policy=self.policy,
            batch_size=self.batch_size, metrics_port=self.metrics_port, collect_timeout_s=self.collect_timeout_s,
            realtime_priority=self.realtime_priority, menu=menu,
        )

    def source_spec(self) -> SourceSpec:
        return SourceSpec(path=self.source, events=self.events, mu=self.mu, seed=self.seed)


@dataclass(frozen=True, slots=True)
class ReplayJob:
    """One resolved replay: the validated chain, its menu, the open source and the options."""

    opts: ReplayOptions
    chain: ChainConfig
    overrides: ChainOverrides
    menu: Menu
    source: Source
    run: dict[str, Any]  # the report's ``run`` section; executors may add to it
    stop: threading.Event
    on_progress: Callable[[int, int], None] | None = None

    def sink(self, metrics: NodeMetrics | None = None) -> RateSink:
        """A fresh rate accumulator for this job's menu (live rates into ``metrics`` when given)."""
        return RateSink(self.menu, self.chain, column=self.opts.column, metrics=metrics)


class Executor(Protocol):
    """Runs a job's pipeline over its source; returns the sink that saw every event and the accounting."""

    name: str

    def execute(self, job: ReplayJob) -> tuple[RateSink, CollectorResult]: ...


class BatchPasses(Protocol):
    """Runs a chain's pipeline over a source somewhere and hands back ``extract`` of every batch,
    in source order (the studies' distributed passes: :class:`emulator.distributed.DaskPasses`)."""

    def map(self, chain: ChainConfig, extract: Extract, *, skip_types: Collection[str] = ()) -> Iterator[
            dict[str, np.ndarray]]: ...
