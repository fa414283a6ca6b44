"""A deliberately slow algorithm: waits a fixed time per batch and per event.

For studying backpressure and deadtime (a stage slower than the input rate),
not for physics. It adds no columns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from emulator.algorithm import BuildContext
from emulator.params import from_mapping
from streams.event import EventBatch

__all__ = ["Delay", "DelayConfig"]


@dataclass(frozen=True, slots=True)
class DelayConfig:
    per_batch_ms: float = 0.0
    per_event_us: float = 0.0

    def __post_init__(self) -> None:
        if self.per_batch_ms < 0 or self.per_event_us < 0:
            msg = "delays must be >= 0"
            raise ValueError(msg)


class Delay:
    outputs: tuple[str, ...] = ()

    def __init__(self, name: str, config: DelayConfig) -> None:
        self.name = name
        self.config = config

    @classmethod
    def build(cls, name: str, params: dict[str, Any], ctx: BuildContext) -> Delay:
        return cls(name, from_mapping(DelayConfig, params, where="params"))

    def latency_cycles(self, clock_mhz: float) -> int:
        return 0  # models a slow software stage, not firmware

    def process(self, batch: EventBatch) -> EventBatch:
        time.sleep(self.config.per_batch_ms / 1e3 + self.config.per_event_us * len(batch) / 1e6)
        return batch
