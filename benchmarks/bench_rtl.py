"""Wall time of each RTL step per shipped model: da4ml trace, Verilog, Verilator build, simulation, Yosys.

Run: ``.venv/bin/python benchmarks/bench_rtl.py [--models axol1tl cicada tagger] [--events N] [--no-synth]
[--menu configs/menus/cms2024.yaml]``.
Each model (``configs/models/<name>.fxp``) is pipelined at the clock of the stage that runs it in
``configs/default.yaml`` and simulated on N events spread over its input type's range (seeded);
the check against the engine is part of the run, so a mismatch is printed. Steps run one after the
other on one compiler job; the machine is shared, so read the times as shares of the whole, and
the simulation rate (events/s) against the engine's own. ``--menu`` adds the menu's Verilog at the
global-trigger clock: Verilator on 20 000 stressed events against ``Menu.evaluate``, then Yosys.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from emulator.fixedpoint import FixedPointModel
from emulator.menu import load_menu
from firmware.rtl.flow import RtlOptions, rtl_check
from firmware.rtl.menu_sim import menu_rtl_check, stress_events

ROOT = Path(__file__).resolve().parents[1]
CLOCKS = {"axol1tl": 480.0, "cicada": 240.0, "tagger": 240.0}  # the stage clocks of configs/default.yaml
MENU_CLOCK = 480.0  # global_trigger


def _events(engine: FixedPointModel, n: int) -> np.ndarray:
    t = engine.input_type
    m = np.random.default_rng(1).integers(t.min_int, t.max_int, (n, engine.n_inputs), endpoint=True)
    return np.ldexp(m.astype(np.float64), -t.fractional).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=sorted(CLOCKS))
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--no-synth", action="store_true")
    ap.add_argument("--menu", default=None, help="also a menu YAML (e.g. configs/menus/cms2024.yaml)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            engine = FixedPointModel.load(ROOT / "configs" / "models" / f"{name}.fxp")
            x = _events(engine, args.events)
            engine.predict(x[:100])  # compile the kernels first
            t0 = time.perf_counter()
            engine.predict(x)
            engine_rate = len(x) / (time.perf_counter() - t0)
            opts = RtlOptions(clock_mhz=CLOCKS.get(name, 240.0), synth=not args.no_synth)
            rtl = rtl_check(name, engine, x, Path(tmp) / name, opts)
            t = rtl["timing_s"]
            sim_rate = rtl["events"] / max(t["simulate_s"], 1e-9)
            rows.append({"model": name, **t, "mismatches": rtl["mismatches"], "events": rtl["events"],
                         "latency_cycles": rtl["latency_cycles"], "cutoff": rtl["latency_cutoff"],
                         "resources": rtl["resources"], "logic_depth": rtl["logic_depth"], "depth": rtl["depth"],
                         "sim_events_per_s": sim_rate, "engine_events_per_s": engine_rate})  # fmt: skip
            steps = "  ".join(f"{k.removesuffix('_s')} {v:6.1f} s" for k, v in t.items())
            print(f"{name:<8} {steps}  | {rtl['mismatches']}/{rtl['events']} mismatches, "
                  f"{rtl['latency_cycles']} cycles at cutoff {rtl['latency_cutoff']}, "
                  f"sim/engine rate {sim_rate / engine_rate:.2f}")  # fmt: skip
        if args.menu:
            rows.append(_menu(args.menu, Path(tmp) / "menu", synth=not args.no_synth))
    print(json.dumps(rows, indent=1))


def _menu(path: str, out: Path, *, synth: bool) -> dict[str, object]:
    menu = load_menu(path)
    batch = stress_events(menu, np.random.default_rng(1), 20_000)
    t0 = time.perf_counter()
    rtl = menu_rtl_check(menu, batch, out, clock_mhz=MENU_CLOCK, synth=synth)
    t = {**rtl["timing_s"], "total_s": time.perf_counter() - t0}
    steps = "  ".join(f"{k.removesuffix('_s')} {v:6.1f} s" for k, v in t.items())
    print(f"{'menu':<8} {steps}  | {rtl['mismatches']}/{rtl['events']} mismatches, {rtl['latency_cycles']} cycles, "
          f"{len(rtl['seeds'])} seeds, resources {rtl['resources']}")  # fmt: skip
    return {"model": f"menu {menu.name}", **t, "mismatches": rtl["mismatches"], "events": rtl["events"],
            "latency_cycles": rtl["latency_cycles"], "resources": rtl["resources"], "logic_depth": rtl["logic_depth"],
            "depth": rtl["depth"]}  # fmt: skip


if __name__ == "__main__":
    main()
