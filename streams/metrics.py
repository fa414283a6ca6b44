"""Prometheus metrics every node exports (one registry per node, no globals).

Names (all prefixed ``l1emu_``) are listed in :data:`METRIC_NAMES`; the Grafana
dashboard and the tests check against this list.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

__all__ = ["METRIC_NAMES", "NodeMetrics"]

log = logging.getLogger(__name__)

_TIME_BUCKETS: Final = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0)

METRIC_NAMES: Final = (
    "l1emu_events_total",
    "l1emu_batches_total",
    "l1emu_bad_messages_total",
    "l1emu_errored_events_total",
    "l1emu_dropped_events_total",
    "l1emu_processing_seconds",
    "l1emu_send_blocked_seconds_total",
    "l1emu_produced_events_total",
    "l1emu_collected_events_total",
    "l1emu_seed_accepts_total",
    "l1emu_seed_rate_khz",
    "l1emu_total_rate_khz",
    "l1emu_latency_seconds",
)


@dataclass
class NodeMetrics:
    """The metrics of one node, labelled with its name and stage."""

    node: str
    stage: str
    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))

    def __post_init__(self) -> None:
        r, labels = self.registry, ("node", "stage")
        self.events = Counter("l1emu_events", "Events handled by the node", labels, registry=r)
        self.batches = Counter("l1emu_batches", "Batches handled by the node", labels, registry=r)
        self.bad_messages = Counter(
            "l1emu_bad_messages", "Malformed messages received, by kind", ("node", "kind"), registry=r
        )
        self.errored = Counter("l1emu_errored_events", "Events whose processing failed", labels, registry=r)
        self.dropped = Counter("l1emu_dropped_events", "Events dropped by a drop policy", labels, registry=r)
        self.processing = Histogram(
            "l1emu_processing_seconds", "Processing time per batch", labels, buckets=_TIME_BUCKETS, registry=r
        )
        self.send_blocked = Counter(
            "l1emu_send_blocked_seconds", "Time spent waiting for downstream (backpressure)", labels,
            registry=r,
        )
        self.produced = Counter("l1emu_produced_events", "Events sent by a producer", ("node",), registry=r)
        self.collected = Counter(
            "l1emu_collected_events", "Events accounted at the collector, by status", ("node", "status"),
            registry=r,
        )
        self.latency = Histogram(
            "l1emu_latency_seconds", "End-to-end latency (producer send to collector) per batch",
            ("node",), buckets=_TIME_BUCKETS, registry=r,
        )
        self.seed_accepts = Counter(
            "l1emu_seed_accepts", "Events a seed fired on (after prescale)", ("seed",), registry=r
        )
        self.seed_rate = Gauge("l1emu_seed_rate_khz", "Running rate of a seed", ("seed",), registry=r)
        self.total_rate = Gauge("l1emu_total_rate_khz", "Running total (union) rate", registry=r)
        self._server: Any = None

    def labels(self) -> dict[str, str]:
        return {"node": self.node, "stage": self.stage}

    def serve(self, host: str, port: int) -> int:
        """Serve ``/metrics`` on ``host:port`` (port 0 picks a free one); returns the port."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        self._server = server
        bound = int(server.server_address[1])
        log.info("%s serves metrics on http://%s:%d/metrics", self.node, host, bound)
        return bound

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
