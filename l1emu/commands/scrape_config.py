"""``l1emu scrape-config``: write the Prometheus scrape configuration of a chain."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from l1emu.commands._common import add_chain_args, load_plan
from streams.run import scrape_config


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("scrape-config", help="Prometheus scrape config for a chain", description=__doc__)
    add_chain_args(p)
    p.add_argument("--interval", type=float, default=1.0, help="scrape interval in s")
    p.add_argument("--host", action="append", default=[], metavar="NODE=HOST",
                   help="host Prometheus reaches NODE at (repeatable)")
    p.add_argument("--out", default=None, help="write here instead of standard output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    chain, plan = load_plan(args)
    hosts = dict(h.split("=", 1) for h in args.host)
    doc = scrape_config(plan.addresses, stream=chain.stream, metrics=chain.metrics, chain=chain.name,
                        where=chain.path, interval_s=args.interval, hosts=hosts)
    text = yaml.safe_dump(doc, sort_keys=False)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text, end="")
    return 0
