"""The ``l1emu`` command line (thin: parses arguments, calls the packages).

Each subcommand lives in ``l1emu/commands/<name>.py`` and exposes
``add_parser(subparsers)``, which registers its arguments and sets ``func``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from streams.errors import L1EmuError

__all__ = ["COMMANDS", "build_parser", "main"]

#: Subcommand modules under ``l1emu.commands``, registered explicitly, in help order.
COMMANDS: tuple[str, ...] = (
    "replay",
    "produce",
    "node",
    "collect",
    "scrape-config",
    "keys",
    "compose",
    "fuzz",
    "generate",
    "validate",
    "scan",
    "report",
    "firmware",
    "train",
    "calibrate",
    "menu",
    "model",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="l1emu", description="Streaming Level-1 trigger emulator."
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"l1emu.commands.{name.replace('-', '_')}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=max(logging.DEBUG, logging.WARNING - 10 * args.verbose),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except L1EmuError as exc:
        print(f"l1emu: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("l1emu: interrupted", file=sys.stderr)
        return 130
