"""Compile the menu harness with g++, run it on events, compare with ``Menu.evaluate``.

>>> import tempfile
>>> import numpy as np
>>> from emulator.menu import load_menu
>>> from streams.sources.parametric import generate
>>> batch = generate(np.random.default_rng(1), 500, mu=60.0)
>>> scores = np.random.default_rng(2).uniform(-1.1, 40.0, (2, 500)).astype(np.float32)
>>> batch = batch.with_columns(score_axol1tl=scores[0], score_cicada=scores[1])
>>> check = check_menu(load_menu("configs/menus/cms2024.yaml"), batch, tempfile.mkdtemp())
>>> check.events, check.mismatches
(500, 0)
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emulator.menu import Menu
from emulator.menu.hardware import HwScore
from firmware._menu_layout import ScoreKind, pack_events, score_kind
from firmware.errors import BitExactError, FirmwareError
from firmware.gxx import compile_cpp
from firmware.menu_writer import MenuProject, write_menu_hls
from streams.event import EventBatch

__all__ = ["MenuCheck", "check_menu", "run_harness"]

log = logging.getLogger(__name__)
_SHOW = 10  # differing events listed in messages


@dataclass(frozen=True, slots=True)
class MenuCheck:
    """Seed bits of the C simulation against ``Menu.evaluate`` on ``events`` events."""

    events: int
    mismatches: int  # events with at least one differing seed bit
    first: tuple[tuple[int, tuple[str, ...]], ...] = field(default=())  # (event, differing seeds)
    project: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "mismatches": self.mismatches,
            "first": [{"event": e, "seeds": list(s)} for e, s in self.first],
            "project": self.project,
        }

    def raise_if_mismatch(self) -> None:
        if self.mismatches:
            listing = "; ".join(f"event {e}: {', '.join(s)}" for e, s in self.first)
            msg = (
                f"menu C simulation differs from Menu.evaluate on {self.mismatches} of {self.events} events "
                f"({self.project}); first: {listing}"
            )
            raise BitExactError(msg)


def _score_kinds(menu: Menu, batch: EventBatch) -> dict[str, ScoreKind]:
    cols = {c.column for s in menu.hw_seeds for c in s.conditions if isinstance(c, HwScore)}
    missing = sorted(c for c in cols if c not in batch)
    if missing:
        msg = f"menu {menu.name!r}: score columns {missing} are not in the replayed events"
        raise FirmwareError(msg)
    return {c: score_kind(batch[c].dtype) for c in sorted(cols)}


def run_harness(prj: MenuProject, exe: Path, batch: EventBatch) -> np.ndarray:
    """Seed bits, bool ``(N, seeds)``, of the compiled harness on ``batch``."""
    events = prj.directory / "tb_events.bin"
    seeds = prj.directory / "tb_seeds.bin"
    pack_events(batch, prj.fields).tofile(events)
    proc = subprocess.run([str(exe), str(events), str(seeds)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        msg = f"{exe} failed (exit {proc.returncode}): {proc.stderr.strip()[:500]}"
        raise FirmwareError(msg)
    bits = np.fromfile(seeds, np.uint8)
    if bits.size != len(batch) * prj.n_seeds:
        msg = f"{exe}: wrote {bits.size} seed bits, expected {len(batch)} events x {prj.n_seeds} seeds"
        raise FirmwareError(msg)
    return bits.reshape(len(batch), prj.n_seeds).astype(bool)


def check_menu(
    menu: Menu, batch: EventBatch, out_dir: str | Path, *, part: str | None = None, clock_mhz: float = 480.0
) -> MenuCheck:
    """Write the menu's HLS C++ into ``out_dir``, compile its harness, compare on ``batch``."""
    extra = {"part": part} if part else {}
    prj = write_menu_hls(menu, out_dir, scores=_score_kinds(menu, batch), clock_mhz=clock_mhz, **extra)
    exe = compile_cpp([prj.source, prj.testbench], prj.directory / f"{prj.top}_tb")
    got = run_harness(prj, exe, batch)
    want = menu.evaluate(batch)
    diff = got != want
    bad = np.flatnonzero(diff.any(axis=1))
    first = tuple(
        (int(e), tuple(menu.seed_names[s] for s in np.flatnonzero(diff[e]))) for e in bad[:_SHOW]
    )
    check = MenuCheck(len(batch), int(bad.size), first, str(prj.directory))
    log.info("menu %s: %d events, %d mismatches", menu.name, check.events, check.mismatches)
    return check
