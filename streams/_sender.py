"""Sending with a flow-control policy: block (backpressure) or drop (deadtime)."""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Literal

import zmq

from streams.event import EventBatch
from streams.metrics import NodeMetrics
from streams.wire import encode_batch, encode_notice

__all__ = ["Sender"]

Policy = Literal["block", "drop"]


class Sender:
    """Wraps a PUSH socket; under ``drop`` a full link drops the batch and queues a notice.

    Drop notices are sent as soon as the link has room, and always before any
    end-of-stream (``flush``), so the collector can account every dropped event.
    """

    def __init__(self, sock: zmq.Socket[Any], policy: Policy, metrics: NodeMetrics, node: str) -> None:
        self.sock = sock
        self.policy = policy
        self.metrics = metrics
        self.node = node
        self._pending: deque[list[bytes]] = deque()
        self.dropped_events = 0

    def _send(self, frames: list[Any], *, block: bool) -> bool:
        flags = 0 if block else zmq.NOBLOCK
        t0 = time.perf_counter()
        try:
            self.sock.send_multipart(frames, flags=flags, copy=False)
        except zmq.Again:
            return False
        finally:
            waited = time.perf_counter() - t0
            if block and waited > 1e-4:
                self.metrics.send_blocked.labels(**self.metrics.labels()).inc(waited)
        return True

    def send_batch(self, batch: EventBatch) -> bool:
        """Send a batch; returns False if the drop policy dropped it."""
        self._try_pending()
        frames = encode_batch(batch)
        if self.policy == "block":
            return self._send(frames, block=True)
        if self._send(frames, block=False):
            return True
        m = batch.meta
        self.dropped_events += len(batch)
        self.metrics.dropped.labels(**self.metrics.labels()).inc(len(batch))
        self._pending.append(
            encode_notice("drop", stream=m.stream, seq=m.seq, first=m.first, count=len(batch),
                          body={"node": self.node})
        )
        return False

    def send_raw(self, frames: list[Any]) -> None:
        """Forward a message (notices, heartbeats) blocking, after pending drop notices."""
        self.flush()
        self._send(frames, block=True)

    def send_within(self, frames: list[Any], timeout_s: float) -> bool:
        """Send if the link takes the message within ``timeout_s``; False otherwise."""
        if self.sock.poll(int(timeout_s * 1000), zmq.POLLOUT) == 0:
            return False
        return self._send(frames, block=False)

    def _try_pending(self) -> None:
        while self._pending and self._send(self._pending[0], block=False):
            self._pending.popleft()

    def flush(self) -> None:
        while self._pending:
            self._send(self._pending.popleft(), block=True)
