"""``l1emu menu``: look into a trigger menu (l1emu YAML or uGT XML) and convert between the formats.

    l1emu menu inspect L1Menu_Collisions2024_v1_3_0.xml --prescales prescales.csv --column 2p0E34
    l1emu menu inspect configs/menus/cms2024.yaml --json
    l1emu menu convert L1Menu.xml L1Menu.yaml          # and back: L1Menu.yaml L1Menu.xml
"""

from __future__ import annotations

import argparse
import json
import sys

from emulator.menu import Menu, load_menu
from emulator.menu.convert import write_menu
from emulator.menu.inspection import format_inspection, inspect_menu


def _add_menu_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("menu", help="menu: .yaml/.yml (l1emu, or a reference to an XML and its prescales), .xml (uGT)")
    p.add_argument("--prescales", action="append", default=None, metavar="FILE",
                   help="prescale CSV or uGT run-settings XML (prescales, FinOR/veto masks); repeatable")
    p.add_argument("--column", default=None, help="prescale column (default: the table's or the menu's)")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("menu", help="inspect or convert a trigger menu", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    verbs = p.add_subparsers(dest="menu_command", required=True, metavar="ACTION")
    ins = verbs.add_parser("inspect", help="seeds, prescales, grammar features, unsupported seeds")
    _add_menu_args(ins)
    ins.add_argument("--json", action="store_true", help="print the inspection as JSON")
    ins.set_defaults(func=run_inspect)
    conv = verbs.add_parser("convert", help="write the menu as YAML or XML (by the output's suffix)")
    _add_menu_args(conv)
    conv.add_argument("out", help="output file: .yaml/.yml or .xml")
    conv.add_argument("--skip-inexpressible", action="store_true",
                      help="XML: leave out l1emu seeds without a utm form (scores, always) instead of failing")
    conv.set_defaults(func=run_convert)


def _load(args: argparse.Namespace) -> Menu:
    return load_menu(args.menu, prescales=args.prescales, column=args.column)


def run_inspect(args: argparse.Namespace) -> int:
    info = inspect_menu(_load(args), args.column)
    if args.json:
        json.dump(info, sys.stdout, indent=1)
        print()
    else:
        print(format_inspection(info))
    return 0


def run_convert(args: argparse.Namespace) -> int:
    menu = _load(args)
    skipped = write_menu(menu.config, args.out, skip_inexpressible=args.skip_inexpressible)
    print(f"wrote {args.out}: {len(menu.seed_names) - len(skipped)} seeds")
    for line in skipped:
        print(f"  left out {line}")
    return 0
