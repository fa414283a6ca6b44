"""Release batches in global-sequence order, whatever order they arrive in.

Every range of sequence numbers arrives exactly once, either as a batch or as a
gap (errored or dropped events); ranges are whole batches, so each starts where
the previous ended and a dict keyed by first sequence number suffices.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from streams.event import EventBatch

__all__ = ["Entry", "ReorderBuffer"]


@dataclass(frozen=True, slots=True)
class Entry:
    first: int
    count: int
    batch: EventBatch | None  # None: a gap (errored / dropped)
    status: str = "ok"


@dataclass
class ReorderBuffer:
    """Holds out-of-order ranges; ``push`` returns the ranges now releasable in order.

    >>> rb = ReorderBuffer()
    >>> [e.first for e in rb.push(Entry(2, 2, None, "dropped"))]
    []
    >>> [e.first for e in rb.push(Entry(0, 2, None, "errored"))]
    [0, 2]
    """

    next_first: int = 0
    pending: dict[int, Entry] = field(default_factory=dict)
    duplicates: int = 0

    def push(self, entry: Entry) -> list[Entry]:
        if entry.first < self.next_first or entry.first in self.pending:
            self.duplicates += entry.count
            return []
        self.pending[entry.first] = entry
        out: list[Entry] = []
        while self.next_first in self.pending:
            e = self.pending.pop(self.next_first)
            out.append(e)
            self.next_first += e.count
        return out

    def drain(self) -> Iterator[Entry]:
        """Everything still held, in order (the holes before them are lost events)."""
        for first in sorted(self.pending):
            yield self.pending.pop(first)
