"""The Prometheus scrape configuration of an address plan.

>>> from streams.run.addresses import build_plan
>>> from streams.run.config import MetricsConfig, StreamConfig
>>> metrics = MetricsConfig(base_port=9000)
>>> plan = build_plan(StreamConfig(transport="tcp"), metrics, [("gt", 1)])
>>> scrape_config(plan, stream=StreamConfig(), metrics=metrics, chain="demo")["scrape_configs"][1]["job_name"]
'l1emu-worker'
"""

from __future__ import annotations

from typing import Any

from streams.errors import ConfigError
from streams.run.addresses import AddressPlan
from streams.run.config import MetricsConfig, StreamConfig

__all__ = ["scrape_config"]


def scrape_config(
    plan: AddressPlan, *, stream: StreamConfig, metrics: MetricsConfig, chain: str, where: str = "",
    interval_s: float = 1.0, hosts: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Prometheus configuration scraping every node of ``plan`` (metrics must be on).

    ``hosts`` maps node names to the host Prometheus reaches them at (default: the
    node's tcp host, or the metrics host); ``chain`` labels every target, ``where``
    names the chain file in errors.
    """
    if not metrics.base_port:
        msg = f"{where or chain}: metrics.base_port is 0, nodes serve no metrics to scrape"
        raise ConfigError(msg)
    hosts = hosts or {}
    targets: dict[str, list[str]] = {}
    for node in plan.nodes:
        host = hosts.get(node.name) or stream.tcp.hosts.get(node.name) or metrics.host
        targets.setdefault(node.role, []).append(f"{host}:{node.metrics_port}")
    return {
        "global": {"scrape_interval": f"{round(interval_s * 1000)}ms",
                   "evaluation_interval": f"{round(interval_s * 1000)}ms"},
        "scrape_configs": [
            {"job_name": f"l1emu-{role}", "static_configs": [{"targets": t, "labels": {"chain": chain}}]}
            for role, t in targets.items()
        ],
    }
