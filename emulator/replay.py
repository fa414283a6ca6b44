"""``l1emu replay``: run a whole chain — producers, stage workers, collector.

Workers and producers are real processes (``python -m l1emu node|produce``), each
started from one launch plan this process resolves and writes (see
:mod:`emulator.launch`); the collector runs in this process, so the report is
assembled here. With
``in_process=True`` the same stages run in one loop without sockets (the
reference the streamed replay is compared with).
"""

from __future__ import annotations

import logging
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from emulator.chain import ChainConfig
from emulator.launch import launch_plan, load_run_chain
from emulator.menu import load_menu
from emulator.pipeline import Pipeline
from emulator.replay_report import RateSink, build_report
from streams.collector import CollectorNode, CollectorResult
from streams.errors import ConfigError, TransportError
from streams.run import ChainOverrides, SourceSpec, Supervisor, child_args, write_launch_plan
from streams.sources import open_source

__all__ = ["CHILD_COMMAND", "ReplayOptions", "replay"]

#: How a replay starts its children: this interpreter running the l1emu command line.
CHILD_COMMAND: tuple[str, ...] = (sys.executable, "-m", "l1emu")

log = logging.getLogger(__name__)


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

    def overrides(self, ipc_dir: str = "") -> ChainOverrides:
        """The chain overrides these options ask for (``ipc_dir``: where ipc endpoints go)."""
        return ChainOverrides(
            workers=self.workers, transport=self.transport, ipc_dir=ipc_dir, policy=self.policy,
            batch_size=self.batch_size, metrics_port=self.metrics_port, collect_timeout_s=self.collect_timeout_s,
            realtime_priority=self.realtime_priority,
        )

    def source_spec(self) -> SourceSpec:
        return SourceSpec(path=self.source, events=self.events, mu=self.mu, seed=self.seed)


def replay(
    opts: ReplayOptions, *, on_progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None, command: Sequence[str] = CHILD_COMMAND,
) -> dict[str, Any]:
    """Run the replay and return its report (see :mod:`emulator.replay_report`).

    Children are started as ``command`` followed by their launch-plan arguments.

    Setting ``stop`` (e.g. from SIGTERM) stops the producers early; what they sent
    is still drained through the chain, accounted and reported.
    """
    stop = stop or threading.Event()
    with tempfile.TemporaryDirectory(prefix="l1emu-") as tmp:
        ipc_dir = tmp if (opts.transport or "") != "tcp" else ""
        overrides = opts.overrides(ipc_dir)
        chain = load_run_chain(opts.config, overrides)
        menu = load_menu(chain.menu_path) if chain.menu_path else None
        if menu is None:
            msg = f"{chain.path}: a replay needs a 'menu'"
            raise ConfigError(msg)
        source = open_source(opts.source, events=opts.events, mu=opts.mu, seed=opts.seed)
        run = {"events_requested": len(source), "source": source.name, "transport": chain.stream.transport,
               "workers": {s.name: s.workers for s in chain.stages}, "producers": opts.producers,
               "rate_hz": opts.rate_hz, "in_process": opts.in_process,
               "realtime_priority": chain.stream.realtime_priority}
        if source.name == "parametric":
            run["mu"] = opts.mu
        if opts.in_process:
            return _replay_in_process(chain, menu, source, opts, run)
        # Producers stay up after their end-of-stream until stop_in_order ends them: one that exits
        # at once tears its interpreter down while its last batches are still in the chain, and on
        # two cores that delayed those batches by 5-10 ms.
        launch = launch_plan(chain, overrides, producers=opts.producers, source=opts.source_spec(),
                             rate_hz=opts.rate_hz, linger_s=opts.linger_s + 600, expected_events=len(source))
        for cfg in launch.nodes:
            if cfg.endpoint.curve is not None:
                cfg.endpoint.curve.load()  # a missing key fails here, not inside a child
        plan = launch.addresses
        collector = CollectorNode(launch.collector)
        sink = RateSink(menu, chain, column=opts.column, metrics=collector.metrics)
        collector.sink = sink
        with Supervisor(command, opts.run_dir, max_restarts=opts.max_restarts) as procs:
            plan_file = write_launch_plan(launch, procs.dir / "launch-plan.json")
            thread = collector.start_thread()
            for w in plan.workers:
                procs.start(w, child_args(w, plan_file))
            procs.wait_for(lambda: collector.ready.is_set() or not thread.is_alive(),
                           what="workers to connect", timeout_s=120.0)
            if not thread.is_alive():
                msg = "the collector stopped before the workers connected (see the log above)"
                raise TransportError(msg)
            for p in plan.producers:
                procs.start(p, child_args(p, plan_file))
            total = len(source)

            def tick() -> None:
                if stop.is_set():
                    procs.signal(plan.producers, signal.SIGTERM)
                procs.write_progress(collector.result.accounted, total)
                if on_progress is not None:
                    on_progress(collector.result.accounted, total)

            procs.wait_for(collector.done_collecting.is_set, what="all events", timeout_s=None, tick=tick)
            if opts.linger_s > 0:
                stop.clear()
                stop.wait(opts.linger_s)
            procs.stop_in_order([plan.producers, *plan.stages])
            thread.join(timeout=chain.stream.collect_timeout_s + 30)
            run["restarts"] = dict(procs.restarts)
        run["wall_s"] = time.time() - (collector.result.t_first_origin or time.time())
        return build_report(chain=chain, sink=sink, collected=collector.result, run=run)


def _replay_in_process(
    chain: ChainConfig, menu: Any, source: Any, opts: ReplayOptions, run: dict[str, Any]
) -> dict[str, Any]:
    """The same stages through one :class:`~emulator.pipeline.Pipeline`: no sockets, no processes."""
    pipeline = Pipeline.from_chain(chain)
    pipeline.warm_up()
    sink = RateSink(menu, chain, column=opts.column)
    result = CollectorResult(complete=True)
    result.t_first_origin = time.time()
    for out in pipeline.run_source(source):
        sink.on_batch(out)
        result.produced += len(out)
        result.received += len(out)
        result.batches += 1
    result.t_last_recv = time.time()
    for name, timing in pipeline.timings.items():
        result.stage_batch[name], result.stage_event[name] = timing.batch, timing.event
    return build_report(chain=chain, sink=sink, collected=result, run=run)
