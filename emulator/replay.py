"""``l1emu replay``: run a whole chain through an executor and report what the collector saw.

The streamed executor runs workers and producers as real processes (``python -m l1emu
node|produce``), each started from one launch plan this process resolves and writes (see
:mod:`emulator.launch`); the collector runs in this process, so the report is assembled here.
The in-process executor runs the same :class:`~emulator.pipeline.Pipeline` in one loop without
sockets (the reference every other executor is compared with). Both fill the same report.
"""

from __future__ import annotations

import logging
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from emulator.executor import Executor, ReplayJob, ReplayOptions
from emulator.launch import launch_plan, load_run_chain, menu_reference
from emulator.menu import load_menu
from emulator.pipeline import Pipeline
from emulator.replay_report import RateSink, build_report
from streams.collector import CollectorNode, CollectorResult
from streams.errors import ConfigError, TransportError
from streams.run import Supervisor, child_args, write_launch_plan
from streams.run.dask import DaskTarget
from streams.shards import check_manifest, read_manifest
from streams.sources import open_source

__all__ = ["CHILD_COMMAND", "InProcessExecutor", "ReplayOptions", "StreamedExecutor", "replay"]

#: How a replay starts its children: this interpreter running the l1emu command line.
CHILD_COMMAND: tuple[str, ...] = (sys.executable, "-m", "l1emu")

log = logging.getLogger(__name__)


def replay(
    opts: ReplayOptions, *, on_progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None, command: Sequence[str] = CHILD_COMMAND,
    on_status: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the replay and return its report (see :mod:`emulator.replay_report`).

    Children of the streamed executor are started as ``command`` followed by their
    launch-plan arguments. Setting ``stop`` (e.g. from SIGTERM) stops the producers early;
    what they sent is still drained through the chain, accounted and reported.
    ``opts.dask`` runs on a Dask cluster instead (:mod:`emulator.distributed`); ``on_status``
    then hears where the scheduler and its dashboard are.
    """
    stop = stop or threading.Event()
    with tempfile.TemporaryDirectory(prefix="l1emu-") as tmp:
        ipc_dir = tmp if (opts.transport or "") != "tcp" else ""
        menu_file = menu_reference(opts.config, opts.menu, opts.prescales, opts.column, Path(tmp))
        overrides = opts.overrides(ipc_dir, menu_file)
        chain = load_run_chain(opts.config, overrides)
        menu = load_menu(chain.menu_path) if chain.menu_path else None
        if menu is None:
            msg = f"{chain.path}: a replay needs a 'menu'"
            raise ConfigError(msg)
        source = open_source(opts.source, events=opts.events, mu=opts.mu, seed=opts.seed)
        executor = _executor(opts, command, on_status)
        manifest = read_manifest(opts.source)
        if manifest is not None and opts.dask is None:  # the Dask executor reads each shard itself
            check_manifest(manifest)
        run = {"events_requested": len(source), "source": source.name, "transport": chain.stream.transport,
               "workers": {s.name: s.workers for s in chain.stages}, "producers": opts.producers,
               "rate_hz": opts.rate_hz, "in_process": opts.in_process, "executor": executor.name,
               "realtime_priority": chain.stream.realtime_priority}
        if source.name == "parametric":
            run["mu"] = opts.mu
        job = ReplayJob(opts, chain, overrides, menu, source, run, stop, on_progress)
        sink, collected = executor.execute(job)
        if not opts.in_process:
            run["wall_s"] = time.time() - (collected.t_first_origin or time.time())
        return build_report(chain=chain, sink=sink, collected=collected, run=run)


def _executor(opts: ReplayOptions, command: Sequence[str], on_status: Callable[[str], None] | None) -> Executor:
    if opts.dask is not None:
        if opts.in_process:
            msg = "--dask and --in-process: choose one executor"
            raise ConfigError(msg)
        if opts.rate_hz:
            msg = f"--rate {opts.rate_hz:g} paces a streamed replay; a Dask replay runs as fast as its workers"
            raise ConfigError(msg)
        from emulator.distributed import DaskExecutor  # dask is imported only when asked for

        return DaskExecutor(DaskTarget.parse(opts.dask), partition_events=opts.partition_events,
                            skip_bad=opts.skip_bad, on_status=on_status)
    return InProcessExecutor() if opts.in_process else StreamedExecutor(command)


class InProcessExecutor:
    """The chain's :class:`~emulator.pipeline.Pipeline` in this process: no sockets, no processes."""

    name = "in-process"

    def execute(self, job: ReplayJob) -> tuple[RateSink, CollectorResult]:
        pipeline = Pipeline.from_chain(job.chain)
        pipeline.warm_up()
        sink = job.sink()
        result = CollectorResult(complete=True)
        result.t_first_origin = time.time()
        for out in pipeline.run_source(job.source):
            sink.on_batch(out)
            result.produced += len(out)
            result.received += len(out)
            result.batches += 1
        result.t_last_recv = time.time()
        for name, timing in pipeline.timings.items():
            result.stage_batch[name], result.stage_event[name] = timing.batch, timing.event
        return sink, result


class StreamedExecutor:
    """Producers, one process per stage worker (each a one-stage pipeline), the collector here."""

    name = "streamed"

    def __init__(self, command: Sequence[str] = CHILD_COMMAND) -> None:
        self.command = tuple(command)

    def execute(self, job: ReplayJob) -> tuple[RateSink, CollectorResult]:
        # Producers stay up after their end-of-stream until stop_in_order ends them: one that exits
        # at once tears its interpreter down while its last batches are still in the chain, and on
        # two cores that delayed those batches by 5-10 ms.
        opts = job.opts
        launch = launch_plan(job.chain, job.overrides, producers=opts.producers, source=opts.source_spec(),
                             rate_hz=opts.rate_hz, linger_s=opts.linger_s + 600, expected_events=len(job.source))
        for cfg in launch.nodes:
            if cfg.endpoint.curve is not None:
                cfg.endpoint.curve.load()  # a missing key fails here, not inside a child
        plan = launch.addresses
        collector = CollectorNode(launch.collector)
        sink = job.sink(metrics=collector.metrics)
        collector.sink = sink
        with Supervisor(self.command, job.opts.run_dir, max_restarts=job.opts.max_restarts) as procs:
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
            total = len(job.source)

            def tick() -> None:
                if job.stop.is_set():
                    procs.signal(plan.producers, signal.SIGTERM)
                procs.write_progress(collector.result.accounted, total)
                if job.on_progress is not None:
                    job.on_progress(collector.result.accounted, total)

            procs.wait_for(collector.done_collecting.is_set, what="all events", timeout_s=None, tick=tick)
            if job.opts.linger_s > 0:
                job.stop.clear()
                job.stop.wait(job.opts.linger_s)
            procs.stop_in_order([plan.producers, *plan.stages])
            thread.join(timeout=job.chain.stream.collect_timeout_s + 30)
            job.run["restarts"] = dict(procs.restarts)
        return sink, collector.result
