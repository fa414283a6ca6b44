"""Packing columns into shared buffers, and finding a column in a batch's packs.

A decoded batch keeps its received frames as :class:`~streams.event.Pack` (see
:mod:`streams._column_plan`), so a worker can forward them untouched; :func:`pack_batch` copies
the columns that are in no pack (a producer's batch, a stage's new outputs) into one buffer.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from streams.event import EventBatch, Pack

__all__ = ["find_in_packs", "pack_batch"]

ALIGN: Final = 8


def find_in_packs(packs: tuple[Pack, ...], name: str, arr: np.ndarray) -> tuple[Pack, int] | None:
    for pack in packs:
        hit = pack.members.get(name)
        if hit is not None and hit[1] is arr:
            return pack, hit[0]
    return None


def pack_batch(batch: EventBatch) -> EventBatch:
    """The batch with every column that is not yet in one of its packs copied into one new
    buffer (8-byte aligned offsets). A producer packs whole batches, a worker the columns its
    stage made: a message then has one frame per stage passed, not one per column."""
    loose = {k: v for k, v in batch.columns.items() if find_in_packs(batch.packs, k, v) is None}
    if not loose:
        return batch
    offsets: dict[str, int] = {}
    total = 0
    for name, arr in loose.items():
        total = -(-total // ALIGN) * ALIGN
        offsets[name] = total
        total += arr.nbytes
    buf = np.empty(total, np.uint8)
    cols: dict[str, np.ndarray] = {}
    end = 0
    for name, arr in loose.items():
        start = offsets[name]
        buf[end:start] = 0  # alignment padding: no stale memory goes on the wire
        end = start + arr.nbytes
        view = buf[start:end].view(arr.dtype).reshape(arr.shape)
        view[...] = arr
        cols[name] = view
    return batch.with_packed(cols, Pack(buf, {k: (offsets[k], v) for k, v in cols.items()}))
