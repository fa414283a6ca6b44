"""Deployment files generated from a chain: docker compose services and their scrape config.

Every node of the plan becomes one service whose hostname is the node's tcp host
(``stream.tcp.hosts``) and whose command is the ``l1emu`` invocation that runs it,
so addresses in the compose file and in the chain config cannot disagree.
"""

from __future__ import annotations

from typing import Any

from emulator.chain import ChainConfig
from emulator.topology import NodeSpec, Plan, scrape_config
from streams.errors import ConfigError

__all__ = ["IMAGE", "compose_file", "prometheus_file", "service_name"]

IMAGE = "l1emu:0.1.0"
_CONFIG_IN_IMAGE = "/app/configs/docker.yaml"


def service_name(chain: ChainConfig, node: NodeSpec) -> str:
    """The compose service (and host name) of a node: its tcp host."""
    host = chain.stream.tcp.hosts.get(node.name)
    if not host:
        msg = f"{chain.path}: stream.tcp.hosts has no host for node {node.name!r}"
        raise ConfigError(msg)
    return host


def _command(node: NodeSpec) -> list[str]:
    base = ["l1emu", "-v"]
    common = ["--config", _CONFIG_IN_IMAGE]
    if node.role == "producer":
        return [*base, "produce", *common, "--index", str(node.index), "--events", "1000000", "--rate", "100000"]
    if node.role == "worker":
        return [*base, "node", *common, "--stage", node.stage, "--index", str(node.index)]
    return [*base, "collect", *common, "--report", "/reports/report.json"]


def compose_file(chain: ChainConfig, plan: Plan) -> dict[str, Any]:
    """A compose document: one service per node, Prometheus and Grafana."""
    if chain.stream.transport != "tcp":
        msg = f"{chain.path}: containers talk over tcp; set stream.transport: tcp"
        raise ConfigError(msg)
    services: dict[str, Any] = {}
    for node in plan.nodes:
        name = service_name(chain, node)
        svc: dict[str, Any] = {
            "image": IMAGE,
            "build": {"context": "..", "dockerfile": "docker/Dockerfile"},
            "hostname": name,
            "command": _command(node),
            "networks": ["l1"],
        }
        if node.role == "collector":
            svc["volumes"] = ["reports:/reports"]
        if chain.stream.realtime_priority:  # the image runs unprivileged: RLIMIT_RTPRIO grants SCHED_FIFO
            svc["ulimits"] = {"rtprio": chain.stream.realtime_priority}
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


def prometheus_file(chain: ChainConfig, plan: Plan) -> dict[str, Any]:
    """The scrape config for the compose deployment (targets by service name)."""
    return scrape_config(chain, plan, interval_s=1.0, hosts={n.name: service_name(chain, n) for n in plan.nodes})
