"""Docker compose services of an address plan, and their scrape config.

Every node becomes one service whose hostname is the node's tcp host
(``stream.tcp.hosts``) and whose command is given by the caller (the CLI spells
it from its own argument table), so addresses in the compose file and in the
chain config cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streams.errors import ConfigError
from streams.run.addresses import AddressPlan, NodeSpec
from streams.run.config import MetricsConfig, StreamConfig
from streams.run.prometheus import scrape_config

__all__ = ["IMAGE", "compose_file", "prometheus_file", "service_name"]

IMAGE = "l1emu:0.1.0"


def service_name(stream: StreamConfig, node: NodeSpec, *, where: str = "") -> str:
    """The compose service (and host name) of a node: its tcp host."""
    host = stream.tcp.hosts.get(node.name)
    if not host:
        msg = f"{where}: stream.tcp.hosts has no host for node {node.name!r}"
        raise ConfigError(msg)
    return host


def compose_file(
    plan: AddressPlan, *, stream: StreamConfig, command: Callable[[NodeSpec], list[str]], where: str = "",
) -> dict[str, Any]:
    """A compose document: one service per node (running ``command(node)``), Prometheus and Grafana."""
    if stream.transport != "tcp":
        msg = f"{where}: containers talk over tcp; set stream.transport: tcp"
        raise ConfigError(msg)
    services: dict[str, Any] = {}
    for node in plan.nodes:
        name = service_name(stream, node, where=where)
        svc: dict[str, Any] = {
            "image": IMAGE,
            "build": {"context": "..", "dockerfile": "docker/Dockerfile"},
            "hostname": name,
            "command": command(node),
            "networks": ["l1"],
        }
        if node.role == "collector":
            svc["volumes"] = ["reports:/reports"]
        if stream.realtime_priority:  # the image runs unprivileged: RLIMIT_RTPRIO grants SCHED_FIFO
            svc["ulimits"] = {"rtprio": stream.realtime_priority}
        if node.role != "collector" or plan.producers:
            svc["depends_on"] = [] if node.role == "collector" else ["collector"]
        services[name] = svc
    services["prometheus"] = {
        "image": "prom/prometheus:v2.42.0",
        "command": ["--config.file=/etc/prometheus/prometheus.yml", "--web.listen-address=0.0.0.0:9090"],
        "volumes": ["./prometheus.yml:/etc/prometheus/prometheus.yml:ro"],
        "networks": ["l1"],
    }
    services["grafana"] = {
        "image": "grafana/grafana:10.4.2",
        "ports": ["127.0.0.1:3000:3000"],
        "environment": {"GF_AUTH_ANONYMOUS_ENABLED": "true", "GF_AUTH_ANONYMOUS_ORG_ROLE": "Viewer"},
        "volumes": ["./grafana/provisioning:/etc/grafana/provisioning:ro",
                    "./grafana/dashboards:/var/lib/grafana/dashboards:ro"],
        "depends_on": ["prometheus"],
        "networks": ["l1"],
    }
    return {"name": "l1emu", "services": services, "networks": {"l1": {}}, "volumes": {"reports": {}}}


def prometheus_file(
    plan: AddressPlan, *, stream: StreamConfig, metrics: MetricsConfig, chain: str, where: str = "",
) -> dict[str, Any]:
    """The scrape config for the compose deployment (targets by service name)."""
    hosts = {n.name: service_name(stream, n, where=where) for n in plan.nodes}
    return scrape_config(plan, stream=stream, metrics=metrics, chain=chain, where=where, interval_s=1.0, hosts=hosts)
