"""Helpers for integration tests: run the CLI, free ports, JSON reports."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = str(ROOT / "configs" / "default.yaml")
#: The CMS 2024 menu material (a copy of ../shared/data/cms-l1-menu-2024, without its html page).
CMS_MENU_DATA = ROOT / "tests" / "data" / "cms-l1-menu-2024"


def run_cli(*args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``python -m l1emu ARGS`` in a fresh process."""
    proc = subprocess.run(
        [sys.executable, "-m", "l1emu", *args], capture_output=True, text=True, timeout=timeout,
        cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, check=False,
    )
    if check and proc.returncode != 0:
        msg = f"l1emu {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        raise AssertionError(msg)
    return proc


def write_config(path: Path, **replace: str) -> str:
    """A copy of the default chain at ``path`` (menu path made absolute), with text replaced."""
    text = Path(DEFAULT_CONFIG).read_text().replace("menu: menus/", f"menu: {ROOT}/configs/menus/")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text)
    return str(path)


def _ephemeral_low() -> int:
    """The lowest port the kernel hands to connecting sockets (Linux: 32768 unless changed)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port_block(n: int) -> int:
    """A base port with ``n`` consecutive ports free on 127.0.0.1 right now.

    The block lies below the ephemeral range: a port from the kernel's ``bind(0)`` pool can be
    taken, between this check and a node's bind, as the local end of any connecting socket (the
    chain's own tcp connections among them), which failed a CI run with EADDRINUSE.
    """
    top = min(_ephemeral_low(), 65535) - n
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(200):
        base = rng.randrange(10_000, max(top, 10_001))
        socks = []
        try:
            for p in range(base, base + n):
                t = socket.socket()
                socks.append(t)
                t.bind(("127.0.0.1", p))
        except OSError:
            continue
        else:
            return base
        finally:
            for t in socks:
                t.close()
    msg = "no block of free ports found"
    raise RuntimeError(msg)


def load_report(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def seed_counts(report: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {k: (v["count"], v["count_raw"]) for k, v in report["seeds"].items()}


def balanced(report: dict[str, Any]) -> bool:
    e = report["events"]
    return e["produced"] == e["accepted"] + e["rejected"] + e["errored"] + e["dropped"] and e["lost"] == 0


#: The CMS 2024 menu's name (the stem of its files in :data:`CMS_MENU_DATA`).
CMS_MENU_STEM = "L1Menu_Collisions2024_v1_3_0"


def write_cms_2024_xml(directory: Path) -> Path:
    """The 2024 menu as uGT XML, built from the shared tm-reporter tables into ``directory``."""
    from emulator.menu.reporter import tmxsd_from_report

    report = json.loads((CMS_MENU_DATA / f"{CMS_MENU_STEM}.algorithms.json").read_text())
    path = directory / f"{CMS_MENU_STEM}.xml"
    path.write_text(tmxsd_from_report(report, (CMS_MENU_DATA / f"{CMS_MENU_STEM}.cuts.csv").read_text(),
                                      name=CMS_MENU_STEM))  # fmt: skip
    return path
