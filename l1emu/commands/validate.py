"""``l1emu validate``: physics validation report of the generated events, with plots.

    l1emu validate --out-dir validation [--events 20000] [--quick]

Writes ``summary.json`` and PNG figures (mplhep CMS style): charged-hadron dN/dη
at 13 TeV vs CMS, σ_inel and the ⟨μ⟩ ↔ luminosity relation, single-muon and
single-jet seed turn-ons on W → ℓν and QCD samples, the default menu's total rate
on a ⟨μ⟩ = 60 zero-bias sample, and rates vs ⟨μ⟩; and the CMS comparison on stitched zero
bias at ⟨μ⟩ = 55 (``--cms-source FILE`` or ``--cms-events`` generated): per-seed l1emu/CMS
rate ratios with errors, rate versus threshold for μ, e/γ, τ, jets, HTT and ETMHF with the
CMS points, and the seeds that make up the menu's total.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from emulator.chain import load_chain
from emulator.studies import validation as study
from streams.event import EventBatch
from streams.generators import PoolSettings, SampleSpec, build_source, load_pool
from streams.generators.validation import leading_jet_pt, leading_muon_pt, lumi_from_mu

__all__ = ["add_parser", "run"]

_RATE_SEEDS = ("L1_SingleMu22", "L1_SingleJet180", "L1_HTT280er", "L1_ETMHF100")
_CMS_MU = 55.0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("validate", help="physics validation report with plots", description=__doc__)
    p.add_argument("--out-dir", type=Path, default=Path("validation"), help="where figures and JSON go")
    p.add_argument("--config", default="configs/default.yaml", help="chain whose menu gives the rates")
    p.add_argument("--events", type=int, default=20_000, help="zero-bias crossings at <mu> = 60")
    p.add_argument("--pool-events", type=int, default=20_000, help="minimum-bias pool size")
    p.add_argument("--dndeta-events", type=int, default=4000, help="13 TeV events for dN/deta")
    p.add_argument("--signal-events", type=int, default=2000, help="events per turn-on sample")
    p.add_argument("--cms-events", type=int, default=400_000, help="stitched zero-bias crossings at <mu> = 55")
    p.add_argument("--cms-source", type=Path, default=None, help="zero-bias HDF5 for the CMS comparison instead")
    p.add_argument("--cache-dir", type=Path, default=None)
    p.add_argument("--quick", action="store_true", help="small samples (a smoke test, not a validation)")
    p.set_defaults(func=run)


def _sample(spec: SampleSpec, cache: Path | None) -> list[EventBatch]:
    source, _ = build_source(spec, cache_dir=cache, progress=True)
    return list(source.batches(4096))


def _turn_ons(args: argparse.Namespace) -> dict[str, Any]:
    n = args.signal_events
    spec = SampleSpec(process="wlnu", mu=60, events=n, pool_events=args.pool_events)
    l1 = EventBatch.concat(_sample(spec, args.cache_dir))
    gen = leading_muon_pt(load_pool(spec.hard_pool_settings()[0], cache_dir=args.cache_dir))
    fired = np.asarray(((l1["mu_pt"] >= 44) & (l1["mu_qual"] >= 12)).any(axis=1))
    spec_j = SampleSpec(process="qcd", mu=60, events=n, pool_events=args.pool_events)
    l1j = EventBatch.concat(_sample(spec_j, args.cache_dir))
    gen_j = np.concatenate([leading_jet_pt(load_pool(s, cache_dir=args.cache_dir))
                            for s in spec_j.hard_pool_settings()])[:n]  # fmt: skip
    return {"L1_SingleMu22": study.turn_on(gen[:n], fired, np.linspace(0, 60, 25)),
            "L1_SingleJet180": study.turn_on(gen_j, np.asarray((l1j["jet_pt"] >= 360).any(axis=1)),
                                          np.linspace(0, 400, 21))}  # fmt: skip


def _menu_rates(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    chain = load_chain(args.config)
    zb = SampleSpec(process="minbias", mu=60, events=args.events, pool_events=args.pool_events)
    res = study.menu_rates(chain, _sample(zb, args.cache_dir))
    mu60 = {"total_rate_khz": res.get("total_rate_khz"), "total_rate_err_khz": res.get("total_rate_err_khz"),
            "in_50_230_khz": 50 <= (res.get("total_rate_khz") or 0) <= 230,
            "seeds": {k: v["rate_khz"] for k, v in res.get("seeds", {}).items()}}  # fmt: skip
    mus = [20, 40, 60, 80, 100] if not args.quick else [20, 60]
    n = max(args.events // 4, 500)
    samples: dict[float, list[EventBatch]] = {
        mu: _sample(SampleSpec(process="minbias", mu=mu, events=n, seed=2, pool_events=args.pool_events),
                    args.cache_dir) for mu in mus}  # fmt: skip
    return mu60, study.rate_vs_mu(chain, samples, _RATE_SEEDS)


def _cms(args: argparse.Namespace) -> dict[str, Any]:
    chain = load_chain(args.config)
    if args.cms_source is not None:
        from streams.sources import open_source

        batches: Iterable[EventBatch] = open_source(args.cms_source).batches(8192)
    else:
        spec = SampleSpec(process="minbias", mu=_CMS_MU, events=args.cms_events, seed=7, pool_events=args.pool_events)
        batches = build_source(spec, cache_dir=args.cache_dir, progress=True)[0].batches(8192)
    return study.cms_study(chain, batches)


def _print_cms(c: dict[str, Any]) -> None:
    from emulator.studies.cms_rates import RATIO_GOAL

    print(f"CMS comparison ({c['events']} zero-bias crossings, <mu> = {_CMS_MU:g}; menu {c['menu']}, total "
          f"{c['total_rate_khz']:.1f} +- {c['total_rate_err_khz']:.1f} kHz):")
    for name, r in c["comparison"].items():
        mark = "ok" if r["within_goal"] else f"outside x{RATIO_GOAL:g}"
        print(f"  {name:28s} l1emu {r['l1emu_khz']:7.2f} +- {r['l1emu_err_khz']:5.2f}  CMS {r['cms_khz']:6.2f} +- "
              f"{r['cms_err_khz']:4.2f}  ratio {r['ratio']:5.2f} +- {r['ratio_err']:4.2f}  {mark}")


def run(args: argparse.Namespace) -> int:
    from emulator.plots import validation as plots

    if args.quick:
        args.events, args.pool_events, args.dndeta_events, args.signal_events = 2000, 2000, 1000, 300
        args.cms_events = 4000
    args.out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    out: dict[str, Any] = {"quick": args.quick}
    pool13 = load_pool(PoolSettings(events=args.dndeta_events, seed=11, ecm_gev=13000.0), cache_dir=args.cache_dir)
    out["dndeta"] = study.dndeta_study(pool13)
    mb = load_pool(SampleSpec(pool_events=args.pool_events).pileup_pool_settings(), cache_dir=args.cache_dir)
    out["lumi"] = study.lumi_table(mb.sigma_mb)
    out["turn_on"] = _turn_ons(args)
    out["zero_bias_mu60"], out["rate_vs_mu"] = _menu_rates(args)
    out["cms"] = _cms(args)
    plots.plot_dndeta(out["dndeta"], args.out_dir)
    plots.plot_lumi(out["lumi"], args.out_dir)
    plots.plot_turn_ons(out["turn_on"], {"L1_SingleMu22": "leading gen muon pT [GeV] (W→μν)",
                                         "L1_SingleJet180": "leading gen jet pT [GeV] (QCD)"}, args.out_dir)
    plots.plot_rate_vs_mu(out["rate_vs_mu"], args.out_dir)
    if out["cms"]:
        from emulator.studies.cms_rates import RATIO_GOAL

        plots.plot_rate_curves(out["cms"]["curves"], args.out_dir)
        plots.plot_cms_ratios(out["cms"]["comparison"], RATIO_GOAL, args.out_dir)
    out["seconds"] = time.perf_counter() - t0
    (args.out_dir / "summary.json").write_text(json.dumps(out, indent=2, default=float))
    d = out["dndeta"]
    zb = out["zero_bias_mu60"]
    print(f"dN/deta |eta|<0.5 (13 TeV): {d['pythia_13TeV']:.2f} +- {d['stat_err']:.2f} vs CMS "
          f"{d['cms']:.2f} +- {d['cms_err']:.2f} (ratio {d['ratio']:.3f})")
    print(f"sigma_inel 13.6 TeV: {mb.sigma_mb:.1f} mb; <mu> = 60 <-> L = "
          f"{lumi_from_mu(60, sigma_mb=mb.sigma_mb):.3g} cm-2 s-1")
    print(f"default menu total rate, zero bias <mu> = 60: {zb['total_rate_khz']:.1f} +- "
          f"{zb['total_rate_err_khz']:.1f} kHz")
    if out["cms"]:
        _print_cms(out["cms"])
    print(f"report: {args.out_dir / 'summary.json'} and figures in {args.out_dir}/")
    return 0
