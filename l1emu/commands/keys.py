"""``l1emu keys``: make CURVE keypairs for the nodes of a chain (or named nodes)."""

from __future__ import annotations

import argparse

from l1emu.commands._common import add_chain_args, load_plan
from streams.security import create_keys


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("keys", help="make CURVE keys for tcp links", description=__doc__)
    add_chain_args(p)
    p.add_argument("--dir", default=None, help="keys directory (default: the chain's stream.curve.keys_dir)")
    p.add_argument("names", nargs="*", help="node names (default: every node of the chain's plan)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    chain, plan = load_plan(args)
    names = args.names or [n.name for n in plan.addresses.nodes]
    keys_dir = args.dir or str(chain.keys_dir)
    for path in create_keys(keys_dir, names):
        print(path)
    return 0
