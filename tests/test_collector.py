from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import zmq

from streams._node import NodeEndpoint
from streams.collector import CollectorConfig, CollectorNode
from streams.event import BatchMeta, EventBatch
from streams.transport import LinkOptions
from streams.wire import encode_batch, encode_notice


class Recorder:
    def __init__(self, fail_first: int | None = None) -> None:
        self.firsts: list[int] = []
        self.fail_first = fail_first
        self.warmed: list[int] = []

    def warm_up(self, batch: EventBatch) -> None:
        self.warmed.append(len(batch))
        if len(self.warmed) == 2:
            msg = "a warm-up failure is logged, never fatal"
            raise ValueError(msg)

    def on_batch(self, batch: EventBatch) -> None:
        if batch.meta.first == self.fail_first:
            msg = "sink refuses this batch"
            raise ValueError(msg)
        self.firsts.append(batch.meta.first)


def _batch(first: int, n: int = 10, origin: float = 0.0) -> list[Any]:
    return encode_batch(EventBatch.empty(n, meta=BatchMeta(stream="p0", first=first, origin_t=origin)))


@pytest.fixture
def upstream(zctx: zmq.Context[Any], ipc: Any) -> tuple[zmq.Socket[Any], str]:
    addr = ipc("last-stage")
    sock = zctx.socket(zmq.PUSH)
    sock.bind(addr)
    return sock, addr


def _collector(addr: str, sink: Recorder, **kw: Any) -> CollectorNode:
    cfg = CollectorConfig(NodeEndpoint("collector", link=LinkOptions(linger_ms=0)), inputs=(addr,), **kw)
    return CollectorNode(cfg, sink)


def test_out_of_order_arrival_is_released_in_sequence_order(upstream: Any) -> None:
    sock, addr = upstream
    sink = Recorder()
    node = _collector(addr, sink, timeout_s=5)
    thread = node.start_thread()
    for first in (30, 10, 0):
        sock.send_multipart(_batch(first))
    sock.send_multipart(encode_notice("drop", stream="p0", first=20, count=10))
    sock.send_multipart(encode_notice("error", stream="p0", first=40, count=10, body={"kind": "nan"}))
    sock.send_multipart(_batch(10))  # a duplicate
    sock.send_multipart(encode_notice("eos", stream="p0", count=50))
    thread.join(timeout=10)
    r = node.result
    assert sink.firsts == [0, 10, 30]
    assert (r.produced, r.received, r.dropped, r.errored, r.lost, r.duplicates) == (50, 30, 10, 10, 0, 10)
    assert r.complete
    assert node.complete.is_set()
    assert r.errors == {"nan": 1}


def test_warm_up_batches_are_not_events(upstream: Any) -> None:
    sock, addr = upstream
    sink = Recorder()
    node = _collector(addr, sink, timeout_s=5)
    thread = node.start_thread()
    warm = encode_batch(EventBatch.empty(10, meta=BatchMeta(stream="p0", first=0, origin_t=1.0)), kind="warmup")
    for _ in range(3):
        sock.send_multipart(warm)
    sock.send_multipart(_batch(0))
    sock.send_multipart(encode_notice("eos", stream="p0", count=10))
    thread.join(timeout=10)
    r = node.result
    assert sink.firsts == [0]
    assert sink.warmed == [10, 10, 10]
    assert (r.produced, r.received, r.duplicates, r.batches, r.warmup_batches) == (10, 10, 0, 1, 3)
    assert r.latency.summary_us()["max"] < 1e6  # the warm-ups' origin (t = 1 s) was never a sample
    assert r.complete


def test_missing_events_are_lost_after_timeout_and_sink_failures_are_errored(upstream: Any) -> None:
    sock, addr = upstream
    sink = Recorder(fail_first=20)
    node = _collector(addr, sink, timeout_s=0.3)
    thread = node.start_thread()
    sock.send_multipart(_batch(0))
    sock.send_multipart(_batch(20))  # 10..19 never arrives
    sock.send_multipart(encode_notice("eos", stream="p0", count=30))
    thread.join(timeout=10)
    r = node.result
    assert not r.complete
    assert (r.received, r.errored, r.lost) == (10, 10, 10)
    assert sink.firsts == [0]


def test_latency_and_stage_times_come_from_the_batches(upstream: Any) -> None:
    import time

    from streams.event import StageTrace

    sock, addr = upstream
    node = _collector(addr, Recorder(), timeout_s=5)
    thread = node.start_thread()
    b = EventBatch.empty(4, meta=BatchMeta(stream="p0", first=0, origin_t=time.time() - 0.5,
                                          trace=(StageTrace("gt", "gt-0", time.time(), 0.002),)))
    sock.send_multipart(encode_batch(b))
    sock.send_multipart(encode_notice("eos", stream="p0", count=4))
    thread.join(timeout=10)
    d = node.result.as_dict()
    assert d["latency_us"]["end_to_end"]["p50"] == pytest.approx(0.5e6, rel=0.2)
    assert d["latency_us"]["stages"]["gt"]["per_batch_us"]["max"] == pytest.approx(2000.0)
    assert d["latency_us"]["stages"]["gt"]["per_event_us"]["p50"] == pytest.approx(500.0)
    assert d["throughput_eps"] > 0
    assert np.isfinite(d["latency_us"]["end_to_end"]["mean"])


def test_ready_waits_for_every_worker_hello(upstream: Any) -> None:
    sock, addr = upstream
    node = _collector(addr, Recorder(), expected_workers=("a-0", "b-0"), timeout_s=5)
    thread = node.start_thread()
    sock.send_multipart(encode_notice("heartbeat", stream="a-0", body={"node": "a-0", "stats": {}}))
    assert not node.ready.wait(0.2)
    sock.send_multipart(encode_notice("heartbeat", stream="b-0", body={"node": "b-0", "stats": {}}))
    assert node.ready.wait(5)
    node.stop()
    thread.join(timeout=15)
    assert not thread.is_alive()
