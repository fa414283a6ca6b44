"""Rate-vs-pileup profiles, fits and extrapolations."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.errors import ConfigError
from emulator.studies.pileup import (
    evaluate_fit,
    fit_rate_vs_mu,
    mean_pileup,
    pileup_study,
    profile_from_bins,
    profile_from_reports,
)

MU = np.array([20.0, 40.0, 60.0, 80.0, 100.0])


def test_quadratic_fit_recovers_exact_parameters_and_extrapolates() -> None:
    rate = 2.0 + 0.5 * MU + 0.01 * MU**2
    fit = fit_rate_vs_mu(MU, rate, np.full(5, 0.3))
    assert fit is not None
    assert fit["params"] == pytest.approx([2.0, 0.5, 0.01])
    assert fit["chi2"] == pytest.approx(0.0, abs=1e-12)
    assert (fit["ndf"], fit["points"]) == (2, 5)
    value, err = evaluate_fit(fit, 200.0)
    assert value == pytest.approx(2.0 + 100.0 + 400.0)
    x = np.array([1.0, 200.0, 200.0**2])
    assert err == pytest.approx(math.sqrt(x @ np.array(fit["cov"]) @ x))
    assert err > evaluate_fit(fit, 60.0)[1]  # extrapolating far out is less certain


def test_errors_weight_the_fit() -> None:
    rate = 10.0 + MU
    rate[-1] += 50.0  # an outlier with a huge error barely pulls the line
    err = np.array([0.1, 0.1, 0.1, 0.1, 1e4])
    fit = fit_rate_vs_mu(MU, rate, err, model="linear")
    assert fit is not None
    assert fit["params"] == pytest.approx([10.0, 1.0], abs=1e-6)


def test_exponential_fit_and_its_error() -> None:
    rate = 3.0 * np.exp(0.02 * MU)
    fit = fit_rate_vs_mu(MU, rate, 0.05 * rate, model="exponential")
    assert fit is not None
    assert fit["params"] == pytest.approx([math.log(3.0), 0.02])
    value, err = evaluate_fit(fit, 140.0)
    assert value == pytest.approx(3.0 * math.exp(2.8))
    assert 0 < err < value


def test_too_few_points_or_bad_model() -> None:
    assert fit_rate_vs_mu([60.0, 70.0], [1.0, 2.0], [0.1, 0.1]) is None  # quadratic needs 3
    assert fit_rate_vs_mu([60.0, 70.0, 80.0], [0.0, 0.0, 1.0], [1.0] * 3, model="exponential") is None
    with pytest.raises(ConfigError, match="cubic"):
        fit_rate_vs_mu(MU, MU, MU, model="cubic")  # type: ignore[arg-type]


def _report(mu: float | None, rates: dict[str, float], total: float, events: list[int]) -> dict[str, Any]:
    run: dict[str, Any] = {"source": "parametric"}
    if mu is not None:
        run["mu"] = mu
    return {
        "menu": "m", "run": run, "lhc": {"n_bunches": 1000, "f_rev_hz": 1000.0},  # 1000 kHz crossing rate
        "events": {"accepted": 10, "rejected": 990},
        "seeds": {n: {"rate_khz": r, "rate_err_khz": r / 10} for n, r in rates.items()},
        "total_rate_khz": total, "total_rate_err_khz": total / 10,
        "pileup": {"edges": [0, 20, 40, 60, 1000], "events": events, "total_rate_khz": [1.0, 2.0, 0.0, 9.0],
                   "seeds": {n: [r, 2 * r, 0.0, 3 * r] for n, r in rates.items()}},
    }  # fmt: skip


def test_profile_from_bins_uses_populated_bins_and_poisson_errors() -> None:
    prof = profile_from_bins(_report(None, {"A": 4.0}, 5.0, [100, 400, 400, 10]), min_events=50)
    assert prof["mu"] == [10.0, 30.0, 50.0]
    assert prof["seeds"]["A"]["rate_khz"] == [4.0, 8.0, 0.0]
    # 4 kHz of 1000 kHz in 100 events = 0.4 counts -> floored at one count: √1 / 100 × 1000
    assert prof["seeds"]["A"]["rate_err_khz"][0] == pytest.approx(10.0)
    # 8 kHz in 400 events = 3.2 counts
    assert prof["seeds"]["A"]["rate_err_khz"][1] == pytest.approx(math.sqrt(3.2) / 400 * 1000)
    assert prof["total"]["rate_khz"] == [1.0, 2.0, 0.0]


def test_profile_from_reports_sorts_by_mu_and_checks_the_menu() -> None:
    reps = [_report(140.0, {"A": 9.0}, 20.0, [0, 0, 0, 5]), _report(60.0, {"A": 3.0}, 8.0, [0, 0, 5, 0]),
            _report(None, {"A": 1.0}, 2.0, [0, 10, 0, 0])]  # fmt: skip
    prof = profile_from_reports(reps)
    assert prof["mu"] == [30.0, 60.0, 140.0]  # the one without run.mu: mean of its pileup-bin centres
    measured = _report(None, {"A": 1.0}, 2.0, [0, 10, 0, 0])
    measured["pileup"]["mean"] = 33.5
    assert mean_pileup(measured) == 33.5
    assert prof["seeds"]["A"]["rate_khz"] == [1.0, 3.0, 9.0]
    assert prof["total"]["rate_err_khz"] == pytest.approx([0.2, 0.8, 2.0])
    other = {**reps[0], "menu": "other"}
    with pytest.raises(ConfigError, match="different menus"):
        profile_from_reports([reps[1], other])
    with pytest.raises(ConfigError, match="no ⟨μ⟩"):
        mean_pileup(_report(None, {}, 0.0, [0, 0, 0, 0]))


def test_study_fits_every_seed_and_the_total() -> None:
    prof = {"mu": MU.tolist(), "events": [1000] * 5,
            "seeds": {"A": {"rate_khz": (1 + 0.1 * MU).tolist(), "rate_err_khz": [0.1] * 5}},
            "total": {"rate_khz": (5 + 0.002 * MU**2).tolist(), "rate_err_khz": [0.1] * 5}}  # fmt: skip
    study = pileup_study(prof, target_mu=(140.0, 200.0))
    assert [e["mu"] for e in study["total"]["extrapolation"]] == [140.0, 200.0]
    assert study["total"]["extrapolation"][1]["rate_khz"] == pytest.approx(5 + 0.002 * 200**2)
    assert study["seeds"]["A"]["extrapolation"][0]["rate_khz"] == pytest.approx(15.0)
    assert study["seeds"]["A"]["rate_khz"] == prof["seeds"]["A"]["rate_khz"]  # the points travel with the fit


@settings(max_examples=80, deadline=None)
@given(rates=st.lists(st.floats(0.0, 500.0), min_size=5, max_size=5),
       model=st.sampled_from(["poisson", "linear", "quadratic", "exponential"]))
def test_no_model_ever_extrapolates_below_zero_or_falls_with_pileup(rates: list[float], model: str) -> None:
    """Whatever the points (even falling ones), every fitted curve is ≥ 0 and non-decreasing in μ."""
    y = np.asarray(rates)
    fit = fit_rate_vs_mu(MU, y, np.maximum(0.05 * y, 0.5), model=model,  # type: ignore[arg-type]
                         crossing_rate_khz=28_608.0)
    if fit is None:
        return
    curve = np.array([evaluate_fit(fit, float(m))[0] for m in np.linspace(0.0, 300.0, 61)])
    assert (curve >= 0).all()
    assert (np.diff(curve) >= -1e-9 * np.maximum(curve[1:], 1.0)).all()


def test_poisson_model_recovers_a_saturating_rate_and_stays_below_the_crossing_rate() -> None:
    k = 28_608.0
    truth = k * -np.expm1(-(1e-4 * MU + 2e-6 * MU**2))
    fit = fit_rate_vs_mu(MU, truth, 0.01 * truth, model="poisson", crossing_rate_khz=k)
    assert fit is not None
    assert fit["params"] == pytest.approx([1e-4, 2e-6, 0.0], abs=1e-9)
    assert evaluate_fit(fit, 140.0)[0] == pytest.approx(k * -math.expm1(-(1e-4 * 140 + 2e-6 * 140**2)), rel=1e-6)
    assert evaluate_fit(fit, 5000.0)[0] <= k


def test_falling_points_give_a_flat_non_negative_extrapolation_marked_as_such() -> None:
    """The old unconstrained quadratic printed −169 kHz from points like these."""
    prof = {"mu": [50.0, 55.0, 60.0, 65.0, 70.0], "events": [1000] * 5, "crossing_rate_khz": 28_608.0,
            "seeds": {"A": {"rate_khz": [30.0, 28.0, 27.0, 22.0, 20.0], "rate_err_khz": [2.0] * 5}},
            "total": {"rate_khz": [30.0, 28.0, 27.0, 22.0, 20.0], "rate_err_khz": [2.0] * 5}}
    for model in ("poisson", "quadratic", "linear"):
        study = pileup_study(prof, target_mu=(60.0, 140.0, 200.0), model=model)  # type: ignore[arg-type]
        ext = study["seeds"]["A"]["extrapolation"]
        assert all(e["rate_khz"] >= 0 for e in ext)
        assert [e["extrapolated"] for e in ext] == [False, True, True]
