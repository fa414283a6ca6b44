"""ZeroMQ plumbing shared by every node: sockets, addresses, polling receive.

Topology rule: a node's *output* PUSH socket binds; the next layer's PULL sockets
connect to every upstream output. So K workers of a stage share the load of the
layer before them, and every peer a node talks to is known from the plan.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import zmq

from streams._sockbuf import BufferedPushSocket, set_kernel_buffers
from streams.errors import TransportError
from streams.security import AuthGuard

__all__ = [
    "LinkOptions",
    "bind_address",
    "make_pull",
    "make_push",
    "recv_frames",
    "send_frames",
]

log = logging.getLogger(__name__)
_SNDMORE = int(zmq.SNDMORE)
_ZERO_COPY_BYTES = 1 << 16


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """Per-socket options: high-water mark in messages, size limit, linger, and the kernel
    socket buffer to request (bytes, 0: the kernel's default; see ``streams._sockbuf``)."""

    hwm: int = 8
    max_message_bytes: int = 1 << 30
    linger_ms: int = 30_000  # a closing node still delivers what it queued (bounded, if the peer is gone)
    kernel_buffer_bytes: int = 8 << 20


def bind_address(address: str) -> str:
    """The address a node binds for ``address``: a tcp host name becomes its IP address
    (ZeroMQ binds interfaces and addresses, not names; in a container the service
    name resolves to the container's own address)."""
    if not address.startswith("tcp://"):
        return address
    host, _, port = address[len("tcp://"):].rpartition(":")
    if host in ("*", "") or host.replace(".", "").isdigit() or host.startswith("["):
        return address
    try:
        ip = socket.gethostbyname(host)
    except OSError as exc:
        msg = f"cannot resolve the host of {address}: {exc}"
        raise TransportError(msg) from exc
    return f"tcp://{ip}:{port}"


def _apply(sock: zmq.Socket[Any], opts: LinkOptions) -> None:
    sock.setsockopt(zmq.LINGER, opts.linger_ms)
    sock.setsockopt(zmq.MAXMSGSIZE, opts.max_message_bytes)
    set_kernel_buffers(sock, opts.kernel_buffer_bytes)


def make_push(
    ctx: zmq.Context[Any], address: str, opts: LinkOptions, guard: AuthGuard | None = None
) -> BufferedPushSocket:
    """A PUSH socket bound at ``address`` (the node's output; a CURVE server under ``guard``).

    On ipc its accepted connections get ``opts.kernel_buffer_bytes`` of send buffer.
    """
    sock: BufferedPushSocket = ctx.socket(zmq.PUSH, socket_class=BufferedPushSocket)
    sock.setsockopt(zmq.SNDHWM, opts.hwm)
    _apply(sock, opts)
    if address.startswith("ipc://"):
        sock.watch_accepted(opts.kernel_buffer_bytes)
    if guard is not None:
        guard.server(sock)
    try:
        sock.bind(bind_address(address))
    except zmq.ZMQError as exc:
        sock.close(0)
        msg = f"cannot bind output {address}: {exc}"
        raise TransportError(msg) from exc
    return sock


def make_pull(
    ctx: zmq.Context[Any], addresses: Sequence[str], opts: LinkOptions, guard: AuthGuard | None = None
) -> zmq.Socket[Any]:
    """A PULL socket connected to every upstream output (a CURVE client under ``guard``)."""
    sock: zmq.Socket[Any] = ctx.socket(zmq.PULL)
    sock.setsockopt(zmq.RCVHWM, opts.hwm)
    _apply(sock, opts)
    if guard is not None:
        guard.client(sock)
    for addr in addresses:
        try:
            if guard is not None:
                guard.connect(sock, addr)
            else:
                sock.connect(addr)
        except zmq.ZMQError as exc:
            sock.close(0)
            msg = f"cannot connect input to {addr}: {exc}"
            raise TransportError(msg) from exc
    return sock


def recv_frames(sock: zmq.Socket[Any], timeout_s: float) -> list[zmq.Frame] | None:
    """Receive one multipart message without copying, or None after ``timeout_s``.

    A plain loop over ``recv`` with positional arguments: ``recv_multipart`` costs about
    twice as much per frame, and a batch has a frame per column.
    """
    if sock.poll(int(timeout_s * 1000), zmq.POLLIN) == 0:
        return None
    recv = sock.recv
    parts: list[zmq.Frame] = [recv(0, False)]
    while parts[-1].more:
        parts.append(recv(0, False))
    return parts


def send_frames(sock: zmq.Socket[Any], frames: Sequence[Any], flags: int = 0) -> None:
    """Send one multipart message (``flags`` e.g. ``zmq.NOBLOCK``: only the first frame can
    raise ``zmq.Again``, the rest of a message is then always taken).

    Frames below 64 KiB are copied (libzmq would copy them anyway), larger ones go zero-copy.
    """
    send = sock.send
    more = flags | _SNDMORE
    last = len(frames) - 1
    for i, frame in enumerate(frames):
        send(frame, more if i < last else flags, getattr(frame, "nbytes", 0) < _ZERO_COPY_BYTES)
