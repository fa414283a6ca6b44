"""Where every node of a chain listens: the plan all processes derive alike.

Producers, then each stage's workers, then the collector get consecutive
ordinals; tcp ports are ``tcp.base_port + ordinal`` on the node's host
(``tcp.hosts[name]`` or ``tcp.host``), ipc endpoints are files in one directory,
and metrics ports are ``metrics.base_port + ordinal`` when enabled.

>>> from emulator.chain import load_chain
>>> plan = build_plan(load_chain("configs/default.yaml"), ipc_dir="/tmp/x")
>>> plan.stages[0][0].output, plan.collector.inputs
('ipc:///tmp/x/calo_layer1-0', ('ipc:///tmp/x/global_trigger-0',))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from emulator.chain import ChainConfig
from streams.errors import ConfigError
from streams.security import CurveSetup, load_curve_setup

__all__ = ["NodeSpec", "Plan", "build_plan", "curve_setup", "scrape_config"]

Role = Literal["producer", "worker", "collector"]


@dataclass(frozen=True, slots=True)
class NodeSpec:
    name: str
    role: Role
    ordinal: int
    stage: str = ""
    index: int = 0
    output: str = ""
    inputs: tuple[str, ...] = ()
    metrics_port: int | None = None


@dataclass(frozen=True, slots=True)
class Plan:
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


def build_plan(chain: ChainConfig, *, producers: int = 1, ipc_dir: str = "") -> Plan:
    """Deterministic addresses for every node of ``chain``."""
    s = chain.stream
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
        port = chain.metrics.base_port + ordinal if chain.metrics.base_port else None
        spec = NodeSpec(name, role, ordinal, stage, index, out, inputs, port)
        ordinal += 1
        return spec

    prods = tuple(make(f"producer-{i}", "producer", "", i, ()) for i in range(producers))
    upstream = tuple(p.output for p in prods)
    stages: list[tuple[NodeSpec, ...]] = []
    for st in chain.stages:
        layer = tuple(make(f"{st.name}-{k}", "worker", st.name, k, upstream) for k in range(st.workers))
        stages.append(layer)
        upstream = tuple(w.output for w in layer)
    collector = make("collector", "collector", "", 0, upstream)
    return Plan(prods, tuple(stages), collector)


def scrape_config(
    chain: ChainConfig, plan: Plan, *, interval_s: float = 1.0, hosts: dict[str, str] | None = None
) -> dict[str, Any]:
    """A Prometheus configuration scraping every node of ``plan`` (metrics must be on).

    ``hosts`` maps node names to the host Prometheus reaches them at (default: the
    chain's metrics host, or the node's tcp host).
    """
    if not chain.metrics.base_port:
        msg = f"{chain.path}: metrics.base_port is 0, nodes serve no metrics to scrape"
        raise ConfigError(msg)
    hosts = hosts or {}
    targets: dict[str, list[str]] = {}
    for node in plan.nodes:
        host = hosts.get(node.name) or chain.stream.tcp.hosts.get(node.name) or chain.metrics.host
        targets.setdefault(node.role, []).append(f"{host}:{node.metrics_port}")
    return {
        "global": {"scrape_interval": f"{round(interval_s * 1000)}ms",
                   "evaluation_interval": f"{round(interval_s * 1000)}ms"},
        "scrape_configs": [
            {"job_name": f"l1emu-{role}", "static_configs": [{"targets": t, "labels": {"chain": chain.name}}]}
            for role, t in targets.items()
        ],
    }


def curve_setup(chain: ChainConfig, plan: Plan, node: NodeSpec) -> CurveSetup | None:
    """The CURVE setup of ``node`` when the chain asks for it on tcp links (ipc stays plain)."""
    if not chain.stream.curve.enabled or chain.stream.transport != "tcp":
        return None
    by_output = {n.output: n.name for n in plan.nodes if n.output}
    return load_curve_setup(chain.keys_dir, node.name, {a: by_output[a] for a in node.inputs})
