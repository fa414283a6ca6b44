"""How a chain runs: stream settings, address plan, launch plan, supervisor, deployment files.

Processes, sockets and addresses live here, apart from the trigger logic
(``emulator``); this package knows nothing of stages beyond their names and worker
counts.
"""

from __future__ import annotations

from streams._node import NodeEndpoint
from streams.run.addresses import AddressPlan, NodeSpec, build_plan, curve_keys
from streams.run.compose import compose_file, prometheus_file, service_name
from streams.run.config import CurveConfig, MetricsConfig, StreamConfig, TcpConfig
from streams.run.launch import (
    ChainOverrides,
    ChainRef,
    LaunchPlan,
    SourceSpec,
    build_launch_plan,
    child_args,
    read_launch_plan,
    write_launch_plan,
)
from streams.run.prometheus import scrape_config
from streams.run.supervisor import Supervisor

__all__ = [
    "AddressPlan",
    "ChainOverrides",
    "ChainRef",
    "CurveConfig",
    "LaunchPlan",
    "MetricsConfig",
    "NodeEndpoint",
    "NodeSpec",
    "SourceSpec",
    "StreamConfig",
    "Supervisor",
    "TcpConfig",
    "build_launch_plan",
    "build_plan",
    "child_args",
    "compose_file",
    "curve_keys",
    "prometheus_file",
    "read_launch_plan",
    "scrape_config",
    "service_name",
    "write_launch_plan",
]
