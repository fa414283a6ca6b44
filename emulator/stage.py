"""A stage: an ordered list of algorithms applied to every batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from emulator.algorithm import Algorithm
from emulator.chain import ChainConfig, StageConfig, build_algorithms
from streams.event import EventBatch

__all__ = ["Stage", "build_stage"]


@dataclass(frozen=True, slots=True)
class Stage:
    """Runs its algorithms in order; ``outputs`` lists every column it appends.

    >>> from emulator.chain import load_chain
    >>> chain = load_chain("configs/default.yaml")
    >>> stage = build_stage(chain, "calo_layer1")
    >>> "regions_cal" in stage.process(EventBatch.empty(2))
    True
    """

    config: StageConfig
    algorithms: Sequence[Algorithm]

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(c for a in self.algorithms for c in a.outputs)

    def latency_cycles(self) -> int:
        return sum(a.latency_cycles(self.config.clock_mhz) for a in self.algorithms)

    def process(self, batch: EventBatch) -> EventBatch:
        for algo in self.algorithms:
            batch = algo.process(batch)
        return batch


def build_stage(chain: ChainConfig, name: str) -> Stage:
    """Build the named stage of a chain."""
    cfg = chain.stage(name)
    return Stage(cfg, build_algorithms(chain, cfg))
