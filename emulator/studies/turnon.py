"""Efficiency turn-ons of seeds against a generator-level quantity, with Clopper–Pearson errors.

Efficiency in a bin = events where the seed passed (before prescales: the condition's
efficiency) / events in the bin; empty bins have no efficiency (NaN, ``null`` in JSON).
Weighted samples use effective counts ``n_eff = (Σw)²/Σw²`` in the interval. The 50 % / 95 % points come from an erf fit
``ε(x) = P/2 · (1 + erf((x − x50)/(√2 σ)))`` (``x95 = x50 + 1.645 σ``, relative to the
plateau P) and, independently, from where the measured efficiency first crosses
0.5 and 0.95 (linear interpolation between bin centres).

Generator-level columns the studies expect (float32, one value per event, GeV; from the
Pythia samples): ``gen_mu_pt``, ``gen_ele_pt``, ``gen_tau_pt`` (visible), ``gen_jet_pt``
(leading jet), ``gen_ht``, ``gen_met``, ``gen_mht``, ``gen_ett``.

>>> import numpy as np
>>> x = np.repeat(np.arange(0.0, 100.0, 1.0), 50)
>>> t = turnon(x, x > 40, np.arange(0.0, 101.0, 5.0))
>>> t["points"]["interpolated"]["x50"] < 45 < t["points"]["interpolated"]["x95"] + 5
True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Final

import boost_histogram as bh
import numpy as np
from scipy import optimize, special, stats

from emulator.menu import Menu, ObjectCondition, SumCondition

__all__ = ["GEN_QUANTITIES", "clopper_pearson", "erf_turnon", "gen_column_for", "turnon"]

#: Generator-level column a seed's efficiency is measured against, by leading-leg type or sum.
GEN_QUANTITIES: Final = {
    "muon": "gen_mu_pt", "egamma": "gen_ele_pt", "tau": "gen_tau_pt", "jet": "gen_jet_pt",
    "htt": "gen_ht", "etm": "gen_met", "etmhf": "gen_met", "htm": "gen_mht", "ett": "gen_ett",
}  # fmt: skip
_ONE_SIGMA: Final = 0.6826894921370859


def gen_column_for(menu: Menu, seed: str) -> str | None:
    """The generator-level column for ``seed``: its highest-threshold leg's type, else its sum."""
    cfg = menu.config.seeds[menu.seed_names.index(seed)]
    legs = [leg for c in cfg.conditions if isinstance(c, ObjectCondition) for leg in c.legs]
    if legs:
        return GEN_QUANTITIES[max(legs, key=lambda leg: leg.pt_min).type]
    sums = [c.sum for c in cfg.conditions if isinstance(c, SumCondition)]
    return GEN_QUANTITIES[sums[0]] if sums else None


def clopper_pearson(k: np.ndarray, n: np.ndarray, cl: float = _ONE_SIGMA) -> tuple[np.ndarray, np.ndarray]:
    """Central Clopper–Pearson interval of ``k`` passes out of ``n`` (NaN where n = 0).

    >>> lo, hi = clopper_pearson(np.array([0, 5]), np.array([10, 10]))
    >>> float(lo[0]), round(float(hi[0]), 3), round(float(lo[1]), 3)
    (0.0, 0.168, 0.305)
    """
    k, n = np.asarray(k, np.float64), np.asarray(n, np.float64)
    a = (1 - cl) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k > 0, stats.beta.ppf(a, k, n - k + 1), 0.0)
        hi = np.where(k < n, stats.beta.ppf(1 - a, k + 1, n - k), 1.0)
    bad = n <= 0
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def erf_turnon(x: np.ndarray, plateau: float, x50: float, sigma: float) -> np.ndarray:
    """``plateau/2 · (1 + erf((x − x50) / (√2 σ)))``."""
    return np.asarray(plateau / 2 * (1 + special.erf((x - x50) / (math.sqrt(2) * sigma))))


def _fit(x: np.ndarray, eff: np.ndarray, err: np.ndarray) -> dict[str, Any] | None:
    ok = np.isfinite(eff) & (err > 0)
    if ok.sum() < 4 or np.nanmax(eff) <= 0:
        return None
    x, eff, err = x[ok], eff[ok], err[ok]
    p0 = (float(eff.max()), float(x[np.argmax(eff >= eff.max() / 2)]), float((x[-1] - x[0]) / 10 or 0.1))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optimize.OptimizeWarning)
            span = float(x[-1] - x[0]) or 1.0
            bounds = ([0.0, float(x[0]), 1e-6 * span], [1.0, float(x[-1]), span])  # x50 inside the bins
            par, cov = optimize.curve_fit(erf_turnon, x, eff, p0=p0, sigma=err, absolute_sigma=True,
                                          bounds=bounds, maxfev=5000)  # fmt: skip
    except (RuntimeError, ValueError):
        return None
    resid = (eff - erf_turnon(x, *par)) / err
    return {"plateau": float(par[0]), "x50": float(par[1]), "sigma": float(par[2]),
            "errors": np.sqrt(np.clip(np.diag(cov), 0, None)).tolist(), "chi2": float((resid**2).sum()),
            "ndf": int(ok.sum() - 3)}  # fmt: skip


def _crossing(x: np.ndarray, eff: np.ndarray, level: float) -> float | None:
    ok = np.isfinite(eff)
    x, eff = x[ok], eff[ok]
    above = np.flatnonzero(eff >= level)
    if above.size == 0:
        return None
    i = int(above[0])
    if i == 0:
        return float(x[0])
    x0, x1, e0, e1 = x[i - 1], x[i], eff[i - 1], eff[i]
    return float(x0 + (level - e0) * (x1 - x0) / (e1 - e0))


def _counts(x: np.ndarray, passed: np.ndarray, edges: Sequence[float] | np.ndarray, w: np.ndarray) -> np.ndarray:
    """(Σw, Σw²) of all and of passing events per bin, with boost-histogram."""
    h = bh.Histogram(bh.axis.Variable(list(edges)), bh.axis.Boolean(), storage=bh.storage.Weight())
    h.fill(x, passed, weight=w)
    v = h.view()
    return np.array([v["value"].sum(1), v["variance"].sum(1), v["value"][:, 1], v["variance"][:, 1]])


def turnon(
    x: np.ndarray, passed: np.ndarray, edges: Sequence[float] | np.ndarray, *, weight: np.ndarray | None = None
) -> dict[str, Any]:
    """Efficiency of ``passed`` in bins of ``x`` with Clopper–Pearson (68 %) errors, erf fit and points."""
    x = np.asarray(x, np.float64)
    w = np.ones_like(x) if weight is None else np.asarray(weight, np.float64)
    sw, sw2, kw, _ = _counts(x, np.asarray(passed, bool), edges, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        eff = np.where(sw > 0, kw / sw, np.nan)
        n_eff = np.where(sw2 > 0, sw * sw / sw2, 0.0)
    lo, hi = clopper_pearson(np.round(eff * n_eff), np.round(n_eff))
    centres = (np.asarray(edges[1:], np.float64) + np.asarray(edges[:-1], np.float64)) / 2
    fit = _fit(centres, eff, np.nan_to_num(np.maximum(eff - lo, hi - eff), nan=0.0))
    fit_points = None if fit is None else {
        "x50": fit["x50"], "x95": fit["x50"] + float(special.ndtri(0.95)) * fit["sigma"]}  # fmt: skip
    return {
        "edges": list(map(float, edges)), "centres": centres.tolist(), "events": sw.tolist(),
        "passed": kw.tolist(), "efficiency": eff.tolist(),  # NaN (null in JSON): an empty bin
        "err_low": (eff - lo).tolist(), "err_high": (hi - eff).tolist(),
        "fit": fit,
        "points": {"fit": fit_points,
                   "interpolated": {"x50": _crossing(centres, eff, 0.5), "x95": _crossing(centres, eff, 0.95)}},
    }  # fmt: skip
