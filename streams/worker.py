"""A stage worker: PULL batches from upstream, process, PUSH downstream.

A worker never dies on one bad message: undecodable messages are counted by kind
(and their events, if they were real, show up as *lost* at the collector); a
decoded batch whose content is bad or whose processing fails is announced
downstream as *errored* events with an ``error`` notice. Notices (end-of-stream,
drops, errors, other nodes' heartbeats) are forwarded unchanged.

>>> from streams._node import NodeEndpoint
>>> cfg = WorkerConfig(NodeEndpoint("w0"), stage="demo", inputs=("inproc://x",), output="inproc://y")
>>> WorkerNode(cfg, process=lambda b: b).config.stage
'demo'
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import zmq

from streams._node import NodeBase, NodeEndpoint, settle_heap
from streams._sender import Sender
from streams.errors import L1EmuError, WireFormatError
from streams.event import EventBatch, StageTrace
from streams.realtime import scheduling
from streams.transport import make_pull, make_push, recv_frames
from streams.wire import Message, check_content, decode, encode_notice

__all__ = ["WorkerConfig", "WorkerNode", "WorkerStats"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """Where a worker reads and writes, and how it behaves."""

    endpoint: NodeEndpoint  # name, link options, metrics, limits, CURVE, real-time priority
    stage: str
    inputs: tuple[str, ...]
    output: str
    policy: Literal["block", "drop"] = "block"
    heartbeat_s: float = 1.0
    drain_s: float = 0.3  # after stop: exit once the input has been idle this long


@dataclass
class WorkerStats:
    """Cumulative counters a worker reports in its heartbeats."""

    batches: int = 0
    events: int = 0
    errored_events: int = 0
    dropped_events: int = 0
    proc_s: float = 0.0
    auth_failures: int = 0
    warmup_batches: int = 0  # processed and passed on, never counted as events
    bad_messages: Tally[str] = field(default_factory=Tally)
    errors: Tally[str] = field(default_factory=Tally)

    def as_dict(self) -> dict[str, Any]:
        return {
            "batches": self.batches, "events": self.events, "errored_events": self.errored_events,
            "dropped_events": self.dropped_events, "proc_s": self.proc_s, "auth_failures": self.auth_failures,
            "warmup_batches": self.warmup_batches, "bad_messages": dict(self.bad_messages), "errors": dict(self.errors),
        }


class WorkerNode(NodeBase):
    """One worker of one stage; ``run`` blocks, ``start_thread`` runs it in a thread."""

    def __init__(
        self, config: WorkerConfig, process: Callable[[EventBatch], EventBatch], *,
        context: zmq.Context[Any] | None = None,
    ) -> None:
        super().__init__(config.endpoint, config.stage)
        self.config = config
        self._context = context  # shared context (inproc links in tests); else one of its own
        self.process = process
        self.stats = WorkerStats()
        self._last_hb = 0.0
        self._dirty = True

    def run(self) -> WorkerStats:
        cfg = self.config
        self.begin()  # first: threads started below inherit its scheduling
        ctx: zmq.Context[Any] = self._context or zmq.Context()
        pull = push = None
        self.guard = self.auth_guard(ctx)
        try:
            pull = make_pull(ctx, cfg.inputs, self.endpoint.link, self.guard)
            push = make_push(ctx, cfg.output, self.endpoint.link, self.guard)
            sender = Sender(push, cfg.policy, self.metrics, self.name, stop=self.stop_event)
            settle_heap()
            while not self.stop_event.is_set() and not self._heartbeat(sender, final=False, wait_s=0.2):
                pass  # hello: waits until a downstream peer is connected (readiness)
            self._loop(pull, sender)
            sender.flush()
            if not self._heartbeat(sender, final=True, wait_s=5.0):
                log.warning("%s: final heartbeat not delivered (downstream gone)", self.name)
        finally:
            for sock in (pull, push):
                if sock is not None:
                    sock.close()
            self.guard.close()
            if self._context is None:
                ctx.term()
            self.metrics.close()
        log.info("%s stopped: %s", self.name, self.stats.as_dict())
        return self.stats

    def _loop(self, pull: zmq.Socket[Any], sender: Sender) -> None:
        idle_since: float | None = None
        while True:
            timeout = self.config.drain_s if self.stop_event.is_set() else min(self.config.heartbeat_s, 0.2)
            frames = recv_frames(pull, timeout)
            now = time.monotonic()
            if frames is None:
                if self.stop_event.is_set():
                    if idle_since is None:
                        idle_since = now
                    if now - idle_since >= self.config.drain_s:
                        return
                if self._dirty and now - self._last_hb >= self.config.heartbeat_s:
                    self._heartbeat(sender, final=False, wait_s=0.0)
                continue
            idle_since = None
            self._handle(frames, sender)

    def _handle(self, frames: list[Any], sender: Sender) -> None:
        self._dirty = True
        try:
            msg = decode(frames, limits=self.endpoint.limits)
        except WireFormatError as exc:
            self.stats.bad_messages[exc.kind] += 1
            self.metrics.bad_messages.labels(node=self.name, kind=exc.kind).inc()
            log.warning("%s: bad message (%s): %s", self.name, exc.kind, exc)
            return
        if msg.kind == "warmup":
            self._warm(msg, sender)
        elif msg.kind == "batch":
            self._process(msg, sender)
        else:
            sender.send_raw(frames)

    def _warm(self, msg: Message, sender: Sender) -> None:
        """A warm-up batch: the stage runs and passes it on, nothing is counted or timed."""
        assert msg.batch is not None
        try:
            out = self.process(msg.batch)
        except Exception as exc:  # warm-up content is the producer's own events; never fatal
            log.warning("%s: warm-up batch failed in stage %s: %s", self.name, self.config.stage, exc)
            return
        self.stats.warmup_batches += 1
        sender.send_batch(out, kind="warmup")

    def _process(self, msg: Message, sender: Sender) -> None:
        assert msg.batch is not None
        t_recv = time.time()
        t0 = time.perf_counter()
        try:
            check_content(msg.batch)
            out = self.process(msg.batch)
        except Exception as exc:  # a node never dies on one batch
            if not isinstance(exc, L1EmuError):
                log.exception("%s: unexpected failure in stage %s", self.name, self.config.stage)
            self._errored(msg, exc, sender)
            return
        proc = time.perf_counter() - t0
        m = self.metrics
        m.processing.labels(**m.labels()).observe(proc)
        m.events.labels(**m.labels()).inc(msg.count)
        m.batches.labels(**m.labels()).inc()
        self.stats.batches += 1
        self.stats.events += msg.count
        self.stats.proc_s += proc
        trace = (*msg.batch.meta.trace, StageTrace(self.config.stage, self.name, t_recv, proc))
        if not sender.send_batch(out.with_meta(trace=trace)):
            self.stats.dropped_events += msg.count

    def _errored(self, msg: Message, exc: Exception, sender: Sender) -> None:
        kind = getattr(exc, "kind", type(exc).__name__)
        self.stats.errored_events += msg.count
        self.stats.errors[kind] += 1
        self.metrics.errored.labels(**self.metrics.labels()).inc(msg.count)
        log.warning("%s: events %d..%d of %s errored: %s", self.name, msg.first,
                    msg.first + msg.count - 1, msg.stream, exc)
        sender.send_raw(encode_notice(
            "error", stream=msg.stream, seq=msg.seq, first=msg.first, count=msg.count,
            body={"node": self.name, "stage": self.config.stage, "kind": kind, "reason": str(exc)},
        ))

    def _heartbeat(self, sender: Sender, *, final: bool, wait_s: float) -> bool:
        self.stats.dropped_events = sender.dropped_events
        self.stats.auth_failures = self.guard.failures
        body = {"node": self.name, "stage": self.config.stage, "final": final,
                "stats": {**self.stats.as_dict(), "pid": os.getpid(), "sched": scheduling()}}
        frames = encode_notice("heartbeat", stream=self.name, body=body)
        self._last_hb = time.monotonic()
        if not sender.send_within(frames, wait_s):
            return False
        self._dirty = False
        return True
