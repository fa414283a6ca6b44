"""Synthesize a written RTL project with Yosys ``synth_xilinx`` and count what it used.

``synth_xilinx -family xcup -flatten`` maps onto UltraScale+ cells; ``stat -json`` gives the
cell counts, which are grouped into LUT, FF, DSP, BRAM (18K equivalents), CARRY and the rest.
``ltp`` over every cell but the flip-flops gives the logic depth: the longest path of cells
(carry cells included) from register or port to register or port; the netlist (``write_json``)
gives the same path weighted per cell (:mod:`firmware.rtl.depth`), checked against the clock. Tables (da4ml writes them
as asynchronous ROMs) are mapped to logic first. This is synthesis without placement or
routing: real resource counts of this netlist, not timing closure.

>>> count_cells({"LUT6": 3, "LUT2": 1, "FDRE": 5, "CARRY8": 2, "RAMB36E2": 1, "DSP48E2": 1, "BUFG": 1})
{'lut': 4, 'ff': 5, 'dsp': 1, 'bram_18k': 2, 'carry': 2, 'lutram': 0, 'muxf': 0}
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from firmware.errors import FirmwareError
from firmware.rtl.depth import depth_check, netlist_path_ns, yosys_module

__all__ = ["FAMILY", "SynthResult", "Synthesizable", "count_cells", "synthesize", "yosys_version"]

log = logging.getLogger(__name__)


class Synthesizable(Protocol):
    """What synthesis reads of a project (a model's :class:`~firmware.rtl.verilog.RtlProject`, the menu's RTL)."""

    @property
    def name(self) -> str: ...
    @property
    def directory(self) -> Path: ...
    @property
    def top(self) -> str: ...
    @property
    def sources(self) -> list[Path]: ...
    @property
    def memfiles(self) -> list[Path]: ...


FAMILY = "xcup"  # UltraScale+ (the stages' xcvu9p / xcvu13p parts)
_LTP = re.compile(r"Longest topological path in .* \(length=(\d+)\)")


@dataclass(frozen=True, slots=True)
class SynthResult:
    """Yosys' cell counts of one project, grouped, and its logic depth."""

    resources: dict[str, int]
    cells: dict[str, int]
    logic_depth: int | None
    family: str
    seconds: float
    yosys: str
    log: str = field(default="")
    path_ns: float | None = None  # the longest path by :func:`firmware.rtl.depth.netlist_path_ns`
    path_cells: dict[str, int] = field(default_factory=dict)  # the cell types on it

    def depth(self, clock_mhz: float) -> dict[str, Any] | None:
        """The report's ``depth`` object: Yosys' longest path checked against one cycle at ``clock_mhz``."""
        if self.path_ns is None:
            return None
        return {"ltp_cells": self.logic_depth, **depth_check(self.path_ns, self.path_cells, clock_mhz).as_dict()}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_cells(cells: dict[str, int]) -> dict[str, int]:
    """LUT/FF/DSP/BRAM/CARRY/LUTRAM/MUXF counts from Yosys' cell types."""
    out = {"lut": 0, "ff": 0, "dsp": 0, "bram_18k": 0, "carry": 0, "lutram": 0, "muxf": 0}
    for cell, n in cells.items():
        name = cell.lstrip("\\").upper()
        if re.fullmatch(r"LUT[1-6]|INV", name):  # an INV primitive is a LUT1
            out["lut"] += n
        elif re.fullmatch(r"FD[RSCP]E(_1)?|FD[RSCP]|LD[CP]E?", name):
            out["ff"] += n
        elif name.startswith("DSP48"):
            out["dsp"] += n
        elif name.startswith("RAMB36"):
            out["bram_18k"] += 2 * n
        elif name.startswith("RAMB18"):
            out["bram_18k"] += n
        elif name.startswith("CARRY"):
            out["carry"] += n
        elif re.fullmatch(r"RAM(32|64|128|256)[MX].*|SRL16E|SRLC32E", name):
            out["lutram"] += n
        elif name.startswith("MUXF"):
            out["muxf"] += n
    return out


def _yosys() -> str:
    exe = shutil.which("yosys")
    if exe is None:
        msg = "RTL synthesis needs Yosys on PATH (Debian: apt-get install yosys; `make test` installs it)"
        raise FirmwareError(msg)
    return exe


def yosys_version() -> str:
    proc = subprocess.run([_yosys(), "-V"], capture_output=True, text=True, check=False)
    return proc.stdout.strip()


def synthesize(prj: Synthesizable, *, family: str = FAMILY, depth: bool = True) -> SynthResult:
    """``synth_xilinx -family <family> -flatten`` of ``prj``'s wrapper; counts from ``stat -json``."""
    work = prj.directory / "yosys"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for mem in prj.memfiles:  # $readmemh paths are relative to the working directory
        shutil.copy(mem, work / mem.name)
    reads = "\n".join(f"read_verilog -defer {p}" for p in prj.sources)
    # da4ml's tables are asynchronous ROMs, which Yosys 0.23 cannot map to xcup memories: as logic first
    roms = "proc\nmemory -nomap\nmemory_map\nopt -fast\n" if prj.memfiles else ""
    script = (f"{reads}\nhierarchy -top {prj.top}\n{roms}synth_xilinx -family {family} -flatten -top {prj.top}\n"
              f"tee -q -o stat.json stat -json\n{'ltp -noff t:FD* %n' if depth else ''}\n"
              f"{'write_json netlist.json' if depth else ''}\n")  # fmt: skip
    (work / "synth.ys").write_text(script)
    t0 = time.perf_counter()
    proc = subprocess.run([_yosys(), "-q", "-l", "yosys.log", "-s", "synth.ys"], cwd=work, capture_output=True,
                          text=True, check=False)  # fmt: skip
    seconds = time.perf_counter() - t0
    if proc.returncode != 0 or not (work / "stat.json").exists():
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        msg = f"{prj.name}: Yosys failed (exit {proc.returncode}, log {work / 'yosys.log'}):\n{tail}"
        raise FirmwareError(msg)
    cells = _cells(work / "stat.json", prj.top)
    text = (work / "yosys.log").read_text(errors="replace")
    found = _LTP.findall(text)
    path_ns, path_cells = netlist_path_ns(work / "netlist.json", prj.top) if depth else (None, {})
    result = SynthResult(count_cells(cells), cells, int(found[-1]) if found else None, family, seconds,
                         yosys_version(), str(work / "yosys.log"), path_ns, path_cells)  # fmt: skip
    log.info("%s: Yosys %s in %.1f s: %s, depth %s", prj.name, family, seconds, result.resources, result.logic_depth)
    return result


def _cells(path: Path, top: str) -> dict[str, int]:
    mod = yosys_module(path, top, "stat -json")
    return {str(k): int(v) for k, v in mod.get("num_cells_by_type", {}).items()}
