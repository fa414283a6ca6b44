"""Kernel socket buffers on links: an accepted ipc connection of a node's output gets the
configured send buffer (libzmq would leave it at the kernel default), tcp gets ZeroMQ's
own options, and the watcher goes away with its socket."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from streams._sockbuf import kernel_send_buffer
from streams.transport import LinkOptions, make_pull, make_push
from tests.helpers import free_port_block

KIB = 1024


def _granted(request: int) -> int:
    """What Linux grants for SO_SNDBUF = ``request``: capped at wmem_max, then doubled."""
    wmem_max = int(Path("/proc/sys/net/core/wmem_max").read_text())
    return 2 * min(request, wmem_max)


def _default_sndbuf() -> int:
    return int(Path("/proc/sys/net/core/wmem_default").read_text())


def _unix_streams(path: str) -> Iterator[tuple[int, int, bool]]:
    """(fd, SO_SNDBUF, listening) of this process's Unix stream sockets named ``path``."""
    for entry in Path("/proc/self/fd").iterdir():
        name = entry.name
        try:
            s = socket.socket(fileno=int(name))
        except OSError:
            continue
        try:
            if s.family == socket.AF_UNIX and s.type == socket.SOCK_STREAM and s.getsockname() == path:
                listening = bool(s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
                yield int(name), int(s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)), listening
        except OSError:
            pass
        finally:
            s.detach()


def _accepted_sndbufs(push: Any, path: str, n: int) -> list[int]:
    """Send buffers of the accepted connections at ``path`` as the kernel reports them, once
    the watcher of ``push`` has handled ``n`` of them (it tunes them asynchronously)."""
    assert len(push.wait_tuned(n, timeout_s=10.0)) == n, "the watcher never saw the connections"
    return sorted(b for _, b, listening in _unix_streams(path) if not listening)


def _roundtrip(push: zmq.Socket[Any], pulls: list[zmq.Socket[Any]], nbytes: int) -> None:
    for _ in pulls:
        push.send(b"\x01" * nbytes)
    poller = zmq.Poller()
    for p in pulls:
        poller.register(p, zmq.POLLIN)
    got = 0
    deadline = time.monotonic() + 10.0
    while got < len(pulls) and time.monotonic() < deadline:
        for sock, _ in poller.poll(1000):
            assert len(sock.recv()) == nbytes
            got += 1
    assert got == len(pulls)


@pytest.mark.parametrize("request_kib", [8192, 512])
def test_ipc_output_connections_get_the_configured_send_buffer(
    zctx: zmq.Context[Any], ipc: Any, request_kib: int
) -> None:
    addr = ipc("out")
    path = addr[len("ipc://"):]
    opts = LinkOptions(hwm=4, linger_ms=0, kernel_buffer_bytes=request_kib * KIB)
    push = make_push(zctx, addr, opts)
    pulls = [make_pull(zctx, [addr], opts) for _ in range(2)]  # two downstream workers
    try:
        _roundtrip(push, pulls, 400_000)
        assert push.wait_tuned(2, timeout_s=10.0) == [_granted(request_kib * KIB)] * 2
        assert _accepted_sndbufs(push, path, 2) == [_granted(request_kib * KIB)] * 2
        # the listening socket is not a data path and keeps the default
        assert [b for _, b, listening in _unix_streams(path) if listening] == [_default_sndbuf()]
    finally:
        for s in (*pulls, push):
            s.close()


def test_zero_keeps_the_kernel_default_and_starts_no_watcher(zctx: zmq.Context[Any], ipc: Any) -> None:
    addr = ipc("out")
    opts = LinkOptions(hwm=4, linger_ms=0, kernel_buffer_bytes=0)
    before = {t.ident for t in threading.enumerate()}
    push = make_push(zctx, addr, opts)
    pull = make_pull(zctx, [addr], opts)
    try:
        assert {t.name for t in threading.enumerate() if t.ident not in before} == set()
        _roundtrip(push, [pull], 1000)
        assert push.wait_tuned(1, timeout_s=0.0) == []  # nothing watched
        assert sorted(b for _, b, listening in _unix_streams(addr[len("ipc://"):]) if not listening) == [
            _default_sndbuf()]
    finally:
        pull.close()
        push.close()


def test_connections_made_after_start_are_tuned_too(zctx: zmq.Context[Any], ipc: Any) -> None:
    """A worker that connects later gets the buffer as well: the watcher runs for the
    socket's whole life, not once at start-up."""
    addr = ipc("out")
    opts = LinkOptions(hwm=4, linger_ms=0, kernel_buffer_bytes=1024 * KIB)
    push = make_push(zctx, addr, opts)
    first = make_pull(zctx, [addr], opts)
    late = None
    try:
        _roundtrip(push, [first], 10)
        late = make_pull(zctx, [addr], opts)
        _roundtrip(push, [first, late], 10)
        assert _accepted_sndbufs(push, addr[len("ipc://"):], 2) == [_granted(1024 * KIB)] * 2
    finally:
        for s in (late, first, push):
            if s is not None:
                s.close()


def test_close_stops_the_watcher_and_the_context_terminates(ipc: Any) -> None:
    ctx: zmq.Context[Any] = zmq.Context()
    before = {t.ident for t in threading.enumerate()}
    push = make_push(ctx, ipc("out"), LinkOptions(linger_ms=0))
    watchers = [t for t in threading.enumerate() if t.ident not in before]
    assert [t.name for t in watchers] == ["sockbuf-watch"]
    push.close()
    assert not watchers[0].is_alive()
    done = threading.Event()

    def term() -> None:
        ctx.term()
        done.set()

    threading.Thread(target=term, daemon=True).start()
    assert done.wait(10.0), "context.term() hung: a monitor socket was left open"


def test_tcp_links_use_zeromq_buffer_options(zctx: zmq.Context[Any]) -> None:
    port = free_port_block(1)
    opts = LinkOptions(hwm=4, linger_ms=0, kernel_buffer_bytes=2048 * KIB)
    push = make_push(zctx, f"tcp://127.0.0.1:{port}", opts)
    pull = make_pull(zctx, [f"tcp://127.0.0.1:{port}"], opts)
    try:
        assert (push.getsockopt(zmq.SNDBUF), pull.getsockopt(zmq.RCVBUF)) == (2048 * KIB, 2048 * KIB)
        _roundtrip(push, [pull], 400_000)
    finally:
        pull.close()
        push.close()


def test_descriptor_that_is_not_a_unix_stream_is_left_alone() -> None:
    """A connection can close before the watcher sees it and its number be reused: the
    watcher then touches nothing and closes nothing."""
    r, w = os.pipe()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        assert kernel_send_buffer(r, 1 << 20) is None
        assert kernel_send_buffer(udp.fileno(), 1 << 20) is None
        os.write(w, b"still open")
        assert os.read(r, 10) == b"still open"
        assert udp.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) != 2 * (1 << 20)
        assert kernel_send_buffer(10_000, 1 << 20) is None  # not open at all
    finally:
        udp.close()
        os.close(r)
        os.close(w)
