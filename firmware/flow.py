"""``l1emu firmware``: every model of every stage as an hls4ml project, the menu as HLS C++, checked.

Events are replayed in-process through the chain; each model algorithm's inputs are taken
right before it runs, so the testbench holds what the model sees in the chain. Everything is
written and checked first; failures (C-sim mismatches, over budget) are collected and
returned, so every report exists even when the command fails.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from emulator.algorithm import Algorithm
from emulator.chain import AlgorithmSpec, ChainConfig, StageConfig, load_chain
from emulator.fixedpoint import FixedPointModel
from emulator.menu.algorithm import MenuAlgorithm
from emulator.models.kinds import model_kind_for_algorithm
from emulator.models.runtime import resolve_model
from emulator.pipeline import Pipeline
from firmware.budget import estimate
from firmware.csynth import find_csynth, parse_csynth
from firmware.errors import FirmwareError
from firmware.guardrails import accumulator_warnings, overflow_counts
from firmware.hls_project import HlsProject, ModelFiles, ProjectOptions, build_project
from firmware.imported import imported_entry, is_imported_model
from firmware.menu_check import check_menu
from firmware.menu_writer import DEFAULT_PART
from firmware.rtl.flow import RtlOptions, rtl_check, rtl_failures
from firmware.rtl.menu_sim import menu_rtl_check, menu_rtl_failures, rtl_events
from firmware.stage_report import write_stage_report
from streams.event import EventBatch
from streams.sources import open_source
from streams.unweight import unweight

__all__ = ["FirmwareOptions", "FirmwareResult", "model_inputs", "run_chain", "run_model"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FirmwareOptions:
    """What ``l1emu firmware`` was asked to do (flags map 1:1 onto fields)."""

    out: Path
    config: str | None = None
    model: str | None = None
    backend: str | None = None  # Vitis | Vivado; None: as each model was converted
    part: str = DEFAULT_PART
    clock_mhz: float | None = None  # None: each stage's clock (240 MHz for a single model)
    events: int = 1000
    source: str | None = None
    mu: float = 60.0
    seed: int = 1
    budget_cycles: int | None = None  # single model only
    rtl: bool = False  # also Verilog per model (da4ml), Verilator vs the engine, Yosys resources
    rtl_cutoff: int | None = None  # da4ml adder levels per register stage; None: one period of each stage's clock
    rtl_synth: bool = True  # run Yosys (slow on the large models)

    def rtl_options(self, clock_mhz: float) -> RtlOptions | None:
        if not self.rtl:
            return None
        return RtlOptions(clock_mhz=clock_mhz, latency_cutoff=self.rtl_cutoff, synth=self.rtl_synth)


@dataclass
class FirmwareResult:
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def model_inputs(algo: Algorithm, kind: str, batch: EventBatch) -> np.ndarray:
    """The model's inputs on ``batch``: ``algo.model_inputs(batch)``, else those of the model kind
    that algorithm type ``kind`` runs (:func:`emulator.models.kinds.model_kind_for_algorithm`)."""
    method = getattr(algo, "model_inputs", None)
    if callable(method):
        return np.asarray(method(batch))
    model_kind = model_kind_for_algorithm(kind)
    if model_kind is None:
        msg = f"algorithm {algo.name!r} ({kind}) has a model but no model_inputs(batch) method"
        raise FirmwareError(msg)
    return np.asarray(model_kind.inputs(batch))


def _latency_and_resources(prj: HlsProject, clock_mhz: float) -> dict[str, Any]:
    est = estimate(prj.model, clock_mhz=clock_mhz, strategy=prj.strategy)
    synth_path = find_csynth(prj.directory, prj.directory.name) or find_csynth(prj.directory, "*")
    synth = parse_csynth(synth_path) if synth_path is not None else None
    if synth is not None:
        log.info("%s: using the synthesis report %s", prj.name, synth.path)
    return {
        "latency_cycles": synth.latency_cycles if synth else est.latency_cycles,
        "resources": synth.resources if synth else est.resources,
        "latency_source": "csynth" if synth else "estimate",
        "estimate": est.as_dict(),
        "synthesis": synth.as_dict() if synth else None,
    }


def _model_entry(
    name: str, files: ModelFiles, x: np.ndarray, directory: Path, opts: ProjectOptions, budget: int | None,
    rtl: RtlOptions | None = None,
) -> dict[str, Any]:
    prj = build_project(files, x, directory, opts)
    cost = _latency_and_resources(prj, opts.clock_mhz)
    warnings = accumulator_warnings(prj.model)
    for w in warnings:
        log.warning("%s: %s", name, w)
    engine = FixedPointModel.load(files.fxp)
    audit = engine.audit(np.asarray(x).reshape(-1, *engine.input_shape))
    entry = {
        "name": name, "project": str(prj.directory), "part": opts.part, "clock_mhz": opts.clock_mhz,
        "backend": prj.backend, "strategy": prj.strategy, "precisions": prj.precisions,
        "reuse_factors": {op.name: op.cost().reuse_factor for op in prj.model.layers if op.cost().multiplications},
        **cost, "budget_cycles": budget,
        "within_budget": None if budget is None else cost["latency_cycles"] <= budget,
        "bit_exact": prj.bit_exact.as_dict(),
        "accumulator_warnings": [w.as_dict() for w in warnings],
        "overflows": overflow_counts(audit),
    }  # fmt: skip
    if rtl is not None:
        entry["rtl"] = rtl_check(name, engine, x, directory.parent / f"{directory.name}.rtl", rtl, budget_cycles=budget)
    return entry


def _failures(stage: str, rep: dict[str, Any]) -> list[str]:
    out = []
    for m in rep["models"]:
        be = m["bit_exact"]
        if be["mismatches"]:
            first = ", ".join(f"event {f['event']} (|Δ| {f['max_abs_diff']:g})" for f in be["first"])
            out.append(f"{stage}/{m['name']}: C simulation differs from the engine on {be['mismatches']} of "
                       f"{be['events']} events; first: {first}")  # fmt: skip
        if m["within_budget"] is False:
            out.append(f"{stage}/{m['name']}: latency {m['latency_cycles']} cycles ({m['latency_source']}) exceeds "
                       f"the budget of {m['budget_cycles']} cycles at {m['clock_mhz']} MHz")  # fmt: skip
        if m.get("rtl"):
            out += rtl_failures(f"{stage}/{m['name']}", m["rtl"])
    menu = rep.get("menu")
    if menu and menu["mismatches"]:
        first = "; ".join(f"event {f['event']}: {', '.join(f['seeds'])}" for f in menu["first"])
        out.append(f"{stage}/menu: seed bits differ from Menu.evaluate on {menu['mismatches']} of "
                   f"{menu['events']} events; first: {first}")  # fmt: skip
    if menu and menu.get("rtl"):
        out += menu_rtl_failures(f"{stage}/menu", menu["rtl"])
    return out


def _testbench(chain: ChainConfig, batch: EventBatch, opts: FirmwareOptions) -> tuple[dict[str, Any], EventBatch]:
    """Replay ``batch`` through the chain's pipeline; take each model's and the menu's inputs
    right before they run, then write and check their projects (reports per stage)."""
    reports: dict[str, dict[str, Any]] = {}
    for cfg in chain.stages:
        clock = opts.clock_mhz or cfg.clock_mhz
        reports[cfg.name] = {"stage": cfg.name, "clock_mhz": clock, "budget_cycles": cfg.budget.to_cycles(clock),
                             "models": []}  # fmt: skip

    def before(cfg: StageConfig, spec: AlgorithmSpec, algo: Algorithm, inputs: EventBatch) -> None:
        rep = reports[cfg.name]
        clock, budget = rep["clock_mhz"], rep["budget_cycles"]
        imported = resolve_model(str(spec.params.get("model", "")), chain.config_dir)
        if "model" in spec.params and (spec.type.lower() == "model" or is_imported_model(imported)):
            x = model_inputs(algo, spec.type, inputs)  # ``l1emu model import``: the model's own hls4ml project
            rep["models"].append(imported_entry(algo.name, imported, x, opts.out / cfg.name / algo.name,
                                                part=opts.part, clock_mhz=clock, budget=budget))  # fmt: skip
            if opts.rtl:
                log.warning("%s: imported models have no RTL path yet (--rtl covers the shipped models)", algo.name)
        elif "model" in spec.params:
            files = ModelFiles.locate(chain.context(cfg).resolve(str(spec.params["model"])))
            popts = ProjectOptions(
                backend=opts.backend, part=opts.part, clock_mhz=clock,
                reuse_factor=spec.params.get("reuse_factor"), strategy=spec.params.get("strategy"),
            )  # fmt: skip
            x = model_inputs(algo, spec.type, inputs)
            entry = _model_entry(algo.name, files, x, opts.out / cfg.name / algo.name, popts, budget,
                                 opts.rtl_options(clock))  # fmt: skip
            rep["models"].append(entry)
        elif isinstance(algo, MenuAlgorithm):
            check = check_menu(algo.menu, inputs, opts.out / cfg.name / "menu", part=opts.part, clock_mhz=clock)
            rep["menu"] = {**check.as_dict(), "latency_cycles": algo.latency_cycles(clock), "budget_cycles": budget}
            if opts.rtl:  # Verilog, Verilator on the replayed events then stressed ones, Yosys
                events = rtl_events(algo.menu, inputs, seed=opts.seed)
                where = opts.out / cfg.name / "menu.rtl"
                rep["menu"]["rtl"] = menu_rtl_check(algo.menu, events, where, clock_mhz=clock, synth=opts.rtl_synth,
                                                    budget_cycles=budget)  # fmt: skip

    out = Pipeline.from_chain(chain).run(batch, before=before)
    return reports, out


def run_chain(opts: FirmwareOptions) -> FirmwareResult:
    """Projects, checks and reports for every stage of ``opts.config`` on ``opts.events`` replayed events."""
    if opts.config is None:
        msg = "run_chain needs a chain config"
        raise FirmwareError(msg)
    chain = load_chain(opts.config)
    source = open_source(opts.source, events=opts.events, mu=opts.mu, seed=opts.seed)
    read = EventBatch.concat(source.batches(chain.stream.batch_size))
    batch = unweight(read, seed=opts.seed)  # testbenches see events as nature makes them
    if len(batch) != len(read):
        log.info("testbench: %d unweighted events of %d weighted ones read", len(batch), len(read))
    result = FirmwareResult()
    reports, batch = _testbench(chain, batch, opts)
    for cfg in chain.stages:
        rep = reports[cfg.name]
        rep["events"] = len(batch)
        rep["events_read"] = len(read)
        write_stage_report(opts.out, rep)
        result.reports[cfg.name] = rep
        result.failures += _failures(cfg.name, rep)
    return result


def _random_inputs(engine: FixedPointModel, n: int, seed: int) -> np.ndarray:
    """Events spread over the input type's whole range (mantissas uniform), float32."""
    t = engine.input_type
    m = np.random.default_rng(seed).integers(t.min_int, t.max_int, (n, *engine.input_shape), endpoint=True)
    return np.ldexp(m.astype(np.float64), -t.fractional).astype(np.float32)


def run_model(opts: FirmwareOptions) -> FirmwareResult:
    """One model file: project, C-sim on random inputs over the input type's range, estimate, report."""
    if opts.model is None:
        msg = "run_model needs a model path"
        raise FirmwareError(msg)
    files = ModelFiles.locate(opts.model)
    clock = opts.clock_mhz or 240.0
    popts = ProjectOptions(backend=opts.backend, part=opts.part, clock_mhz=clock)
    x = _random_inputs(FixedPointModel.load(files.fxp), opts.events, opts.seed)
    entry = _model_entry(files.name, files, x, opts.out / files.name / files.name, popts, opts.budget_cycles,
                         opts.rtl_options(clock))  # fmt: skip
    rep = {"stage": files.name, "clock_mhz": clock, "budget_cycles": opts.budget_cycles, "models": [entry],
           "events": len(x)}  # fmt: skip
    write_stage_report(opts.out, rep)
    return FirmwareResult({files.name: rep}, _failures(files.name, rep))
