"""``l1emu replay``: run a whole chain — producers, stage workers, collector.

Workers and producers are real processes (``python -m l1emu node|produce``); the
collector runs in this process, so the report is assembled here. With
``in_process=True`` the same stages run in one loop without sockets (the
reference the streamed replay is compared with).
"""

from __future__ import annotations

import logging
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from emulator._supervisor import Supervisor
from emulator.chain import ChainConfig, load_chain
from emulator.menu import load_menu
from emulator.pipeline import Pipeline
from emulator.report import RateSink, build_report
from emulator.topology import NodeSpec, Plan, build_plan, curve_setup
from streams.collector import CollectorConfig, CollectorNode, CollectorResult
from streams.errors import ConfigError, TransportError
from streams.sources import open_source
from streams.transport import LinkOptions

__all__ = ["ReplayOptions", "chain_overrides", "collector_config", "link_options", "replay"]

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

    def node_args(self) -> list[str]:
        """The flags every child process needs to derive the same plan."""
        args = ["--config", self.config, "--producers", str(self.producers)]
        if self.workers is not None:
            args += ["--workers", str(self.workers)]
        if self.transport is not None:
            args += ["--transport", self.transport]
        if self.policy is not None:
            args += ["--policy", self.policy]
        if self.batch_size is not None:
            args += ["--batch-size", str(self.batch_size)]
        if self.metrics_port is not None:
            args += ["--metrics-port", str(self.metrics_port)]
        if self.collect_timeout_s is not None:
            args += ["--collect-timeout", str(self.collect_timeout_s)]
        if self.realtime_priority is not None:
            args += ["--realtime-priority", str(self.realtime_priority)]
        return args


def chain_overrides(
    raw_path: str, *, workers: int | None, transport: str | None, ipc_dir: str = "",
    policy: str | None = None, batch_size: int | None = None, metrics_port: int | None = None,
    collect_timeout_s: float | None = None, realtime_priority: int | None = None,
) -> dict[str, Any]:
    """Top-level overrides of a chain file for CLI flags (validated by load_chain)."""
    from emulator.params import load_yaml

    raw = load_yaml(raw_path)
    if not isinstance(raw, dict):
        msg = f"{raw_path}: a chain file must be a mapping at top level"
        raise ConfigError(msg)
    out: dict[str, Any] = {}
    stream = dict(raw.get("stream") or {})
    for key, value in (("transport", transport), ("ipc_dir", ipc_dir or None), ("policy", policy),
                       ("batch_size", batch_size), ("collect_timeout_s", collect_timeout_s),
                       ("realtime_priority", realtime_priority)):
        if value is not None:
            stream[key] = value
    out["stream"] = stream
    if metrics_port is not None:
        out["metrics"] = {**(raw.get("metrics") or {}), "base_port": metrics_port}
    if workers is not None:
        out["stages"] = [{**s, "workers": workers} for s in raw.get("stages") or []]
    return out


def link_options(chain: ChainConfig) -> LinkOptions:
    return LinkOptions(hwm=chain.stream.hwm, kernel_buffer_bytes=chain.stream.socket_buffer_kib << 10)


def collector_config(chain: ChainConfig, plan: Plan) -> CollectorConfig:
    c = plan.collector
    return CollectorConfig(
        name=c.name, inputs=c.inputs, expected_producers=len(plan.producers),
        expected_workers=tuple(w.name for w in plan.workers), link=link_options(chain),
        timeout_s=chain.stream.collect_timeout_s, metrics_host=chain.metrics.host, metrics_port=c.metrics_port,
        curve=curve_setup(chain, plan, c), realtime_priority=chain.stream.realtime_priority,
    )


def replay(
    opts: ReplayOptions, *, on_progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Run the replay and return its report (see :mod:`emulator.report`).

    Setting ``stop`` (e.g. from SIGTERM) stops the producers early; what they sent
    is still drained through the chain, accounted and reported.
    """
    stop = stop or threading.Event()
    with tempfile.TemporaryDirectory(prefix="l1emu-") as tmp:
        ipc_dir = tmp if (opts.transport or "") != "tcp" else ""
        chain = load_chain(opts.config, overrides=chain_overrides(
            opts.config, workers=opts.workers, transport=opts.transport, ipc_dir=ipc_dir,
            policy=opts.policy, batch_size=opts.batch_size, metrics_port=opts.metrics_port,
            collect_timeout_s=opts.collect_timeout_s, realtime_priority=opts.realtime_priority))
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
        plan = build_plan(chain, producers=opts.producers, ipc_dir=ipc_dir)
        collector = CollectorNode(replace(collector_config(chain, plan), expected_events=len(source)))
        sink = RateSink(menu, chain, column=opts.column, metrics=collector.metrics)
        collector.sink = sink
        with Supervisor(opts.run_dir, max_restarts=opts.max_restarts) as procs:
            thread = collector.start_thread()
            for w in plan.workers:
                procs.start(w, ["node", *opts.node_args(), "--ipc-dir", ipc_dir, "--stage", w.stage,
                                "--index", str(w.index)])
            procs.wait_for(lambda: collector.ready.is_set() or not thread.is_alive(),
                           what="workers to connect", timeout_s=120.0)
            if not thread.is_alive():
                msg = "the collector stopped before the workers connected (see the log above)"
                raise TransportError(msg)
            for p in plan.producers:
                procs.start(p, _producer_args(opts, ipc_dir, p))
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


def _producer_args(opts: ReplayOptions, ipc_dir: str, p: NodeSpec) -> list[str]:
    args = ["produce", *opts.node_args(), "--ipc-dir", ipc_dir, "--index", str(p.index),
            "--rate", str(opts.rate_hz), "--mu", str(opts.mu), "--seed", str(opts.seed)]
    if opts.events is not None:
        args += ["--events", str(opts.events)]
    if opts.source is not None:
        args += ["--source", opts.source]
    # Producers stay up after their end-of-stream until stop_in_order ends them: one that exits
    # at once tears its interpreter down while its last batches are still in the chain, and on
    # two cores that delayed those batches by 5-10 ms.
    args += ["--linger", str(opts.linger_s + 600)]
    return args


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
