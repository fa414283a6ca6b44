"""Column plans: a batch header's column description, validated once per link.

Every batch on a link carries the same column description (names, dtypes, shapes and
``[frame, byte offset]`` places) until the batch size or the columns change. The header
therefore holds it as one nested msgpack ``bin`` (field ``columns``): a receiver validates a
description the first time it sees those bytes and keeps the resulting :class:`ColumnPlan`.
Each later message costs only the checks that depend on its frames (count, byte lengths,
payload size) and one array view per column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

import msgpack
import numpy as np

from streams.errors import WireFormatError
from streams.event import Pack
from streams.schema import ALLOWED_DTYPES, COLUMN_NAME_RE

__all__ = [
    "ColumnPlan", "PlanLimits", "Spec", "accept_plan", "as_buffer", "column_plan", "describe", "read_description",
]

#: A validated column entry: name, dtype, shape, byte length.
Spec = tuple[str, np.dtype, tuple[int, ...], int]


class PlanLimits(Protocol):
    """The size limits a plan is checked against (:class:`streams.wire.Limits`)."""

    @property
    def max_header_bytes(self) -> int: ...

    @property
    def max_message_bytes(self) -> int: ...

    @property
    def max_columns(self) -> int: ...


def as_buffer(frame: Any) -> memoryview:
    buf = getattr(frame, "buffer", frame)  # zmq.Frame -> memoryview
    try:
        return memoryview(buf).cast("B")
    except TypeError as exc:
        msg = f"frame is not a byte buffer ({type(frame).__name__})"
        raise WireFormatError(msg, kind="frames") from exc


def describe(cols: list[list[Any]], layout: list[list[int]] | None) -> bytes:
    """The ``columns`` field: msgpack of ``[cols, layout]`` (layout None: a frame per column)."""
    out = msgpack.packb([cols, layout], use_bin_type=True)
    assert isinstance(out, bytes)
    return out


def read_description(raw: Any, limits: PlanLimits) -> tuple[Any, Any]:
    """``(cols, layout)`` from a ``columns`` field, unvalidated (any msgpack trouble is a
    ``header`` error)."""
    if not isinstance(raw, bytes):
        msg = f"header field 'columns' has type {type(raw).__name__}, not bin"
        raise WireFormatError(msg, kind="header")
    try:
        out = msgpack.unpackb(
            raw, raw=False, strict_map_key=True, max_str_len=limits.max_header_bytes,
            max_bin_len=0, max_ext_len=0, max_array_len=4 * limits.max_columns, max_map_len=0,
        )
    except Exception as exc:  # msgpack raises a zoo of types on garbage
        msg = f"header field 'columns' is not valid msgpack: {type(exc).__name__}: {exc}"
        raise WireFormatError(msg, kind="header") from exc
    if not (isinstance(out, list) and len(out) == 2):
        msg = "header field 'columns' must be [cols, layout]"
        raise WireFormatError(msg, kind="header")
    return out[0], out[1]


def _column_spec(entry: Any) -> Spec:
    """One validated ``[name, dtype, shape]`` entry."""
    if not (isinstance(entry, list) and len(entry) == 3):
        msg = f"column entry {entry!r} is not [name, dtype, shape]"
        raise WireFormatError(msg, kind="header")
    name, dtype_str, shape = entry
    if not isinstance(name, str) or not COLUMN_NAME_RE.match(name):
        msg = f"column name {name!r} is invalid"
        raise WireFormatError(msg, kind="header")
    if not isinstance(dtype_str, str) or dtype_str not in ALLOWED_DTYPES:
        msg = f"column {name!r}: dtype {dtype_str!r} is not allowed"
        raise WireFormatError(msg, kind="dtype")
    if not (
        isinstance(shape, list) and 1 <= len(shape) <= 4
        and all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 1 << 31 for d in shape)
    ):
        msg = f"column {name!r}: shape {shape!r} is invalid"
        raise WireFormatError(msg, kind="shape")
    dtype = np.dtype(dtype_str)
    return name, dtype, tuple(shape), math.prod(shape) * dtype.itemsize


def _column_specs(cols: Any, n: int, limits: PlanLimits) -> tuple[Spec, ...]:
    if not isinstance(cols, list):
        msg = f"column list has type {type(cols).__name__}"
        raise WireFormatError(msg, kind="header")
    if len(cols) > limits.max_columns:
        msg = f"{len(cols)} columns exceed the limit of {limits.max_columns}"
        raise WireFormatError(msg, kind="oversize")
    specs = tuple(_column_spec(entry) for entry in cols)
    if len({s[0] for s in specs}) != len(specs):
        msg = "column names repeat"
        raise WireFormatError(msg, kind="header")
    total = 0
    for name, _, shape, nbytes in specs:
        if shape[0] != n:
            msg = f"column {name!r}: {shape[0]} events but header says n={n}"
            raise WireFormatError(msg, kind="shape")
        total += nbytes
        if total > limits.max_message_bytes:
            msg = f"message payload exceeds the limit of {limits.max_message_bytes} bytes"
            raise WireFormatError(msg, kind="oversize")
    return specs


def _places(raw: Any, specs: tuple[Spec, ...], nframes: int) -> tuple[tuple[int, int], ...]:
    """Validated ``[frame, offset]`` per column: a column frame, an aligned offset."""
    if not isinstance(raw, list) or len(raw) != len(specs):
        msg = f"layout must list [frame, offset] for each of the {len(specs)} columns"
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
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ColumnPlan:
    """Where each validated column sits; ``places`` None means one frame per column."""

    specs: tuple[Spec, ...]
    places: tuple[tuple[int, int], ...] | None
    #: per column frame: the bytes it must hold, and the column whose end that is
    ends: tuple[tuple[int, str], ...]

    def place(self, frames: Sequence[Any], max_message_bytes: int) -> tuple[dict[str, np.ndarray], tuple[Pack, ...]]:
        """This message's columns as views into its frames (the frames become packs when
        columns share them)."""
        buffers = [as_buffer(f) for f in frames[1:]]
        if self.places is None:
            return self._framed(buffers), ()
        if sum(len(b) for b in buffers) > max_message_bytes:
            msg = f"message payload exceeds the limit of {max_message_bytes} bytes"
            raise WireFormatError(msg, kind="oversize")
        for k, (buf, (end, name)) in enumerate(zip(buffers, self.ends, strict=True), start=1):
            if end > len(buf):
                msg = f"column {name!r} ends at byte {end}, beyond frame {k} ({len(buf)} bytes)"
                raise WireFormatError(msg, kind="truncated")
        cols: dict[str, np.ndarray] = {}
        members: list[dict[str, tuple[int, np.ndarray]]] = [{} for _ in buffers]
        view = np.ndarray  # one constructor call per column: half the cost of frombuffer + reshape
        for (name, dtype, shape, nbytes), (k, offset) in zip(self.specs, self.places, strict=True):
            arr = view(shape, dtype, buffers[k - 1], offset) if nbytes else np.empty(shape, dtype)
            cols[name] = arr
            members[k - 1][name] = (offset, arr)
        return cols, tuple(Pack(frames[k], m) for k, m in enumerate(members, start=1))

    def _framed(self, buffers: list[memoryview]) -> dict[str, np.ndarray]:
        for (name, _, _, nbytes), buf in zip(self.specs, buffers, strict=True):
            if len(buf) != nbytes:
                msg = f"column {name!r}: {len(buf)} bytes, shape and dtype need {nbytes}"
                raise WireFormatError(msg, kind="truncated" if len(buf) < nbytes else "length")
        return {
            name: np.ndarray(shape, dtype, buf) if nbytes else np.empty(shape, dtype)
            for (name, dtype, shape, nbytes), buf in zip(self.specs, buffers, strict=True)
        }


def _build(cols: Any, layout: Any, n: int, nframes: int, limits: PlanLimits) -> ColumnPlan:
    specs = _column_specs(cols, n, limits)
    if layout is None:
        if nframes - 1 != len(specs):
            msg = f"message has {nframes - 1} column frames, header lists {len(specs)}"
            raise WireFormatError(msg, kind="truncated" if nframes - 1 < len(specs) else "frames")
        return ColumnPlan(specs, None, ())
    places = _places(layout, specs, nframes)
    ends = [(0, "")] * (nframes - 1)
    for (name, _, _, nbytes), (k, offset) in zip(specs, places, strict=True):
        if offset + nbytes > ends[k - 1][0]:
            ends[k - 1] = (offset + nbytes, name)
    return ColumnPlan(specs, places, tuple(ends))


_CACHE: dict[tuple[bytes, int, int, Any], ColumnPlan] = {}
_CACHE_MAX: Final = 64


def column_plan(raw: Any, n: int, nframes: int, limits: PlanLimits) -> tuple[ColumnPlan, bool]:
    """The plan for a ``columns`` field, and whether it is one already accepted (its batch
    passed the schema check: see :func:`accept_plan`)."""
    key = (raw, n, nframes, limits) if isinstance(raw, bytes) else None
    hit = _CACHE.get(key) if key is not None else None
    if hit is not None:
        return hit, True
    cols, layout = read_description(raw, limits)
    return _build(cols, layout, n, nframes, limits), False


def accept_plan(raw: bytes, n: int, nframes: int, limits: PlanLimits, plan: ColumnPlan) -> None:
    """Remember a plan whose columns passed the schema check, for the next message."""
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[(raw, n, nframes, limits)] = plan
