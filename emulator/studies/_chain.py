"""Run a chain's stages in this process and hand out the processed batches, in order.

The studies read events once: each processed batch goes to every accumulator
(threshold scans, prescale columns, per-event samples) before the next is read.
"""

from __future__ import annotations

from collections.abc import Iterator

from emulator.chain import ChainConfig
from emulator.stage import Stage, build_stage
from streams.event import EventBatch
from streams.sources.base import Source

__all__ = ["processed_batches"]


def processed_batches(chain: ChainConfig, source: Source) -> Iterator[EventBatch]:
    """Every batch of ``source`` after all stages of ``chain`` (in source order)."""
    stages: list[Stage] = [build_stage(chain, s.name) for s in chain.stages]
    for batch in source.batches(chain.stream.batch_size):
        out = batch
        for st in stages:
            out = st.process(out)
        yield out
