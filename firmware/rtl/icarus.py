"""A second simulator for the same RTL: Icarus Verilog (Debian ``iverilog``), slow but independent.

The testbench (``firmware/templates/rtl_tb.v.tpl``) drives the same wrapper as the Verilator one,
one event per clock, and writes the output port after each rising edge; the latency is found the
same way (:func:`firmware.rtl.sim.compare_outputs`). Use it on a few thousand events to confirm
that the measured cycles and outputs do not depend on the simulator.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

from emulator.fixedpoint import FixedType
from firmware._templates import render
from firmware.errors import FirmwareError
from firmware.rtl.sim import SimResult, compare_outputs
from firmware.rtl.verilog import IoLayout, RtlProject

__all__ = ["simulate_icarus"]

log = logging.getLogger(__name__)

_TAIL = 16


def _tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        msg = f"{name} is not on PATH (Debian: apt-get install iverilog; `make test` installs it)"
        raise FirmwareError(msg)
    return exe


def _pack(m: np.ndarray, io: IoLayout, frac_in: int) -> list[str]:
    shift = io.frac - frac_in
    vals = (m << shift) if shift >= 0 else (m >> -shift)
    mask = (1 << io.width) - 1
    lines = []
    for row in vals:
        word = 0
        for j, v in enumerate(row):
            word |= (int(v) & mask) << (j * io.width)
        lines.append(f"{word:x}")
    return lines


def _unpack(lines: list[str], io: IoLayout, t: FixedType) -> np.ndarray:
    out = np.zeros((len(lines), io.n), np.int64)
    mask = (1 << io.width) - 1
    for i, line in enumerate(lines):
        word = int(line, 16) if all(c in "0123456789abcdefABCDEF" for c in line) else 0  # x/z before the first edge
        for j in range(io.n):
            v = (word >> (j * io.width)) & mask
            if io.signed and v >> (io.width - 1):
                v -= 1 << io.width
            out[i, j] = v << (t.fractional - io.frac)
    return out


def _icarus_source(path: Path, work: Path) -> str:
    """``path``, or a copy without its computed ``rom_style`` attribute (a synthesis hint Icarus 11 rejects)."""
    text = path.read_text()
    if "(* rom_style" not in text:
        return str(path)
    copy = work / path.name
    copy.write_text(re.sub(r"\(\*\s*rom_style[^*]*\*\)", "", text))
    return str(copy)


def simulate_icarus(
    prj: RtlProject, inputs: np.ndarray, expected: np.ndarray, *, in_type: FixedType, out_type: FixedType
) -> SimResult:
    """Compile ``prj`` with ``iverilog``, run ``inputs`` (``in_type`` mantissas) with ``vvp``, compare."""
    work = prj.directory / "icarus"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    x = np.asarray(inputs, np.int64).reshape(-1, prj.inputs.n)
    want = np.asarray(expected, np.int64).reshape(-1, prj.outputs.n)
    n, cycles = x.shape[0], x.shape[0] + prj.stages + _TAIL
    (work / "inputs.hex").write_text("\n".join(_pack(x, prj.inputs, in_type.fractional)) + "\n")
    (work / "tb.v").write_text(render(
        "rtl_tb.v.tpl", top=prj.top, n_events=n, last_event=n - 1, n_cycles=cycles,
        in_bits=prj.inputs.n * prj.inputs.width, in_msb=prj.inputs.n * prj.inputs.width - 1,
        out_msb=prj.outputs.n * prj.outputs.width - 1,
    ))  # fmt: skip
    for mem in prj.memfiles:
        shutil.copy(mem, work / mem.name)
    sources = [_icarus_source(p, work) for p in prj.sources]
    t0 = time.perf_counter()
    build = subprocess.run([_tool("iverilog"), "-g2012", "-o", "tb.vvp", "tb.v", *sources], cwd=work,
                           capture_output=True, text=True, check=False)  # fmt: skip
    build_s = time.perf_counter() - t0
    if build.returncode != 0:
        msg = f"{prj.name}: iverilog failed (exit {build.returncode}): {build.stderr.strip()[-800:]}"
        raise FirmwareError(msg)
    t0 = time.perf_counter()
    run = subprocess.run([_tool("vvp"), "-n", "tb.vvp"], cwd=work, capture_output=True, text=True, check=False)
    run_s = time.perf_counter() - t0
    lines = (work / "outputs.hex").read_text().split() if (work / "outputs.hex").exists() else []
    if run.returncode != 0 or len(lines) != cycles:
        msg = f"{prj.name}: vvp failed (exit {run.returncode}, {len(lines)} of {cycles} cycles): {run.stderr[-500:]}"
        raise FirmwareError(msg)
    got = _unpack(lines, prj.outputs, out_type)
    latency, matching, ambiguous = compare_outputs(got, want)
    aligned = got[latency - 1 : latency - 1 + n]
    bad = np.flatnonzero((aligned != want).any(axis=1))
    first = [{"event": int(e), "output": int(np.flatnonzero(aligned[e] != want[e])[0]),
              "engine": int(want[e][np.flatnonzero(aligned[e] != want[e])[0]]),
              "rtl": int(aligned[e][np.flatnonzero(aligned[e] != want[e])[0]])} for e in bad[:5]]  # fmt: skip
    log.info("%s: Icarus: %d events in %.1f s, latency %d, %d mismatches", prj.name, n, run_s, latency, n - matching)
    return SimResult(n, len(bad), latency, ambiguous, first, build_s, run_s, simulator="icarus")
