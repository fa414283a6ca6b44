"""The wire format: one multipart ZeroMQ message per batch.

Frame 0 is a small msgpack header; frames 1…k carry the raw column buffers, sent and
received without copies. The header's ``columns`` field, a nested msgpack ``bin``, holds
``[cols, layout]``: ``[name, dtype, shape]`` per column and, unless it is nil (one frame
per column, in order), one ``[frame, byte offset]`` per column placing columns in shared
frames, like Arrow's IPC body. Producers pack a batch into one buffer (:func:`pack_batch`)
and a worker forwards the frames it received untouched, adding a frame for the columns it
created, so a message has a handful of frames instead of ~40 (each costs ~10 µs per hop in
pyzmq). :func:`decode` validates the header completely (version, kind, column names,
dtypes, shapes against byte lengths, layout, size limits) before it touches any buffer,
and raises :class:`WireFormatError` naming what is wrong, with a ``kind`` used to count
bad messages. The ``columns`` bytes repeat batch after batch on a link, so a validated
description is kept (:mod:`streams._column_plan`) and later messages are only checked against
their frames.

>>> from streams.event import EventBatch
>>> from streams.wire import decode, encode_batch
>>> msg = decode(encode_batch(EventBatch.empty(3)))
>>> msg.kind, len(msg.batch)
('batch', 3)
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import msgpack
import numpy as np

from streams._column_plan import accept_plan, as_buffer, column_plan, describe, read_description
from streams._layout import find_in_packs, pack_batch
from streams.errors import WireFormatError
from streams.event import BatchMeta, EventBatch, StageTrace
from streams.schema import SCHEMA_VERSION

__all__ = [
    "BATCH_KINDS",
    "KINDS",
    "Limits",
    "Message",
    "MessageKind",
    "check_content",
    "decode",
    "encode_batch",
    "encode_notice",
    "pack_batch",
    "read_header",
    "write_header",
]

MessageKind = Literal["batch", "warmup", "eos", "heartbeat", "drop", "error"]
KINDS: Final = frozenset({"batch", "warmup", "eos", "heartbeat", "drop", "error"})
#: kinds that carry columns: ``warmup`` batches run through every stage like events but are
#: never counted (they warm links, allocators and caches before the first event)
BATCH_KINDS: Final = frozenset({"batch", "warmup"})
_NOTICE_KINDS: Final = KINDS - BATCH_KINDS


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits enforced by :func:`decode`."""

    max_header_bytes: int = 1 << 20
    max_message_bytes: int = 1 << 30
    max_events: int = 1 << 20
    max_columns: int = 512


DEFAULT_LIMITS: Final = Limits()


@dataclass(frozen=True, slots=True)
class Message:
    """A decoded message: a batch, or a notice with its header fields."""

    kind: MessageKind
    stream: str
    seq: int
    first: int
    count: int
    sent_t: float
    batch: EventBatch | None = None
    body: Mapping[str, Any] = field(default_factory=dict)


def _header_bytes(header: Mapping[str, Any]) -> bytes:
    out = msgpack.packb(header, use_bin_type=True)
    assert isinstance(out, bytes)
    return out


def encode_batch(
    batch: EventBatch, *, sent_t: float | None = None, kind: Literal["batch", "warmup"] = "batch"
) -> list[Any]:
    """Frames of one batch (or warm-up) message: header, then the column buffers (no copy).

    Columns still held in one of the batch's packs travel in that pack's buffer; the
    others get a frame each. Without packs the message has one frame per column.
    """
    m = batch.meta
    frames: list[Any] = [b""]
    cols: list[list[Any]] = []
    layout: list[list[int]] = []
    pack_frame: dict[int, int] = {}
    for name, arr in batch.columns.items():
        where = find_in_packs(batch.packs, name, arr)
        if where is None:
            arr = np.ascontiguousarray(arr)
            frames.append(arr.reshape(-1).view(np.uint8).data)
            layout.append([len(frames) - 1, 0])
        else:
            pack, offset = where
            k = pack_frame.get(id(pack))
            if k is None:
                frames.append(pack.buffer)
                k = pack_frame[id(pack)] = len(frames) - 1
            layout.append([k, offset])
        cols.append([name, arr.dtype.str, list(arr.shape)])
    header = {
        "v": batch.schema_version,
        "kind": kind,
        "stream": m.stream,
        "seq": m.seq,
        "first": m.first,
        "n": len(batch),
        "t": time.time() if sent_t is None else sent_t,
        "origin_t": m.origin_t,
        "trace": [[s.stage, s.worker, s.t_recv, s.proc_s] for s in m.trace],
        "columns": describe(cols, layout if pack_frame else None),
    }
    frames[0] = _header_bytes(header)
    return frames


def read_header(frame: Any) -> dict[str, Any]:
    """A header as a plain map, its ``columns`` field opened into ``cols`` and ``layout``
    (for tools and tests that inspect or edit headers; no validation)."""
    header = dict(msgpack.unpackb(bytes(as_buffer(frame)), raw=False))
    if "columns" in header:
        header["cols"], layout = read_description(header.pop("columns"), DEFAULT_LIMITS)
        if layout is not None:
            header["layout"] = layout
    return header


def write_header(header: Mapping[str, Any]) -> bytes:
    """The inverse of :func:`read_header`: ``cols`` and ``layout`` folded into ``columns``."""
    out = {k: v for k, v in header.items() if k not in ("cols", "layout")}
    if "cols" in header:
        out["columns"] = describe(header["cols"], header.get("layout"))
    return _header_bytes(out)


def encode_notice(
    kind: MessageKind,
    *,
    stream: str,
    seq: int = 0,
    first: int = 0,
    count: int = 0,
    body: Mapping[str, Any] | None = None,
    sent_t: float | None = None,
) -> list[bytes]:
    """Frames of a header-only message (end-of-stream, heartbeat, drop, error)."""
    if kind not in _NOTICE_KINDS:
        msg = f"{kind!r} is not a notice kind"
        raise ValueError(msg)
    header = {
        "v": SCHEMA_VERSION, "kind": kind, "stream": stream, "seq": seq,
        "first": first, "n": count, "t": time.time() if sent_t is None else sent_t, "body": dict(body or {}),
    }
    return [_header_bytes(header)]


def _unpack_header(raw: memoryview, limits: Limits) -> dict[str, Any]:
    if len(raw) > limits.max_header_bytes:
        msg = f"header of {len(raw)} bytes exceeds the limit of {limits.max_header_bytes}"
        raise WireFormatError(msg, kind="oversize")
    try:
        header = msgpack.unpackb(
            raw, raw=False, strict_map_key=True, max_str_len=limits.max_header_bytes,
            max_bin_len=limits.max_header_bytes, max_ext_len=0,
            max_array_len=4 * limits.max_columns, max_map_len=4 * limits.max_columns,
        )
    except Exception as exc:  # msgpack raises a zoo of types on garbage
        msg = f"header is not valid msgpack: {type(exc).__name__}: {exc}"
        raise WireFormatError(msg, kind="header") from exc
    if not isinstance(header, dict):
        msg = f"header is a {type(header).__name__}, not a map"
        raise WireFormatError(msg, kind="header")
    return header


def _field(header: Mapping[str, Any], key: str, typ: type | tuple[type, ...]) -> Any:
    if key not in header:
        msg = f"header lacks field {key!r}"
        raise WireFormatError(msg, kind="header")
    value = header[key]
    if not isinstance(value, typ) or isinstance(value, bool):
        msg = f"header field {key!r} has type {type(value).__name__}"
        raise WireFormatError(msg, kind="header")
    return value


def _check_common(header: Mapping[str, Any], limits: Limits) -> tuple[str, str, int, int, int, float]:
    version = header.get("v")
    if version != SCHEMA_VERSION:
        msg = f"schema version {version!r} is not the supported {SCHEMA_VERSION}"
        raise WireFormatError(msg, kind="version")
    kind = _field(header, "kind", str)
    if kind not in KINDS:
        msg = f"unknown message kind {kind!r}"
        raise WireFormatError(msg, kind="kind")
    stream = _field(header, "stream", str)
    seq = _field(header, "seq", int)
    first = _field(header, "first", int)
    n = _field(header, "n", int)
    sent_t = float(_field(header, "t", (int, float)))
    if min(seq, first, n) < 0 or (n > limits.max_events and kind in BATCH_KINDS):
        msg = f"header counts out of range (seq={seq}, first={first}, n={n})"
        raise WireFormatError(msg, kind="header")
    return kind, stream, seq, first, n, sent_t


def _trace(header: Mapping[str, Any]) -> tuple[StageTrace, ...]:
    raw = header.get("trace", [])
    try:
        return tuple(StageTrace(str(s), str(w), float(t), float(p)) for s, w, t, p in raw)
    except (TypeError, ValueError) as exc:
        msg = f"header field 'trace' is malformed: {exc}"
        raise WireFormatError(msg, kind="header") from exc


def decode(frames: Sequence[Any], *, limits: Limits = DEFAULT_LIMITS) -> Message:
    """Validate and decode one multipart message (bytes, memoryviews or zmq.Frames)."""
    if not frames:
        msg = "message has no frames"
        raise WireFormatError(msg, kind="frames")
    header = _unpack_header(as_buffer(frames[0]), limits)
    kind, stream, seq, first, n, sent_t = _check_common(header, limits)
    if kind not in BATCH_KINDS:
        if len(frames) != 1:
            msg = f"{kind} message has {len(frames)} frames, expected 1"
            raise WireFormatError(msg, kind="frames")
        body = header.get("body", {})
        if not isinstance(body, dict):
            msg = "header field 'body' is not a map"
            raise WireFormatError(msg, kind="header")
        return Message(kind, stream, seq, first, n, sent_t, body=body)  # type: ignore[arg-type]
    if "columns" not in header:
        msg = "header lacks field 'columns'"
        raise WireFormatError(msg, kind="header")
    raw = header["columns"]
    plan, accepted = column_plan(raw, n, len(frames), limits)
    cols, packs = plan.place(frames, limits.max_message_bytes)
    origin_t = header.get("origin_t", 0.0)
    if not isinstance(origin_t, int | float) or isinstance(origin_t, bool):
        msg = f"header field 'origin_t' has type {type(origin_t).__name__}"
        raise WireFormatError(msg, kind="header")
    meta = BatchMeta(stream=stream, seq=seq, first=first, origin_t=float(origin_t), trace=_trace(header))
    if accepted:  # these names, dtypes and shapes passed the schema check before
        batch = EventBatch.checked(cols, meta, packs)
    else:
        batch = EventBatch(cols, meta).with_packs(packs)  # checks base columns (kind "schema")
        accept_plan(raw, n, len(frames), limits, plan)
    return Message(kind, stream, seq, first, n, sent_t, batch=batch)  # type: ignore[arg-type]


def check_content(batch: EventBatch) -> None:
    """Reject a well-formed batch whose event weights or pileup are not finite."""
    for name in ("weight", "pileup"):
        col = batch[name]
        if not np.isfinite(col).all():
            bad = int(np.flatnonzero(~np.isfinite(col))[0])
            msg = f"column {name!r} has a non-finite value at event {batch.meta.first + bad}"
            raise WireFormatError(msg, kind="nan")
