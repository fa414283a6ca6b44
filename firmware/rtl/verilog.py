"""Write a traced model as pipelined Verilog (da4ml's ``RTLModel``) and record how it was cut.

By default the program is cut by time (:mod:`firmware.rtl.timing`): every operation is timed in
ns with the delays of the logic-depth rule and a register closes each clock period, so the
latency cutoff is the period itself, ``T = 1000 / clock_mhz`` ns. A cutoff given in da4ml's own
unit, adder levels (``latency_cutoff=``, ``--rtl-cutoff``), is passed to da4ml as it is: da4ml
counts every add as one level whatever its width, and constant adds, ReLUs and negations as none.

>>> choose_cutoff(480.0), choose_cutoff(240.0)
(2.083, 4.167)
>>> choose_levels(480.0), choose_levels(240.0)  # the adder-level rule of the analytical estimate
(1, 3)
"""

from __future__ import annotations

import logging
import math
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from firmware.budget import ADD_NS
from firmware.errors import FirmwareError
from firmware.rtl.timing import TIMING_RULE, timed_pipeline
from firmware.rtl.trace import TracedModel

__all__ = ["IoLayout", "RtlProject", "choose_cutoff", "choose_levels", "write_rtl"]

log = logging.getLogger(__name__)


def _period(clock_mhz: float) -> float:
    if clock_mhz <= 0:
        msg = f"clock {clock_mhz} MHz must be positive"
        raise FirmwareError(msg)
    return 1000.0 / clock_mhz


def choose_cutoff(clock_mhz: float) -> float:
    """The time cutoff of a stage at ``clock_mhz``: one period, ns (three decimals)."""
    return round(_period(clock_mhz), 3)


def choose_levels(clock_mhz: float) -> int:
    """Adder levels per clock period at ``clock_mhz`` with the analytical estimate's 1.1 ns a level (at least one)."""
    return max(1, math.floor(_period(clock_mhz) / ADD_NS))


@dataclass(frozen=True, slots=True)
class IoLayout:
    """The uniform ports of ``<top>_wrapper``: element ``j`` in bits ``[j·width, (j+1)·width)``,
    a two's-complement integer (``signed``) of the value times ``2^frac``."""

    n: int
    width: int
    frac: int
    signed: bool


@dataclass(frozen=True, slots=True)
class RtlProject:
    """One written RTL project: where, its top module, how it was pipelined."""

    name: str
    directory: Path
    top: str  # the uniform-port wrapper the testbench and synthesis use
    clock_mhz: float
    latency_cutoff: float  # ns per stage, or adder levels when given (cutoff_unit)
    cutoff_unit: str  # "ns" | "adder levels"
    cutoff_reason: str
    stages: int
    register_bits: int
    inputs: IoLayout
    outputs: IoLayout

    @property
    def sources(self) -> list[Path]:
        src = self.directory / "src"
        return sorted((src / "static").glob("*.v")) + sorted(src.glob("*.v"))

    @property
    def memfiles(self) -> list[Path]:
        return sorted((self.directory / "src" / "memfiles").glob("*.mem"))

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["directory"] = str(self.directory)
        return d


def _layout(qints: Any) -> IoLayout:
    from da4ml.types import minimal_kif

    kifs = [minimal_kif(q) for q in qints]
    k = max(int(x[0]) for x in kifs)
    i = max(int(x[1]) for x in kifs)
    f = max(int(x[2]) for x in kifs)
    return IoLayout(len(kifs), k + i + f, f, bool(k))


def write_rtl(traced: TracedModel, out_dir: Path, *, clock_mhz: float, latency_cutoff: int | None = None) -> RtlProject:
    """Pipeline ``traced`` for ``clock_mhz`` and write its Verilog under ``out_dir`` (replaced)."""
    try:
        from da4ml.codegen import RTLModel
    except ImportError as exc:
        msg = "RTL generation needs da4ml: pip install 'l1emu[rtl]'"
        raise FirmwareError(msg) from exc
    period = _period(clock_mhz)
    if latency_cutoff is None:
        cutoff: float = choose_cutoff(clock_mhz)
        unit = "ns"
        reason = (f"one {cutoff:.3f} ns period at {clock_mhz:g} MHz per stage, every operation timed by the "
                  f"logic-depth rule ({TIMING_RULE})")  # fmt: skip
        solution: Any = timed_pipeline(traced.comb, period)
    else:
        cutoff, unit, reason = latency_cutoff, "adder levels", "given, in da4ml's adder levels (not timed)"
        solution = traced.comb
    if out_dir.exists():
        shutil.rmtree(out_dir)
    name = _module_name(traced.name)
    model = RTLModel(solution, name, out_dir, flavor="verilog", latency_cutoff=cutoff, print_latency=False,
                     clock_period=period)  # fmt: skip
    model.write()
    pipe = model._pipe
    if pipe is None:  # pragma: no cover - a positive cutoff always pipelines
        msg = f"{traced.name}: da4ml wrote combinational logic, not a pipeline"
        raise FirmwareError(msg)
    prj = RtlProject(
        name=traced.name, directory=out_dir.resolve(), top=f"{name}_wrapper", clock_mhz=clock_mhz,
        latency_cutoff=cutoff, cutoff_unit=unit, cutoff_reason=reason, stages=len(pipe.solutions),
        register_bits=int(pipe.reg_bits),
        inputs=_layout(pipe.inp_qint), outputs=_layout(pipe.out_qint),
    )  # fmt: skip
    log.info("%s: Verilog in %s, %d stages at latency cutoff %g %s (%s)", traced.name, out_dir, prj.stages, cutoff,
             unit, reason)  # fmt: skip
    return prj


def _module_name(name: str) -> str:
    clean = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return clean if clean[:1].isalpha() else f"m_{clean}"
