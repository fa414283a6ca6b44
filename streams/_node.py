"""What every node shares: its endpoint settings, a stop flag, its metrics endpoint, running as a thread."""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field
from typing import Any

import zmq

from streams.metrics import NodeMetrics
from streams.realtime import enter_realtime
from streams.security import AuthGuard, CurveKeys
from streams.transport import LinkOptions
from streams.wire import DEFAULT_LIMITS, Limits

__all__ = ["NodeBase", "NodeEndpoint", "settle_heap"]


@dataclass(frozen=True, slots=True)
class NodeEndpoint:
    """What every node (producer, worker, collector) is configured with besides its role.

    >>> NodeEndpoint("calo-0", metrics_port=9001).link.hwm
    8
    """

    name: str
    link: LinkOptions = field(default_factory=LinkOptions)
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None  # None: no HTTP endpoint; 0: any free port
    limits: Limits = DEFAULT_LIMITS  # what the node's decoder accepts
    curve: CurveKeys | None = None  # CURVE on tcp links (see streams.security)
    realtime_priority: int = 0  # SCHED_FIFO priority of the node's threads, 0: normal (streams.realtime)


def settle_heap() -> None:
    """Collect once, then move every live object out of the garbage collector's view.

    What a node holds after start-up (modules, models, compiled kernels, preloaded events)
    lives until it exits; frozen, it no longer makes each full collection walk hundreds of
    thousands of objects: those pauses were milliseconds in the latency tail.
    """
    gc.collect()
    gc.freeze()


class NodeBase:
    """Base of producer, worker and collector: ``run`` blocks, ``start_thread`` runs it in a thread.

    The same class runs as a thread in tests and as the main loop of a process
    in production (``l1emu node|produce|collect``); ``stop`` asks it to finish.
    """

    name: str

    def __init__(self, endpoint: NodeEndpoint, stage: str) -> None:
        self.endpoint = endpoint
        self.name = endpoint.name
        self.stop_event = threading.Event()
        self.metrics = NodeMetrics(endpoint.name, stage)
        self.metrics_port: int | None = None

    def run(self) -> Any:
        raise NotImplementedError

    def start_thread(self) -> threading.Thread:
        t = threading.Thread(target=self.run, name=self.name, daemon=True)
        t.start()
        return t

    def stop(self) -> None:
        self.stop_event.set()

    def begin(self) -> None:
        """First thing in ``run``: real-time scheduling (threads started later inherit it), then metrics."""
        ep = self.endpoint
        enter_realtime(ep.realtime_priority, ep.name)
        self.serve_metrics(ep.metrics_host, ep.metrics_port)

    def auth_guard(self, ctx: zmq.Context[Any]) -> AuthGuard:
        """The node's CURVE guard, its keys loaded now (none on plain links)."""
        curve = self.endpoint.curve
        return AuthGuard(ctx, curve.load() if curve is not None else None, self.name)

    def serve_metrics(self, host: str, port: int | None) -> None:
        """Start the ``/metrics`` endpoint if a port is configured (0: any free port)."""
        if port is not None:
            self.metrics_port = self.metrics.serve(host, port)
