"""Physics validation of generated events as plain data: dN/dη, σ_inel ↔ luminosity, turn-ons,
the menu's zero-bias rates and rates versus ⟨μ⟩ (``l1emu validate`` draws them).

>>> import numpy as np
>>> t = turn_on(np.array([5.0, 15.0, 15.0, 25.0]), np.array([False, False, True, True]), np.array([0.0, 10, 20, 30]))
>>> t["eff"]
[0.0, 0.5, 1.0]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from emulator.chain import ChainConfig
from emulator.menu import load_menu
from emulator.pipeline import Pipeline
from emulator.rate_reuse import hard_events
from emulator.rates import RateAccumulator
from emulator.studies import cms_rates
from streams.event import EventBatch
from streams.generators.pool import ParticlePool
from streams.generators.validation import CMS_DNDETA_13TEV, dndeta_central, dndeta_histogram, lumi_from_mu

__all__ = [
    "DNDETA_EDGES", "LUMI_MUS", "cms_study", "dndeta_study", "lumi_table", "menu_rates", "rate_vs_mu", "turn_on",
]

#: η bins of the dN/dη figure.
DNDETA_EDGES = np.linspace(-2.4, 2.4, 25)
#: ⟨μ⟩ values of the luminosity table.
LUMI_MUS = (20, 40, 60, 80, 140, 200)


def dndeta_study(pool: ParticlePool) -> dict[str, Any]:
    """Charged-hadron dN/dη at |η| < 0.5 against CMS at 13 TeV, and the histogram."""
    value, err = dndeta_central(pool)
    ref, ref_err = CMS_DNDETA_13TEV
    return {"pythia_13TeV": value, "stat_err": err, "cms": ref, "cms_err": ref_err, "ratio": value / ref,
            "within_10_percent": abs(value / ref - 1) < 0.10, "sigma_inel_13TeV_mb": pool.sigma_mb,
            "edges": DNDETA_EDGES.tolist(), "histogram": dndeta_histogram(pool, DNDETA_EDGES).tolist()}  # fmt: skip


def lumi_table(sigma_mb: float, mus: Sequence[float] = LUMI_MUS) -> dict[str, Any]:
    """Instantaneous luminosity of each ⟨μ⟩ for the pool's σ_inel."""
    return {"sigma_inel_13p6TeV_mb": sigma_mb,
            "mu_to_lumi_cm2s": {str(int(m)): lumi_from_mu(m, sigma_mb=sigma_mb) for m in mus}}


def turn_on(gen_pt: np.ndarray, fired: np.ndarray, edges: np.ndarray) -> dict[str, Any]:
    """Efficiency of ``fired`` in bins of ``gen_pt`` with binomial errors (NaN in empty bins)."""
    total, _ = np.histogram(gen_pt, edges)
    passed, _ = np.histogram(gen_pt[fired], edges)
    eff = np.divide(passed, total, out=np.full(len(total), np.nan), where=total > 0)
    err = np.sqrt(np.clip(eff * (1 - eff), 0, None) / np.maximum(total, 1))
    return {"edges": edges.tolist(), "eff": eff.tolist(), "err": err.tolist()}


def menu_rates(chain: ChainConfig, batches: Iterable[EventBatch]) -> dict[str, Any]:
    """The chain's pipeline, then the menu's rates (default column), over ``batches``; {} without a menu."""
    if chain.menu_path is None:
        return {}
    menu = load_menu(chain.menu_path)
    acc = RateAccumulator(menu.seed_names, menu.prescale_values(), n_bunches=chain.lhc.n_bunches,
                          f_rev_hz=chain.lhc.f_rev_hz)  # fmt: skip
    for batch in Pipeline.from_chain(chain).run_batches(batches):
        acc.update(batch["seeds_raw"], batch["weight"], batch["pileup"], hard_events(batch))
    return acc.result()


def _curve_columns() -> tuple[str, ...]:
    names = {"weight"}
    for c in cms_rates.CURVES.values():
        names |= {c.prefix} if c.is_sum else {f"{c.prefix}_{f}" for f in ("pt", "eta", "iso", "qual")}
    return tuple(sorted(names))


def cms_study(chain: ChainConfig, batches: Iterable[EventBatch]) -> dict[str, Any]:
    """One pass of the chain over zero bias: the menu's rates, CMS ratios, rate curves, the total's make-up.

    The curves read the chain's output columns (calibrated jets, the chain's HTT), as the menu does.
    """
    if chain.menu_path is None:
        return {}
    menu = load_menu(chain.menu_path)
    acc = RateAccumulator(menu.seed_names, menu.prescale_values(), n_bunches=chain.lhc.n_bunches,
                          f_rev_hz=chain.lhc.f_rev_hz)  # fmt: skip
    keep: dict[str, list[np.ndarray]] = {c: [] for c in _curve_columns()}
    for batch in Pipeline.from_chain(chain).run_batches(batches):
        acc.update(batch["seeds_raw"], batch["weight"], batch["pileup"], hard_events(batch))
        for c, parts in keep.items():
            parts.append(np.asarray(batch[c]))
    res = acc.result()
    cols = {c: np.concatenate(parts) for c, parts in keep.items()}
    crossing_khz = chain.lhc.n_bunches * chain.lhc.f_rev_hz / 1e3
    return {"menu": menu.name, "events": res.get("events"), "total_rate_khz": res.get("total_rate_khz"),
            "total_rate_err_khz": res.get("total_rate_err_khz"),
            "comparison": cms_rates.comparison(res["seeds"]),
            "composition": cms_rates.composition(res["seeds"], float(res.get("total_rate_khz") or 0.0)),
            "curves": cms_rates.sequence_curves(cols, crossing_khz)}


def rate_vs_mu(chain: ChainConfig, samples: Mapping[float, Iterable[EventBatch]],
               seeds: Sequence[str] = ()) -> dict[str, Any]:
    """Total rate (and ``seeds``' rates) of the menu on one zero-bias sample per ⟨μ⟩."""
    per_mu = {mu: menu_rates(chain, batches) for mu, batches in samples.items()}
    out: dict[str, Any] = {"mu": list(per_mu),
                           "total_rate_khz": [r.get("total_rate_khz") for r in per_mu.values()],
                           "total_rate_err_khz": [r.get("total_rate_err_khz") for r in per_mu.values()],
                           "seeds": {}}  # fmt: skip
    for name in seeds:
        if all(name in r.get("seeds", {}) for r in per_mu.values()):
            out["seeds"][name] = [r["seeds"][name]["rate_khz"] for r in per_mu.values()]
    return out
