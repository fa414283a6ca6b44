"""``l1emu node``: run one worker of one stage (until SIGTERM).

Started by ``l1emu replay`` with ``--launch-plan FILE --node NAME``; on another host
with ``--config`` and the chain flags, which resolve the same plan in-process.
"""

from __future__ import annotations

import argparse

from emulator.launch import load_run_chain
from emulator.pipeline import Pipeline
from l1emu.commands._common import add_chain_args, add_launch_args, load_plan, on_terminate, planned_node
from streams.errors import ConfigError
from streams.worker import WorkerConfig, WorkerNode


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("node", help="run one stage worker", description=__doc__)
    add_chain_args(p)
    add_launch_args(p)
    p.add_argument("--stage", default=None, help="stage name (with --config)")
    p.add_argument("--index", type=int, default=0, help="worker index within the stage")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    found = planned_node(args, WorkerConfig, "a stage worker")
    if found is not None:
        plan, cfg = found
        chain = load_run_chain(plan.chain.path, plan.chain.overrides, build=False)  # the stage is built below
    else:
        if not args.stage:
            msg = "l1emu node needs --stage (or --launch-plan and --node)"
            raise ConfigError(msg)
        chain, plan = load_plan(args)
        cfg = plan.worker(args.stage, args.index)
    pipeline = Pipeline.from_chain(chain, stages=[cfg.stage])
    pipeline.warm_up()
    node = WorkerNode(cfg, pipeline.process)
    on_terminate(node.stop)
    node.run()
    return 0
