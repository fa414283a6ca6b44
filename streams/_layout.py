"""Where columns sit in a message's frames, and packing columns into shared buffers.

Without a ``layout`` each column is its own frame (:func:`framed_columns`); with one,
columns are placed by ``[frame, byte offset]`` (:func:`laid_out_columns`) and each frame
becomes a :class:`~streams.event.Pack` of the decoded batch, so a worker can forward it
untouched. :func:`pack_batch` copies loose columns into one buffer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from streams.errors import WireFormatError
from streams.event import EventBatch, Pack

__all__ = ["Spec", "as_buffer", "find_in_packs", "framed_columns", "laid_out_columns", "pack_batch"]

ALIGN: Final = 8
#: A validated column entry: name, dtype, shape, byte length.
Spec = tuple[str, np.dtype, tuple[int, ...], int]


def as_buffer(frame: Any) -> memoryview:
    buf = getattr(frame, "buffer", frame)  # zmq.Frame -> memoryview
    try:
        return memoryview(buf).cast("B")
    except TypeError as exc:
        msg = f"frame is not a byte buffer ({type(frame).__name__})"
        raise WireFormatError(msg, kind="frames") from exc


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
    for name, arr in loose.items():
        view = buf[offsets[name] : offsets[name] + arr.nbytes].view(arr.dtype).reshape(arr.shape)
        view[...] = arr
        cols[name] = view
    return batch.with_packed(cols, Pack(buf, {k: (offsets[k], v) for k, v in cols.items()}))


def framed_columns(frames: Sequence[Any], specs: list[Spec]) -> dict[str, np.ndarray]:
    """One frame per column, in header order."""
    if len(frames) - 1 != len(specs):
        msg = f"message has {len(frames) - 1} column frames, header lists {len(specs)}"
        raise WireFormatError(msg, kind="truncated" if len(frames) - 1 < len(specs) else "frames")
    buffers = [as_buffer(f) for f in frames[1:]]
    for (name, _, _, nbytes), buf in zip(specs, buffers, strict=True):
        if len(buf) != nbytes:
            msg = f"column {name!r}: {len(buf)} bytes, shape and dtype need {nbytes}"
            raise WireFormatError(msg, kind="truncated" if len(buf) < nbytes else "length")
    return {
        name: np.frombuffer(buf, dtype=dtype).reshape(shape)
        for (name, dtype, shape, _), buf in zip(specs, buffers, strict=True)
    }


def _layout(raw: Any, specs: list[Spec], nframes: int) -> list[tuple[int, int]]:
    """Validated ``[frame, offset]`` per column: a column frame, an aligned offset."""
    if not isinstance(raw, list) or len(raw) != len(specs):
        msg = f"header field 'layout' must list [frame, offset] for each of the {len(specs)} columns"
        raise WireFormatError(msg, kind="header")
    out = []
    for (name, dtype, _, _), entry in zip(specs, raw, strict=True):
        ok = type(entry) is list and len(entry) == 2 and type(entry[0]) is int and type(entry[1]) is int
        if not ok or not 1 <= entry[0] < nframes or entry[1] < 0 or entry[1] % dtype.itemsize:
            msg = f"column {name!r}: layout {entry!r} is not [frame 1..{nframes - 1}, aligned offset]"
            raise WireFormatError(msg, kind="header")
        out.append((entry[0], entry[1]))
    used = len({k for k, _ in out})
    if used != nframes - 1:
        msg = f"message has {nframes - 1} column frames, the layout uses {used}"
        raise WireFormatError(msg, kind="frames")
    return out


def laid_out_columns(
    frames: Sequence[Any], specs: list[Spec], raw_layout: Any, max_message_bytes: int
) -> tuple[dict[str, np.ndarray], tuple[Pack, ...]]:
    """Columns placed in shared frames by the header's layout; the frames become packs."""
    layout = _layout(raw_layout, specs, len(frames))
    buffers = [as_buffer(f) for f in frames[1:]]
    if sum(len(b) for b in buffers) > max_message_bytes:
        msg = f"message payload exceeds the limit of {max_message_bytes} bytes"
        raise WireFormatError(msg, kind="oversize")
    cols: dict[str, np.ndarray] = {}
    members: dict[int, dict[str, tuple[int, np.ndarray]]] = {}
    for (name, dtype, shape, nbytes), (k, offset) in zip(specs, layout, strict=True):
        buf = buffers[k - 1]
        if offset + nbytes > len(buf):
            msg = f"column {name!r}: bytes {offset}..{offset + nbytes} lie beyond frame {k} ({len(buf)} bytes)"
            raise WireFormatError(msg, kind="truncated")
        if nbytes:
            arr = np.frombuffer(buf, dtype, nbytes // dtype.itemsize, offset).reshape(shape)
        else:
            arr = np.empty(shape, dtype)
        cols[name] = arr
        members.setdefault(k, {})[name] = (offset, arr)
    return cols, tuple(Pack(frames[k], m) for k, m in sorted(members.items()))
