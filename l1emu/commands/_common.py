"""Arguments and set-up shared by the node commands: the one table of their flags."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from emulator.chain import ChainConfig
from emulator.launch import resolve_launch
from streams.errors import ConfigError
from streams.run import ChainOverrides, LaunchPlan, SourceSpec, read_launch_plan
from streams.run.launch import LAUNCH_PLAN_FLAG, NODE_FLAG

if TYPE_CHECKING:
    from emulator.executor import BatchPasses
    from streams.sources.base import Source

T = TypeVar("T")

__all__ = [
    "add_chain_args",
    "add_dask_args",
    "add_launch_args",
    "add_realtime_arg",
    "command_line",
    "dask_passes",
    "load_plan",
    "on_terminate",
    "overrides",
    "planned_node",
    "read_plan",
]


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


def add_launch_args(p: argparse.ArgumentParser) -> None:
    """``--launch-plan FILE --node NAME``: start from a resolved plan (``l1emu replay`` writes one)."""
    p.add_argument(LAUNCH_PLAN_FLAG, dest="launch_plan", default=None, metavar="FILE",
                   help="start from this launch plan (JSON) instead of --config and the flags above")
    p.add_argument(NODE_FLAG, dest="node", default=None, metavar="NAME", help="the node of the launch plan to run")


def add_dask_args(p: argparse.ArgumentParser, *, what: str = "the passes") -> None:
    """``--dask ADDRESS|local[:N]`` and ``--partition-events N`` (docs/dask.md)."""
    p.add_argument("--dask", default=None, metavar="ADDRESS|local[:N]",
                   help=f"run {what} on a Dask cluster: a scheduler address (tcp://host:8786) or local[:N] "
                        "(N worker processes here; default one per core); see docs/dask.md")
    p.add_argument("--partition-events", type=int, default=None, metavar="N",
                   help="events per Dask partition (default: about four partitions per worker)")


def dask_passes(
    args: argparse.Namespace, stack: contextlib.ExitStack,
) -> Callable[[SourceSpec, Source, str], BatchPasses] | None:
    """With ``--dask``: a session held open by ``stack`` and a maker of passes over a source (with a
    progress bar named by its third argument); None without ``--dask``."""
    if not args.dask:
        return None
    from tqdm import tqdm

    from emulator.distributed import DaskPasses
    from streams.run.dask import DaskSession, DaskTarget

    dask = stack.enter_context(DaskSession(DaskTarget.parse(args.dask)))
    info = dask.describe()
    print(f"dask: scheduler {info['scheduler']}, {info['workers']} workers, dashboard {info['dashboard']}",
          file=sys.stderr)

    def make(spec: SourceSpec, source: Source, desc: str) -> BatchPasses:
        bar = stack.enter_context(tqdm(total=len(source), unit="ev", desc=desc, disable=not sys.stderr.isatty()))
        return DaskPasses(dask, spec, source, partition_events=args.partition_events,
                          on_progress=lambda done, _: bar.update(done - bar.n))

    return make


def add_realtime_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--realtime-priority", type=int, default=None, metavar="N",
                   help="run the nodes under SCHED_FIFO priority N (1-99; 0: normal scheduling; needs "
                        "CAP_SYS_NICE or RLIMIT_RTPRIO >= N; overrides stream.realtime_priority)")


def overrides(args: argparse.Namespace) -> ChainOverrides:
    """The chain overrides the flags of :func:`add_chain_args` ask for."""
    return ChainOverrides(
        workers=args.workers, transport=args.transport, ipc_dir=args.ipc_dir, policy=args.policy,
        batch_size=args.batch_size, metrics_port=args.metrics_port, collect_timeout_s=args.collect_timeout,
        realtime_priority=args.realtime_priority,
    )


def load_plan(
    args: argparse.Namespace, *, source: SourceSpec | None = None, rate_hz: float = 0.0, linger_s: float = 0.0,
) -> tuple[ChainConfig, LaunchPlan]:
    """The chain and launch plan the YAML and flags resolve to (the same one ``l1emu replay`` writes)."""
    return resolve_launch(args.config, overrides(args), producers=args.producers, source=source,
                          rate_hz=rate_hz, linger_s=linger_s)


def read_plan(args: argparse.Namespace) -> LaunchPlan:
    """The launch plan named by ``--launch-plan`` (``--node`` is required with it)."""
    if not args.node:
        msg = f"{LAUNCH_PLAN_FLAG} needs {NODE_FLAG} NAME"
        raise ConfigError(msg)
    return read_launch_plan(args.launch_plan)


def planned_node(args: argparse.Namespace, kind: type[T], what: str) -> tuple[LaunchPlan, T] | None:
    """With ``--launch-plan``: the plan and the config of ``--node``, which must be a ``kind``
    (``what`` names it in the error); None when the node starts from the YAML and flags."""
    if not args.launch_plan:
        return None
    plan = read_plan(args)
    cfg = plan.node(args.node)
    if not isinstance(cfg, kind):
        msg = f"{args.launch_plan}: node {args.node!r} is not {what}"
        raise ConfigError(msg)
    return plan, cfg


def command_line(command: str, **values: Any) -> list[str]:
    """``command`` and its flags for ``values`` (argument dests), spelled as its parser defines them.

    ``None`` and ``False`` values are left out; ``True`` gives a bare flag.

    >>> command_line("node", config="c.yaml", stage="gt", index=1)
    ['node', '--config', 'c.yaml', '--stage', 'gt', '--index', '1']
    """
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(f"l1emu.commands.{command.replace('-', '_')}").add_parser(sub)
    flags = {a.dest: a for a in sub.choices[command]._actions if a.option_strings}
    out = [command]
    for dest, value in values.items():
        if dest not in flags:
            msg = f"l1emu {command} has no option for {dest!r}"
            raise ValueError(msg)
        if value is None or value is False:
            continue
        out += [flags[dest].option_strings[0]] if value is True else [flags[dest].option_strings[0], str(value)]
    return out


def on_terminate(stop: Callable[[], Any]) -> None:
    """SIGTERM and SIGINT ask the node to drain and stop."""
    def handler(signum: int, frame: object) -> None:
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
