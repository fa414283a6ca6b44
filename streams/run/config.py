"""Stream-level settings of a chain: links, tcp addresses, CURVE, metrics endpoints.

They are the ``stream:`` and ``metrics:`` sections of a chain file
(:class:`emulator.chain.ChainConfig` holds them); nothing here knows about stages.

>>> StreamConfig(transport="tcp").tcp.base_port
5550
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from streams.realtime import MAX_PRIORITY

__all__ = ["CurveConfig", "MetricsConfig", "StreamConfig", "TcpConfig"]


@dataclass(frozen=True, slots=True)
class TcpConfig:
    """Where tcp links listen: every node binds ``host:base_port + offset``."""

    host: str = "127.0.0.1"
    base_port: int = 5550
    hosts: dict[str, str] = field(default_factory=dict)  # node name -> host


@dataclass(frozen=True, slots=True)
class CurveConfig:
    """CURVE authentication on tcp links: keys (``l1emu keys``) in ``keys_dir``."""

    enabled: bool = False
    keys_dir: str = "keys"  # relative to the chain file


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """Transport and flow-control settings of the chain's links."""

    batch_size: int = 4096
    transport: Literal["ipc", "tcp"] = "ipc"
    ipc_dir: str = ""  # empty: a fresh temporary directory per replay
    hwm: int = 8  # batches buffered per link and direction
    policy: Literal["block", "drop"] = "block"
    heartbeat_s: float = 1.0
    collect_timeout_s: float = 60.0
    warmup_batches: int = 4  # per producer, before the first event (see streams.producer)
    socket_buffer_kib: int = 8192  # kernel send/receive buffer per link, 0: the kernel's default (streams._sockbuf)
    realtime_priority: int = 0  # SCHED_FIFO priority of every node, 0: normal scheduling (streams.realtime)
    tcp: TcpConfig = field(default_factory=TcpConfig)
    curve: CurveConfig = field(default_factory=CurveConfig)

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.hwm < 1:
            msg = "batch_size and hwm must be positive"
            raise ValueError(msg)
        if not 0 <= self.warmup_batches <= 64:
            msg = f"warmup_batches must be in 0..64, not {self.warmup_batches}"
            raise ValueError(msg)
        if not 0 <= self.socket_buffer_kib <= 1 << 20:
            msg = f"socket_buffer_kib must be in 0..{1 << 20} (1 GiB), not {self.socket_buffer_kib}"
            raise ValueError(msg)
        if not 0 <= self.realtime_priority <= MAX_PRIORITY:
            msg = f"realtime_priority must be in 0..{MAX_PRIORITY} (0: normal scheduling), not {self.realtime_priority}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """Prometheus endpoints: node i of the chain serves on ``base_port + i``; 0 disables."""

    host: str = "127.0.0.1"
    base_port: int = 0
