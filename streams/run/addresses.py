"""Where every node of a chain listens: the address plan all processes derive alike.

Producers, then each stage's workers, then the collector get consecutive
ordinals; tcp ports are ``tcp.base_port + ordinal`` on the node's host
(``tcp.hosts[name]`` or ``tcp.host``), ipc endpoints are files in one directory,
and metrics ports are ``metrics.base_port + ordinal`` when enabled.

>>> plan = build_plan(StreamConfig(), MetricsConfig(), [("calo", 1), ("gt", 1)], ipc_dir="/tmp/x")
>>> plan.stages[0][0].output, plan.collector.inputs
('ipc:///tmp/x/calo-0', ('ipc:///tmp/x/gt-0',))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from streams.errors import ConfigError
from streams.run.config import MetricsConfig, StreamConfig
from streams.security import CurveKeys

__all__ = ["AddressPlan", "NodeSpec", "Role", "build_plan", "curve_keys"]

Role = Literal["producer", "worker", "collector"]


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One node's place in the plan: its name, role, output address and inputs."""

    name: str
    role: Role
    ordinal: int
    stage: str = ""
    index: int = 0
    output: str = ""
    inputs: tuple[str, ...] = ()
    metrics_port: int | None = None


@dataclass(frozen=True, slots=True)
class AddressPlan:
    """Every node of a chain, layer by layer."""

    producers: tuple[NodeSpec, ...]
    stages: tuple[tuple[NodeSpec, ...], ...]
    collector: NodeSpec

    @property
    def workers(self) -> tuple[NodeSpec, ...]:
        return tuple(w for stage in self.stages for w in stage)

    @property
    def nodes(self) -> tuple[NodeSpec, ...]:
        return (*self.producers, *self.workers, self.collector)

    def worker(self, stage: str, index: int) -> NodeSpec:
        for w in self.workers:
            if w.stage == stage and w.index == index:
                return w
        msg = f"no worker {index} in stage {stage!r}"
        raise ConfigError(msg)

    def node(self, name: str) -> NodeSpec:
        for n in self.nodes:
            if n.name == name:
                return n
        msg = f"no node named {name!r}; nodes: {[n.name for n in self.nodes]}"
        raise ConfigError(msg)


def build_plan(
    stream: StreamConfig, metrics: MetricsConfig, stages: Sequence[tuple[str, int]], *,
    producers: int = 1, ipc_dir: str = "",
) -> AddressPlan:
    """Deterministic addresses for every node; ``stages`` are (name, workers) pairs in chain order."""
    s = stream
    if producers < 1:
        msg = f"need at least one producer, not {producers}"
        raise ConfigError(msg)
    if s.transport == "ipc" and not (ipc_dir or s.ipc_dir):
        msg = "ipc transport needs an ipc directory"
        raise ConfigError(msg)
    ordinal = 0

    def make(name: str, role: Role, stage: str, index: int, inputs: tuple[str, ...]) -> NodeSpec:
        nonlocal ordinal
        if role == "collector":
            out = ""
        elif s.transport == "ipc":
            out = f"ipc://{ipc_dir or s.ipc_dir}/{name}"
        else:
            out = f"tcp://{s.tcp.hosts.get(name, s.tcp.host)}:{s.tcp.base_port + ordinal}"
        port = metrics.base_port + ordinal if metrics.base_port else None
        spec = NodeSpec(name, role, ordinal, stage, index, out, inputs, port)
        ordinal += 1
        return spec

    prods = tuple(make(f"producer-{i}", "producer", "", i, ()) for i in range(producers))
    upstream = tuple(p.output for p in prods)
    layers: list[tuple[NodeSpec, ...]] = []
    for stage, workers in stages:
        layer = tuple(make(f"{stage}-{k}", "worker", stage, k, upstream) for k in range(workers))
        layers.append(layer)
        upstream = tuple(w.output for w in layer)
    collector = make("collector", "collector", "", 0, upstream)
    return AddressPlan(prods, tuple(layers), collector)


def curve_keys(stream: StreamConfig, plan: AddressPlan, node: NodeSpec, *, keys_dir: Path) -> CurveKeys | None:
    """Where ``node`` finds its CURVE keys when the chain asks for CURVE on tcp links (ipc stays plain)."""
    if not stream.curve.enabled or stream.transport != "tcp":
        return None
    by_output = {n.output: n.name for n in plan.nodes if n.output}
    return CurveKeys(str(keys_dir), node.name, {a: by_output[a] for a in node.inputs})
