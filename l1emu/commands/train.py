"""``l1emu train``: train a quantized trigger model and ship it (``.keras``, ``.hls4ml.json``, ``.fxp``).

    l1emu train axol1tl --sample zb.h5 --out configs/models --seed 1
    l1emu train cicada  --sample zb.h5 --add-parametric 100000 --out configs/models --seed 1
    l1emu train tagger  --sample qcd.h5 --signal htautau.h5 --signal h0_tautau.h5 --out configs/models --seed 1
"""

from __future__ import annotations

import argparse
import json

from emulator.models.kinds import get_model_kind, model_kinds


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("train", help="train and ship a quantized model", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    kinds = model_kinds()
    p.add_argument("model", choices=kinds, help="; ".join(f"{k}: {get_model_kind(k).help}" for k in kinds))
    p.add_argument("--sample", required=True, help="zero bias (anomaly models) or QCD (tagger), .h5")
    p.add_argument("--signal", action="append", default=[], help="τ-enriched sample for the tagger (repeatable)")
    p.add_argument("--out", default="configs/models", help="output directory (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="training seed (default: %(default)s)")
    p.add_argument("--config", default="configs/default.yaml", help="chain whose upstream algorithms prepare inputs")
    p.add_argument("--events", type=int, default=None, help="use only the first N events of each sample")
    p.add_argument("--epochs", type=int, default=None, help="override the number of epochs (student for cicada)")
    p.add_argument("--add-parametric", type=int, default=0, metavar="N",
                   help="add N parametric zero-bias events to --sample (anomaly models)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from emulator.models.train import train

    options = {}
    if args.epochs is not None:
        options[get_model_kind(args.model).epochs_option] = args.epochs
    report = train(args.model, sample=args.sample, out_dir=args.out, seed=args.seed, signal=args.signal,
                   chain=args.config, events=args.events, options=options,
                   parametric=args.add_parametric)  # fmt: skip
    print(json.dumps(report, indent=1))
    return 0
