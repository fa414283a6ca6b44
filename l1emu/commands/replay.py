"""``l1emu replay``: stream events through the whole chain and report rates and latency."""

from __future__ import annotations

import argparse
import sys
import threading

from tqdm import tqdm

from emulator.replay import ReplayOptions, replay
from emulator.replay_report import format_report, write_report
from l1emu.commands._common import add_dask_args, add_realtime_arg, on_terminate
from l1emu.commands.produce import add_source_args


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("replay", help="replay events through the chain", description=__doc__)
    p.add_argument("--config", default="configs/default.yaml", help="chain YAML (default: %(default)s)")
    add_source_args(p)
    p.add_argument("--workers", type=int, default=None, help="workers per stage (overrides the config)")
    p.add_argument("--transport", choices=("ipc", "tcp"), default=None, help="link transport")
    p.add_argument("--producers", type=int, default=1, help="number of producers (fan-in)")
    p.add_argument("--policy", choices=("block", "drop"), default=None, help="full-link policy")
    p.add_argument("--batch-size", type=int, default=None, help="events per batch")
    p.add_argument("--metrics-port", type=int, default=None,
                   help="base port of the Prometheus endpoints (node i serves on base + i)")
    p.add_argument("--menu", default=None,
                   help="run this menu instead of the chain's (l1emu YAML, uGT XML or a menu reference)")
    p.add_argument("--prescales", action="append", default=[], metavar="FILE",
                   help="prescale table (CSV or uGT run-settings XML) for the menu; again for a FinOR/veto mask "
                        "file")
    p.add_argument("--column", default=None, help="prescale column (default: the menu's)")
    p.add_argument("--in-process", action="store_true", help="run the stages in this process, no sockets")
    p.add_argument("--report", default=None, help="write the JSON report here")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--run-dir", default=None, help="node logs, nodes.json and progress.json go here")
    p.add_argument("--max-restarts", type=int, default=3, help="dead workers replaced per replay")
    p.add_argument("--collect-timeout", type=float, default=None,
                   help="give up (counting the rest as lost) after this long without progress (s)")
    p.add_argument("--linger", type=float, default=0.0,
                   help="keep nodes and metrics up this long after the last event (SIGTERM ends it)")
    add_realtime_arg(p)
    add_dask_args(p, what="the chain")
    p.add_argument("--skip-bad", action="store_true",
                   help="with --dask: a partition that fails (bad file) is reported as errored events, not fatal")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    opts = ReplayOptions(
        config=args.config, events=args.events, source=args.source, workers=args.workers,
        transport=args.transport, rate_hz=args.rate, producers=args.producers, mu=args.mu, seed=args.seed,
        column=args.column, in_process=args.in_process, policy=args.policy, batch_size=args.batch_size,
        linger_s=args.linger, metrics_port=args.metrics_port, run_dir=args.run_dir,
        max_restarts=args.max_restarts, collect_timeout_s=args.collect_timeout,
        realtime_priority=args.realtime_priority, dask=args.dask, partition_events=args.partition_events,
        skip_bad=args.skip_bad, menu=args.menu, prescales=tuple(args.prescales),
    )
    stop = threading.Event()
    on_terminate(stop.set)
    show = not args.no_progress and sys.stderr.isatty()
    with tqdm(total=0, unit="ev", disable=not show, desc="replay") as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        def status(line: str) -> None:
            tqdm.write(line, file=sys.stderr)

        report = replay(opts, on_progress=progress, stop=stop, on_status=status)
    if args.report:
        write_report(args.report, report)
    print(format_report(report))
    if not report["accounting_ok"]:
        lost = report["events"]["lost"]
        why = f"{lost} events lost (a node died or the collector timed out)" if lost else "see 'events' above"
        print(f"l1emu: error: not every event was accounted for: {why}", file=sys.stderr)
        return 1
    return 0
