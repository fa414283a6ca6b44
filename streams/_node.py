"""What every node shares: a stop flag, its metrics endpoint, running as a thread."""

from __future__ import annotations

import gc
import threading
from typing import Any

from streams.metrics import NodeMetrics

__all__ = ["NodeBase", "settle_heap"]


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

    def __init__(self, name: str, stage: str) -> None:
        self.name = name
        self.stop_event = threading.Event()
        self.metrics = NodeMetrics(name, stage)
        self.metrics_port: int | None = None

    def run(self) -> Any:
        raise NotImplementedError

    def start_thread(self) -> threading.Thread:
        t = threading.Thread(target=self.run, name=self.name, daemon=True)
        t.start()
        return t

    def stop(self) -> None:
        self.stop_event.set()

    def serve_metrics(self, host: str, port: int | None) -> None:
        """Start the ``/metrics`` endpoint if a port is configured (0: any free port)."""
        if port is not None:
            self.metrics_port = self.metrics.serve(host, port)
