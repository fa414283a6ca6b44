"""CURVE authentication for tcp links, and counting of refused peers.

Every node has a keypair (``l1emu keys`` writes ``<node>.key`` and ``<node>.key_secret``,
ZeroMQ certificate files). A node's bound output is a CURVE server that admits only
clients whose public key is in the keys directory (a ZAP handler); a node's input
connects as a CURVE client that checks each upstream server's public key. A peer
with the wrong key fails the handshake: the failure is counted and logged, and it
never gets or gives a message. ipc links on one host may stay plain.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils.monitor import recv_monitor_message

from streams.errors import ConfigError

__all__ = ["AuthGuard", "CurveKeys", "CurveSetup", "create_keys", "load_curve_setup"]

log = logging.getLogger(__name__)

_FAILED = (
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_AUTH
)


@dataclass(frozen=True, slots=True)
class CurveSetup:
    """One node's CURVE identity, whom it admits, and the servers it trusts (by address)."""

    public: bytes
    secret: bytes
    allowed_dir: str
    server_keys: Mapping[str, bytes] = field(default_factory=dict)

    def server_key(self, address: str) -> bytes:
        try:
            return self.server_keys[address]
        except KeyError:
            msg = f"no CURVE public key known for upstream {address}"
            raise ConfigError(msg) from None


@dataclass(frozen=True, slots=True)
class CurveKeys:
    """Where one node's CURVE keys are; loaded when the node starts, so configs hold no secrets."""

    keys_dir: str
    node: str
    upstream: dict[str, str] = field(default_factory=dict)  # input address -> upstream node name

    def load(self) -> CurveSetup:
        return load_curve_setup(self.keys_dir, self.node, self.upstream)


def create_keys(keys_dir: str | Path, names: list[str]) -> list[Path]:
    """Write a keypair per node name; returns the public key files."""
    d = Path(keys_dir)
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for name in names:
        public, secret = zmq.auth.create_certificates(str(d), name)
        Path(secret).chmod(0o600)
        out.append(Path(public))
    return out


def _load(path: Path, *, secret: bool) -> tuple[bytes, bytes | None]:
    if not path.is_file():
        msg = f"{path}: no such key file (make keys with `l1emu keys`)"
        raise ConfigError(msg)
    try:
        public, sec = zmq.auth.load_certificate(str(path))
    except (ValueError, OSError) as exc:
        msg = f"{path}: not a ZeroMQ certificate ({exc})"
        raise ConfigError(msg) from exc
    if secret and sec is None:
        msg = f"{path}: holds no secret key"
        raise ConfigError(msg)
    return public, sec


def load_curve_setup(keys_dir: str | Path, node: str, upstream: Mapping[str, str]) -> CurveSetup:
    """The setup of ``node``; ``upstream`` maps each input address to its node name."""
    d = Path(keys_dir)
    public, secret = _load(d / f"{node}.key_secret", secret=True)
    assert secret is not None
    servers = {addr: _load(d / f"{name}.key", secret=False)[0] for addr, name in upstream.items()}
    return CurveSetup(public, secret, str(d), servers)


class AuthGuard:
    """Runs the ZAP handler of a node's context and counts failed handshakes."""

    def __init__(self, ctx: zmq.Context[Any], setup: CurveSetup | None, node: str) -> None:
        self.setup = setup
        self.node = node
        self.failures = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._auth: ThreadAuthenticator | None = None
        if setup is not None:
            self._auth = ThreadAuthenticator(ctx, log=logging.getLogger("l1emu.zap"))
            self._auth.start()
            self._auth.configure_curve(domain="*", location=setup.allowed_dir)

    def server(self, sock: zmq.Socket[Any]) -> None:
        """Make ``sock`` (before bind) a CURVE server and watch its handshakes."""
        if self.setup is None:
            return
        sock.curve_secretkey = self.setup.secret
        sock.curve_publickey = self.setup.public
        sock.curve_server = True
        self._watch(sock)

    def client(self, sock: zmq.Socket[Any]) -> None:
        """Give ``sock`` (before connects) this node's client keys and watch it."""
        if self.setup is None:
            return
        sock.curve_secretkey = self.setup.secret
        sock.curve_publickey = self.setup.public
        self._watch(sock)

    def connect(self, sock: zmq.Socket[Any], address: str) -> None:
        if self.setup is not None:
            sock.curve_serverkey = self.setup.server_key(address)
        sock.connect(address)

    def _watch(self, sock: zmq.Socket[Any]) -> None:
        monitor = sock.get_monitor_socket(events=_FAILED)
        t = threading.Thread(target=self._count, args=(monitor,), name=f"{self.node}-auth", daemon=True)
        t.start()
        self._threads.append(t)

    def _count(self, monitor: zmq.Socket[Any]) -> None:
        try:
            while not self._stop.is_set():
                if not monitor.poll(100):
                    continue
                event = recv_monitor_message(monitor)
                with self._lock:
                    self.failures += 1
                    n = self.failures
                if n == 1 or n % 100 == 0:
                    log.warning("%s: refused a peer (CURVE handshake failed, event %s; %d so far)",
                                self.node, event["event"], n)
        except zmq.ZMQError:
            pass  # context terminated
        finally:
            monitor.close(0)

    def close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=2)
        if self._auth is not None:
            self._auth.stop()
