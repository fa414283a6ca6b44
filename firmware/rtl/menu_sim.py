"""The menu's Verilog simulated with Verilator against ``Menu.evaluate``, and synthesized with Yosys.

The testbench (``firmware/templates/menu_rtl_tb.cpp.tpl``) puts one event record per clock on
the ``ev`` bus and records the seed bits after every rising edge; the latency is found as in
:func:`firmware.rtl.sim.compare_outputs` (the edge count at which most events agree), and an
event is a mismatch when any seed bit differs at that latency.

>>> import tempfile
>>> from emulator.menu import Menu
>>> menu = Menu.from_dict({"name": "m", "columns": ["c"], "default_column": "c", "seeds": [
...     {"name": "HTT", "conditions": [{"sum": "htt", "min": 100}]}]})
>>> batch = stress_events(menu, np.random.default_rng(1), 200)
>>> res = simulate_menu(write_menu_rtl(menu, tempfile.mkdtemp()), batch, menu)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emulator.menu import Menu
from emulator.menu.hardware import HwScore
from firmware._menu_layout import ScoreKind, pack_events, score_kind
from firmware._templates import render
from firmware.errors import BitExactError, FirmwareError
from firmware.rtl.depth import warn_depth
from firmware.rtl.menu_verilog import MenuRtl, write_menu_rtl
from firmware.rtl.sim import compare_outputs, fresh_dir, verilate
from firmware.rtl.yosys import synthesize
from streams.event import EventBatch
from streams.schema import BASE_COLUMNS, COLLECTIONS, SUMS

__all__ = [
    "MIN_EVENTS",
    "MenuSim",
    "build_menu_testbench",
    "menu_rtl_check",
    "menu_rtl_failures",
    "rtl_events",
    "run_menu_rtl",
    "simulate_menu",
    "stress_events",
]

log = logging.getLogger(__name__)

MIN_EVENTS = 20_000  # stressed events the menu RTL is simulated on in `l1emu firmware --rtl`
_TAIL = 8  # cycles recorded beyond the events and the pipeline's stages
_SHOW = 10
# pT words: thresholds of the shipped menus and the int16 extremes (which reach the widest pair products)
_PTS = (0, 1, 5, 8, 9, 10, 14, 20, 24, 30, 36, 44, 48, 50, 60, 68, 70, 72, 100, 120, 200, 220, 240, 280, 300, 360,
        2047, 32767, -3, -32768)  # fmt: skip


@dataclass(frozen=True, slots=True)
class MenuSim:
    """Seed bits of the RTL against ``Menu.evaluate``: events, mismatching events, the measured latency."""

    events: int
    mismatches: int
    latency_cycles: int
    ambiguous: bool
    first: list[dict[str, Any]] = field(default_factory=list)  # {"event", "seeds"}
    build_s: float = 0.0
    run_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def raise_if_mismatch(self, where: str) -> None:
        if self.mismatches:
            listing = "; ".join(f"event {f['event']}: {', '.join(f['seeds'])}" for f in self.first)
            msg = (
                f"{where}: menu RTL differs from Menu.evaluate on {self.mismatches} of {self.events} events; {listing}"
            )
            raise BitExactError(msg)


def stress_events(menu: Menu, rng: np.random.Generator, n: int) -> EventBatch:
    """Events whose every cut sits near its threshold: pT on threshold values, η/φ over the full range (a
    tenth of the φ words anywhere in int16), quality/isolation beyond 15, negative sums, each score column
    spread over its seeds' thresholds."""
    cols = dict(EventBatch.empty(n).columns)
    for c in COLLECTIONS.values():
        shape = (n, c.size)
        eta = 300 if c.name == "muon" else 80
        cols[c.column("pt")] = rng.choice(_PTS, shape).astype(np.int16)
        cols[c.column("eta")] = rng.integers(-eta, eta, shape).astype(np.int16)
        phi = rng.integers(0, c.phi_bins, shape)
        wild = rng.random(shape) < 0.1  # some φ words outside [0, bins): the RTL reduces them as the engine does
        cols[c.column("phi")] = np.where(wild, rng.integers(-(1 << 15), 1 << 15, shape), phi).astype(np.int16)
        cols[c.column("iso")] = rng.integers(0, 18, shape).astype(np.uint8)
        cols[c.column("qual")] = rng.integers(0, 18, shape).astype(np.uint8)
        if c.name == "muon":
            cols[c.column("charge")] = rng.choice([-1, 0, 1], shape).astype(np.int8)
    for name in SUMS:
        cols[name] = rng.choice([rng.integers(-10, 4000, n), rng.integers(-10, 1000, n)], p=[0.5, 0.5]).astype(np.int32)
    cuts: dict[str, list[float]] = {}
    for seed in menu.hw_seeds:
        for cond in seed.conditions:
            if isinstance(cond, HwScore) and np.isfinite(cond.min):
                cuts.setdefault(cond.column, []).append(cond.min)
    for col, values in cuts.items():
        lo, hi = min(values), max(values)
        pad = max(0.1 * (hi - lo), 0.05 * max(abs(lo), abs(hi)), 1e-3)
        spread = rng.uniform(lo - pad, hi + pad, n)
        exact = rng.choice(values, n)  # some scores exactly on a threshold
        cols[col] = np.where(rng.random(n) < 0.1, exact, spread).astype(np.float32)
    return EventBatch(cols)


def rtl_events(menu: Menu, replayed: EventBatch, *, stressed: int = MIN_EVENTS, seed: int = 1) -> EventBatch:
    """The events the menu RTL is checked on: those replayed through the chain, then ``stressed``
    events from :func:`stress_events` (score columns in the replayed events' dtypes)."""
    extra = stress_events(menu, np.random.default_rng(seed), stressed)
    mine: dict[str, np.ndarray] = {}
    theirs: dict[str, np.ndarray] = {}
    for name, col in extra.columns.items():
        if name in replayed:
            mine[name] = np.asarray(replayed[name])
            theirs[name] = col.astype(mine[name].dtype)
        elif name in BASE_COLUMNS:  # a base column the chain dropped: empty in the replayed events
            mine[name] = np.zeros((len(replayed), *col.shape[1:]), col.dtype)
            theirs[name] = col
    return EventBatch.concat([EventBatch(mine), EventBatch(theirs)])


def build_menu_testbench(rtl: MenuRtl, *, jobs: int = 1) -> tuple[Path, float]:
    """Verilate the menu with its testbench; the binary and the build time in seconds."""
    sim = fresh_dir(rtl.directory / "verilator")
    tb = sim / "tb.cpp"
    tb.write_text(render("menu_rtl_tb.cpp.tpl", top=rtl.top, n_words=len(rtl.widths), n_seeds=len(rtl.seed_names),
                         widths=", ".join(str(w) for w in rtl.widths)))  # fmt: skip
    return verilate(top=rtl.top, tb=tb, sources=rtl.sources, sim=sim, jobs=jobs, label=f"menu {rtl.name}")


def run_menu_rtl(rtl: MenuRtl, binary: Path, batch: EventBatch) -> tuple[np.ndarray, float]:
    """Seed bits ``(cycles, seeds)`` recorded after each rising edge, and the run time."""
    records = pack_events(batch, rtl.fields)
    n = len(batch)
    cycles = n + rtl.stages + _TAIL
    work = binary.parent.parent
    records.tofile(work / "events.bin")
    t0 = time.perf_counter()
    proc = subprocess.run([str(binary), "events.bin", "seeds.bin", str(n), str(cycles)], cwd=work,
                          capture_output=True, text=True, check=False)  # fmt: skip
    run_s = time.perf_counter() - t0
    if proc.returncode != 0:
        msg = f"menu {rtl.name}: the Verilator testbench failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}"
        raise FirmwareError(msg)
    bits = np.fromfile(work / "seeds.bin", np.uint8).reshape(cycles, len(rtl.seed_names))
    return bits.astype(np.int64), run_s


def simulate_menu(rtl: MenuRtl, batch: EventBatch, menu: Menu, *, jobs: int = 1) -> MenuSim:
    """Build, run on ``batch``, compare every seed the RTL holds with ``menu.evaluate(batch)``."""
    binary, build_s = build_menu_testbench(rtl, jobs=jobs)
    got, run_s = run_menu_rtl(rtl, binary, batch)
    want = menu.evaluate(batch)[:, list(rtl.seed_index)].astype(np.int64)
    latency, _, ambiguous = compare_outputs(got, want)
    aligned = got[latency - 1 : latency - 1 + len(batch)]
    diff = aligned != want
    bad = np.flatnonzero(diff.any(axis=1))
    first = [{"event": int(e), "seeds": [rtl.seed_names[s] for s in np.flatnonzero(diff[e])]} for e in bad[:_SHOW]]
    log.info("menu %s: RTL on %d events, latency %d cycles, %d mismatches", rtl.name, len(batch), latency, bad.size)
    return MenuSim(len(batch), int(bad.size), latency, ambiguous, first, build_s, run_s)


def _score_kinds(menu: Menu, batch: EventBatch) -> dict[str, ScoreKind]:
    cols = sorted({c.column for s in menu.hw_seeds for c in s.conditions if isinstance(c, HwScore)})
    missing = [c for c in cols if c not in batch]
    if missing:
        msg = f"menu {menu.name!r}: score columns {missing} are not in the events"
        raise FirmwareError(msg)
    return {c: score_kind(batch[c].dtype) for c in cols}


def menu_rtl_check(
    menu: Menu, batch: EventBatch, out_dir: Path, *, clock_mhz: float, synth: bool = True,
    budget_cycles: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Write the menu's Verilog (seeds without an RTL form left out and listed), simulate on ``batch``,
    synthesize: the ``rtl`` object of the report's ``menu`` entry."""
    rtl = write_menu_rtl(menu, out_dir, scores=_score_kinds(menu, batch), skip_unsupported=True)
    sim = simulate_menu(rtl, batch, menu)
    syn = synthesize(rtl) if synth else None
    if syn is not None:
        warn_depth(f"menu {menu.name}", syn.depth(clock_mhz))
    return {
        "generated": True, "directory": str(rtl.directory), "top": rtl.top, "clock_mhz": clock_mhz,
        "stages": rtl.stages, "seeds": list(rtl.seed_names), "refused": rtl.refused,
        "events": sim.events, "mismatches": sim.mismatches, "first_mismatches": sim.first,
        "latency_cycles": sim.latency_cycles, "latency_ambiguous": sim.ambiguous, "latency_source": "rtl-sim",
        "budget_cycles": budget_cycles,
        "within_budget": None if budget_cycles is None else sim.latency_cycles <= budget_cycles,
        "resources": syn.resources if syn else None, "resources_source": "yosys" if syn else None,
        "logic_depth": syn.logic_depth if syn else None, "depth": syn.depth(clock_mhz) if syn else None,
        "family": syn.family if syn else None,
        "timing_s": {"verilate_s": sim.build_s, "simulate_s": sim.run_s, **({"synth_s": syn.seconds} if syn else {})},
        "tools": {"simulator": "verilator", "yosys": syn.yosys if syn else None},
    }  # fmt: skip


def menu_rtl_failures(where: str, rtl: dict[str, Any]) -> list[str]:
    """What makes ``l1emu firmware --rtl`` fail for the menu: differing seed bits or a latency over budget."""
    out = []
    if rtl["mismatches"]:
        first = "; ".join(f"event {f['event']}: {', '.join(f['seeds'])}" for f in rtl["first_mismatches"])
        out.append(f"{where}: the menu RTL ({rtl['directory']}) differs from Menu.evaluate on {rtl['mismatches']} of "
                   f"{rtl['events']} events in Verilator; first: {first}")  # fmt: skip
    if rtl["within_budget"] is False:
        out.append(f"{where}: menu RTL latency {rtl['latency_cycles']} cycles (rtl-sim) exceeds the budget of "
                   f"{rtl['budget_cycles']} cycles at {rtl['clock_mhz']} MHz")  # fmt: skip
    return out
