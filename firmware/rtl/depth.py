"""Logic levels of a synthesized netlist and a check of them against the stage clock.

Not timing closure (no placement, no routing, no vendor delays): a planning rule applied to the
longest register-to-register path of Yosys' netlist (``write_json`` after ``synth_xilinx``),
each cell on it weighted by a per-cell delay that includes its net:

* a LUT (or LUTRAM read): :data:`LUT_NS` = 0.7 ns — MapBuf's characterization of Vivado timing
  reports (mapbuf.readthedocs.io, "Delay characterization": a 4.2 ns clock period fits 6 LUT
  levels; a DSP takes 4 levels);
* a carry cell: :data:`CARRY_NS` = 0.025 ns per bit (0.1 ns a CARRY4, 0.2 ns a CARRY8; Yosys 0.23
  maps xcup adders onto CARRY4) — what is left of l1emu's analytical adder level
  (:data:`firmware.budget.ADD_NS`, 1.1 ns) after its LUT, spread over the 16 bits of an add;
* a DSP48 without its output register: 4 LUT levels (MapBuf); with it (``PREG=1``) the path ends
  and starts at the DSP, as at a flip-flop; MUXF7/8/9 sit beside their LUT in the slice: 0 ns.

The depth in LUT levels is the path's delay over :data:`LUT_NS`; one cycle of the stage clock holds
``T / LUT_NS`` of them (2.98 at 480 MHz, 5.95 at 240 MHz) and a design whose path is longer than
the period is flagged. MapBuf measured an older family than UltraScale+, so the rule errs on the
slow side.

>>> levels_per_cycle(480.0), levels_per_cycle(240.0)
(2.98, 5.95)
>>> cell_ns("LUT6", {}), cell_ns("CARRY4", {}), cell_ns("CARRY8", {}), cell_ns("DSP48E2", {"PREG": "1"})
(0.7, 0.1, 0.2, None)
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from firmware.budget import ADD_NS
from firmware.errors import FirmwareError

__all__ = ["CARRY_NS", "DSP_LEVELS", "LUT_NS", "DepthCheck", "cell_ns", "depth_check", "levels_per_cycle",
           "netlist_path_ns", "warn_depth", "yosys_module"]  # fmt: skip

log = logging.getLogger(__name__)

LUT_NS = 0.7  # one LUT level with its net (MapBuf: 6 levels in 4.2 ns)
CARRY_NS = round((ADD_NS - LUT_NS) / 16, 4)  # one bit of carry chain (a 16-bit adder level of the analytical model)
DSP_LEVELS = 4  # an unregistered DSP48 in LUT levels (MapBuf)
RULE = (f"LUT+net {LUT_NS} ns (MapBuf: 6 LUT levels in 4.2 ns), carry {CARRY_NS} ns per bit (the analytical "
        f"16-bit adder level, {ADD_NS} ns, minus its LUT), unregistered DSP48 {DSP_LEVELS} levels; no placement "
        "or routing: a logic-depth check, not timing closure")  # fmt: skip

_SEQ = re.compile(r"FD[RSCP]E?(_1)?|LD[CP]E?|RAMB(18|36).*|SRL16E|SRLC32E|FIFO.*")
_LUT = re.compile(r"LUT[1-6](_2)?|INV|RAM(32|64|128|256)[MX].*")


def levels_per_cycle(clock_mhz: float) -> float:
    """LUT levels (with their nets) in one period at ``clock_mhz`` (two decimals)."""
    if clock_mhz <= 0:
        msg = f"clock {clock_mhz} MHz must be positive"
        raise FirmwareError(msg)
    return round(1000.0 / clock_mhz / LUT_NS, 2)


def cell_ns(cell_type: str, params: dict[str, Any]) -> float | None:
    """Delay of one cell on a path, ns; ``None`` for a cell that registers (the path ends there)."""
    name = cell_type.lstrip("\\").upper()
    if _SEQ.fullmatch(name):
        return None
    if _LUT.fullmatch(name):
        return LUT_NS
    if name.startswith("CARRY"):
        return round(CARRY_NS * (8 if name == "CARRY8" else 4), 3)
    if name.startswith("DSP48"):
        preg = str(params.get("PREG", "1")).strip("'\"")
        return None if preg not in ("0", "00000000000000000000000000000000") else DSP_LEVELS * LUT_NS
    return 0.0  # MUXF7/8/9, buffers, constants


def yosys_module(path: Path, top: str, what: str) -> dict[str, Any]:
    """Module ``top`` of a Yosys JSON file (``write_json`` netlist or ``stat -json``; ``what`` names
    it in errors); ``stat -json`` of a flattened design keeps it under ``design``."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        msg = f"{path}: cannot read Yosys' {what} ({exc})"
        raise FirmwareError(msg) from exc
    modules = doc.get("modules", {})
    mod = modules.get(top) or modules.get(f"\\{top}") or (doc.get("design") if what == "stat -json" else None)
    if not isinstance(mod, dict):
        msg = f"{path}: no module {top!r} in Yosys' {what} (modules: {sorted(modules)})"
        raise FirmwareError(msg)
    return mod


def netlist_path_ns(netlist: Path, top: str) -> tuple[float, dict[str, int]]:
    """The longest register-to-register (or port) path of ``top`` in Yosys' JSON, ns, and the cell
    types on it."""
    mod = yosys_module(netlist, top, "netlist")
    cells: dict[str, dict[str, Any]] = mod.get("cells", {})
    delay: dict[str, float | None] = {n: cell_ns(c["type"], c.get("parameters", {})) for n, c in cells.items()}
    driver: dict[int, str] = {}
    inputs: dict[str, list[int]] = defaultdict(list)
    for n, c in cells.items():
        dirs = c.get("port_directions", {})
        for port, bits in c.get("connections", {}).items():
            ints = [b for b in bits if isinstance(b, int)]
            if dirs.get(port) == "output":
                driver.update(dict.fromkeys(ints, n))
            elif delay[n] is not None:
                inputs[n].extend(ints)
    fanin = {n: {driver[b] for b in inputs[n] if b in driver and delay[driver[b]] is not None} for n in cells
             if delay[n] is not None}  # fmt: skip
    arrival: dict[str, float] = {}
    best: dict[str, str | None] = {}
    for start in fanin:  # iterative depth-first search, post-order
        if start in arrival:
            continue
        on_path = {start}
        stack = [(start, iter(fanin[start]))]
        while stack:
            n, it = stack[-1]
            m = next((m for m in it if m not in arrival), None)
            if m is not None:
                if m in on_path:
                    msg = f"{netlist}: a combinational loop in {top} through {m}"
                    raise FirmwareError(msg)
                on_path.add(m)
                stack.append((m, iter(fanin[m])))
                continue
            prev = max(fanin[n], key=lambda k: arrival[k], default=None)
            arrival[n] = float(delay[n] or 0.0) + (arrival[prev] if prev else 0.0)
            best[n] = prev
            on_path.discard(n)
            stack.pop()
    if not arrival:
        return 0.0, {}
    end: str | None = max(arrival, key=lambda k: arrival[k])
    kinds: dict[str, int] = defaultdict(int)
    total = arrival[end] if end else 0.0
    while end is not None:
        kinds[cells[end]["type"].lstrip("\\")] += 1
        end = best[end]
    return round(total, 3), dict(kinds)


@dataclass(frozen=True, slots=True)
class DepthCheck:
    """The longest path of a design against one period of its stage clock."""

    path_ns: float
    lut_levels: float  # path_ns in LUT levels
    levels_per_cycle: float
    clock_mhz: float
    fits: bool
    path_cells: dict[str, int]
    rule: str = RULE

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def depth_check(path_ns: float, path_cells: dict[str, int], clock_mhz: float) -> DepthCheck:
    """Does a longest path of ``path_ns`` fit in one cycle at ``clock_mhz``?"""
    period = 1000.0 / clock_mhz
    return DepthCheck(path_ns, round(path_ns / LUT_NS, 2), levels_per_cycle(clock_mhz), clock_mhz,
                      path_ns <= period + 1e-9, path_cells)  # fmt: skip


def warn_depth(name: str, depth: dict[str, Any] | None) -> None:
    """Log a design whose longest register-to-register path does not fit in one stage clock cycle."""
    if depth and not depth["fits"]:
        log.warning("%s: longest path %.2f ns (%.2f LUT levels) does not fit one %.0f MHz cycle (%.2f; %s)",
                    name, depth["path_ns"], depth["lut_levels"], depth["clock_mhz"], depth["levels_per_cycle"],
                    depth["rule"])  # fmt: skip
