from __future__ import annotations

from typing import Any

import pytest
import zmq

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
    cfg = ProducerConfig(name=f"producer-{index}", output=addr, index=index, count=2, batch_size=100,
                         link=LinkOptions(linger_ms=5000))
    msgs = _run(zctx, addr, cfg, events=450)
    batches, eos = msgs[:-1], msgs[-1]
    expected = list(range(0, 450, 100))[index::2]
    assert [m.first for m in batches] == expected
    assert all(m.batch is not None and m.batch.meta.origin_t > 0 for m in batches)
    assert eos.count == sum(m.count for m in batches) == eos.body["events"]
    assert eos.stream == f"producer-{index}"


def test_paced_producer_spreads_sends_over_time(zctx: zmq.Context[Any], ipc: Any) -> None:
    addr = ipc("paced")
    cfg = ProducerConfig(name="producer-0", output=addr, batch_size=100, rate_hz=2000.0,
                         link=LinkOptions(linger_ms=5000))
    msgs = _run(zctx, addr, cfg, events=500)
    sent = [m.sent_t for m in msgs if m.kind == "batch"]
    # 500 events at 2 kHz: the last batch cannot leave earlier than 0.2 s after the first
    # (it may leave later on a loaded machine: pacing only ever waits)
    assert 0.2 - 0.01 <= sent[-1] - sent[0] < 2.0
