"""The docker deployment, checked statically (no Docker engine runs here)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator.chain import ChainConfig, load_chain
from l1emu.cli import build_parser
from l1emu.commands.compose import documents
from streams.metrics import METRIC_NAMES
from streams.run import AddressPlan, build_plan
from tests.helpers import ROOT

DOCKER = ROOT / "docker"
CONFIG = ROOT / "configs" / "docker.yaml"


def _plan(chain: ChainConfig) -> AddressPlan:
    return build_plan(chain.stream, chain.metrics, [(s.name, s.workers) for s in chain.stages])


def _load(name: str) -> Any:
    return yaml.safe_load((DOCKER / name).read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(_load("compose.yaml"))


def test_committed_files_are_what_the_chain_generates(compose: dict[str, Any]) -> None:
    chain = load_chain(CONFIG)
    docs = documents(chain, _plan(chain))
    assert compose == docs["compose.yaml"], "regenerate: l1emu compose --config configs/docker.yaml"
    assert _load("prometheus.yml") == docs["prometheus.yml"]


def test_realtime_chain_grants_every_node_the_rtprio_limit() -> None:
    chain = load_chain(CONFIG, overrides={"stream": {**_load_raw_stream(), "realtime_priority": 10}})
    services = documents(chain, _plan(chain))["compose.yaml"]["services"]
    nodes = {name for name, s in services.items() if s.get("command", [""])[0] == "l1emu"}
    assert len(nodes) == 6
    for name, svc in services.items():
        assert svc.get("ulimits") == ({"rtprio": 10} if name in nodes else None), name
    assert all("ulimits" not in s for s in _load("compose.yaml")["services"].values())  # shipped: off


def _load_raw_stream() -> dict[str, Any]:
    return dict(yaml.safe_load(CONFIG.read_text())["stream"])


def test_every_service_command_is_a_valid_l1emu_invocation(compose: dict[str, Any]) -> None:
    parser = build_parser()
    commands = [s["command"] for s in compose["services"].values() if s.get("command", [""])[0] == "l1emu"]
    assert len(commands) == 6  # producer, 4 stage workers, collector
    for cmd in commands:
        args = parser.parse_args(cmd[1:])
        assert callable(args.func)
        assert Path(args.config).name == "docker.yaml"


def test_addresses_and_ports_agree_with_the_chain(compose: dict[str, Any]) -> None:
    chain = load_chain(CONFIG)
    plan = _plan(chain)
    services = compose["services"]
    scrape = _load("prometheus.yml")
    targets = {t for job in scrape["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    for node in plan.nodes:
        host = chain.stream.tcp.hosts[node.name]
        assert services[host]["hostname"] == host
        if node.output:
            assert node.output == f"tcp://{host}:{chain.stream.tcp.base_port + node.ordinal}"
        for addr in node.inputs:  # every input is some other service's output
            assert re.match(r"tcp://([\w-]+):\d+", addr)
            assert addr.split("//")[1].split(":")[0] in services
        assert f"{host}:{node.metrics_port}" in targets
    published = [p for s in services.values() for p in s.get("ports", [])]
    assert published == ["127.0.0.1:3000:3000"]  # only Grafana, only on loopback


def test_dashboard_queries_only_exported_metrics() -> None:
    dash = json.loads((DOCKER / "grafana" / "dashboards" / "l1emu.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = {re.sub(r"_(bucket|sum|count)$", "", m) for e in exprs for m in re.findall(r"\bl1emu_\w+", e)}
    assert used, "no queries found"
    assert used <= set(METRIC_NAMES), used - set(METRIC_NAMES)
    titles = " ".join(p["title"].lower() for p in dash["panels"])
    for needed in ("seed", "total", "throughput", "latency", "errors", "queue", "dropped"):
        assert needed in titles


def test_metric_names_are_what_a_node_really_exports() -> None:
    from prometheus_client import generate_latest

    from streams.metrics import NodeMetrics

    text = generate_latest(NodeMetrics("n", "s").registry).decode()
    exported = set(re.findall(r"^# TYPE (\w+) ", text, flags=re.M))
    assert set(METRIC_NAMES) <= exported, set(METRIC_NAMES) - exported


def test_dockerfile_is_pinned_and_runs_unprivileged() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    base = re.search(r"^FROM (\S+)", text, flags=re.M)
    assert base is not None
    assert re.search(r":\d+\.\d+\.\d+", base.group(1)), "pin the base image version"
    assert "latest" not in base.group(1)
    assert re.search(r"^USER (?!root)\w+", text, flags=re.M)
    for image in (s["image"] for s in yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"].values()):
        assert re.search(r":v?\d+\.\d+\.\d+$", image), image
