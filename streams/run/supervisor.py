"""Child node processes of a replay: started, watched, replaced, stopped in order.

The supervisor knows nothing of the command line it starts: it is given the
command prefix (e.g. ``[sys.executable, "-m", "l1emu"]``) and each node's arguments.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from streams.errors import TransportError
from streams.run.addresses import NodeSpec

__all__ = ["Supervisor"]

log = logging.getLogger(__name__)


class Supervisor:
    """Runs ``COMMAND ARGS`` per node; a dead worker is replaced (bounded), with the same arguments.

    A replaced worker rebinds the same address; its neighbours reconnect on their
    own. Events that were inside the dead process are not redelivered: the
    collector reports them as lost.
    """

    def __init__(self, command: Sequence[str], run_dir: str | None = None, *, max_restarts: int = 3) -> None:
        self.command = list(command)
        self.dir = Path(run_dir) if run_dir else Path(tempfile.mkdtemp(prefix="l1emu-run-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_restarts = max_restarts
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.args: dict[str, list[str]] = {}
        self.roles: dict[str, str] = {}
        self.restarts: Counter[str] = Counter()
        self._stopping: set[str] = set()

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
        for p in self.procs.values():
            p.wait(timeout=30)

    def start(self, node: NodeSpec, args: Sequence[str]) -> None:
        self.args[node.name] = list(args)
        self.roles[node.name] = node.role
        self._spawn(node.name)

    def _spawn(self, name: str) -> None:
        suffix = f".{self.restarts[name]}" if self.restarts[name] else ""
        with (self.dir / f"{name}{suffix}.log").open("wb") as fh:
            self.procs[name] = subprocess.Popen(
                [*self.command, *self.args[name]], stdout=fh, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self._write("nodes.json", {n: p.pid for n, p in self.procs.items()})

    def _write(self, name: str, data: object) -> None:
        tmp = self.dir / f".{name}.tmp"
        tmp.write_text(json.dumps(data))
        tmp.replace(self.dir / name)

    def write_progress(self, accounted: int, total: int) -> None:
        self._write("progress.json", {"accounted": accounted, "total": total, "restarts": dict(self.restarts)})

    def _check(self) -> None:
        for name, p in list(self.procs.items()):
            code = p.poll()
            if code is None or name in self._stopping or (code == 0 and self.roles[name] == "producer"):
                continue
            if self.roles[name] == "worker" and self.restarts[name] < self.max_restarts:
                self.restarts[name] += 1
                log.warning("node %s died (exit %s); starting replacement %d", name, code, self.restarts[name])
                self._spawn(name)
                continue
            tail = (self.dir / f"{name}.log").read_text(errors="replace")[-2000:]
            msg = f"node {name} exited with code {code} (log: {self.dir}):\n{tail}"
            raise TransportError(msg)

    def wait_for(
        self, cond: Callable[[], bool], *, what: str, timeout_s: float | None,
        tick: Callable[[], None] | None = None,
    ) -> None:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not cond():
            self._check()
            if tick is not None:
                tick()
            if deadline is not None and time.monotonic() > deadline:
                msg = f"timed out after {timeout_s:.0f} s waiting for {what}"
                raise TransportError(msg)
            time.sleep(0.05)  # supervisor polling interval
        self._check()

    def signal(self, nodes: Sequence[NodeSpec], signum: int) -> None:
        for node in nodes:
            p = self.procs.get(node.name)
            if p is not None and p.poll() is None:
                p.send_signal(signum)

    def stop_in_order(self, layers: Sequence[Sequence[NodeSpec]]) -> None:
        """SIGTERM layer by layer, so final heartbeats flow through live downstream nodes."""
        for layer in layers:
            self._stopping.update(n.name for n in layer)
            self.signal(layer, signal.SIGTERM)
            for node in layer:
                p = self.procs.get(node.name)
                if p is None:
                    continue
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    log.warning("node %s did not stop in 30 s; killing it", node.name)
                    p.kill()
