"""Dask distributed as l1emu uses it: a session on a cluster, tasks mapped with results in order.

``--dask ADDRESS`` connects to a running scheduler (``tcp://host:8786``: dask-jobqueue,
dask-kubernetes, ``dask scheduler`` by hand); ``--dask local[:N]`` starts a
``LocalCluster`` of N worker processes (one thread each) here. Scheduling, retries and
reruns after a lost worker are Dask's: :func:`ordered_map` only keeps a bounded number of
tasks in flight and hands their results back in task order, whatever order they finish in.

>>> DaskTarget.parse("local:3"), DaskTarget.parse("tcp://10.0.0.5:8786").address
(DaskTarget(address=None, workers=3), 'tcp://10.0.0.5:8786')
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar

from streams.errors import ConfigError, TransportError

__all__ = ["DaskSession", "DaskTarget", "Failure", "ordered_map"]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

_INSTALL = "Dask is not installed (pip install 'l1emu[dask]' brings dask and distributed)"


def _distributed() -> Any:
    """The ``distributed`` package (its client API is untyped: used through ``Any``)."""
    try:
        import distributed
    except ImportError as exc:
        raise ConfigError(_INSTALL) from exc
    return distributed


@dataclass(frozen=True, slots=True)
class DaskTarget:
    """Where to run: a scheduler's ``address``, or (None) a local cluster of ``workers`` processes."""

    address: str | None = None
    workers: int | None = None

    @classmethod
    def parse(cls, text: str) -> DaskTarget:
        """``local``, ``local:N`` or a scheduler address (``tcp://host:port``, ``host:port``)."""
        name, sep, count = text.partition(":")
        if name == "local":
            if not sep:
                return cls()
            if not count.isdigit() or int(count) < 1:
                msg = f"--dask {text!r}: expected local:N with N >= 1 workers"
                raise ConfigError(msg)
            return cls(workers=int(count))
        if not text or ("://" not in text and ":" not in text):
            msg = f"--dask {text!r}: expected local[:N] or a scheduler address (tcp://host:8786)"
            raise ConfigError(msg)
        return cls(address=text)


class DaskSession:
    """A client on the target's cluster (a local one is started and stopped here).

    >>> with DaskSession(DaskTarget(workers=1), dashboard_address=None) as dask:  # doctest: +SKIP
    ...     dask.client.submit(sum, [1, 2]).result()
    3
    """

    def __init__(self, target: DaskTarget, *, dashboard_address: str | None = ":8787",
                 connect_timeout_s: float = 30.0) -> None:
        self.target = target
        self.dashboard_address = dashboard_address
        self.connect_timeout_s = connect_timeout_s
        self._cluster: Any = None
        self._client: Any = None

    def __enter__(self) -> DaskSession:
        dist = _distributed()
        if logging.getLogger().getEffectiveLevel() > logging.INFO:  # Dask logs every worker at INFO
            logging.getLogger("distributed").setLevel(logging.WARNING)
        t = self.target
        if t.address is None:
            self._cluster = dist.LocalCluster(n_workers=t.workers, threads_per_worker=1, processes=True,
                                         dashboard_address=self.dashboard_address, silence_logs=logging.ERROR)
            self._client = dist.Client(self._cluster)
        else:
            try:
                self._client = dist.Client(t.address, timeout=f"{self.connect_timeout_s}s")
            except (OSError, TimeoutError) as exc:
                msg = f"--dask {t.address}: cannot reach the scheduler ({exc})"
                raise TransportError(msg) from exc
        log.info("dask: scheduler %s, %d workers, dashboard %s", self.scheduler, self.n_workers(), self.dashboard)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    @property
    def client(self) -> Any:
        if self._client is None:
            msg = "the Dask session is not open"
            raise TransportError(msg)
        return self._client

    @property
    def scheduler(self) -> str:
        return str(self.client.scheduler.address)

    @property
    def dashboard(self) -> str | None:
        if self._cluster is not None and self.dashboard_address is None:
            return None
        try:
            return str(self.client.dashboard_link)
        except (KeyError, AttributeError):  # a scheduler without a dashboard (no bokeh)
            return None

    def n_workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1).get("workers", {}))

    def describe(self) -> dict[str, Any]:
        """What the report records: scheduler, dashboard, workers, local or not."""
        return {"scheduler": self.scheduler, "dashboard": self.dashboard, "workers": self.n_workers(),
                "local": self._cluster is not None}


@dataclass(frozen=True, slots=True)
class Failure(Generic[T]):
    """A task that did not return: its input and the exception Dask handed back."""

    task: T
    error: BaseException


def ordered_map(
    client: Any, fn: Callable[[T], R], tasks: Sequence[T], *, window: int, name: str = "l1emu",
    on_done: Callable[[T], None] | None = None,
) -> Iterator[tuple[T, R | Failure[T]]]:
    """``fn`` on every task on the cluster; (task, result or :class:`Failure`) in task order.

    At most ``window`` tasks are submitted and not yet handed back, which bounds what the
    cluster and this process hold. A task whose worker dies is rerun by Dask (after
    ``distributed.scheduler.allowed-failures`` deaths it fails with ``KilledWorker``); a
    result lost with its worker before it was fetched is recomputed by Dask as well.
    ``on_done`` sees each task once, as it first finishes, in any order. Closing the
    iterator early cancels the tasks still pending.

    Results are fetched one at a time with ``Future.result`` in task order, not through
    ``as_completed(with_results=True)``, which can wait forever on a result whose worker
    died (dask/distributed#7331, dask/dask#8882).
    """
    dist = _distributed()
    token = uuid.uuid4().hex[:8]
    futures: dict[int, Any] = {}
    seen: set[int] = set()
    submitted = handed = 0

    def fill() -> None:
        nonlocal submitted
        while submitted < len(tasks) and submitted - handed < max(window, 1):
            key = f"{name}-{token}-{submitted}"
            futures[submitted] = client.submit(fn, tasks[submitted], key=key, pure=False)
            submitted += 1

    def announce(i: int) -> None:
        if i not in seen:
            seen.add(i)
            if on_done is not None:
                on_done(tasks[i])

    def announce_done() -> None:
        for i in [i for i, fut in futures.items() if fut.done()]:
            announce(i)

    try:
        fill()
        while handed < len(tasks):
            head = futures[handed]
            announce_done()
            while not head.done():
                waiting = [f for i, f in futures.items() if i == handed or i not in seen]
                with client.as_current():  # wait() uses the current client's loop: these futures' own
                    dist.wait(waiting, return_when="FIRST_COMPLETED")
                announce_done()
            result = _outcome(head, tasks[handed], name, handed)
            announce(handed)  # if it was lost and recomputed between two looks
            del futures[handed]  # the cluster may forget the result now
            seen.discard(handed)
            handed += 1
            fill()
            yield tasks[handed - 1], result
    finally:
        for fut in futures.values():
            fut.cancel()


def _outcome(fut: Any, task: T, name: str, i: int) -> R | Failure[T]:
    """The finished future's value (fetched now; Dask recomputes it if its worker died) or its failure."""
    if fut.status == "cancelled":
        msg = f"{name} task {i} was cancelled (did the scheduler go away?)"
        raise TransportError(msg)
    try:
        value: R = fut.result()
    except Exception as exc:  # the task's own exception, re-raised by Dask; or the client's
        if fut.status == "error":
            return Failure(task, exc)
        msg = f"{name} task {i} was {fut.status}: {type(exc).__name__}: {exc} (did the scheduler go away?)"
        raise TransportError(msg) from exc
    return value
