from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import zmq

from streams._node import NodeEndpoint
from streams.event import EventBatch
from streams.producer import ProducerConfig, ProducerNode
from streams.sources.parametric import ParametricConfig, ParametricSource
from streams.transport import LinkOptions
from streams.wire import decode
from tests.conftest import recv


def _run(zctx: zmq.Context[Any], addr: str, cfg: ProducerConfig, events: int) -> list[Any]:
    pull = zctx.socket(zmq.PULL)
    pull.connect(addr)
    node = ProducerNode(cfg, ParametricSource(ParametricConfig(events=events, seed=2)))
    thread = node.start_thread()
    msgs = []
    while True:
        msg = decode(recv(pull))
        msgs.append(msg)
        if msg.kind == "eos":
            break
    thread.join(timeout=10)
    return msgs


@pytest.mark.parametrize("index", [0, 1], ids=["shard0", "shard1"])
def test_shards_split_the_sequence_space(zctx: zmq.Context[Any], ipc: Any, index: int) -> None:
    addr = ipc("prod")
    cfg = ProducerConfig(NodeEndpoint(f"producer-{index}", link=LinkOptions(linger_ms=5000)), output=addr,
                         index=index, count=2, batch_size=100)
    msgs = _run(zctx, addr, cfg, events=450)
    batches, eos = [m for m in msgs if m.kind == "batch"], msgs[-1]
    expected = list(range(0, 450, 100))[index::2]
    assert [m.first for m in batches] == expected
    assert all(m.batch is not None and m.batch.meta.origin_t > 0 for m in batches)
    assert eos.count == sum(m.count for m in batches) == eos.body["events"]
    assert eos.stream == f"producer-{index}"


@pytest.mark.parametrize("warmups", [0, 3])
def test_warm_up_batches_go_first_as_uncounted_copies_of_the_first_batch(
    zctx: zmq.Context[Any], ipc: Any, warmups: int
) -> None:
    addr = ipc(f"warm{warmups}")
    cfg = ProducerConfig(NodeEndpoint("producer-0", link=LinkOptions(linger_ms=5000)), output=addr, batch_size=100,
                         warmup_batches=warmups)
    msgs = _run(zctx, addr, cfg, events=250)
    assert [m.kind for m in msgs] == ["warmup"] * warmups + ["batch"] * 3 + ["eos"]
    first = msgs[warmups].batch
    assert first is not None
    for m in msgs[:warmups]:
        assert m.batch is not None
        assert m.batch.meta.origin_t == 0.0  # never a latency sample
        assert all(np.array_equal(m.batch[k], first[k]) for k in first.columns)
    assert msgs[-1].count == msgs[-1].body["events"] == 250  # warm-ups are not events
    with pytest.raises(ValueError, match="warmup_batches"):
        ProducerConfig(NodeEndpoint("p"), output=addr, warmup_batches=-1)


def test_paced_producer_spreads_sends_over_time(zctx: zmq.Context[Any], ipc: Any) -> None:
    addr = ipc("paced")
    cfg = ProducerConfig(NodeEndpoint("producer-0", link=LinkOptions(linger_ms=5000)), output=addr, batch_size=100,
                         rate_hz=2000.0)
    msgs = _run(zctx, addr, cfg, events=500)
    sent = [m.sent_t for m in msgs if m.kind == "batch"]
    # 500 events at 2 kHz: the last batch cannot leave earlier than 0.2 s after the first
    # (it may leave later on a loaded machine: pacing only ever waits)
    assert 0.2 - 0.01 <= sent[-1] - sent[0] < 2.0


class _Recorder(ParametricSource):
    """Records how many batches have been read, and by which thread."""

    def __init__(self, events: int) -> None:
        super().__init__(ParametricConfig(events=events, seed=3))
        self.read = 0
        self.threads: set[str] = set()

    def batches(self, batch_size: int, *, shard: tuple[int, int] = (0, 1)) -> Iterator[EventBatch]:
        for b in super().batches(batch_size, shard=shard):
            self.read += 1
            self.threads.add(threading.current_thread().name)
            yield b


@pytest.mark.parametrize(("preload", "whole"), [(1000, True), (100, False)], ids=["preloaded", "read-ahead"])
def test_paced_shards_are_preloaded_up_to_the_limit(zctx: zmq.Context[Any], ipc: Any, preload: int,
                                                    whole: bool) -> None:  # fmt: skip
    """A paced producer reads a small shard completely before its first send (file reads never
    delay a send); beyond ``preload_events`` a thread reads ahead instead. Same batches either way."""
    addr = ipc(f"preload{preload}")
    source = _Recorder(1000)
    cfg = ProducerConfig(NodeEndpoint("producer-0", link=LinkOptions(linger_ms=5000)), output=addr,
                         batch_size=100, rate_hz=20_000.0, preload_events=preload)
    pull = zctx.socket(zmq.PULL)
    pull.connect(addr)
    thread = ProducerNode(cfg, source).start_thread()
    first = decode(recv(pull))
    read_at_first_send = source.read
    msgs = [first]
    while msgs[-1].kind != "eos":
        msgs.append(decode(recv(pull)))
    thread.join(timeout=10)
    if whole:
        assert read_at_first_send == 10
    assert source.threads == ({"producer-0"} if whole else {"producer-0-read-ahead"})
    assert [m.first for m in msgs[:-1] if m.kind == "batch"] == list(range(0, 1000, 100))
    with pytest.raises(ValueError, match="preload_events"):
        ProducerConfig(NodeEndpoint("p"), output=addr, preload_events=-1)
