"""Run a chain's stages in this process and hand out the processed batches, in order.

The studies read events once: each processed batch goes to every accumulator
(threshold scans, prescale columns, per-event samples) before the next is read.
"""

from __future__ import annotations

from collections.abc import Iterator

from emulator.chain import ChainConfig
from emulator.pipeline import Pipeline
from streams.event import EventBatch
from streams.sources.base import Source

__all__ = ["processed_batches"]


def processed_batches(chain: ChainConfig, source: Source) -> Iterator[EventBatch]:
    """Every batch of ``source`` after all stages of ``chain`` (in source order)."""
    return Pipeline.from_chain(chain).run_source(source)
