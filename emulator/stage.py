"""A stage: an ordered list of algorithms applied to every batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from emulator.algorithm import Algorithm
from emulator.chain import ChainConfig, StageConfig, build_algorithms
from streams.event import EventBatch
from streams.sources.parametric import generate
from streams.wire import decode, encode_batch, pack_batch

__all__ = ["Stage", "build_stage", "warm_up"]


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


def warm_up(chain: ChainConfig, stage: Stage, *, events: int = 256) -> None:
    """Run ``stage`` once on a small synthetic batch so JIT compilation and lazy
    loading happen before the first real event (and stay out of latency figures).

    Earlier stages run first so the batch carries every column the stage reads. The batch
    then goes through the wire format, packed as producers and workers send it: columns
    arrive as views into (writable) message frames at offsets, so the stage is warmed on
    the array types it will receive (numba compiles per type).
    """
    batch = generate(np.random.default_rng(0), events, mu=60.0)  # objects present: every kernel runs
    for cfg in chain.stages:
        if cfg.name == stage.name:
            break
        batch = build_stage(chain, cfg.name).process(batch)
    received = decode([bytearray(f) for f in encode_batch(pack_batch(batch))]).batch
    assert received is not None
    stage.process(received)
