"""Several hosts for real: producer, stages and collector in separate network namespaces.

The test makes three namespaces joined by a bridge in a fourth (10.213.x.0/24 inside them
only), runs the nodes with ``ip netns exec`` over tcp, and checks the collector's report.
Needs root and iproute2 (CI has both).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT, load_report, run_cli, seed_counts, write_config

pytestmark = pytest.mark.integration

HOSTS = {"a": "producer", "b": "stages", "c": "collector"}


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@pytest.fixture
def namespaces() -> Iterator[dict[str, tuple[str, str]]]:
    """{role: (namespace, address)} on a private bridge; removed afterwards."""
    if os.geteuid() != 0:
        pytest.fail("network-namespace test needs root (CI runs as root)")
    tag = f"l1e{os.getpid() % 100000}"
    subnet = 10 + os.getpid() % 200
    sw = f"{tag}sw"
    made: list[str] = []
    try:
        _ip("netns", "add", sw)
        made.append(sw)
        _ip("-n", sw, "link", "add", "br0", "type", "bridge")
        _ip("-n", sw, "link", "set", "br0", "up")
        out = {}
        for i, (key, role) in enumerate(HOSTS.items(), start=1):
            ns, addr = f"{tag}{key}", f"10.213.{subnet}.{i}"
            _ip("netns", "add", ns)
            made.append(ns)
            _ip("link", "add", f"{tag}{key}0", "netns", ns, "type", "veth", "peer", "name", f"{tag}{key}1",
                "netns", sw)
            _ip("-n", sw, "link", "set", f"{tag}{key}1", "master", "br0", "up")
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", f"{tag}{key}0")
            _ip("-n", ns, "link", "set", f"{tag}{key}0", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            out[role] = (ns, addr)
        yield out
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"cannot build test namespaces: {exc.stderr}")
    finally:
        for ns in reversed(made):
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)


def test_producer_stages_and_collector_on_separate_hosts(
    tmp_path: Path, namespaces: dict[str, tuple[str, str]]
) -> None:
    prod, stages, coll = namespaces["producer"], namespaces["stages"], namespaces["collector"]
    hosts = {"producer-0": prod[1], "calo_layer1-0": stages[1], "objects-0": stages[1],
             "global_trigger-0": stages[1], "collector": coll[1]}
    host_lines = "".join(f"\n      {k}: {v}" for k, v in hosts.items())
    cfg = write_config(tmp_path / "hosts.yaml", **{
        "  tcp:\n    host: 127.0.0.1\n    base_port: 5550":
        f"  tcp:\n    host: 127.0.0.1\n    base_port: 5550\n    hosts:{host_lines}",
        "collect_timeout_s: 120.0": "collect_timeout_s: 60.0",
    })
    common = ["--config", cfg, "--transport", "tcp", "--workers", "1"]

    def node(ns: str, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-m", "l1emu", *args], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    report = tmp_path / "r.json"
    collector = node(coll[0], "collect", *common, "--report", str(report))
    workers = [node(stages[0], "node", *common, "--stage", s, "--index", "0")
               for s in ("calo_layer1", "objects", "global_trigger")]
    producer = node(prod[0], "produce", *common, "--events", "12000", "--seed", "5")
    try:
        assert producer.wait(timeout=180) == 0, producer.stderr.read() if producer.stderr else ""
        out, err = collector.communicate(timeout=180)
        assert collector.returncode == 0, err
    finally:
        for p in workers:
            p.send_signal(signal.SIGTERM)
        for p in (*workers, producer, collector):
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
    r = load_report(report)
    assert r["events"]["produced"] == 12000
    assert r["accounting_ok"]
    assert r["events"]["lost"] == 0
    assert "accounting: OK" in out
    ref = tmp_path / "ref.json"
    run_cli("replay", "--config", cfg, "--events", "12000", "--seed", "5", "--in-process", "--report", str(ref))
    assert seed_counts(r) == seed_counts(load_report(ref))
