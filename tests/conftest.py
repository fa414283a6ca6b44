"""Shared fixtures: tracked ZeroMQ contexts/sockets, ipc endpoints, small batches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from streams.event import EventBatch
from streams.sources.parametric import ParametricConfig, ParametricSource


@pytest.fixture
def zctx() -> Iterator[zmq.Context[Any]]:
    """A context whose sockets all close (linger 0) when the test ends."""
    ctx: zmq.Context[Any] = zmq.Context()
    ctx.setsockopt(zmq.LINGER, 0)
    yield ctx
    ctx.destroy(linger=0)


@pytest.fixture
def ipc(tmp_path: Path) -> Any:
    """Factory of unique ipc:// endpoints under the test's tmp dir."""
    counter = iter(range(10_000))

    def make(name: str = "ep") -> str:
        return f"ipc://{tmp_path}/{name}-{next(counter)}"

    return make


@pytest.fixture(scope="session")
def zb_batch() -> EventBatch:
    """4096 parametric zero-bias events at ⟨μ⟩ = 60 (seeded)."""
    return next(ParametricSource(ParametricConfig(events=4096, mu=60.0, seed=7)).batches(4096))


def recv(sock: zmq.Socket[Any], timeout_s: float = 10.0) -> list[zmq.Frame]:
    """Receive one multipart message or fail the test after ``timeout_s``."""
    if sock.poll(int(timeout_s * 1000), zmq.POLLIN) == 0:
        pytest.fail(f"nothing received within {timeout_s} s")
    return sock.recv_multipart(copy=False)
