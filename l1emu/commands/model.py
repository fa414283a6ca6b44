"""``l1emu model``: bring your own model (Keras/QKeras/HGQ2 file, QONNX or hls4ml project) and look into it.

l1emu model import my_tagger.keras --out configs/models/my_tagger   # QKeras, or HGQ2 (after `make hgq2`)
l1emu model import path/to/hls4ml_prj --out configs/models/axol1tl_v5
l1emu model inspect my_tagger --check 10000       # layers, plan, ops; C-sim self-check (g++)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emulator.models.runtime import SHIPPED_CONFIGS
from streams.errors import ConfigError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("model", help="import or inspect a user model", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    verbs = p.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    imp = verbs.add_parser("import", help="convert a .keras/.h5 (QKeras, HGQ2), .onnx (QONNX) or an hls4ml project")
    imp.add_argument("src", help="model file (.keras, .h5, .onnx) or hls4ml project directory (holding firmware/)")
    imp.add_argument("--out", required=True, help="model directory to write, e.g. configs/models/NAME")
    imp.add_argument("--backend", default="Vitis", choices=["Vitis", "Vivado"], help="hls4ml backend for model files")
    imp.add_argument("--precision", default=None, help="hls4ml default precision for Keras files, e.g. fixed<16,6>")
    imp.set_defaults(func=run_import)
    ins = verbs.add_parser("inspect", help="layers, types, plan, ops per event, C-sim self-check")
    ins.add_argument("name", help="model directory, or a name under configs/models/")
    ins.add_argument("--check", type=int, default=0, metavar="N", help="compare with the C simulation on N events")
    ins.add_argument("--json", action="store_true", help="print the inspection as JSON")
    ins.set_defaults(func=run_inspect)


def _model_dir(name: str) -> Path:
    path = Path(name)
    if path.is_dir():
        return path
    shipped = SHIPPED_CONFIGS / "models" / name
    if shipped.is_dir():
        return shipped
    msg = f"model {name!r}: neither a directory nor configs/models/{name}"
    raise ConfigError(msg)


def run_import(args: argparse.Namespace) -> int:
    from emulator.models.imported import format_inspection, import_model, inspect_model

    import_model(args.src, args.out, backend=args.backend, precision=args.precision)
    print(format_inspection(inspect_model(args.out)))
    return 0


def run_inspect(args: argparse.Namespace) -> int:
    from emulator.models.imported import format_inspection, inspect_model

    info = inspect_model(_model_dir(args.name), check_events=args.check)
    if args.json:
        json.dump(info, sys.stdout, indent=1)
        print()
    else:
        print(format_inspection(info))
    check = info.get("self_check")
    return 1 if check and not check["bit_exact"] else 0
