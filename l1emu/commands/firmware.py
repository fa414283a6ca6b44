"""``l1emu firmware``: hls4ml projects for every model, the menu as HLS C++, bit-exact and budget checks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from firmware.flow import FirmwareOptions, run_chain, run_model
from firmware.menu_writer import DEFAULT_PART
from firmware.rtl.flow import MIN_EVENTS
from firmware.stage_report import format_rtl_summary, format_summary


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("firmware", help="generate and check FPGA projects of the chain", description=__doc__)
    what = p.add_mutually_exclusive_group()
    what.add_argument("--config", default=None, help="chain YAML (default: configs/default.yaml)")
    what.add_argument("--model", default=None, help="one model: stem or any of <name>.keras/.hls4ml.json/.fxp")
    p.add_argument("--out", required=True, help="output directory (DIR/<stage>/<model>/, DIR/<stage>/report.json)")
    p.add_argument("--backend", choices=("Vitis", "Vivado"), default=None, help="hls4ml backend (default: the model's)")
    p.add_argument("--part", default=DEFAULT_PART, help="FPGA part (default: %(default)s)")
    p.add_argument("--clock-mhz", type=float, default=None, help="clock of every project (default: the stage's)")
    p.add_argument("--events", type=int, default=None,
                   help=f"replayed testbench events (default: 1000, {MIN_EVENTS} with --rtl)")  # fmt: skip
    p.add_argument("--source", default=None, help="event source (default: the parametric generator)")
    p.add_argument("--mu", type=float, default=60.0, help="pileup of the parametric source")
    p.add_argument("--seed", type=int, default=1, help="seed of the source / the random model inputs")
    p.add_argument("--budget-cycles", type=int, default=None, help="latency budget of a single --model")
    p.add_argument("--rtl", action="store_true",
                   help="also Verilog per model (da4ml), simulated with Verilator vs the engine, Yosys resources")
    p.add_argument("--rtl-cutoff", type=int, default=None,
                   help="da4ml adder levels per pipeline stage, not timed (default: every operation timed by "
                        "the logic-depth rule, a register every period of the stage's clock)")
    p.add_argument("--no-rtl-synth", action="store_true", help="with --rtl: skip Yosys")  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    opts = FirmwareOptions(
        out=Path(args.out), config=args.config or (None if args.model else "configs/default.yaml"),
        model=args.model, backend=args.backend, part=args.part, clock_mhz=args.clock_mhz,
        events=args.events or (MIN_EVENTS if args.rtl else 1000), source=args.source, mu=args.mu, seed=args.seed,
        budget_cycles=args.budget_cycles, rtl=args.rtl, rtl_cutoff=args.rtl_cutoff, rtl_synth=not args.no_rtl_synth,
    )  # fmt: skip
    result = run_model(opts) if opts.model else run_chain(opts)
    print(format_summary(result.reports))
    rtl_table = format_rtl_summary(result.reports)
    if rtl_table:
        print(rtl_table)
    for stage in result.reports:
        print(f"report: {opts.out / stage / 'report.json'}")
    for failure in result.failures:
        print(f"l1emu: error: {failure}", file=sys.stderr)
    return 1 if result.failures else 0
