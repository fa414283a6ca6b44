"""Malformed messages sent into running worker processes: counted, nothing valid lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zmq

from emulator.launch import resolve_launch
from emulator.menu import load_menu
from emulator.replay_report import RateSink, build_report
from streams.collector import CollectorNode
from streams.run import ChainOverrides
from streams.sources.parametric import ParametricConfig, ParametricSource
from streams.wire import encode_batch, encode_notice, read_header, write_header
from tests.helpers import DEFAULT_CONFIG, ROOT, balanced, load_report, run_cli, seed_counts

pytestmark = pytest.mark.integration


def _malformed(valid: list[Any]) -> dict[str, list[Any]]:
    """One message per kind the decoder must count, derived from a valid batch."""
    h = read_header(valid[0])
    cols = [list(c) for c in h["cols"]]
    wrong_dtype = [list(c) for c in cols]
    wrong_dtype[3][1] = "<c8"
    mismatch = [list(c) for c in cols]
    mismatch[6][2] = [h["n"], 5]
    huge = [list(c) for c in cols]
    huge[-1][2] = [h["n"], 1 << 30]  # claims a multi-GB column
    return {
        "truncated": [valid[0], *valid[1:-2]],
        "header": [os.urandom(64)],
        "version": [write_header({**h, "v": 7}), *valid[1:]],
        "dtype": [write_header({**h, "cols": wrong_dtype}), *valid[1:]],
        "length": [write_header({**h, "cols": mismatch}), *valid[1:]],
        "oversize": [write_header({**h, "cols": huge}), *valid[1:]],
    }


def test_running_worker_counts_every_bad_message_and_loses_nothing(tmp_path: Path) -> None:
    ipc_dir = str(tmp_path)
    chain, launch = resolve_launch(DEFAULT_CONFIG, ChainOverrides(workers=1, transport="ipc", ipc_dir=ipc_dir))
    plan = launch.addresses
    sink = RateSink(load_menu(chain.menu_path or ""), chain)
    collector = CollectorNode(launch.collector, sink)
    ctx: zmq.Context[Any] = zmq.Context()
    push = ctx.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    push.bind(plan.producers[0].output)
    thread = collector.start_thread()
    procs = [
        subprocess.Popen([sys.executable, "-m", "l1emu", "node", "--config", DEFAULT_CONFIG, "--workers", "1",
                          "--ipc-dir", ipc_dir, "--stage", w.stage, "--index", "0"], cwd=ROOT)
        for w in plan.workers
    ]
    try:
        assert collector.ready.wait(120), "workers did not connect"
        src = ParametricSource(ParametricConfig(events=6000, seed=3))
        batches = list(src.batches(1000))
        bad = _malformed(encode_batch(batches[0]))
        kinds = list(bad)
        for i, b in enumerate(batches):
            push.send_multipart(encode_batch(b.with_meta(stream="producer-0", seq=i)))
            push.send_multipart(bad[kinds[i % len(kinds)]])
        nan = batches[0].with_columns(weight=np.full(len(batches[0]), np.nan, np.float32))
        push.send_multipart(encode_batch(nan.with_meta(stream="producer-0", first=6000)))
        push.send_multipart(encode_notice("eos", stream="producer-0", count=7000, body={"events": 7000}))
        assert collector.complete.wait(120), collector.result.as_dict()["events"]
        for p in procs:  # stage order, so final heartbeats flow downstream
            p.send_signal(signal.SIGTERM)
            assert p.wait(timeout=60) == 0
        thread.join(timeout=60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        ctx.destroy(linger=0)
    report = build_report(chain=chain, sink=sink, collected=collector.result, run={})
    assert report["events"]["produced"] == 7000
    assert report["events"]["errored"] == 1000  # the NaN-weight batch, counted, not lost
    assert report["events"]["accepted"] + report["events"]["rejected"] == 6000
    assert balanced(report)
    assert collector.result.workers["calo_layer1-0"]["bad_messages"] == dict.fromkeys(kinds, 1)
    assert report["bad_messages"] == dict.fromkeys(kinds, 1)
    reference = tmp_path / "ref.json"
    run_cli("replay", "--config", DEFAULT_CONFIG, "--events", "6000", "--seed", "3", "--batch-size", "1000",
            "--in-process", "--report", str(reference))
    assert seed_counts(report) == seed_counts(load_report(reference))
