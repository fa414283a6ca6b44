"""``l1emu produce``: stream a source (or one shard of it) into the chain."""

from __future__ import annotations

import argparse

from emulator.replay import link_options
from emulator.topology import curve_setup
from l1emu.commands._common import add_chain_args, load_plan, on_terminate
from streams.producer import ProducerConfig, ProducerNode
from streams.sources import open_source


def add_source_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", default=None, help="events file (.h5); default: the parametric generator")
    p.add_argument("--events", type=int, default=None, help="number of events (default: all / 100000)")
    p.add_argument("--mu", type=float, default=60.0, help="pileup of the parametric generator")
    p.add_argument("--seed", type=int, default=1, help="seed of the parametric generator")
    p.add_argument("--rate", type=float, default=0.0, help="paced event rate in Hz (0: as fast as possible)")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("produce", help="run a producer", description=__doc__)
    add_chain_args(p)
    add_source_args(p)
    p.add_argument("--index", type=int, default=0, help="producer index (shard) in 0..producers-1")
    p.add_argument("--linger", type=float, default=0.0, help="keep metrics up this long after the end (s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    chain, plan = load_plan(args)
    spec = plan.producers[args.index]
    source = open_source(args.source, events=args.events, mu=args.mu, seed=args.seed)
    cfg = ProducerConfig(
        name=spec.name, output=spec.output, index=args.index, count=args.producers,
        batch_size=chain.stream.batch_size, rate_hz=args.rate / args.producers, policy=chain.stream.policy,
        link=link_options(chain), metrics_host=chain.metrics.host, metrics_port=spec.metrics_port,
        linger_s=args.linger, curve=curve_setup(chain, plan, spec), warmup_batches=chain.stream.warmup_batches,
        realtime_priority=chain.stream.realtime_priority,
    )
    node = ProducerNode(cfg, source)
    on_terminate(node.stop)
    node.run()
    return 0
