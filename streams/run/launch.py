"""The launch plan: every node's resolved config in one JSON document children start from.

The parent resolves the chain once, builds the address plan and each node's config,
writes them here, and starts each child as ``l1emu node|produce --launch-plan FILE
--node NAME``; the child reads its config back and derives nothing. Document::

    {"schema": "l1emu-launch-plan", "version": 1,
     "chain": {"path": ..., "overrides": {...}},        # for building a worker's stage
     "source": {"path": null, "events": ..., "mu": ..., "seed": ...}, "rate_hz": ...,
     "addresses": {...}, "producers": [...], "workers": [...], "collector": {...}}

>>> from streams.run.config import MetricsConfig, StreamConfig
>>> plan = build_launch_plan(chain=ChainRef("c.yaml"), stream=StreamConfig(ipc_dir="/tmp/x"),
...                          metrics=MetricsConfig(), stages=[("gt", 2)], keys_dir=Path("keys"))
>>> [w.endpoint.name for w in plan.workers], plan.collector.expected_workers
(['gt-0', 'gt-1'], ('gt-0', 'gt-1'))
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from streams._node import NodeEndpoint
from streams.collector import CollectorConfig
from streams.errors import ConfigError
from streams.producer import ProducerConfig
from streams.run import _codec
from streams.run.addresses import AddressPlan, NodeSpec, build_plan, curve_keys
from streams.run.config import MetricsConfig, StreamConfig
from streams.transport import LinkOptions
from streams.worker import WorkerConfig

__all__ = [
    "LAUNCH_PLAN_FLAG",
    "NODE_FLAG",
    "SCHEMA",
    "VERSION",
    "ChainOverrides",
    "ChainRef",
    "LaunchPlan",
    "SourceSpec",
    "build_launch_plan",
    "child_args",
    "read_launch_plan",
    "write_launch_plan",
]

SCHEMA = "l1emu-launch-plan"
VERSION = 1
#: How a child is pointed at its plan: the CLI's argument definitions use these spellings.
LAUNCH_PLAN_FLAG = "--launch-plan"
NODE_FLAG = "--node"
_COMMANDS = {"producer": "produce", "worker": "node", "collector": "collect"}

NodeConfig = ProducerConfig | WorkerConfig | CollectorConfig


@dataclass(frozen=True, slots=True)
class ChainOverrides:
    """What a run overrides in a chain file (the CLI flags of ``replay``, ``node``, ``produce``...)."""

    workers: int | None = None
    transport: Literal["ipc", "tcp"] | None = None
    ipc_dir: str = ""
    policy: Literal["block", "drop"] | None = None
    batch_size: int | None = None
    metrics_port: int | None = None
    collect_timeout_s: float | None = None
    realtime_priority: int | None = None
    menu: str = ""  # a menu file (l1emu YAML, uGT XML or a menu reference) run instead of the chain's


@dataclass(frozen=True, slots=True)
class ChainRef:
    """The chain file a plan was resolved from, and the overrides applied to it."""

    path: str
    overrides: ChainOverrides = field(default_factory=ChainOverrides)


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """The events the producers send (see :func:`streams.sources.open_source`)."""

    path: str | None = None  # None: the parametric generator
    events: int | None = None
    mu: float = 60.0
    seed: int = 1


@dataclass(frozen=True, slots=True)
class LaunchPlan:
    """Every node of a run, resolved."""

    chain: ChainRef
    source: SourceSpec
    rate_hz: float  # of all producers together
    addresses: AddressPlan
    producers: tuple[ProducerConfig, ...]
    workers: tuple[WorkerConfig, ...]
    collector: CollectorConfig

    @property
    def nodes(self) -> tuple[NodeConfig, ...]:
        """Every node's config: producers, workers, the collector."""
        return (*self.producers, *self.workers, self.collector)

    def node(self, name: str) -> NodeConfig:
        """The config of the node called ``name``."""
        for cfg in self.nodes:
            if cfg.endpoint.name == name:
                return cfg
        msg = f"no node named {name!r}; nodes: {[n.name for n in self.addresses.nodes]}"
        raise ConfigError(msg)

    def worker(self, stage: str, index: int) -> WorkerConfig:
        """The config of worker ``index`` of ``stage``."""
        name = self.addresses.worker(stage, index).name
        return next(w for w in self.workers if w.endpoint.name == name)


def build_launch_plan(
    *, chain: ChainRef, stream: StreamConfig, metrics: MetricsConfig, stages: Sequence[tuple[str, int]],
    keys_dir: Path, producers: int = 1, source: SourceSpec | None = None, rate_hz: float = 0.0,
    linger_s: float = 0.0, expected_events: int | None = None,
) -> LaunchPlan:
    """Addresses and every node's config from a chain's stream-level settings (already overridden).

    ``stages`` are (name, workers) pairs; ``linger_s`` keeps producers up after their
    end-of-stream; ``expected_events`` lets the collector account for a lost end-of-stream.
    """
    plan = build_plan(stream, metrics, stages, producers=producers)
    link = LinkOptions(hwm=stream.hwm, kernel_buffer_bytes=stream.socket_buffer_kib << 10)

    def endpoint(node: NodeSpec) -> NodeEndpoint:
        return NodeEndpoint(node.name, link=link, metrics_host=metrics.host, metrics_port=node.metrics_port,
                            curve=curve_keys(stream, plan, node, keys_dir=keys_dir),
                            realtime_priority=stream.realtime_priority)

    prods = tuple(
        ProducerConfig(endpoint(p), output=p.output, index=p.index, count=producers, batch_size=stream.batch_size,
                       rate_hz=rate_hz / producers, policy=stream.policy, linger_s=linger_s,
                       warmup_batches=stream.warmup_batches)
        for p in plan.producers
    )
    workers = tuple(
        WorkerConfig(endpoint(w), stage=w.stage, inputs=w.inputs, output=w.output, policy=stream.policy,
                     heartbeat_s=stream.heartbeat_s)
        for w in plan.workers
    )
    c = plan.collector
    collector = CollectorConfig(
        endpoint(c), inputs=c.inputs, expected_producers=producers,
        expected_workers=tuple(w.name for w in plan.workers), timeout_s=stream.collect_timeout_s,
        expected_events=expected_events,
    )
    return LaunchPlan(chain, source or SourceSpec(), rate_hz, plan, prods, workers, collector)


def write_launch_plan(plan: LaunchPlan, path: str | Path) -> Path:
    """Write ``plan`` as JSON (atomically: a child never reads half a file)."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_text(json.dumps({"schema": SCHEMA, "version": VERSION, **_codec.encode(plan)}, indent=1))
    tmp.replace(p)
    return p


def read_launch_plan(path: str | Path) -> LaunchPlan:
    """Read and validate a launch plan; anything malformed is a ConfigError naming the file and field."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text())
    except OSError as exc:
        msg = f"{p}: cannot read launch plan ({exc.strerror or exc})"
        raise ConfigError(msg) from exc
    except json.JSONDecodeError as exc:
        msg = f"{p}: line {exc.lineno}: not a JSON launch plan ({exc.msg})"
        raise ConfigError(msg) from exc
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        msg = f"{p}: field 'schema': not an l1emu launch plan (want {SCHEMA!r})"
        raise ConfigError(msg)
    if doc.get("version") != VERSION:
        msg = f"{p}: field 'version': {doc.get('version')!r} is not the supported version {VERSION}"
        raise ConfigError(msg)
    body = {k: v for k, v in doc.items() if k not in ("schema", "version")}
    try:
        return _codec.decode(LaunchPlan, body)
    except ConfigError as exc:
        msg = f"{p}: {exc}"
        raise ConfigError(msg) from exc


def child_args(node: NodeSpec, plan_path: str | Path) -> list[str]:
    """The arguments (after the program) that start ``node`` from the plan at ``plan_path``."""
    return [_COMMANDS[node.role], LAUNCH_PLAN_FLAG, str(plan_path), NODE_FLAG, node.name]
