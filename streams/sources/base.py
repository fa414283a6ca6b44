"""The source interface: anything that yields :class:`EventBatch` in order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from streams.event import EventBatch

__all__ = ["Source"]


@runtime_checkable
class Source(Protocol):
    """A finite, ordered supply of events.

    ``batches`` yields consecutive batches whose ``meta.first`` counts events from
    0 in source order (the global sequence numbers producers and the collector use).
    """

    name: str

    def __len__(self) -> int:
        """Number of events the source will deliver."""
        ...

    def batches(self, batch_size: int, *, shard: tuple[int, int] = (0, 1)) -> Iterator[EventBatch]:
        """Yield the events in batches of at most ``batch_size``.

        ``shard=(i, n)`` yields only batches whose index is ``i`` modulo ``n`` (with
        their global ``meta.first``), so ``n`` producers split a source between them.
        """
        ...
