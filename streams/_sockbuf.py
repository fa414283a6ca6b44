"""Kernel socket buffers that hold a whole batch message.

A batch message is a few hundred kB (388 kB for 256 events of the default chain), more than
Linux's default socket send buffer (``net.core.wmem_default``, 208 kB). The sending ZeroMQ I/O
thread then writes what fits, sleeps until the receiving I/O thread has read some of it, and
writes the rest: two more wake-ups of two threads in two processes on every hop, and on a busy
machine each wake-up can wait for a scheduler slice (figures: docs/streaming.md, "Latency
hygiene").

libzmq applies ``ZMQ_SNDBUF``/``ZMQ_RCVBUF`` to tcp connections only. For ipc (Unix domain
sockets, where only the sender's buffer limits a stream) a bound output socket is watched
through a ZeroMQ socket monitor: every accepted connection reports its file descriptor, and its
send buffer is raised there. The kernel caps the request at ``net.core.wmem_max``
(``rmem_max`` for tcp receive buffers) and doubles it for its own bookkeeping.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

import zmq
from zmq.utils.monitor import recv_monitor_message

__all__ = ["BufferedPushSocket", "kernel_send_buffer", "set_kernel_buffers"]

log = logging.getLogger(__name__)
_POLL_MS = 500


def kernel_send_buffer(fd: int, nbytes: int) -> int | None:
    """Raise the send buffer of the Unix stream socket ``fd`` to ``nbytes``; the buffer the
    kernel granted, or None if ``fd`` is no longer such a socket (its connection is gone)."""
    try:
        s = socket.socket(fileno=fd)
    except OSError:
        return None
    try:
        if s.family != socket.AF_UNIX or s.type != socket.SOCK_STREAM:
            return None
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, nbytes)
        return int(s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))
    except OSError:
        return None
    finally:
        s.detach()  # the descriptor belongs to libzmq


def set_kernel_buffers(sock: zmq.Socket[Any], nbytes: int) -> None:
    """``ZMQ_SNDBUF`` and ``ZMQ_RCVBUF`` (tcp connections made after this call)."""
    if nbytes > 0:
        sock.setsockopt(zmq.SNDBUF, nbytes)
        sock.setsockopt(zmq.RCVBUF, nbytes)


class BufferedPushSocket(zmq.Socket):  # type: ignore[type-arg]
    """A socket that raises the kernel send buffer of every ipc connection it accepts.

    ``watch_accepted`` starts the watcher (call it before ``bind``, so no connection is missed);
    ``close`` stops it first. ``wait_tuned`` waits for the watcher's verdicts on accepted
    connections (the buffer granted, or None for a connection gone before it was tuned).
    """

    _watch_stop: threading.Event | None = None
    _watch_thread: threading.Thread | None = None
    _tuned: _Tuned | None = None

    def watch_accepted(self, nbytes: int) -> None:
        if nbytes <= 0 or self._watch_thread is not None:
            return
        monitor = self.get_monitor_socket(zmq.EVENT_ACCEPTED)
        stop = threading.Event()
        self._tuned = tuned = _Tuned()
        thread = threading.Thread(target=_watch, args=(monitor, nbytes, stop, tuned),
                                  name="sockbuf-watch", daemon=True)
        self._watch_stop, self._watch_thread = stop, thread
        thread.start()

    def wait_tuned(self, n: int, timeout_s: float) -> list[int | None]:
        """The first ``n`` accepted connections' granted buffers, waiting up to ``timeout_s``
        for them (fewer if the time runs out; none if nothing is watched)."""
        tuned = self._tuned
        if tuned is None:
            return []
        with tuned.changed:
            tuned.changed.wait_for(lambda: len(tuned.granted) >= n, timeout_s)
            return tuned.granted[:n]

    def close(self, linger: int | None = None) -> None:
        if self._watch_thread is not None and self._watch_stop is not None:
            self._watch_stop.set()
            if not self.closed:
                try:
                    self.disable_monitor()
                except zmq.ZMQError as exc:  # context terminating: the watcher's poll sees the stop flag
                    log.debug("disable_monitor: %s", exc)
            self._watch_thread.join(timeout=5.0)
            self._watch_thread = None
        super().close(linger=linger)


class _Tuned:
    """What the watcher did, in accept order, and a condition to wait for more."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.granted: list[int | None] = []

    def add(self, granted: int | None) -> None:
        with self.changed:
            self.granted.append(granted)
            self.changed.notify_all()


def _watch(monitor: zmq.Socket[Any], nbytes: int, stop: threading.Event, tuned: _Tuned) -> None:
    """Thread body: apply the send buffer to each accepted connection until stopped."""
    try:
        while not stop.is_set():
            if monitor.poll(_POLL_MS, zmq.POLLIN) == 0:
                continue
            event = recv_monitor_message(monitor)
            if event["event"] == zmq.EVENT_MONITOR_STOPPED:
                break
            if event["event"] == zmq.EVENT_ACCEPTED:
                granted = kernel_send_buffer(int(event["value"]), nbytes)
                tuned.add(granted)
                log.debug("accepted %s: kernel send buffer %s bytes", event["endpoint"], granted)
    except zmq.ZMQError as exc:  # context terminated under us: nothing left to tune
        log.debug("socket buffer watcher stopped: %s", exc)
    finally:
        monitor.close(0)
