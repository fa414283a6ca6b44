"""A producer: reads a source shard and pushes batches, as fast as possible or paced.

Producer ``i`` of ``n`` sends source batches ``i, i+n, …`` so several producers
share one global sequence space (``meta.first``). At the end it sends an
end-of-stream notice carrying its totals; the collector uses those to know when
every event is in.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import zmq

from streams._node import NodeBase, NodeEndpoint, settle_heap
from streams._sender import Sender
from streams.event import EventBatch
from streams.realtime import scheduling
from streams.sources.base import Source
from streams.transport import make_push
from streams.wire import encode_notice, pack_batch

__all__ = ["ProducerConfig", "ProducerNode", "ProducerStats"]

log = logging.getLogger(__name__)
_READ_AHEAD = 512  # batches read ahead of a paced send schedule


@dataclass(frozen=True, slots=True)
class ProducerConfig:
    """Where and how fast a producer sends."""

    endpoint: NodeEndpoint  # name, link options, metrics, limits, CURVE, real-time priority
    output: str
    index: int = 0
    count: int = 1
    batch_size: int = 4096
    rate_hz: float = 0.0  # events/s of this producer; 0 = as fast as possible
    policy: Literal["block", "drop"] = "block"
    linger_s: float = 0.0  # keep the metrics endpoint up this long after end-of-stream
    preload_events: int = 200_000  # paced: shards up to this size are read before the first send
    warmup_batches: int = 4  # uncounted copies of the first batch sent through the chain first
    warmup_gap_s: float = 0.02  # between warm-up batches; five gaps more before the first event

    def __post_init__(self) -> None:
        if self.warmup_batches < 0 or self.warmup_gap_s < 0:
            msg = f"warmup_batches and warmup_gap_s must be >= 0, not {self.warmup_batches}, {self.warmup_gap_s}"
            raise ValueError(msg)
        if self.preload_events < 0:
            msg = f"preload_events must be >= 0, not {self.preload_events}"
            raise ValueError(msg)
        if not 0 <= self.index < self.count:
            msg = f"producer index {self.index} not in 0..{self.count - 1}"
            raise ValueError(msg)


@dataclass
class ProducerStats:
    events: int = 0
    batches: int = 0
    dropped_events: int = 0
    t_first: float = 0.0
    t_last: float = 0.0


class ProducerNode(NodeBase):
    """Pushes a source shard downstream; ``run`` blocks until end-of-stream is sent."""

    def __init__(self, config: ProducerConfig, source: Source) -> None:
        super().__init__(config.endpoint, "producer")
        self.config = config
        self.source = source
        self.stats = ProducerStats()

    def run(self) -> ProducerStats:
        cfg = self.config
        self.begin()  # first: threads started below inherit its scheduling
        produced = self.metrics.produced.labels(node=self.name)
        ctx: zmq.Context[Any] = zmq.Context()
        guard = self.auth_guard(ctx)
        push = make_push(ctx, cfg.output, self.endpoint.link, guard)
        try:
            sender = Sender(push, cfg.policy, self.metrics, self.name, stop=self.stop_event, grace_s=60.0)
            self._send_all(sender, produced)
            sender.flush()
            body = {"events": self.stats.events, "batches": self.stats.batches,
                    "dropped": sender.dropped_events, "producer": self.name, "sched": scheduling()}
            sender.send_raw(encode_notice("eos", stream=self.name, seq=self.stats.batches,
                                          count=self.stats.events, body=body))
            self.stats.dropped_events = sender.dropped_events
            if cfg.linger_s > 0:  # for scrapes of the final counters; stop() ends it
                self.stop_event.clear()
                self.stop_event.wait(cfg.linger_s)
        finally:
            push.close()
            guard.close()
            ctx.term()
            self.metrics.close()
        log.info("%s sent %d events in %d batches", self.name, self.stats.events, self.stats.batches)
        return self.stats

    def _batches(self) -> Iterator[EventBatch]:
        """The shard's batches. Paced, file reads and generation must never disturb the send
        schedule (a stall becomes a burst, a busy reader thread delays sends): shards up to
        ``preload_events`` are read completely before the first send, like a test-vector
        player fills its buffer; larger ones are read ahead in a thread."""
        cfg = self.config
        # each batch packed into one buffer: one frame on the wire instead of one per column
        source = map(pack_batch, self.source.batches(cfg.batch_size, shard=(cfg.index, cfg.count)))
        if cfg.rate_hz <= 0:
            yield from source
            return
        if math.ceil(len(self.source) / cfg.count) <= cfg.preload_events:
            loaded = list(source)
            settle_heap()
            log.info("%s: %d batches preloaded for paced sending", self.name, len(loaded))
            yield from loaded
            return
        ahead: queue.Queue[EventBatch | BaseException | None] = queue.Queue(maxsize=_READ_AHEAD)

        def fill() -> None:
            try:
                for b in source:
                    while not self.stop_event.is_set():
                        try:
                            ahead.put(b, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if self.stop_event.is_set():
                        break
                ahead.put(None)
            except BaseException as exc:  # handed to the sending thread, which re-raises it
                ahead.put(exc)

        threading.Thread(target=fill, name=f"{self.name}-read-ahead", daemon=True).start()
        while (item := ahead.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item

    def _warm_up(self, sender: Sender, batch: EventBatch) -> None:
        """Send copies of the first batch as ``warmup`` messages: every stage runs them and the
        collector discards them, so the first events do not pay for cold sockets, first-touch
        allocations and cold caches in any node (the tail of a latency measurement)."""
        cfg = self.config
        warm = batch.with_meta(stream=self.name, seq=0, origin_t=0.0, trace=())  # never a latency sample
        for _ in range(cfg.warmup_batches):
            if self.stop_event.wait(cfg.warmup_gap_s):
                return
            sender.send_batch(warm, kind="warmup")
        if cfg.warmup_batches:  # the last warm-up is through the chain before the first event
            self.stop_event.wait(5 * cfg.warmup_gap_s)

    def _send_all(self, sender: Sender, produced: Any) -> None:
        cfg = self.config
        t_start: float | None = None  # the schedule starts with the first batch in hand
        for batch in self._batches():
            if t_start is None:
                self._warm_up(sender, batch)
                t_start = time.perf_counter()
            if self.stop_event.is_set():
                log.info("%s: stopped early after %d events", self.name, self.stats.events)
                break
            if cfg.rate_hz > 0:  # pacing: batch k leaves at events_so_far / rate
                delay = t_start + self.stats.events / cfg.rate_hz - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            now = time.time()
            out = batch.with_meta(stream=self.name, seq=self.stats.batches, origin_t=now, trace=())
            sender.send_batch(out)
            if not self.stats.batches:
                self.stats.t_first = now
            self.stats.t_last = now
            self.stats.batches += 1
            self.stats.events += len(batch)
            produced.inc(len(batch))
