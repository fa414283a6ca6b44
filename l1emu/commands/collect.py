"""``l1emu collect``: run the collector of a multi-host chain and write its report."""

from __future__ import annotations

import argparse

from emulator.launch import load_run_chain
from emulator.menu import load_menu
from emulator.replay_report import RateSink, build_report, format_report, write_report
from l1emu.commands._common import add_chain_args, add_launch_args, load_plan, on_terminate, planned_node
from streams.collector import CollectorConfig, CollectorNode
from streams.errors import ConfigError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("collect", help="run the collector", description=__doc__)
    add_chain_args(p)
    add_launch_args(p)
    p.add_argument("--report", default=None, help="write the JSON report here")
    p.add_argument("--column", default=None, help="prescale column (default: the menu's)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    found = planned_node(args, CollectorConfig, "the collector")
    if found is not None:
        plan, cfg = found
        chain = load_run_chain(plan.chain.path, plan.chain.overrides)
    else:
        chain, plan = load_plan(args)
        cfg = plan.collector
    if chain.menu_path is None:
        msg = f"{chain.path}: the collector needs a 'menu'"
        raise ConfigError(msg)
    node = CollectorNode(cfg)
    sink = RateSink(load_menu(chain.menu_path), chain, column=args.column, metrics=node.metrics)
    node.sink = sink
    on_terminate(node.stop)
    result = node.run()
    report = build_report(chain=chain, sink=sink, collected=result, run={"mode": "collect"})
    if args.report:
        write_report(args.report, report)
    print(format_report(report))
    return 0 if report["accounting_ok"] else 1
