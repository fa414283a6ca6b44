"""One model through the whole RTL path: trace → Verilog → Verilator vs the engine → Yosys.

The result is the ``rtl`` object of a model's entry in a stage's ``report.json``: the events
simulated, how many differ from the engine, the latency measured in the simulation, and the
resources Yosys counted, beside the analytical estimate of the same model at the same clock.

>>> RtlOptions(clock_mhz=480.0).cutoff  # ns per stage: one period of the clock
2.083
>>> RtlOptions(clock_mhz=480.0, latency_cutoff=3).cutoff  # given: da4ml's adder levels
3
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emulator.fixedpoint import FixedPointModel
from emulator.fixedpoint.cast import float_cast
from firmware.budget import estimate
from firmware.rtl.depth import warn_depth
from firmware.rtl.icarus import simulate_icarus
from firmware.rtl.sim import build_testbench, simulate
from firmware.rtl.trace import trace_model
from firmware.rtl.verilog import choose_cutoff, write_rtl
from firmware.rtl.yosys import FAMILY, synthesize

__all__ = ["MIN_EVENTS", "RtlOptions", "rtl_check", "rtl_failures"]

log = logging.getLogger(__name__)

MIN_EVENTS = 10_000  # events each model's RTL is simulated on in `l1emu firmware --rtl`


@dataclass(frozen=True, slots=True)
class RtlOptions:
    """How the RTL of a model is made and checked."""

    clock_mhz: float
    latency_cutoff: int | None = None  # da4ml adder levels per register stage; None: one clock period, timed
    synth: bool = True
    family: str = FAMILY
    jobs: int = 1  # parallel compiler jobs of the Verilator build
    icarus_events: int = 0  # also simulate the first N events with Icarus Verilog (a second simulator)

    @property
    def cutoff(self) -> float:
        """The latency cutoff: adder levels when given, else one period in ns (:mod:`firmware.rtl.timing`)."""
        return self.latency_cutoff if self.latency_cutoff is not None else choose_cutoff(self.clock_mhz)


def _estimate(engine: FixedPointModel, clock_mhz: float) -> dict[str, int]:
    est = estimate(engine, clock_mhz=clock_mhz)
    r = est.resources
    return {"latency_cycles": est.latency_cycles, "lut": r["LUT"], "ff": r["FF"], "dsp": r["DSP"],
            "bram_18k": r["BRAM_18K"]}  # fmt: skip


def rtl_check(
    name: str, engine: FixedPointModel, x: np.ndarray, out_dir: Path, opts: RtlOptions, *,
    budget_cycles: int | None = None, rtl_engine: FixedPointModel | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Trace ``engine`` (or ``rtl_engine``, to test the check itself), write, simulate on ``x``
    (float model inputs, as the chain hands them), synthesize; the report's ``rtl`` object."""
    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    inputs = np.asarray(x).reshape(-1, engine.n_inputs)
    m_in, _, _ = float_cast(np.ascontiguousarray(inputs), engine.input_type)
    expected = engine.predict_mantissas(inputs)
    traced = trace_model(rtl_engine or engine)
    timing["trace_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    prj = write_rtl(traced, out_dir, clock_mhz=opts.clock_mhz, latency_cutoff=opts.latency_cutoff)
    timing["write_s"] = time.perf_counter() - t0
    tb = build_testbench(prj, jobs=opts.jobs)
    timing["verilate_s"] = tb.build_s
    sim = simulate(prj, tb, m_in, expected, in_type=engine.input_type, out_type=engine.output_type)
    timing["simulate_s"] = sim.run_s
    synth = synthesize(prj, family=opts.family) if opts.synth else None
    if synth is not None:
        timing["synth_s"] = synth.seconds
    est = _estimate(engine, opts.clock_mhz)
    entry: dict[str, Any] = {
        "name": name, "directory": str(prj.directory), "top": prj.top, "clock_mhz": opts.clock_mhz,
        "latency_cutoff": prj.latency_cutoff, "cutoff_unit": prj.cutoff_unit, "cutoff_reason": prj.cutoff_reason,
        "stages": prj.stages,
        "register_bits": prj.register_bits, "events": sim.events, "mismatches": sim.mismatches,
        "first_mismatches": sim.first, "latency_cycles": sim.latency_cycles, "latency_ambiguous": sim.ambiguous,
        "latency_source": "rtl-sim", "budget_cycles": budget_cycles,
        "within_budget": None if budget_cycles is None else sim.latency_cycles <= budget_cycles,
        "resources": synth.resources if synth else None, "resources_source": "yosys" if synth else None,
        "logic_depth": synth.logic_depth if synth else None, "depth": synth.depth(opts.clock_mhz) if synth else None,
        "family": opts.family if synth else None, "estimate": est, "timing_s": timing,
        "tools": {"simulator": "verilator", "yosys": synth.yosys if synth else None},
    }  # fmt: skip
    if opts.icarus_events > 0:
        k = min(opts.icarus_events, len(m_in))
        ic = simulate_icarus(prj, m_in[:k], expected[:k], in_type=engine.input_type, out_type=engine.output_type)
        timing["icarus_s"] = ic.build_s + ic.run_s
        entry["icarus"] = {"events": ic.events, "mismatches": ic.mismatches, "latency_cycles": ic.latency_cycles,
                           "first_mismatches": ic.first}  # fmt: skip
    if sim.events < MIN_EVENTS:
        log.warning("%s: RTL simulated on %d events (fewer than %d)", name, sim.events, MIN_EVENTS)
    warn_depth(name, entry["depth"])
    return entry


def rtl_failures(where: str, rtl: dict[str, Any]) -> list[str]:
    """What makes ``l1emu firmware --rtl`` fail for one model: differences or a latency over budget."""
    out = []
    if rtl["mismatches"]:
        first = "; ".join(f"event {f['event']} output {f['output']}: engine {f['engine']}, RTL {f['rtl']}"
                          for f in rtl["first_mismatches"])  # fmt: skip
        out.append(f"{where}: the RTL ({rtl['directory']}) differs from the engine on {rtl['mismatches']} of "
                   f"{rtl['events']} events in Verilator; first: {first}")  # fmt: skip
    ic = rtl.get("icarus")
    if ic and (ic["mismatches"] or ic["latency_cycles"] != rtl["latency_cycles"]):
        out.append(f"{where}: Icarus Verilog disagrees: {ic['mismatches']} of {ic['events']} events differ from the "
                   f"engine, latency {ic['latency_cycles']} cycles (Verilator: {rtl['latency_cycles']})")  # fmt: skip
    if rtl["within_budget"] is False:
        out.append(f"{where}: RTL latency {rtl['latency_cycles']} cycles (rtl-sim) exceeds the budget of "
                   f"{rtl['budget_cycles']} cycles at {rtl['clock_mhz']} MHz")  # fmt: skip
    return out
