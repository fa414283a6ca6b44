"""Rate against pileup: profiles from a report's pileup bins or from several reports, fits, extrapolation.

Models (``model=``): ``linear`` (a + bμ), ``quadratic`` (a + bμ + cμ², the default: rates of
multi-object and sum seeds grow faster than linearly) and ``exponential`` (A·e^{bμ}, fitted
as a line in log rate). Errors come from √N per point (unit weights), with one
count as the floor of empty points so they still pull the fit.

>>> prof = {"mu": [40.0, 50.0, 60.0, 70.0], "events": [1000] * 4,
...         "seeds": {"A": {"rate_khz": [4.0, 5.0, 6.0, 7.0], "rate_err_khz": [0.1] * 4}},
...         "total": {"rate_khz": [8.0, 10.0, 12.0, 14.0], "rate_err_khz": [0.1] * 4}}
>>> study = pileup_study(prof, target_mu=(140.0,), model="linear")
>>> round(study["seeds"]["A"]["extrapolation"][0]["rate_khz"], 6)
14.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from emulator.errors import ConfigError
from emulator.studies._fit import design, wls

__all__ = ["FitModel", "evaluate_fit", "fit_rate_vs_mu", "pileup_study", "profile_from_bins", "profile_from_reports"]

FitModel = Literal["linear", "quadratic", "exponential"]
_DEGREE: dict[str, int] = {"linear": 1, "quadratic": 2, "exponential": 1}


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

    def series(rates: Sequence[float]) -> dict[str, list[float]]:
        r = np.asarray(rates, np.float64)[keep]
        return {"rate_khz": r.tolist(), "rate_err_khz": _bin_errors(r, events[keep], k).tolist()}

    return {"source": "pileup bins", "mu": mu.tolist(), "events": events[keep].tolist(),
            "edges": edges.tolist(), "seeds": {n: series(v) for n, v in pu["seeds"].items()},
            "total": series(pu["total_rate_khz"])}  # fmt: skip


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
        "events": [int(r["events"]["accepted"] + r["events"]["rejected"]) for r in reports],
        "seeds": {s: {"rate_khz": [r["seeds"][s]["rate_khz"] for r in reports],
                      "rate_err_khz": [r["seeds"][s]["rate_err_khz"] for r in reports]} for s in seeds},
        "total": {"rate_khz": [r["total_rate_khz"] for r in reports],
                  "rate_err_khz": [r["total_rate_err_khz"] for r in reports]},
    }  # fmt: skip


def fit_rate_vs_mu(
    mu: Sequence[float], rate: Sequence[float], err: Sequence[float], *, model: FitModel = "quadratic"
) -> dict[str, Any] | None:
    """Weighted fit of rate(μ); None when too few usable points."""
    x, y, e = (np.asarray(v, np.float64) for v in (mu, rate, err))
    if model not in _DEGREE:
        msg = f"fit model {model!r}: choose one of {sorted(_DEGREE)}"
        raise ConfigError(msg)
    ok = e > 0
    if model == "exponential":
        ok &= y > 0
        y, e = np.log(np.where(ok, y, 1.0)), e / np.where(ok, y, 1.0)
    fit = wls(design(x[ok], _DEGREE[model]), y[ok], e[ok])
    if fit is None:
        return None
    return {"model": model, **fit, "points": int(ok.sum())}


def evaluate_fit(fit: Mapping[str, Any], mu: float) -> tuple[float, float]:
    """Fitted rate and its error (from the parameter covariance) at ``mu``."""
    x = design(np.array([mu]), len(fit["params"]) - 1)[0]
    val = float(x @ np.asarray(fit["params"]))
    err = float(math.sqrt(max(float(x @ np.asarray(fit["cov"]) @ x), 0.0)))
    if fit["model"] == "exponential":
        return math.exp(val), math.exp(val) * err
    return val, err


def _series_study(mu: list[float], series: Mapping[str, Any], target_mu: Sequence[float],
                  model: FitModel) -> dict[str, Any]:  # fmt: skip
    fit = fit_rate_vs_mu(mu, series["rate_khz"], series["rate_err_khz"], model=model)
    extra = []
    if fit is not None:
        for t in target_mu:
            r, e = evaluate_fit(fit, t)
            extra.append({"mu": float(t), "rate_khz": r, "rate_err_khz": e})
    return {**series, "fit": fit, "extrapolation": extra}


def pileup_study(
    profile: Mapping[str, Any], *, target_mu: Sequence[float] = (140.0, 200.0), model: FitModel = "quadratic"
) -> dict[str, Any]:
    """Fits and extrapolations to ``target_mu`` for every seed and the total menu rate."""
    mu = [float(m) for m in profile["mu"]]
    return {
        "source": profile.get("source", ""), "mu": mu, "events": list(profile["events"]), "model": model,
        "target_mu": [float(t) for t in target_mu],
        "seeds": {n: _series_study(mu, s, target_mu, model) for n, s in profile["seeds"].items()},
        "total": _series_study(mu, profile["total"], target_mu, model),
    }  # fmt: skip
