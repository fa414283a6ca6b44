"""``l1emu validate``: physics validation report of the generated events, with plots.

    l1emu validate --out-dir validation [--events 20000] [--quick]

Writes ``summary.json`` and PNG figures (mplhep CMS style): charged-hadron dN/dη
at 13 TeV vs CMS, σ_inel and the ⟨μ⟩ ↔ luminosity relation, single-muon and
single-jet seed turn-ons on W → ℓν and QCD samples, the default menu's total rate
on a ⟨μ⟩ = 60 zero-bias sample, and rates vs ⟨μ⟩.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from emulator.chain import ChainConfig, load_chain
from emulator.menu import load_menu
from emulator.pipeline import Pipeline
from emulator.rates import RateAccumulator
from streams.event import EventBatch
from streams.generators import PoolSettings, SampleSpec, build_source, load_pool
from streams.generators.validation import (
    CMS_DNDETA_13TEV,
    dndeta_central,
    dndeta_histogram,
    leading_jet_pt,
    leading_muon_pt,
    lumi_from_mu,
)

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("validate", help="physics validation report with plots", description=__doc__)
    p.add_argument("--out-dir", type=Path, default=Path("validation"), help="where figures and JSON go")
    p.add_argument("--config", default="configs/default.yaml", help="chain whose menu gives the rates")
    p.add_argument("--events", type=int, default=20_000, help="zero-bias crossings at <mu> = 60")
    p.add_argument("--pool-events", type=int, default=20_000, help="minimum-bias pool size")
    p.add_argument("--dndeta-events", type=int, default=4000, help="13 TeV events for dN/deta")
    p.add_argument("--signal-events", type=int, default=2000, help="events per turn-on sample")
    p.add_argument("--cache-dir", type=Path, default=None)
    p.add_argument("--quick", action="store_true", help="small samples (a smoke test, not a validation)")
    p.set_defaults(func=run)


def _rates(chain: ChainConfig, batches: list[EventBatch]) -> dict[str, Any]:
    """The chain's stages, then the menu's rates, over ``batches``."""
    menu = load_menu(chain.menu_path) if chain.menu_path else None
    if menu is None:
        return {}
    acc = RateAccumulator(menu.seed_names, menu.prescales(), n_bunches=chain.lhc.n_bunches,
                          f_rev_hz=chain.lhc.f_rev_hz)
    for batch in Pipeline.from_chain(chain).run_batches(batches):
        acc.update(batch["seeds_raw"], batch["weight"], batch["pileup"])
    return acc.result()


def _sample(spec: SampleSpec, cache: Path | None) -> list[EventBatch]:
    source, _ = build_source(spec, cache_dir=cache, progress=True)
    return list(source.batches(4096))


def _turn_on(gen_pt: np.ndarray, fired: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    total, _ = np.histogram(gen_pt, edges)
    passed, _ = np.histogram(gen_pt[fired], edges)
    eff = np.divide(passed, total, out=np.full(len(total), np.nan), where=total > 0)
    err = np.sqrt(np.clip(eff * (1 - eff), 0, None) / np.maximum(total, 1))
    return eff, err


def _dndeta(args: argparse.Namespace, out: dict[str, Any], plt: Any) -> None:
    pool = load_pool(PoolSettings(events=args.dndeta_events, seed=11, ecm_gev=13000.0),
                     cache_dir=args.cache_dir)
    value, err = dndeta_central(pool)
    ref, ref_err = CMS_DNDETA_13TEV
    out["dndeta"] = {"pythia_13TeV": value, "stat_err": err, "cms": ref, "cms_err": ref_err,
                     "ratio": value / ref, "within_10_percent": abs(value / ref - 1) < 0.10,
                     "sigma_inel_13TeV_mb": pool.sigma_mb}
    edges = np.linspace(-2.4, 2.4, 25)
    fig, ax = plt.subplots()
    ax.stairs(dndeta_histogram(pool, edges), edges, label="Pythia 8 (Monash), 13 TeV, inelastic")
    ax.errorbar([0.0], [ref], yerr=[ref_err], xerr=[0.5], fmt="ko", label="CMS, |η| < 0.5")
    ax.set(xlabel="η", ylabel="dN$_{ch}$/dη (charged hadrons)", ylim=(0, 8))
    ax.legend()
    fig.savefig(args.out_dir / "dndeta.png")


def _lumi(out: dict[str, Any], sigma_mb: float, plt: Any, out_dir: Path) -> None:
    mus = np.array([20, 40, 60, 80, 140, 200], float)
    out["lumi"] = {"sigma_inel_13p6TeV_mb": sigma_mb,
                   "mu_to_lumi_cm2s": {str(int(m)): lumi_from_mu(m, sigma_mb=sigma_mb) for m in mus}}
    fig, ax = plt.subplots()
    ax.plot(mus, [lumi_from_mu(m, sigma_mb=sigma_mb) / 1e34 for m in mus], "o-")
    ax.set(xlabel=r"$\langle\mu\rangle$", ylabel="L [10$^{34}$ cm$^{-2}$ s$^{-1}$] (2544 bunches)")
    fig.savefig(out_dir / "mu_vs_lumi.png")


def _turn_ons(args: argparse.Namespace, out: dict[str, Any], plt: Any) -> None:
    n = args.signal_events
    edges = np.linspace(0, 60, 25)
    spec = SampleSpec(process="wlnu", mu=60, events=n, pool_events=args.pool_events)
    l1 = EventBatch.concat(_sample(spec, args.cache_dir))
    gen = leading_muon_pt(load_pool(spec.hard_pool_settings()[0], cache_dir=args.cache_dir))
    fired = np.asarray(((l1["mu_pt"] >= 44) & (l1["mu_qual"] >= 12)).any(axis=1))
    mu_eff, mu_err = _turn_on(gen[:n], fired, edges)
    spec_j = SampleSpec(process="qcd", mu=60, events=n, pool_events=args.pool_events)
    l1j = EventBatch.concat(_sample(spec_j, args.cache_dir))
    gen_j = np.concatenate([leading_jet_pt(load_pool(s, cache_dir=args.cache_dir))
                            for s in spec_j.hard_pool_settings()])[:n]
    jedges = np.linspace(0, 400, 21)
    jet_eff, jet_err = _turn_on(gen_j, np.asarray((l1j["jet_pt"] >= 360).any(axis=1)), jedges)
    out["turn_on"] = {"SingleMu22": {"edges": edges.tolist(), "eff": mu_eff.tolist()},
                      "SingleJet180": {"edges": jedges.tolist(), "eff": jet_eff.tolist()}}
    fig, axes = plt.subplots(1, 2, figsize=(14, 6))
    for ax, e, eff, err, lab in ((axes[0], edges, mu_eff, mu_err, "leading gen muon pT [GeV] (W→μν)"),
                                 (axes[1], jedges, jet_eff, jet_err, "leading gen jet pT [GeV] (QCD)")):
        ax.errorbar(0.5 * (e[1:] + e[:-1]), eff, yerr=err, fmt="o")
        ax.set(xlabel=lab, ylabel="L1 efficiency", ylim=(0, 1.1))
    axes[0].set_title(r"SingleMu22 (qual ≥ 12), $\langle\mu\rangle$ = 60")
    axes[1].set_title(r"SingleJet180, $\langle\mu\rangle$ = 60")
    fig.savefig(args.out_dir / "turn_ons.png")


def _menu_rates(args: argparse.Namespace, out: dict[str, Any], plt: Any) -> None:
    chain = load_chain(args.config)
    zb = SampleSpec(process="minbias", mu=60, events=args.events, pool_events=args.pool_events)
    res = _rates(chain, _sample(zb, args.cache_dir))
    out["zero_bias_mu60"] = {"total_rate_khz": res.get("total_rate_khz"),
                             "total_rate_err_khz": res.get("total_rate_err_khz"),
                             "in_50_230_khz": 50 <= (res.get("total_rate_khz") or 0) <= 230,
                             "seeds": {k: v["rate_khz"] for k, v in res.get("seeds", {}).items()}}
    mus = [20, 40, 60, 80, 100] if not args.quick else [20, 60]
    per_mu = []
    for mu in mus:
        spec = SampleSpec(process="minbias", mu=mu, events=max(args.events // 4, 500), seed=2,
                          pool_events=args.pool_events)
        per_mu.append(_rates(chain, _sample(spec, args.cache_dir)))
    out["rate_vs_mu"] = {"mu": mus, "total_rate_khz": [r.get("total_rate_khz") for r in per_mu]}
    fig, ax = plt.subplots()
    ax.errorbar(mus, [r["total_rate_khz"] for r in per_mu], yerr=[r["total_rate_err_khz"] for r in per_mu],
                fmt="o-", label="total (default prescales)")
    for name in ("SingleMu22", "SingleJet180", "HTT280er", "ETMHF90"):
        if per_mu and name in per_mu[0].get("seeds", {}):
            ax.plot(mus, [r["seeds"][name]["rate_khz"] for r in per_mu], "s--", label=name)
    ax.set(xlabel=r"$\langle\mu\rangle$", ylabel="L1 rate [kHz]", yscale="log")
    ax.legend()
    fig.savefig(args.out_dir / "rates_vs_mu.png")


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    plt.style.use(mplhep.style.CMS)
    if args.quick:
        args.events, args.pool_events, args.dndeta_events, args.signal_events = 2000, 2000, 1000, 300
    args.out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    out: dict[str, Any] = {"quick": args.quick}
    _dndeta(args, out, plt)
    mb = load_pool(SampleSpec(pool_events=args.pool_events).pileup_pool_settings(), cache_dir=args.cache_dir)
    _lumi(out, mb.sigma_mb, plt, args.out_dir)
    _turn_ons(args, out, plt)
    _menu_rates(args, out, plt)
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
    print(f"report: {args.out_dir / 'summary.json'} and figures in {args.out_dir}/")
    return 0
