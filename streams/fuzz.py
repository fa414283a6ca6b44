"""Malformed-message fuzzing of the decoder and of a live worker.

Messages are mutations of valid ones (truncations, dropped/extra frames, byte flips,
header fields with wrong types or values, absurd shapes, random garbage), drawn from
a seeded generator, so any failure replays. Every message must end up either
rejected with a :class:`~streams.errors.WireFormatError` (counted by kind) or
decoded; anything else is a crash.

>>> from streams.fuzz import fuzz_decoder
>>> tally = fuzz_decoder(200, seed=1)
>>> sum(tally.values())
200
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import msgpack
import numpy as np

from streams.errors import WireFormatError
from streams.event import BatchMeta, EventBatch
from streams.wire import decode, encode_batch, encode_notice, pack_batch, read_header, write_header

__all__ = ["FuzzCrashError", "fuzz_decoder", "fuzz_node", "malformed_messages"]


class FuzzCrashError(AssertionError):
    """The decoder or a node failed in a way other than a counted rejection."""


def _valid(rng: np.random.Generator) -> list[bytes]:
    n = int(rng.integers(0, 40))
    batch = EventBatch.empty(n, meta=BatchMeta(stream="fuzz", first=int(rng.integers(0, 1 << 40))))
    if rng.random() < 0.5:
        batch = pack_batch(batch)  # columns laid out in one shared frame
    if rng.random() < 0.5:
        batch = batch.with_columns(score=rng.random(n).astype(np.float32))
    return [bytes(f) for f in encode_batch(batch, sent_t=0.0)]


def _header(frames: list[bytes]) -> dict[str, Any] | None:
    """The header map of ``frames`` (``columns`` opened into ``cols`` and ``layout``), or
    None when an earlier mutation already broke it."""
    if not frames:
        return None
    try:
        return read_header(frames[0])
    except Exception:  # garbage from an earlier mutation
        return None


_JUNK: tuple[Any, ...] = (None, -1, 2**63, 1.5, "x" * 70, b"\x00", [], {}, [[1]], True, float("nan"), "<f16", [-3])


def _mutate_header(rng: np.random.Generator, frames: list[bytes]) -> list[bytes]:
    h = _header(frames)
    if h is None:
        return frames
    keys = ["v", "kind", "stream", "seq", "first", "n", "t", "cols", "trace", "origin_t", "new", "layout", "columns"]
    key = str(rng.choice(keys))
    cols = h.get("cols")
    layout = h.get("layout")
    if key == "layout" and isinstance(layout, list) and layout and rng.random() < 0.7:
        i = int(rng.integers(0, len(layout)))
        layout[i] = _JUNK[int(rng.integers(0, len(_JUNK)))] if rng.random() < 0.3 else (
            [int(rng.integers(-1, 4)), int(rng.integers(-8, 1 << 16))])
        return [write_header(h), *frames[1:]]
    if key == "cols" and isinstance(cols, list) and cols and isinstance(cols[0], list) and rng.random() < 0.7:
        i = int(rng.integers(0, len(h["cols"])))
        j = int(rng.integers(0, 3))
        h["cols"][i][j] = _JUNK[int(rng.integers(0, len(_JUNK)))] if rng.random() < 0.5 else (
            [int(rng.integers(0, 1 << 20)), int(rng.integers(0, 1 << 20))] if j == 2 else "<i8")
    elif key == "columns":  # the raw field: a description cut short, or junk
        raw = msgpack.unpackb(write_header(h), raw=False)
        desc = raw.get("columns", b"")
        cut = isinstance(desc, bytes) and desc and rng.random() < 0.5
        raw["columns"] = desc[: int(rng.integers(0, len(desc)))] if cut else _JUNK[int(rng.integers(0, len(_JUNK)))]
        return [msgpack.packb(raw, use_bin_type=True), *frames[1:]]
    else:
        h[key] = _JUNK[int(rng.integers(0, len(_JUNK)))]
    return [write_header(h), *frames[1:]]


def _flip(rng: np.random.Generator, frames: list[bytes]) -> list[bytes]:
    if not frames:
        return frames
    i = int(rng.integers(0, len(frames)))
    buf = bytearray(frames[i])
    if buf:
        for _ in range(int(rng.integers(1, 8))):
            buf[int(rng.integers(0, len(buf)))] = int(rng.integers(0, 256))
    return [*frames[:i], bytes(buf), *frames[i + 1 :]]


def _truncate(rng: np.random.Generator, frames: list[bytes]) -> list[bytes]:
    if not frames:
        return frames
    i = int(rng.integers(0, len(frames)))
    return [*frames[:i], frames[i][: int(rng.integers(0, max(1, len(frames[i]))))], *frames[i + 1 :]]


def _frames(rng: np.random.Generator, frames: list[bytes]) -> list[bytes]:
    if rng.random() < 0.5 and len(frames) > 1:
        i = int(rng.integers(1, len(frames)))
        return frames[:i] + frames[i + 1 :]
    return [*frames, rng.bytes(int(rng.integers(0, 64)))]


def _garbage(rng: np.random.Generator, frames: list[bytes]) -> list[bytes]:
    return [rng.bytes(int(rng.integers(0, 256))) for _ in range(int(rng.integers(0, 4)))]


def _notice(rng: np.random.Generator, frames: list[bytes]) -> list[bytes]:
    out = encode_notice("heartbeat", stream="fuzz", body={"node": "x"}, sent_t=0.0)
    return [bytes(out[0]), *([rng.bytes(8)] if rng.random() < 0.5 else [])]


_MUTATORS: tuple[Callable[[np.random.Generator, list[bytes]], list[bytes]], ...] = (
    _mutate_header, _mutate_header, _flip, _truncate, _frames, _garbage, _notice,
)


def malformed_messages(n: int, *, seed: int = 0) -> Iterator[list[bytes]]:
    """``n`` mutated messages (some mutations happen to stay valid)."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        frames = _valid(rng)
        for _ in range(int(rng.integers(1, 3))):
            frames = _MUTATORS[int(rng.integers(0, len(_MUTATORS)))](rng, frames)
        yield frames


def fuzz_decoder(n: int, *, seed: int = 0) -> Counter[str]:
    """Feed ``n`` malformed messages to :func:`decode`; tally rejections by kind and valid decodes."""
    tally: Counter[str] = Counter()
    for i, frames in enumerate(malformed_messages(n, seed=seed)):
        try:
            msg = decode(frames)
        except WireFormatError as exc:
            tally[exc.kind] += 1
            continue
        except Exception as exc:
            msg_ = f"message {i} (seed {seed}) crashed the decoder: {type(exc).__name__}: {exc}"
            raise FuzzCrashError(msg_) from exc
        tally[f"valid:{msg.kind}"] += 1
    return tally


def fuzz_node(n: int, *, seed: int = 0, timeout_s: float = 120.0) -> dict[str, Any]:
    """Send ``n`` malformed messages (and a valid batch every 100) through a live worker.

    Every message must be accounted for: counted as bad, processed, errored or
    forwarded. Raises :class:`FuzzCrashError` if the worker died, went silent, lost a
    valid batch or left a message unaccounted.
    """
    import zmq

    from streams._node import NodeEndpoint
    from streams.transport import LinkOptions
    from streams.worker import WorkerConfig, WorkerNode

    ctx: zmq.Context[Any] = zmq.Context()
    up, down = ctx.socket(zmq.PUSH), ctx.socket(zmq.PULL)
    up.bind("inproc://fuzz-up")
    endpoint = NodeEndpoint("fuzz-0", link=LinkOptions(hwm=1000, linger_ms=0))
    cfg = WorkerConfig(endpoint, stage="fuzz", inputs=("inproc://fuzz-up",), output="inproc://fuzz-down",
                       heartbeat_s=3600)
    node = WorkerNode(cfg, lambda b: b, context=ctx)
    thread = threading.Thread(target=node.run, name="fuzz-worker", daemon=True)
    thread.start()
    down.connect("inproc://fuzz-down")
    out: Counter[str] = Counter()
    valid: set[int] = set()
    seen: set[int] = set()
    try:
        for i, frames in enumerate(malformed_messages(n, seed=seed)):
            up.send_multipart(frames or [b""])  # ZeroMQ cannot send zero frames
            if i % 100 == 0:
                valid.add((1 << 50) + i)
                up.send_multipart(encode_batch(EventBatch.empty(3, meta=BatchMeta(stream="ok", first=(1 << 50) + i))))
            while down.poll(0):
                _drain(down, out, seen)
        up.send_multipart(encode_notice("eos", stream="ok", count=3 * len(valid)))
        while _drain_wait(down, out, seen, timeout_s) != ("eos", "ok"):
            pass
    finally:
        node.stop()
        thread.join(timeout=30)
        up.close(0)
        down.close(0)
        ctx.term()
    stats = node.stats.as_dict()
    bad, errored = sum(stats["bad_messages"].values()), sum(stats["errors"].values())
    forwarded = out["notice:fuzz"]  # mutated notices that stayed valid are passed on
    accounted = bad + stats["batches"] + errored + forwarded
    result = {"sent": n + len(valid), "accounted": accounted, "bad_messages": stats["bad_messages"],
              "processed_batches": stats["batches"], "errored_batches": errored, "forwarded_notices": forwarded}
    if valid - seen:
        msg = f"valid batches lost: {sorted(valid - seen)[:5]}"
        raise FuzzCrashError(msg)
    if accounted != n + len(valid):
        msg = f"messages unaccounted for: {result}"
        raise FuzzCrashError(msg)
    return result


def _drain_wait(sock: Any, out: Counter[str], seen: set[int], timeout_s: float) -> tuple[str, str]:
    if not sock.poll(int(timeout_s * 1000)):
        msg = "worker went silent (crashed or stuck)"
        raise FuzzCrashError(msg)
    return _drain(sock, out, seen)


def _drain(sock: Any, out: Counter[str], seen: set[int]) -> tuple[str, str]:
    msg = decode(sock.recv_multipart())
    if msg.kind == "batch":
        out[f"batch:{msg.stream}"] += 1
        if msg.stream == "ok":
            seen.add(msg.first)
    elif msg.stream not in ("ok", "fuzz-0"):  # not our end-of-stream, not the worker's own heartbeat
        out["notice:fuzz"] += 1
    return msg.kind, msg.stream
