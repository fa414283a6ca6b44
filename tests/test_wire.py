from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import zmq
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from streams.errors import WireFormatError
from streams.event import BatchMeta, EventBatch, StageTrace
from streams.transport import recv_frames, send_frames
from streams.wire import (
    Limits,
    check_content,
    decode,
    encode_batch,
    encode_notice,
    pack_batch,
    read_header,
    write_header,
)

_DTYPES = st.sampled_from(["bool", "int8", "uint16", "int32", "int64", "uint64", "float32", "float64"])


def _header(frames: list[Any]) -> dict[str, Any]:
    return read_header(frames[0])


def _with_header(frames: list[Any], **changes: Any) -> list[Any]:
    h = _header(frames)
    h.update(changes)
    return [write_header(h), *frames[1:]]


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 40),
    extra=st.lists(st.tuples(_DTYPES, st.integers(1, 3)), max_size=4),
    data=st.data(),
)
def test_round_trip_preserves_every_column_bit_for_bit(n: int, extra: list[tuple[str, int]], data: Any) -> None:
    batch = EventBatch.empty(n, meta=BatchMeta(stream="s", seq=3, first=1000, origin_t=1.5,
                                               trace=(StageTrace("a", "a-0", 2.0, 0.001),)))
    new = {}
    for i, (dtype, width) in enumerate(extra):
        arr = data.draw(hnp.arrays(np.dtype(dtype), (n, width)))
        new[f"x{i}"] = arr
    batch = batch.with_columns(**new)
    msg = decode(encode_batch(batch, sent_t=9.0))
    assert msg.kind == "batch"
    assert msg.batch is not None
    assert (msg.stream, msg.seq, msg.first, msg.count, msg.sent_t) == ("s", 3, 1000, n, 9.0)
    assert msg.batch.meta.trace == batch.meta.trace
    assert msg.batch.meta.origin_t == 1.5
    assert list(msg.batch.columns) == list(batch.columns)
    for k, v in batch.columns.items():
        got = msg.batch[k]
        assert got.dtype == v.dtype
        assert got.shape == v.shape
        assert got.tobytes() == np.ascontiguousarray(v).tobytes()


@settings(max_examples=300, deadline=None)
@given(frames=st.lists(st.binary(max_size=200), min_size=0, max_size=5))
def test_random_bytes_only_ever_raise_wireformaterror(frames: list[bytes]) -> None:
    with pytest.raises(WireFormatError):
        decode(frames)


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(0, 10_000), frame=st.integers(0, 60))
def test_truncated_messages_are_rejected(cut: int, frame: int) -> None:
    frames = [bytes(f) for f in encode_batch(EventBatch.empty(4))]
    i = frame % len(frames)
    if cut >= len(frames[i]):
        frames = frames[:i]  # drop trailing frames instead
    else:
        frames[i] = frames[i][:cut]
    with pytest.raises(WireFormatError):
        decode(frames)


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"v": 99}, "version"),
        ({"kind": "party"}, "kind"),
        ({"n": "many"}, "header"),
        ({"seq": -1}, "header"),
    ],
    ids=["wrong-version", "unknown-kind", "bad-count-type", "negative-seq"],
)
def test_bad_headers_name_the_problem(change: dict[str, Any], kind: str) -> None:
    frames = _with_header(list(encode_batch(EventBatch.empty(2))), **change)
    with pytest.raises(WireFormatError) as err:
        decode(frames)
    assert err.value.kind == kind


def test_wrong_dtype_and_shape_length_mismatch() -> None:
    frames = list(encode_batch(EventBatch.empty(2)))
    cols = _header(frames)["cols"]
    bad = [list(c) for c in cols]
    bad[0][1] = "<c8"  # complex is not allowed
    with pytest.raises(WireFormatError, match="dtype") as err:
        decode(_with_header(frames, cols=bad))
    assert err.value.kind == "dtype"
    bad = [list(c) for c in cols]
    bad[0][1] = "<u8"  # run is uint32; claiming uint64 doubles the byte length needed
    with pytest.raises(WireFormatError) as err:
        decode(_with_header(frames, cols=bad))
    assert err.value.kind == "truncated"
    bad = [list(c) for c in cols]
    bad[6][2] = [2, 6]  # eg_pt claims 6 objects but carries 12
    with pytest.raises(WireFormatError) as err:
        decode(_with_header(frames, cols=bad))
    assert err.value.kind == "length"


def test_base_column_missing_is_a_schema_error() -> None:
    batch = EventBatch.empty(2)
    frames = list(encode_batch(batch))
    h = _header(frames)
    h["cols"] = h["cols"][1:]
    with pytest.raises(WireFormatError) as err:
        decode([write_header(h), *frames[2:]])
    assert err.value.kind == "schema"


def test_size_limits() -> None:
    frames = encode_batch(EventBatch.empty(100))
    with pytest.raises(WireFormatError) as err:
        decode(frames, limits=Limits(max_events=10))
    assert err.value.kind == "header"
    with pytest.raises(WireFormatError) as err:
        decode(frames, limits=Limits(max_message_bytes=1000))
    assert err.value.kind == "oversize"
    with pytest.raises(WireFormatError) as err:
        decode(frames, limits=Limits(max_header_bytes=16))
    assert err.value.kind == "oversize"


def test_notices_round_trip_and_reject_extra_frames() -> None:
    frames = encode_notice("eos", stream="p0", seq=7, count=123, body={"events": 123})
    msg = decode(frames)
    assert (msg.kind, msg.stream, msg.seq, msg.count, msg.body["events"]) == ("eos", "p0", 7, 123, 123)
    with pytest.raises(WireFormatError, match="frames"):
        decode([*frames, b"x"])
    with pytest.raises(ValueError, match="notice"):
        encode_notice("batch", stream="x")  # type: ignore[arg-type]


def test_check_content_rejects_nan_weight() -> None:
    b = EventBatch.empty(3)
    w = b["weight"].copy()
    w[1] = np.nan
    with pytest.raises(WireFormatError, match="event 1") as err:
        check_content(b.with_columns(weight=w))
    assert err.value.kind == "nan"


def test_frames_round_trip_through_real_sockets(zctx: zmq.Context[Any], ipc: Any) -> None:
    """``send_frames``/``recv_frames``: small frames copied, large ones zero-copy, one message each;
    with NOBLOCK a full link refuses the whole message and never sends part of one."""
    addr = ipc("frames")
    push, pull = zctx.socket(zmq.PUSH), zctx.socket(zmq.PULL)
    push.bind(addr)
    batch = EventBatch.empty(300, meta=BatchMeta(stream="s", first=7)).with_columns(
        big=np.arange(300 * 400, dtype=np.int32).reshape(300, 400)  # 480 kB: zero-copy
    )
    frames = encode_batch(batch)
    with pytest.raises(zmq.Again):  # no peer yet: the whole message is refused, nothing half-sent
        send_frames(push, frames, int(zmq.NOBLOCK))
    pull.connect(addr)
    for _ in range(2):
        send_frames(push, frames)
    got = [recv_frames(pull, 10.0) for _ in range(2)]
    assert all(g is not None and len(g) == len(frames) for g in got)
    for g in got:
        assert g is not None
        out = decode(g).batch
        assert out is not None
        assert np.array_equal(out["big"], batch["big"])
        assert out.meta.first == 7
    assert recv_frames(pull, 0.05) is None


# -- packed batches: columns laid out in shared frames ------------------------------------------


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 40), width=st.integers(1, 3), dtype=_DTYPES, data=st.data())
def test_packed_batches_round_trip_and_forward_frames_untouched(n: int, width: int, dtype: str, data: Any) -> None:
    batch = EventBatch.empty(n, meta=BatchMeta(stream="s", first=5)).with_columns(
        x=data.draw(hnp.arrays(np.dtype(dtype), (n, width))))
    frames = encode_batch(pack_batch(batch))
    assert len(frames) == 2  # header and one buffer for every column
    received = [bytearray(f) for f in frames]  # writable, like zmq frames
    got = decode(received).batch
    assert got is not None
    for k, v in batch.columns.items():
        assert got[k].dtype == v.dtype
        assert got[k].shape == v.shape
        assert got[k].tobytes() == np.ascontiguousarray(v).tobytes()
    # a stage replaces one column and adds one: the received frame goes on as it came
    new_pt = np.full((n, 12), 7, np.int16)
    out = pack_batch(got.with_columns(jet_pt=new_pt, y=np.arange(n, dtype=np.float64)))
    again = encode_batch(out)
    assert len(again) == 3
    assert again[1] is received[1]
    final = decode([bytes(f) for f in again]).batch
    assert final is not None
    assert np.array_equal(final["jet_pt"], new_pt)
    assert np.array_equal(final["y"], np.arange(n))
    assert final["x"].tobytes() == np.ascontiguousarray(batch["x"]).tobytes()


def _packed(n: int = 4) -> list[Any]:
    return [bytes(f) for f in encode_batch(pack_batch(EventBatch.empty(n)))]


@pytest.mark.parametrize(
    ("edit", "kind", "match"),
    [
        (lambda h: h.update(layout=h["layout"][1:]), "header", "for each of the"),
        (lambda h: h.update(layout="x"), "header", "for each of the"),
        (lambda h: h["layout"][0].__setitem__(0, 2), "header", r"frame 1\.\.1"),
        (lambda h: h["layout"][0].__setitem__(0, 0), "header", r"frame 1\.\.1"),
        (lambda h: h["layout"][5].__setitem__(1, 3), "header", "aligned offset"),  # int16 at an odd byte
        (lambda h: h["layout"][0].__setitem__(1, -8), "header", "aligned offset"),
        (lambda h: h["layout"][-1].__setitem__(1, 1 << 20), "truncated", "beyond frame 1"),
        (lambda h: h["layout"][0].__setitem__(1, True), "header", "aligned offset"),
    ],
    ids=["short", "not-a-list", "frame-out-of-range", "frame-zero", "misaligned", "negative", "beyond-end", "bool"],
)
def test_bad_layouts_name_the_problem(edit: Any, kind: str, match: str) -> None:
    frames = _packed()
    h = _header(frames)
    edit(h)
    with pytest.raises(WireFormatError, match=match) as err:
        decode([write_header(h), *frames[1:]])
    assert err.value.kind == kind


def test_layout_frames_must_all_be_used_and_within_limits() -> None:
    frames = _packed()
    with pytest.raises(WireFormatError, match="the layout uses 1") as err:
        decode([*frames, b"spare"])
    assert err.value.kind == "frames"
    with pytest.raises(WireFormatError) as err:
        decode(frames, limits=Limits(max_message_bytes=100))
    assert err.value.kind == "oversize"
    with pytest.raises(WireFormatError) as err:
        decode(frames[:1])
    assert err.value.kind == "header"  # the layout names frame 1, the message has none


def test_moving_a_column_into_a_pack_keeps_dtype_and_shape() -> None:
    batch = EventBatch.empty(3)
    packed = pack_batch(batch)
    assert [k for k in packed.columns if packed[k] is batch[k]] == []  # every column now a view
    pack = packed.packs[0]
    with pytest.raises(ValueError, match="'jet_pt' cannot move"):
        batch.with_packed({"jet_pt": np.zeros((3, 12), np.int32)}, pack)
    with pytest.raises(ValueError, match="'new' cannot move"):
        batch.with_packed({"new": np.zeros(3, np.int32)}, pack)


def test_a_description_is_validated_once_and_each_message_against_its_frames() -> None:
    frames = _packed(6)
    first = decode(frames).batch
    again = decode(frames).batch  # the description is now a known plan
    assert first is not None
    assert again is not None
    assert list(again.columns) == list(first.columns)
    assert all(again[k].tobytes() == first[k].tobytes() for k in first.columns)
    with pytest.raises(WireFormatError, match="beyond frame 1") as err:
        decode([frames[0], frames[1][:-8]])  # same description, a frame cut short
    assert err.value.kind == "truncated"
    with pytest.raises(WireFormatError, match="the layout uses 1") as err:
        decode([*frames, b"spare"])  # same description, one frame more
    assert err.value.kind == "frames"
    with pytest.raises(WireFormatError) as err:
        decode(frames, limits=Limits(max_message_bytes=100))  # other limits: validated again
    assert err.value.kind == "oversize"
    framed = [bytes(f) for f in encode_batch(EventBatch.empty(6))]
    decode(framed)
    with pytest.raises(WireFormatError) as err:
        decode([*framed[:-1], framed[-1] + b"\x00" * 4])  # a frame per column: exact lengths
    assert err.value.kind == "length"


def test_a_description_that_failed_the_schema_check_is_never_trusted() -> None:
    frames = _packed(3)
    h = _header(frames)
    h["cols"] = [c for c in h["cols"] if c[0] != "weight"]
    h["layout"] = [p for c, p in zip(_header(frames)["cols"], h["layout"], strict=True) if c[0] != "weight"]
    bad = [write_header(h), *frames[1:]]
    for _ in range(2):
        with pytest.raises(WireFormatError, match="missing base column 'weight'") as err:
            decode(bad)
        assert err.value.kind == "schema"


def test_pack_batch_zeroes_the_padding_between_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    batch = EventBatch.empty(3)  # 3-event columns of 1, 2, 4 and 8-byte dtypes: gaps before aligned ones
    full = np.full
    monkeypatch.setattr(np, "empty", lambda shape, dtype=float: full(shape, 0xAB, dtype))  # stale memory
    packed = pack_batch(batch)
    monkeypatch.undo()
    (pack,) = packed.packs
    used = np.zeros(len(pack.buffer), bool)
    for offset, arr in pack.members.values():
        used[offset : offset + arr.nbytes] = True
    assert (~used).any()  # there is padding to check
    assert not pack.buffer[~used].any()
    assert all(packed[k].tobytes() == batch[k].tobytes() for k in batch.columns)
