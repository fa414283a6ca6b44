"""``l1emu calibrate``: thresholds of the anomaly seeds at target rates on zero bias, into the menu.

    l1emu calibrate --config configs/default.yaml --source zb.h5 \\
        --targets VLoose=20,Loose=10,Medium=5,Tight=2,VTight=1 \\
        --signal a4l.h5 --signal lq_btau.h5 --report calibration.json

Seeds ``<PREFIX>_<target>`` (L1_AXO_…, L1_CICADA_…, the CMS names) are written into a generated block of the
chain's menu (``--menu`` another file, ``--dry-run`` none); the JSON report holds every
threshold with its statistical error and, per ``--signal`` sample, the efficiency at each
operating point and at a zero-bias false-positive rate of ``--fpr``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from pathlib import Path
from typing import Any

from emulator import calibrate as cal
from emulator.chain import load_chain
from l1emu.commands._common import add_dask_args, dask_passes
from streams.errors import ConfigError
from streams.run import SourceSpec
from streams.sources import Source, open_source


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("calibrate", help="calibrate anomaly-seed thresholds to target rates", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--config", default="configs/default.yaml", help="chain YAML (default: %(default)s)")
    p.add_argument("--source", required=True, help="zero-bias events file (.h5)")
    p.add_argument("--events", type=int, default=None, help="use the first N zero-bias events")
    p.add_argument("--targets", default="VLoose=20,Loose=10,Medium=5,Tight=2,VTight=1",
                   help="NAME=kHz,... (default: %(default)s)")
    p.add_argument("--seeds", default="L1_AXO=score_axol1tl,L1_CICADA=score_cicada",
                   help="PREFIX=score_column,... (default: %(default)s)")
    p.add_argument("--signal", action="append", default=[], help="signal sample for efficiencies (repeatable)")
    p.add_argument("--fpr", type=float, default=1e-5, help="background false-positive rate for the figures")
    p.add_argument("--menu", default=None, help="menu YAML to write (default: the chain's)")
    p.add_argument("--dry-run", action="store_true", help="write no menu")
    p.add_argument("--report", default=None, help="write the JSON report here")
    add_dask_args(p, what="the passes over zero bias and the signals")
    p.set_defaults(func=run)


def _seeds(text: str) -> dict[str, str]:
    out = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        prefix, sep, column = item.partition("=")
        if not sep or not prefix or not column:
            msg = f"--seeds: {item!r} is not PREFIX=COLUMN"
            raise ConfigError(msg)
        out[prefix.strip()] = column.strip()
    return out


def run(args: argparse.Namespace) -> int:
    chain = load_chain(args.config)
    targets = cal.parse_targets(args.targets)
    seeds = _seeds(args.seeds)
    columns = sorted(set(seeds.values()))
    crossing_khz = chain.lhc.crossing_rate_hz / 1000.0
    bs = chain.stream.batch_size
    zb_src = open_source(args.source, events=args.events)
    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        make = dask_passes(args, stack)

        def scores(path: str, src: Source, events: int | None = None) -> dict[str, Any]:
            if make is None:
                return cal.chain_scores(chain, src.batches(bs), columns)
            passes = make(SourceSpec(path=path, events=events), src, Path(path).stem)
            return cal.chain_scores(chain, None, columns, passes=passes)

        zb = scores(args.source, zb_src, args.events)
        signals = {Path(s).stem: scores(s, open_source(s)) for s in args.signal}
    ops = cal.calibrate(zb, zb["weight"], targets, crossing_rate_khz=crossing_khz, seeds=seeds)
    figures = cal.signal_figures(ops, zb, signals, crossing_rate_khz=crossing_khz, fpr=args.fpr)
    menu_path = Path(args.menu) if args.menu else chain.menu_path
    provenance = f"calibrated on {args.source} ({len(zb['weight'])} events), {time.strftime('%Y-%m-%d')}"
    if not args.dry_run and menu_path is not None:
        block = cal.menu_block(ops, provenance)
        menu_path.write_text(cal.write_menu_block(menu_path.read_text(), block))
    report: dict[str, Any] = {
        "source": str(args.source), "events": len(zb["weight"]), "crossing_rate_khz": crossing_khz,
        "menu": None if args.dry_run else str(menu_path), "seconds": round(time.perf_counter() - t0, 1),
        "operating_points": [op.to_dict() for op in ops], "signals": figures,
    }  # fmt: skip
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=1) + "\n")
    _print(report)
    return 0


def _print(report: dict[str, Any]) -> None:
    print(f"{report['events']} zero-bias events from {report['source']}; menu: {report['menu']}")
    print(f"{'seed':<16} {'target':>7} {'threshold':>12} {'± stat':>9} {'rate kHz':>16}")
    for op in report["operating_points"]:
        print(f"{op['seed']:<16} {op['target_khz']:>7g} {op['threshold']:>12.5g} {op['threshold_err']:>9.3g} "
              f"{op['rate_khz']:>8.2f} ± {op['rate_err_khz']:<5.2f}")  # fmt: skip
    for name, sig in report["signals"].items():
        effs = ", ".join(f"{k} {v['efficiency']:.3f}" for k, v in sig["at_fpr"].items())
        print(f"{name}: efficiency at FPR {next(iter(sig['at_fpr'].values()))['fpr']:g}: {effs}")
        for seed, v in sig["operating_points"].items():
            print(f"  {seed:<16} {v['efficiency']:.4f} ± {v['efficiency_err']:.4f}")
