"""The collector: accounts for every event and measures latency.

It pulls from the last stage, hands good batches to a sink **in global-sequence
order** (through a reorder buffer) and keeps the books:
``produced = received + errored + dropped + lost``, where *produced* comes from
the producers' end-of-stream notices and *lost* is whatever never arrived before
the no-progress timeout. Worker statistics arrive in heartbeats.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter as Tally
from dataclasses import dataclass, field
from typing import Any, Protocol

import zmq

from streams._node import NodeBase, NodeEndpoint, settle_heap
from streams._reorder import Entry, ReorderBuffer
from streams.errors import WireFormatError
from streams.event import EventBatch
from streams.latency import LatencyRecorder
from streams.realtime import scheduling
from streams.transport import make_pull, recv_frames
from streams.wire import Message, decode

__all__ = ["BatchSink", "CollectorConfig", "CollectorNode", "CollectorResult"]

log = logging.getLogger(__name__)


class BatchSink(Protocol):
    """Receives good batches in global-sequence order.

    A sink may also define ``warm_up(batch)``: the collector hands it each warm-up batch, to
    run its code on real content without counting anything.
    """

    def on_batch(self, batch: EventBatch) -> None: ...


@dataclass(frozen=True, slots=True)
class CollectorConfig:
    endpoint: NodeEndpoint  # name, link options, metrics, limits, CURVE, real-time priority
    inputs: tuple[str, ...]
    expected_producers: int = 1
    expected_workers: tuple[str, ...] = ()  # names whose hello makes the chain "ready"
    timeout_s: float = 60.0  # no progress for this long: give up, count the rest as lost
    expected_events: int | None = None  # if known: produced, should an end-of-stream be lost
    final_wait_s: float = 10.0  # after completion, wait this long for workers' final stats


@dataclass
class CollectorResult:
    """What the collector saw; JSON-ready through :meth:`as_dict`."""

    produced: int = 0
    received: int = 0
    errored: int = 0
    dropped: int = 0
    lost: int = 0
    duplicates: int = 0
    batches: int = 0
    warmup_batches: int = 0  # arrived through the whole chain; never events
    complete: bool = False
    bad_messages: Tally[str] = field(default_factory=Tally)
    errors: Tally[str] = field(default_factory=Tally)
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    producers: dict[str, dict[str, Any]] = field(default_factory=dict)
    latency: LatencyRecorder = field(default_factory=LatencyRecorder)
    stage_batch: dict[str, LatencyRecorder] = field(default_factory=dict)
    stage_event: dict[str, LatencyRecorder] = field(default_factory=dict)
    t_first_origin: float = 0.0
    t_last_recv: float = 0.0
    auth_failures: int = 0
    sched: dict[str, Any] = field(default_factory=dict)  # the collector's scheduling (streams.realtime)

    @property
    def accounted(self) -> int:
        return self.received + self.errored + self.dropped

    def throughput_eps(self) -> float:
        span = self.t_last_recv - self.t_first_origin
        return self.accounted / span if span > 0 else 0.0

    def all_bad_messages(self) -> dict[str, int]:
        """Bad messages counted here plus those every worker reported."""
        total = Tally(self.bad_messages)
        for w in self.workers.values():
            total.update(w.get("bad_messages", {}))
        return dict(total)

    def as_dict(self) -> dict[str, Any]:
        stages = {
            s: {"per_batch_us": self.stage_batch[s].summary_us(), "per_event_us": self.stage_event[s].summary_us()}
            for s in self.stage_batch
        }
        return {
            "events": {"produced": self.produced, "received": self.received, "errored": self.errored,
                       "dropped": self.dropped, "lost": self.lost, "duplicates": self.duplicates},
            "complete": self.complete,
            "batches": self.batches,
            "warmup_batches": self.warmup_batches,
            "bad_messages": self.all_bad_messages(),
            "auth_failures": self.auth_failures + sum(int(w.get("auth_failures", 0)) for w in self.workers.values()),
            "errors": dict(self.errors),
            "workers": self.workers,
            "producers": self.producers,
            "sched": self.sched,
            "latency_us": {"end_to_end": self.latency.summary_us(), "stages": stages},
            "throughput_eps": self.throughput_eps(),
        }


class CollectorNode(NodeBase):
    """Pulls from the last stage until every produced event is accounted for."""

    def __init__(self, config: CollectorConfig, sink: BatchSink | None = None) -> None:
        super().__init__(config.endpoint, "collector")
        self.config = config
        self.sink = sink
        self.result = CollectorResult()
        self.ready = threading.Event()  # every expected worker said hello
        self.complete = threading.Event()  # every produced event accounted for
        self.done_collecting = threading.Event()  # complete, or gave up: nodes may be stopped
        self._reorder = ReorderBuffer()
        self._eos: set[str] = set()
        self._hello: set[str] = set()
        self._final: set[str] = set()

    # -- main loop ------------------------------------------------------------
    def run(self) -> CollectorResult:
        cfg = self.config
        self.begin()  # first: threads started below inherit its scheduling
        if not cfg.expected_workers:
            self.ready.set()
        ctx: zmq.Context[Any] = zmq.Context()
        guard = self.auth_guard(ctx)
        pull = make_pull(ctx, cfg.inputs, self.endpoint.link, guard)
        settle_heap()
        self.result.sched = scheduling()
        try:
            self._collect(pull)
            self._finish()
            self.done_collecting.set()
            self._await_final_stats(pull)
        finally:
            self.done_collecting.set()
            pull.close()
            self.result.auth_failures = guard.failures
            guard.close()
            ctx.term()
        return self.result

    def _collect(self, pull: zmq.Socket[Any]) -> None:
        last_progress = time.monotonic()
        while not self._is_complete() and not self.stop_event.is_set():
            frames = recv_frames(pull, 0.2)
            if frames is None:
                started = self._eos or self.result.accounted or self._reorder.pending
                if started and time.monotonic() - last_progress > self.config.timeout_s:
                    log.warning("%s: no progress for %.0f s, giving up", self.name, self.config.timeout_s)
                    return
                continue
            if self._handle(frames):
                last_progress = time.monotonic()
        self.result.complete = self._is_complete()
        if self.result.complete:
            self.complete.set()

    def _await_final_stats(self, pull: zmq.Socket[Any]) -> None:
        """After completion: keep reading heartbeats until every worker sent its final one."""
        deadline = time.monotonic() + self.config.final_wait_s
        expected = set(self.config.expected_workers)
        while not expected <= self._final and time.monotonic() < deadline and not self.stop_event.is_set():
            frames = recv_frames(pull, 0.1)
            if frames is not None:
                self._handle(frames)

    def _is_complete(self) -> bool:
        r = self.result
        return len(self._eos) >= self.config.expected_producers and r.accounted >= r.produced

    # -- messages ---------------------------------------------------------------
    def _handle(self, frames: list[Any]) -> bool:
        try:
            msg = decode(frames, limits=self.endpoint.limits)
        except WireFormatError as exc:
            self.result.bad_messages[exc.kind] += 1
            self.metrics.bad_messages.labels(node=self.name, kind=exc.kind).inc()
            log.warning("%s: bad message (%s): %s", self.name, exc.kind, exc)
            return False
        if msg.kind == "heartbeat":
            self._on_heartbeat(msg)
            return False
        if msg.kind == "warmup":  # went through every stage; not an event
            self.result.warmup_batches += 1
            self._warm_sink(msg)
            return False
        if msg.kind == "eos":
            self._eos.add(msg.stream)
            self.result.produced += msg.count
            self.result.producers[msg.stream] = dict(msg.body)
            return True
        status = {"batch": "ok", "error": "errored", "drop": "dropped"}[msg.kind]
        if msg.kind == "error":
            self.result.errors[str(msg.body.get("kind", "unknown"))] += 1
        self._account(msg, status)
        return True

    def _on_heartbeat(self, msg: Message) -> None:
        node = str(msg.body.get("node", msg.stream))
        stats = msg.body.get("stats", {})
        self.result.workers[node] = dict(stats) if isinstance(stats, dict) else {}
        self._hello.add(node)
        if msg.body.get("final"):
            self._final.add(node)
        if set(self.config.expected_workers) <= self._hello:
            self.ready.set()

    def _account(self, msg: Message, status: str) -> None:
        entry = Entry(msg.first, msg.count, msg.batch, status)
        if msg.batch is not None:
            self._observe_latency(msg.batch)
        before = self._reorder.duplicates
        released = self._reorder.push(entry)
        if self._reorder.duplicates != before:
            self.result.duplicates += msg.count
            log.warning("%s: duplicate events %d..%d ignored", self.name, msg.first, msg.first + msg.count - 1)
            return
        for e in released:
            self._release(e)

    def _release(self, e: Entry) -> None:
        r, m = self.result, self.metrics
        if e.batch is None:
            if e.status == "errored":
                r.errored += e.count
            else:
                r.dropped += e.count
        elif self._sink_accepts(e.batch):
            r.received += e.count
            r.batches += 1
        else:
            r.errored += e.count
            e = Entry(e.first, e.count, None, "errored")
        m.collected.labels(node=self.name, status=e.status).inc(e.count)

    def _warm_sink(self, msg: Message) -> None:
        warm_up = getattr(self.sink, "warm_up", None)
        if warm_up is None or msg.batch is None:
            return
        try:
            warm_up(msg.batch)
        except Exception as exc:  # a warm-up is never fatal, and never counted
            log.warning("%s: sink warm-up failed: %s", self.name, exc)

    def _sink_accepts(self, batch: EventBatch) -> bool:
        """Hand a batch to the sink; a failing batch counts as errored, not fatal."""
        if self.sink is None:
            return True
        try:
            self.sink.on_batch(batch)
        except Exception as exc:  # the collector never dies on one batch
            self.result.errors[f"sink:{type(exc).__name__}"] += 1
            log.warning("%s: sink rejected events from %d: %s", self.name, batch.meta.first, exc)
            return False
        return True

    def _observe_latency(self, batch: EventBatch) -> None:
        r, now = self.result, time.time()
        n, origin = len(batch), batch.meta.origin_t
        if origin > 0:
            r.latency.add(now - origin, n)
            self.metrics.latency.labels(node=self.name).observe(now - origin)
            if not r.t_first_origin or origin < r.t_first_origin:
                r.t_first_origin = origin
        r.t_last_recv = now
        for tr in batch.meta.trace:
            r.stage_batch.setdefault(tr.stage, LatencyRecorder()).add(tr.proc_s, 1)
            r.stage_event.setdefault(tr.stage, LatencyRecorder()).add(tr.proc_s / max(n, 1), n)

    def _finish(self) -> None:
        """Release what is still held; holes before held ranges are lost events."""
        for e in self._reorder.drain():
            self._release(e)
        r = self.result
        expected = self.config.expected_events
        if len(self._eos) < self.config.expected_producers and expected is not None and r.produced < expected:
            log.warning("%s: %d of %d end-of-stream notices missing; assuming %d events produced",
                        self.name, self.config.expected_producers - len(self._eos),
                        self.config.expected_producers, expected)
            r.produced = expected
        r.lost = max(0, r.produced - r.accounted)
        if r.lost:
            log.warning("%s: %d events never arrived (lost)", self.name, r.lost)
