"""Rate against pileup: profiles from a report's pileup bins or from several reports, fits, extrapolation.

Models (``model=``), every one non-negative and rising with μ so that no extrapolation
is ever negative: ``poisson`` (the default) — the fraction of crossings a seed fires is
1 − exp(−(aμ + bμ² + cμ³)), a, b, c ≥ 0: zero without interactions, linear in μ for a
seed fired by single interactions, steeper for pileup combinatorics (multi-object and sum
seeds), and never above the crossing rate; ``linear`` (a + bμ) and ``quadratic``
(a + bμ + cμ²) with coefficients ≥ 0; ``exponential`` (A·e^{bμ}, b ≥ 0, a line in log rate).
Constrained fits use non-negative least squares; the error band comes from the covariance
of the free parameters. Point errors are the report's √Σw² per pileup bin (weighted
samples), else √N (unit weights) with one count as the floor of empty points. An
extrapolation beyond the measured μ range is marked ``"extrapolated": true``.

>>> prof = {"mu": [40.0, 50.0, 60.0, 70.0], "events": [1000] * 4,
...         "seeds": {"A": {"rate_khz": [4.0, 5.0, 6.0, 7.0], "rate_err_khz": [0.1] * 4}},
...         "total": {"rate_khz": [8.0, 10.0, 12.0, 14.0], "rate_err_khz": [0.1] * 4}}
>>> study = pileup_study(prof, target_mu=(140.0,), model="linear")
>>> e = study["seeds"]["A"]["extrapolation"][0]
>>> round(e["rate_khz"], 6), e["extrapolated"]
(14.0, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from emulator.errors import ConfigError
from emulator.studies._fit import design, nnls_wls

__all__ = ["FIT_MODELS", "FitModel", "evaluate_fit", "fit_rate_vs_mu", "pileup_study", "profile_from_bins",
           "profile_from_reports"]

FitModel = Literal["poisson", "linear", "quadratic", "exponential"]
FIT_MODELS: tuple[str, ...] = ("poisson", "linear", "quadratic", "exponential")
_DEGREE: dict[str, int] = {"poisson": 3, "linear": 1, "quadratic": 2, "exponential": 1}


def _bin_errors(rate: np.ndarray, events: np.ndarray, k_khz: float) -> np.ndarray:
    """√N / N × K per bin (unit weights), with N ≥ 1 as the floor."""
    n = np.maximum(events, 1)
    counts = np.maximum(rate / k_khz * n, 1.0)
    return np.asarray(np.sqrt(counts) / n * k_khz)


def profile_from_bins(report: Mapping[str, Any], *, min_events: int = 50) -> dict[str, Any]:
    """Rates in the report's pileup bins with ≥ ``min_events`` events, at the bins' centres."""
    pu = report["pileup"]
    edges = np.asarray(pu["edges"], np.float64)
    events = np.asarray(pu["events"], np.int64)
    keep = events >= min_events
    k = float(report["lhc"]["n_bunches"]) * float(report["lhc"]["f_rev_hz"]) / 1000.0
    mu = ((edges[:-1] + edges[1:]) / 2)[keep]

    def series(rates: Sequence[float], errors: Sequence[float] | None) -> dict[str, list[float]]:
        r = np.asarray(rates, np.float64)[keep]
        e = _bin_errors(r, events[keep], k) if errors is None else np.asarray(errors, np.float64)[keep]
        if errors is not None:  # an empty bin's floor: one event of the bin's mean weight
            e = np.maximum(e, _bin_errors(np.zeros_like(r), events[keep], k) * (r == 0))
        return {"rate_khz": r.tolist(), "rate_err_khz": e.tolist()}

    errs = pu.get("seeds_err", {})
    return {"source": "pileup bins", "mu": mu.tolist(), "events": events[keep].tolist(),
            "edges": edges.tolist(), "crossing_rate_khz": k,
            "seeds": {n: series(v, errs.get(n)) for n, v in pu["seeds"].items()},
            "total": series(pu["total_rate_khz"], pu.get("total_rate_err_khz"))}  # fmt: skip


def mean_pileup(report: Mapping[str, Any]) -> float:
    """⟨μ⟩ of a report: ``pileup.mean`` or ``run.mu`` when recorded, else the mean of pileup-bin centres."""
    pu = report["pileup"]
    for mu in (pu.get("mean"), report.get("run", {}).get("mu")):
        if mu is not None:
            return float(mu)
    edges = np.asarray(pu["edges"], np.float64)
    events = np.asarray(pu["events"], np.float64)
    if events.sum() <= 0:
        msg = f"report of {report.get('run', {}).get('source', '?')}: no ⟨μ⟩ and no events in pileup bins"
        raise ConfigError(msg)
    return float(((edges[:-1] + edges[1:]) / 2 * events).sum() / events.sum())


def profile_from_reports(reports: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One point per report (samples at different ⟨μ⟩, same menu), sorted by ⟨μ⟩."""
    menus = {r["menu"] for r in reports}
    if len(menus) != 1:
        msg = f"reports use different menus {sorted(menus)}; rate-vs-pileup needs one menu"
        raise ConfigError(msg)
    reports = sorted(reports, key=mean_pileup)
    seeds = list(reports[0]["seeds"])
    return {
        "source": "reports", "mu": [mean_pileup(r) for r in reports],
        "crossing_rate_khz": float(reports[0]["lhc"]["n_bunches"]) * float(reports[0]["lhc"]["f_rev_hz"]) / 1e3
        if "lhc" in reports[0] else None,
        "events": [int(r["events"]["accepted"] + r["events"]["rejected"]) for r in reports],
        "seeds": {s: {"rate_khz": [r["seeds"][s]["rate_khz"] for r in reports],
                      "rate_err_khz": [r["seeds"][s]["rate_err_khz"] for r in reports]} for s in seeds},
        "total": {"rate_khz": [r["total_rate_khz"] for r in reports],
                  "rate_err_khz": [r["total_rate_err_khz"] for r in reports]},
    }  # fmt: skip


def fit_rate_vs_mu(
    mu: Sequence[float], rate: Sequence[float], err: Sequence[float], *, model: FitModel = "poisson",
    crossing_rate_khz: float | None = None,
) -> dict[str, Any] | None:
    """Constrained weighted fit of rate(μ); None when too few usable points.

    ``poisson`` needs ``crossing_rate_khz`` (the rate every crossing would give); without it
    the quadratic model is used.
    """
    x, y, e = (np.asarray(v, np.float64) for v in (mu, rate, err))
    if model not in _DEGREE:
        msg = f"fit model {model!r}: choose one of {list(FIT_MODELS)}"
        raise ConfigError(msg)
    if model == "poisson" and not crossing_rate_khz:
        model = "quadratic"
    ok = e > 0
    if model == "exponential":
        ok &= y > 1e-12
        y, e = np.log(np.where(ok, y, 1.0)), e / np.where(ok, y, 1.0)
    X = design(x, _DEGREE[model])
    if model == "poisson":
        assert crossing_rate_khz is not None
        ok &= y < crossing_rate_khz
        frac = np.where(ok, y, 0.0) / crossing_rate_khz
        y, e = -np.log1p(-frac), e / crossing_rate_khz / (1.0 - frac)
        X = X[:, 1:]  # no interactions, no rate
    fit = _exp_fit(X[ok], y[ok], e[ok]) if model == "exponential" else nnls_wls(X[ok], y[ok], e[ok])
    if fit is None:
        return None
    return {"model": model, **fit, "points": int(ok.sum()), "mu_range": [float(x[ok].min()), float(x[ok].max())],
            **({"crossing_rate_khz": crossing_rate_khz} if model == "poisson" else {})}


def _exp_fit(X: np.ndarray, y: np.ndarray, e: np.ndarray) -> dict[str, Any] | None:
    """log A free in sign, slope b ≥ 0: shift log A by a large constant so NNLS keeps it positive."""
    shift = 1e3
    fit = nnls_wls(X, y + shift, e)
    if fit is not None:
        fit["params"][0] -= shift
    return fit


def evaluate_fit(fit: Mapping[str, Any], mu: float) -> tuple[float, float]:
    """Fitted rate and its error (from the parameter covariance) at ``mu``; never negative."""
    x = design(np.array([mu]), _DEGREE[fit["model"]])[0]
    if fit["model"] == "poisson":
        x = x[1:]
    val = float(x @ np.asarray(fit["params"]))
    err = float(math.sqrt(max(float(x @ np.asarray(fit["cov"]) @ x), 0.0)))
    if fit["model"] == "exponential":
        return math.exp(val), math.exp(val) * err
    if fit["model"] == "poisson":
        r = float(fit["crossing_rate_khz"])
        return r * -math.expm1(-val), r * math.exp(-val) * err
    return max(val, 0.0), err


def _series_study(mu: list[float], series: Mapping[str, Any], target_mu: Sequence[float],
                  model: FitModel, crossing_rate_khz: float | None) -> dict[str, Any]:  # fmt: skip
    fit = fit_rate_vs_mu(mu, series["rate_khz"], series["rate_err_khz"], model=model,
                         crossing_rate_khz=crossing_rate_khz)
    extra = []
    if fit is not None:
        lo, hi = fit["mu_range"]
        for t in target_mu:
            r, e = evaluate_fit(fit, t)
            extra.append({"mu": float(t), "rate_khz": r, "rate_err_khz": e, "extrapolated": not lo <= t <= hi})
    return {**series, "fit": fit, "extrapolation": extra}


def pileup_study(
    profile: Mapping[str, Any], *, target_mu: Sequence[float] = (140.0, 200.0), model: FitModel = "poisson"
) -> dict[str, Any]:
    """Fits and extrapolations to ``target_mu`` for every seed and the total menu rate."""
    mu = [float(m) for m in profile["mu"]]
    k = profile.get("crossing_rate_khz")
    return {
        "source": profile.get("source", ""), "mu": mu, "events": list(profile["events"]), "model": model,
        "target_mu": [float(t) for t in target_mu],
        "seeds": {n: _series_study(mu, s, target_mu, model, k) for n, s in profile["seeds"].items()},
        "total": _series_study(mu, profile["total"], target_mu, model, k),
    }  # fmt: skip
