from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import zmq

from streams._node import NodeEndpoint
from streams._sender import Sender
from streams.errors import L1EmuError
from streams.event import BatchMeta, EventBatch
from streams.metrics import NodeMetrics
from streams.transport import LinkOptions
from streams.wire import Limits, Message, decode, encode_batch, encode_notice, read_header, write_header
from streams.worker import WorkerConfig, WorkerNode
from tests.conftest import recv


def _double_pt(batch: EventBatch) -> EventBatch:
    if batch.meta.first == 666:
        msg = "this batch is cursed"
        raise L1EmuError(msg)
    return batch.with_columns(score=batch["jet_pt"][:, 0].astype(np.float32) * 2)


def _malformed(valid: list[Any]) -> dict[str, list[Any]]:
    h = read_header(valid[0])
    wrong_version = write_header({**h, "v": 42})
    cols = [list(c) for c in h["cols"]]
    cols[0][1] = "<c16"
    wrong_dtype = write_header({**h, "cols": cols})
    cols = [list(c) for c in h["cols"]]
    cols[6][2] = [h["n"], 3]
    shape_mismatch = write_header({**h, "cols": cols})
    n_big = 100_000
    huge = write_header({**h, "n": n_big, "cols": [[c[0], c[1], [n_big, *c[2][1:]]] for c in h["cols"]]})
    return {  # keyed by the kind the decoder must count
        "truncated": [valid[0], *valid[1:-1]],
        "header": [b"\x93\x01\xff garbage", b"more"],
        "version": [wrong_version, *valid[1:]],
        "dtype": [wrong_dtype, *valid[1:]],
        "length": [shape_mismatch, *valid[1:]],
        "oversize": [huge, *valid[1:]],
    }


@pytest.fixture
def chain(zctx: zmq.Context[Any], ipc: Any) -> Any:
    up_addr, out_addr = ipc("up"), ipc("out")
    up = zctx.socket(zmq.PUSH)
    up.bind(up_addr)
    down = zctx.socket(zmq.PULL)
    down.connect(out_addr)
    cfg = WorkerConfig(
        NodeEndpoint("w-0", link=LinkOptions(hwm=100, linger_ms=1000), limits=Limits(max_message_bytes=200_000)),
        stage="demo", inputs=(up_addr,), output=out_addr, heartbeat_s=0.05, drain_s=0.1,
    )
    node = WorkerNode(cfg, _double_pt)
    thread = node.start_thread()
    yield up, down, node
    node.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()


def _drain_until_eos(down: zmq.Socket[Any]) -> tuple[list[Message], list[Message]]:
    batches, notices = [], []
    while True:
        msg = decode(recv(down))
        if msg.kind == "batch":
            batches.append(msg)
        elif msg.kind != "heartbeat":
            notices.append(msg)
        if msg.kind == "eos":
            return batches, notices


def test_worker_processes_forwards_and_survives_every_malformed_kind(chain: Any) -> None:
    up, down, node = chain
    valid = [encode_batch(EventBatch.empty(10, meta=BatchMeta(stream="p", seq=i, first=10 * i)))
             for i in range(4)]
    bad = _malformed(valid[0])
    for i, frames in enumerate(valid):
        up.send_multipart(frames)
        up.send_multipart(list(bad.values())[i % len(bad)])
    for frames in list(bad.values())[len(valid) % len(bad):]:
        up.send_multipart(frames)
    for frames in bad.values():  # each kind at least twice in total
        up.send_multipart(frames)
    up.send_multipart(encode_notice("eos", stream="p", seq=4, count=40, body={"events": 40}))
    batches, notices = _drain_until_eos(down)
    assert [m.first for m in batches] == [0, 10, 20, 30]  # no valid event lost
    assert all("score" in m.batch for m in batches if m.batch is not None)
    assert batches[0].batch is not None
    assert batches[0].batch.meta.trace[0].stage == "demo"
    assert [n.kind for n in notices] == ["eos"]
    counted = node.stats.bad_messages
    assert dict(counted) == dict.fromkeys(bad, 2), counted
    assert node.stats.events == 40


def test_failing_batch_becomes_error_notice_and_nan_weight_too(chain: Any) -> None:
    up, down, node = chain
    cursed = EventBatch.empty(5, meta=BatchMeta(stream="p", first=666))
    b = EventBatch.empty(5, meta=BatchMeta(stream="p", first=0))
    w = b["weight"].copy()
    w[2] = np.inf
    up.send_multipart(encode_batch(b.with_columns(weight=w)))
    up.send_multipart(encode_batch(cursed))
    up.send_multipart(encode_batch(EventBatch.empty(5, meta=BatchMeta(stream="p", first=5))))
    up.send_multipart(encode_notice("eos", stream="p", count=15))
    batches, notices = _drain_until_eos(down)
    assert [m.first for m in batches] == [5]
    errors = [n for n in notices if n.kind == "error"]
    assert [(e.first, e.count, e.body["kind"]) for e in errors] == [(0, 5, "nan"), (666, 5, "L1EmuError")]
    assert node.stats.errored_events == 10


def test_warm_up_batches_run_the_stage_and_pass_on_uncounted(chain: Any) -> None:
    up, down, node = chain
    warm = EventBatch.empty(5, meta=BatchMeta(stream="p", first=0))
    up.send_multipart(encode_batch(warm, kind="warmup"))
    up.send_multipart(encode_batch(EventBatch.empty(5, meta=BatchMeta(stream="p", first=666)), kind="warmup"))
    up.send_multipart(encode_batch(EventBatch.empty(5, meta=BatchMeta(stream="p", first=0))))
    up.send_multipart(encode_notice("eos", stream="p", count=5))
    kinds = []
    while not kinds or kinds[-1] != "eos":
        msg = decode(recv(down))
        if msg.kind != "heartbeat":
            kinds.append(msg.kind)
        if msg.kind == "warmup":
            assert msg.batch is not None
            assert "score" in msg.batch  # the stage ran
    assert kinds == ["warmup", "batch", "eos"]  # the failing warm-up is dropped, no error notice
    assert (node.stats.warmup_batches, node.stats.batches, node.stats.events, node.stats.errored_events) == (1, 1, 5, 0)


def test_final_heartbeat_reports_stats_after_stop(chain: Any) -> None:
    up, down, node = chain
    up.send_multipart([b"junk"])
    node.stop()
    while True:
        msg = decode(recv(down))
        if msg.kind == "heartbeat" and msg.body["final"]:
            break
    assert msg.body["node"] == "w-0"
    assert msg.body["stats"]["bad_messages"] == {"header": 1}


def test_a_full_link_under_drop_discards_warm_ups_without_a_drop_notice(zctx: zmq.Context[Any], ipc: Any) -> None:
    push = zctx.socket(zmq.PUSH)  # no peer: every non-blocking send is refused
    push.bind(ipc("nobody"))
    sender = Sender(push, "drop", NodeMetrics("w-0", "demo"), "w-0")
    batch = EventBatch.empty(7, meta=BatchMeta(stream="p", first=70))
    assert not sender.send_batch(batch, kind="warmup")
    assert (sender.dropped_events, len(sender._pending)) == (0, 0)
    assert not sender.send_batch(batch)
    assert (sender.dropped_events, len(sender._pending)) == (7, 1)
