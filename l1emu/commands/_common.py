"""Arguments and set-up shared by the node commands."""

from __future__ import annotations

import argparse
import signal
from collections.abc import Callable
from typing import Any

from emulator.chain import ChainConfig, load_chain
from emulator.replay import chain_overrides
from emulator.topology import Plan, build_plan

__all__ = ["add_chain_args", "add_realtime_arg", "load_plan", "on_terminate"]


def add_chain_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="configs/default.yaml", help="chain YAML (default: %(default)s)")
    p.add_argument("--workers", type=int, default=None, help="workers per stage (overrides the config)")
    p.add_argument("--transport", choices=("ipc", "tcp"), default=None, help="link transport")
    p.add_argument("--ipc-dir", default="", help="directory of ipc endpoints (ipc transport)")
    p.add_argument("--producers", type=int, default=1, help="number of producers feeding the chain")
    p.add_argument("--policy", choices=("block", "drop"), default=None, help="full-link policy")
    p.add_argument("--batch-size", type=int, default=None, help="events per batch")
    p.add_argument("--metrics-port", type=int, default=None,
                   help="base port of the Prometheus endpoints (node i serves on base + i)")
    p.add_argument("--collect-timeout", type=float, default=None,
                   help="collector gives up (counting the rest as lost) after this long without progress (s)")
    add_realtime_arg(p)


def add_realtime_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--realtime-priority", type=int, default=None, metavar="N",
                   help="run the nodes under SCHED_FIFO priority N (1-99; 0: normal scheduling; needs "
                        "CAP_SYS_NICE or RLIMIT_RTPRIO >= N; overrides stream.realtime_priority)")


def load_plan(args: argparse.Namespace) -> tuple[ChainConfig, Plan]:
    chain = load_chain(args.config, overrides=chain_overrides(
        args.config, workers=args.workers, transport=args.transport, ipc_dir=args.ipc_dir,
        policy=args.policy, batch_size=args.batch_size, metrics_port=args.metrics_port,
        collect_timeout_s=args.collect_timeout, realtime_priority=args.realtime_priority))
    return chain, build_plan(chain, producers=args.producers, ipc_dir=args.ipc_dir)


def on_terminate(stop: Callable[[], Any]) -> None:
    """SIGTERM and SIGINT ask the node to drain and stop."""
    def handler(signum: int, frame: object) -> None:
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
