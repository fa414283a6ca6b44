"""Sending with a flow-control policy: block (backpressure) or drop (deadtime)."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any, Literal

import zmq

from streams.event import EventBatch
from streams.metrics import NodeMetrics
from streams.transport import send_frames
from streams.wire import encode_batch, encode_notice, pack_batch

__all__ = ["Sender"]

log = logging.getLogger(__name__)
Policy = Literal["block", "drop"]
_POLL_MS = 200
_NOBLOCK = int(zmq.NOBLOCK)


class Sender:
    """Wraps a PUSH socket; under ``drop`` a full link drops the batch and queues a notice.

    Drop notices are sent as soon as the link has room, and always before any
    end-of-stream (``flush``), so the collector can account every dropped event.
    Blocking sends wait in short polls: once ``stop`` is set they give up after
    ``grace_s`` (a node being stopped must not hang on a peer that is gone).
    """

    def __init__(
        self, sock: zmq.Socket[Any], policy: Policy, metrics: NodeMetrics, node: str, *,
        stop: threading.Event | None = None, grace_s: float = 30.0,
    ) -> None:
        self.sock = sock
        self.policy = policy
        self.metrics = metrics
        self.node = node
        self.stop = stop or threading.Event()
        self.grace_s = grace_s
        self._pending: deque[list[bytes]] = deque()
        self.dropped_events = 0
        self.abandoned = 0  # messages given up on while stopping

    def _try(self, frames: list[Any]) -> bool:
        try:
            send_frames(self.sock, frames, _NOBLOCK)
        except zmq.Again:
            return False
        return True

    def _send_blocking(self, frames: list[Any]) -> bool:
        """Wait for room (backpressure); False only if stopping and the grace ran out."""
        if self._try(frames):
            return True
        t0 = time.perf_counter()
        stop_seen: float | None = None
        try:
            while True:
                if self.sock.poll(_POLL_MS, zmq.POLLOUT) and self._try(frames):
                    return True
                if self.stop.is_set():
                    stop_seen = stop_seen or time.perf_counter()
                    if time.perf_counter() - stop_seen > self.grace_s:
                        self.abandoned += 1
                        log.warning("%s: downstream gone while stopping; a message was not delivered", self.node)
                        return False
        finally:
            self.metrics.send_blocked.labels(**self.metrics.labels()).inc(time.perf_counter() - t0)

    def send_batch(self, batch: EventBatch, *, kind: Literal["batch", "warmup"] = "batch") -> bool:
        """Send a batch; returns False if it was dropped (drop policy) or abandoned. A warm-up
        batch that a full link refuses is simply discarded: it is not events, so no notice."""
        self._try_pending()
        frames = encode_batch(pack_batch(batch), kind=kind)  # a frame per pack, not per column
        if self.policy == "block":
            return self._send_blocking(frames)
        if self._try(frames):
            return True
        if kind == "warmup":
            return False
        m = batch.meta
        self.dropped_events += len(batch)
        self.metrics.dropped.labels(**self.metrics.labels()).inc(len(batch))
        self._pending.append(
            encode_notice("drop", stream=m.stream, seq=m.seq, first=m.first, count=len(batch),
                          body={"node": self.node})
        )
        return False

    def send_raw(self, frames: list[Any]) -> bool:
        """Forward a message (notices, heartbeats) with backpressure, after pending drop notices."""
        self.flush()
        return self._send_blocking(frames)

    def send_within(self, frames: list[Any], timeout_s: float) -> bool:
        """Send if the link takes the message within ``timeout_s``; False otherwise."""
        if self.sock.poll(int(timeout_s * 1000), zmq.POLLOUT) == 0:
            return False
        return self._try(frames)

    def _try_pending(self) -> None:
        while self._pending and self._try(self._pending[0]):
            self._pending.popleft()

    def flush(self) -> None:
        while self._pending:
            if not self._send_blocking(self._pending[0]):
                return
            self._pending.popleft()
