"""``l1emu fuzz``: feed generated malformed messages to the decoder and to a live worker."""

from __future__ import annotations

import argparse
import json
import logging

from streams.fuzz import fuzz_decoder, fuzz_node


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("fuzz", help="fuzz the wire decoder and a live node", description=__doc__)
    p.add_argument("--frames", type=int, default=100_000, help="malformed messages per target")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target", choices=("decoder", "node", "both"), default="both")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    logging.getLogger("streams.worker").setLevel(logging.ERROR)  # one warning per bad message is noise here
    if args.target in ("decoder", "both"):
        tally = fuzz_decoder(args.frames, seed=args.seed)
        print(json.dumps({"decoder": {"messages": sum(tally.values()), "outcomes": dict(tally)}}))
    if args.target in ("node", "both"):
        print(json.dumps({"node": fuzz_node(args.frames, seed=args.seed + 1)}))
    return 0
