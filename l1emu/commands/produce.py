"""``l1emu produce``: stream a source (or one shard of it) into the chain.

Started by ``l1emu replay`` with ``--launch-plan FILE --node NAME``; on another host
with ``--config``, the chain flags and the source flags.
"""

from __future__ import annotations

import argparse

from l1emu.commands._common import add_chain_args, add_launch_args, load_plan, on_terminate, planned_node
from streams.errors import ConfigError
from streams.producer import ProducerConfig, ProducerNode
from streams.run import SourceSpec
from streams.sources import open_source


def add_source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", default=None, help="events file (.h5); default: the parametric generator")
    p.add_argument("--events", type=int, default=None, help="number of events (default: all / 100000)")
    p.add_argument("--mu", type=float, default=60.0, help="pileup of the parametric generator")
    p.add_argument("--seed", type=int, default=1, help="seed of the parametric generator")
    p.add_argument("--rate", type=float, default=0.0, help="paced event rate in Hz (0: as fast as possible)")


def source_spec(args: argparse.Namespace) -> SourceSpec:
    return SourceSpec(path=args.source, events=args.events, mu=args.mu, seed=args.seed)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("produce", help="run a producer", description=__doc__)
    add_chain_args(p)
    add_launch_args(p)
    add_source_args(p)
    p.add_argument("--index", type=int, default=0, help="producer index (shard) in 0..producers-1")
    p.add_argument("--linger", type=float, default=0.0, help="keep metrics up this long after the end (s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    found = planned_node(args, ProducerConfig, "a producer")
    if found is not None:
        plan, cfg = found
    else:
        _, plan = load_plan(args, source=source_spec(args), rate_hz=args.rate, linger_s=args.linger)
        if not 0 <= args.index < len(plan.producers):
            msg = f"producer index {args.index} not in 0..{len(plan.producers) - 1}"
            raise ConfigError(msg)
        cfg = plan.producers[args.index]
    s = plan.source
    node = ProducerNode(cfg, open_source(s.path, events=s.events, mu=s.mu, seed=s.seed))
    on_terminate(node.stop)
    node.run()
    return 0
