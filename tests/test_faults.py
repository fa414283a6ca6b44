"""Worker failure, slow stages (block and drop) and shutdown, with real node processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, load_report, write_config

pytestmark = pytest.mark.integration

SLOW_OBJECTS = {"      - type: jet_calibration\n": "      - type: delay\n        params: {per_batch_ms: 200}\n"
                "      - type: jet_calibration\n"}
N_SLOW = 60_000


def _accounted(report: dict[str, Any]) -> int:
    e = report["events"]
    return int(e["accepted"] + e["rejected"] + e["errored"] + e["dropped"] + e["lost"])


def _poll_json(path: Path, cond: Any, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.is_file():
            try:
                data = json.loads(path.read_text())
            except json.JSONDecodeError:
                data = None
            if data is not None and cond(data):
                return dict(data)
        threading.Event().wait(0.05)  # polling interval
    pytest.fail(f"timed out waiting for {path}")


def _replay(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "l1emu", "replay", "--no-progress", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_kill_9_worker_mid_replay_is_replaced_and_every_event_accounted(tmp_path: Path) -> None:
    run_dir, report = tmp_path / "run", tmp_path / "r.json"
    proc = _replay("--events", "120000", "--rate", "6000", "--batch-size", "500", "--workers", "2",
                   "--run-dir", str(run_dir), "--collect-timeout", "4", "--report", str(report))
    try:
        # start-up: the node processes load the engine's compiled plans from the plan cache (the first
        # process of the suite compiled them); on a loaded two-core machine start-up can still take a minute
        _poll_json(run_dir / "progress.json", lambda d: d["accounted"] > 10000, 300)
        pids = json.loads((run_dir / "nodes.json").read_text())
        os.kill(pids["objects-0"], signal.SIGKILL)  # ~18 s left: the replacement starts (~3 s) and joins
        _poll_json(run_dir / "progress.json", lambda d: d["restarts"].get("objects-0") == 1, 60)
        out, err = proc.communicate(timeout=400)
    finally:
        if proc.poll() is None:
            proc.kill()
    r = load_report(report)
    assert r["run"]["restarts"] == {"objects-0": 1}
    assert "scheduling: normal; paced latencies include" in out  # a paced replay says what its p99 includes
    assert r["events"]["produced"] == 120000
    assert _accounted(r) == 120000  # lost events are counted, not silently missing
    replacement = r["workers"]["objects-0"]
    assert replacement["pid"] != pids["objects-0"]  # the statistics come from the new process
    assert replacement["events"] > 0  # it joined the running chain and worked
    if r["events"]["lost"]:
        assert proc.returncode == 1
        assert "events lost" in err
    else:
        assert proc.returncode == 0


@pytest.mark.parametrize("policy", ["block", "drop"])
def test_slow_stage_block_slows_producer_drop_counts_deadtime(tmp_path: Path, policy: str) -> None:
    cfg = write_config(tmp_path / "slow.yaml", **SLOW_OBJECTS)
    report = tmp_path / "r.json"
    # 60 batches into a 200 ms/batch stage. The links buffer about 18 of them (HWMs of 8 at both ends,
    # the one in hand, and what the kernel socket buffers hold: 41 of 60 dropped here with 8 MiB);
    # upstream feeds a batch every ~27 ms here. A dropping worker must drop
    # unless upstream is >4x slower than that (at 40 ms/batch and 90 batches a slower CI machine
    # kept up, and nothing was dropped)
    proc = _replay("--config", cfg, "--events", str(N_SLOW), "--batch-size", "1000", "--policy", policy,
                   "--report", str(report))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    r = load_report(report)
    e = r["events"]
    assert e["produced"] == N_SLOW
    assert e["lost"] == 0
    assert e["accepted"] + e["rejected"] + e["errored"] + e["dropped"] == N_SLOW
    if policy == "block":
        assert e["dropped"] == 0
        # 60 batches through a 200 ms/batch stage cannot finish faster than 12 s
        assert r["throughput_eps"] < 1000 / 0.200 * 1.05
    else:
        assert e["dropped"] > 0
        assert r["deadtime_fraction"] == pytest.approx(e["dropped"] / N_SLOW)
        assert f"deadtime {100 * r['deadtime_fraction']:.2f} %" in out


def test_sigterm_drains_in_flight_batches_and_writes_the_report(tmp_path: Path) -> None:
    run_dir, report = tmp_path / "run", tmp_path / "r.json"
    proc = _replay("--events", "500000", "--rate", "20000", "--batch-size", "500", "--run-dir", str(run_dir),
                   "--report", str(report))
    try:
        _poll_json(run_dir / "progress.json", lambda d: d["accounted"] > 5000, 300)  # start-up, as above
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    r = load_report(report)
    e = r["events"]
    assert 5000 < e["produced"] < 500000
    assert e["accepted"] + e["rejected"] + e["errored"] + e["dropped"] == e["produced"]
    assert e["lost"] == 0
    assert r["accounting_ok"]
