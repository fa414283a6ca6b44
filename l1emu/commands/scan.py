"""``l1emu scan``: rate against threshold for one or more seeds, in one pass over the events.

    l1emu scan --source zb.h5 --seed L1_SingleMu22 --seed L1_DoubleEG_25_12_er2p5 --param pt --range 10:200:5
    l1emu scan --seed L1_HTT280er:htt --range 200:400:10 --target-khz 5 --out scan.json --plots plots/
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import Any

from l1emu.commands._common import add_dask_args, dask_passes


def add_source_options(p: argparse.ArgumentParser) -> None:
    """``--source/--events/--mu/--random-seed`` (``--seed`` names trigger seeds in these commands)."""
    p.add_argument("--source", default=None, help="events file (.h5) or 'parametric' (default)")
    p.add_argument("--events", type=int, default=None, help="number of events (default: all / 100000)")
    p.add_argument("--mu", type=float, default=60.0, help="pileup of the parametric generator")
    p.add_argument("--random-seed", type=int, default=1, help="seed of the parametric generator")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("scan", help="rate vs threshold of menu seeds", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--config", default="configs/default.yaml", help="chain YAML (default: %(default)s)")
    add_source_options(p)
    p.add_argument("--seed", action="append", required=True, metavar="NAME[:PARAM]",
                   help="seed to scan (repeatable; comma-separated names allowed; ':PARAM' overrides --param)")
    p.add_argument("--param", default="pt", help="cut to vary: pt, pt[K], a sum (htt, ett, ...) or score name")
    p.add_argument("--range", required=True, metavar="LO:HI:STEP", help="thresholds, physical units")
    p.add_argument("--target-khz", type=float, default=None, help="report the lowest threshold meeting this rate")
    p.add_argument("--column", default=None, help="prescale column (default: the menu's)")
    p.add_argument("--out", default=None, help="write the scan JSON here")
    p.add_argument("--plots", default=None, metavar="DIR", help="write one PNG + JSON per seed here")
    add_dask_args(p, what="the pass over the events")
    p.set_defaults(func=run)


def _requests(specs: list[str], default_param: str) -> list[tuple[str, str]]:
    out = []
    for spec in specs:
        for item in filter(None, (s.strip() for s in spec.split(","))):
            name, _, param = item.partition(":")
            out.append((name, param or default_param))
    return out


def _print(result: dict[str, Any]) -> None:
    print(f"menu {result['menu']}, column {result['prescale_column']}, {result['events']} events "
          f"from {result['source']}")  # fmt: skip
    for s in result["scans"]:
        m = s["menu"]
        print(f"\n{s['seed']}  ({s['cut']}, prescale {s['prescale']})")
        print(f"  menu threshold {m['threshold']:g} {s['unit']}: {m['rate_khz']:.3f} ± {m['rate_err_khz']:.3f} kHz")
        t = s.get("target")
        if t:
            found = "none in range"
            if t["threshold"] is not None:
                found = f"{t['threshold']:g} {s['unit']} ({t['rate_khz']:.3f} kHz)"
            print(f"  lowest threshold with rate <= {t['target_khz']:g} kHz: {found}")
        print(f"  {'threshold':>10} {'rate [kHz]':>22} {'before prescale [kHz]':>24}")
        for x, r, e, rr in zip(s["thresholds"], s["rate_khz"], s["rate_err_khz"], s["rate_raw_khz"], strict=True):
            print(f"  {x:>10g} {r:>12.3f} ± {e:<8.3f} {rr:>24.3f}")


def run(args: argparse.Namespace) -> int:
    # imported here, not at the top: every l1emu command (node processes too) loads this module
    from emulator.chain import load_chain
    from emulator.plots import plot_scan
    from emulator.plots._style import json_safe
    from emulator.studies.scan import parse_range, scan_thresholds
    from streams.run import SourceSpec
    from streams.sources import open_source

    chain = load_chain(args.config)
    spec = SourceSpec(path=args.source, events=args.events, mu=args.mu, seed=args.random_seed)
    source = open_source(spec.path, events=spec.events, mu=spec.mu, seed=spec.seed)
    with contextlib.ExitStack() as stack:
        make = dask_passes(args, stack)
        result = scan_thresholds(chain, source, _requests(args.seed, args.param), parse_range(args.range),
                                 column=args.column, target_khz=args.target_khz,
                                 passes=make(spec, source, "scan") if make else None)  # fmt: skip
    if args.out:
        Path(args.out).write_text(json.dumps(json_safe(result), indent=1) + "\n")
    if args.plots:
        for s in result["scans"]:
            plot_scan(s, Path(args.plots), right=source.name)
    _print(result)
    return 0
