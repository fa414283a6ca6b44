"""``l1emu report``: render a replay report's plots and one HTML page.

    l1emu report r.json --out report/
    l1emu report r60.json r140.json r200.json --out report/ --scan scan.json     # rate vs <mu> from 3 samples
    l1emu report r.json --out report/ --zero-bias zb.h5 --signal ttbar=tt.h5      # + prescale columns,
                                                                                 #   turn-ons, anomaly scores
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.errors import ConfigError
from emulator.studies.pileup import FIT_MODELS
from l1emu.commands.scan import add_source_options

if TYPE_CHECKING:
    from emulator.chain import ChainConfig
    from emulator.studies.sample import Sample


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="plots and an HTML page from replay reports", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("reports", nargs="+", metavar="REPORT.json",
                   help="replay report(s); several at different <mu> give rate vs <mu> (the first is the main one)")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (PNGs, JSONs, index.html)")
    p.add_argument("--scan", action="append", default=[], metavar="SCAN.json", help="l1emu scan output (repeatable)")
    p.add_argument("--config", default="configs/default.yaml",
                   help="chain run over --zero-bias / --signal samples (default: %(default)s)")
    p.add_argument("--zero-bias", default=None, metavar="SOURCE",
                   help="zero-bias events (.h5 or 'parametric'): prescale columns and anomaly rates")
    add_source_options(p)
    p.add_argument("--signal", action="append", default=[], metavar="NAME=FILE.h5",
                   help="signal sample for turn-ons and anomaly efficiencies (repeatable)")
    p.add_argument("--turnon", action="append", default=[], metavar="SEED[=GEN_COLUMN]",
                   help="seed for turn-ons, optionally with its generator-level column (default: all seeds)")
    p.add_argument("--target-mu", default="140,200", help="extrapolate rates to these <mu> (default: %(default)s)")
    p.add_argument("--fit", choices=FIT_MODELS, default="poisson",
                   help="rate vs pileup model, all non-negative and rising (default: %(default)s)")
    p.add_argument("--anomaly-targets", default="1,2,5,10", help="anomaly operating points in kHz")
    p.add_argument("--link-images", action="store_true", help="link the PNGs instead of embedding them")
    p.add_argument("--firmware", default=None, metavar="DIR",
                   help="an `l1emu firmware --out DIR`: print its per-stage tables (RTL too) and write firmware.txt")
    p.set_defaults(func=run)


def _floats(text: str, flag: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        msg = f"{flag} {text!r}: expected comma-separated numbers"
        raise ConfigError(msg) from None


def _load(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        msg = f"{path}: cannot read JSON ({exc})"
        raise ConfigError(msg) from exc
    if not isinstance(data, dict):
        msg = f"{path}: expected a JSON object"
        raise ConfigError(msg)
    return data


def _check_report(path: str, data: dict[str, Any]) -> dict[str, Any]:
    missing = [k for k in ("menu", "seeds", "overlap", "pileup", "latency_us", "lhc", "events") if k not in data]
    if missing:
        msg = f"{path}: not an l1emu replay report (missing {missing})"
        raise ConfigError(msg)
    return data


def _signal(spec: str, args: argparse.Namespace, chain: ChainConfig) -> Sample:
    from emulator.studies.sample import collect
    from streams.sources import open_source

    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        msg = f"--signal {spec!r}: expected NAME=FILE.h5"
        raise ConfigError(msg)
    sample, _ = collect(chain, open_source(path, events=args.events), name=name)
    return sample


def run(args: argparse.Namespace) -> int:
    # imported here, not at the top: every l1emu command (node processes too) loads this module
    from emulator.chain import load_chain
    from emulator.menu import load_menu
    from emulator.plots import ReportInputs, render_report
    from emulator.studies.sample import collect
    from streams.sources import open_source

    reports = [_check_report(p, _load(p)) for p in args.reports]
    turnons = dict(t.partition("=")[::2] for t in args.turnon)
    zb = cols = menu = None
    signals: list[Sample] = []
    if args.zero_bias or args.signal:
        chain = load_chain(args.config)
        menu = load_menu(chain.menu_path) if chain.menu_path else None
        if args.zero_bias:
            src = open_source(args.zero_bias, events=args.events, mu=args.mu, seed=args.random_seed)
            zb, cols = collect(chain, src, name="zero bias")
        signals = [_signal(s, args, chain) for s in args.signal]
    inputs = ReportInputs(
        report=reports[0], more_reports=reports[1:], scans=[_load(s) for s in args.scan], menu=menu,
        zero_bias=zb, column_rates=cols, signals=signals, target_mu=_floats(args.target_mu, "--target-mu"),
        fit_model=args.fit, anomaly_targets_khz=_floats(args.anomaly_targets, "--anomaly-targets"),
        turnon_seeds=list(turnons), turnon_quantities={k: v for k, v in turnons.items() if v},
        firmware_tables=_firmware_tables(Path(args.firmware), Path(args.out)) if args.firmware else (),
    )  # fmt: skip
    out = render_report(inputs, Path(args.out), embed=not args.link_images)
    print(f"wrote {len(out['plots'])} plots and {out['html']}")
    return 0


def _firmware_tables(fw_dir: Path, out: Path) -> list[tuple[str, tuple[str, ...], list[tuple[str, ...]]]]:
    """Print and write ``firmware.txt``; the same tables for the page's Firmware section."""
    from firmware import stage_report as sr

    reports = sr.read_stage_reports(fw_dir)
    text = "\n".join(t for t in (sr.format_summary(reports), sr.format_rtl_summary(reports)) if t) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "firmware.txt").write_text(text)
    print(text, end="")
    print(f"wrote {out / 'firmware.txt'}")
    return [("Firmware projects: latency, HLS estimates, C simulation", sr.SUMMARY_COLUMNS, sr.summary_table(reports)),
            (sr.RTL_TITLE.replace("\n", " "), sr.RTL_COLUMNS, sr.rtl_table(reports))]
