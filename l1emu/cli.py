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


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or (``only``) of that one alone.

    A subcommand's module imports what it runs (numba kernels, scipy, Keras for some), so a
    process that runs one command (every node of a replay is ``l1emu node``) imports only its
    module: ``only`` skips the others' imports, about 1-3 s of CPU per process start.
    """
    parser = argparse.ArgumentParser(
        prog="l1emu", description="Streaming Level-1 trigger emulator."
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        if only is None or name == only:
            importlib.import_module(f"l1emu.commands.{name.replace('-', '_')}").add_parser(sub)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` runs, if its first positional word names one (options before it are
    the top-level ``-v``s); None for ``--help`` or an unknown word (then every parser is built)."""
    for word in argv:
        if word == "--verbose" or (len(word) > 1 and word[0] == "-" and set(word[1:]) == {"v"}):
            continue
        return word if word in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_named(words))
    args = parser.parse_args(words)
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
