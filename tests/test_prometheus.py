"""A real Prometheus (Debian's, installed by `make test`) scrapes a live replay."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DEFAULT_CONFIG, ROOT, free_port_block, load_report, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.prometheus]

EVENTS = 20000


def _query(port: int, expr: str) -> list[dict[str, Any]]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = json.load(resp)
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def _scalar(port: int, expr: str) -> float | None:
    res = _query(port, expr)
    return float(res[0]["value"][1]) if res else None


def _poll(cond: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = cond()
            if last is True:
                return
        except OSError as exc:  # Prometheus not listening yet
            last = exc
        threading.Event().wait(0.25)  # polling interval
    pytest.fail(f"timed out waiting for {what} (last: {last})")


def test_scraped_counters_equal_the_json_report(tmp_path: Path) -> None:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("Debian's prometheus is not installed: run `make prometheus` (make test does)")
    nodes = 1 + 3 * 2 + 1
    base = free_port_block(nodes + 1)
    prom_port = base + nodes
    scrape = tmp_path / "prometheus.yml"
    run_cli("scrape-config", "--config", DEFAULT_CONFIG, "--workers", "2", "--ipc-dir", str(tmp_path),
            "--metrics-port", str(base), "--interval", "0.5", "--out", str(scrape))
    prom = subprocess.Popen(
        [binary, f"--config.file={scrape}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    report_path = tmp_path / "r.json"
    replay = subprocess.Popen(
        [sys.executable, "-m", "l1emu", "replay", "--config", DEFAULT_CONFIG, "--events", str(EVENTS),
         "--workers", "2", "--metrics-port", str(base), "--linger", "300", "--report", str(report_path),
         "--no-progress"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        _poll(lambda: _scalar(prom_port, "sum(l1emu_collected_events_total)") == EVENTS, 180,
              "Prometheus to scrape every collected event")
        for stage in ("calo_layer1", "objects", "global_trigger"):
            _poll(lambda s=stage: _scalar(prom_port, f'sum(l1emu_events_total{{stage="{s}"}})') == EVENTS,
                  30, f"stage {stage} counters")
        _poll(lambda: _scalar(prom_port, "sum(l1emu_produced_events_total)") == EVENTS, 30, "producer counter")
        # seed counters are incremented before the collected-events counter, so the
        # scrape that saw every event collected also holds the final seed counts
        scraped_seeds = {r["metric"]["seed"]: float(r["value"][1])
                         for r in _query(prom_port, "l1emu_seed_accepts_total")}
        up = _query(prom_port, "up")
        replay.send_signal(signal.SIGTERM)  # ends the linger; the report is still written
        out, err = replay.communicate(timeout=120)
        assert replay.returncode == 0, err
    finally:
        for p in (replay, prom):
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)
    report = load_report(report_path)
    assert report["events"]["produced"] == EVENTS
    assert len(up) == nodes
    assert all(r["value"][1] == "1" for r in up)
    for name, seed in report["seeds"].items():
        assert scraped_seeds.get(name, 0.0) == seed["count"], name
    assert "accounting: OK" in out
