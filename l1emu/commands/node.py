"""``l1emu node``: run one worker of one stage (until SIGTERM)."""

from __future__ import annotations

import argparse

from emulator.pipeline import Pipeline
from emulator.replay import link_options
from emulator.topology import curve_setup
from l1emu.commands._common import add_chain_args, load_plan, on_terminate
from streams.worker import WorkerConfig, WorkerNode


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("node", help="run one stage worker", description=__doc__)
    add_chain_args(p)
    p.add_argument("--stage", required=True, help="stage name")
    p.add_argument("--index", type=int, default=0, help="worker index within the stage")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    chain, plan = load_plan(args)
    spec = plan.worker(args.stage, args.index)
    pipeline = Pipeline.from_chain(chain, stages=[args.stage])
    pipeline.warm_up()
    cfg = WorkerConfig(
        name=spec.name, stage=spec.stage, inputs=spec.inputs, output=spec.output, link=link_options(chain),
        policy=chain.stream.policy, heartbeat_s=chain.stream.heartbeat_s,
        metrics_host=chain.metrics.host, metrics_port=spec.metrics_port, curve=curve_setup(chain, plan, spec),
        realtime_priority=chain.stream.realtime_priority,
    )
    node = WorkerNode(cfg, pipeline.process)
    on_terminate(node.stop)
    node.run()
    return 0
