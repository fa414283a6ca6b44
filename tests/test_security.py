"""CURVE on tcp links: strangers are refused, counted and logged; the chain still works."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

from streams._node import NodeEndpoint
from streams.event import BatchMeta, EventBatch
from streams.security import CurveKeys, create_keys, load_curve_setup
from streams.transport import LinkOptions
from streams.wire import decode, encode_batch, encode_notice
from streams.worker import WorkerConfig, WorkerNode
from tests.conftest import recv
from tests.helpers import free_port_block, load_report, run_cli, seed_counts, write_config


def _keypair(d: Path, name: str) -> tuple[bytes, bytes]:
    public, secret = zmq.auth.load_certificate(str(d / f"{name}.key_secret"))
    assert secret is not None
    return public, secret


def _poll(cond: Any, what: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        threading.Event().wait(0.05)  # polling interval


def test_worker_refuses_strangers_on_both_sides(
    tmp_path: Path, zctx: zmq.Context[Any], caplog: pytest.LogCaptureFixture
) -> None:
    keys, stranger_keys = tmp_path / "keys", tmp_path / "stranger"
    create_keys(keys, ["up", "w-0", "down"])
    create_keys(stranger_keys, ["stranger"])
    base = free_port_block(3)
    up_addr, out_addr, fake_addr = (f"tcp://127.0.0.1:{base + i}" for i in range(3))
    auth = ThreadAuthenticator(zctx)
    auth.start()
    auth.configure_curve(domain="*", location=str(keys))
    up = zctx.socket(zmq.PUSH)
    up.curve_publickey, up.curve_secretkey = _keypair(keys, "up")
    up.curve_server = True
    up.bind(up_addr)
    fake = zctx.socket(zmq.PUSH)  # a stranger pretending to be an upstream node
    fake.curve_publickey, fake.curve_secretkey = _keypair(stranger_keys, "stranger")
    fake.curve_server = True
    fake.bind(fake_addr)
    curve = CurveKeys(str(keys), "w-0", {up_addr: "up", fake_addr: "up"})
    setup = curve.load()
    endpoint = NodeEndpoint("w-0", link=LinkOptions(linger_ms=1000), curve=curve)
    cfg = WorkerConfig(endpoint, stage="demo", inputs=(up_addr, fake_addr), output=out_addr, heartbeat_s=0.05)
    node = WorkerNode(cfg, lambda b: b)
    caplog.set_level(logging.WARNING)
    thread = node.start_thread()
    try:
        down = zctx.socket(zmq.PULL)
        down.curve_publickey, down.curve_secretkey = _keypair(keys, "down")
        down.curve_serverkey = setup.public
        down.connect(out_addr)
        thief = zctx.socket(zmq.PULL)  # a stranger trying to read the worker's output
        thief.curve_publickey, thief.curve_secretkey = _keypair(stranger_keys, "stranger")
        thief.curve_serverkey = setup.public
        thief.connect(out_addr)
        for i in range(3):
            up.send_multipart(encode_batch(EventBatch.empty(5, meta=BatchMeta(stream="p", first=5 * i))))
        up.send_multipart(encode_notice("eos", stream="p", count=15))
        got = []
        while True:
            msg = decode(recv(down))
            if msg.kind == "batch":
                got.append((msg.stream, msg.first))
            if msg.kind == "eos":
                break
        assert got == [("p", 0), ("p", 5), ("p", 10)]  # nothing from the stranger
        assert thief.poll(300) == 0
        _poll(lambda: node.guard.failures >= 2, "refused handshakes to be counted")
        # the stranger "upstream" never completed a handshake, so it has no peer to send to
        assert fake.poll(0, zmq.POLLOUT) == 0
        with pytest.raises(zmq.Again):
            fake.send_multipart(encode_batch(EventBatch.empty(5, meta=BatchMeta(stream="evil"))), flags=zmq.NOBLOCK)
    finally:
        node.stop()
        thread.join(timeout=20)
        auth.stop()
    assert node.stats.auth_failures >= 2
    assert any("refused a peer" in r.getMessage() for r in caplog.records)


@pytest.mark.integration
def test_replay_over_tcp_with_curve_matches_in_process(tmp_path: Path) -> None:
    base = free_port_block(16)
    cfg = write_config(tmp_path / "curve.yaml", **{
        "  tcp:\n    host: 127.0.0.1\n    base_port: 5550":
        f"  tcp:\n    host: 127.0.0.1\n    base_port: {base}\n  curve:\n    enabled: true\n    keys_dir: keys",
    })
    run_cli("keys", "--config", cfg, "--transport", "tcp", "--workers", "2")
    assert (tmp_path / "keys" / "collector.key_secret").is_file()
    out, ref = tmp_path / "r.json", tmp_path / "ref.json"
    run_cli("replay", "--config", cfg, "--transport", "tcp", "--workers", "2", "--events", "8000",
            "--report", str(out))
    run_cli("replay", "--config", cfg, "--events", "8000", "--in-process", "--report", str(ref))
    report = load_report(out)
    assert seed_counts(report) == seed_counts(load_report(ref))
    assert report["events"]["lost"] == 0


def test_missing_key_is_a_clear_error(tmp_path: Path) -> None:
    from streams.errors import ConfigError

    with pytest.raises(ConfigError, match=r"w-0\.key_secret: no such key file"):
        load_curve_setup(tmp_path, "w-0", {})
