"""Validation studies as data (``emulator.studies.validation``) and their figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from emulator.chain import load_chain
from emulator.plots.validation import plot_cms_ratios, plot_lumi, plot_rate_curves, plot_rate_vs_mu, plot_turn_ons
from emulator.studies import cms_rates
from emulator.studies import validation as study
from streams.sources.parametric import ParametricConfig, ParametricSource

ROOT = Path(__file__).resolve().parents[1]


def _batches(mu: float, events: int = 3000) -> list:  # type: ignore[type-arg]
    return list(ParametricSource(ParametricConfig(events=events, mu=mu, seed=3)).batches(1024))


def test_turn_on_counts_per_bin() -> None:
    gen = np.array([1.0, 2.0, 11.0, 12.0, 13.0, 14.0])
    fired = np.array([False, False, True, False, True, True])
    t = study.turn_on(gen, fired, np.array([0.0, 10.0, 20.0, 30.0]))
    assert t["eff"][:2] == [0.0, 0.75]
    assert np.isnan(t["eff"][2])
    assert t["err"][1] == pytest.approx(np.sqrt(0.75 * 0.25 / 4))


def test_menu_rates_count_every_event_and_fire_zero_bias() -> None:
    chain = load_chain(ROOT / "configs" / "default.yaml")
    res = study.menu_rates(chain, _batches(60.0))
    assert res["seeds"]["L1_ZeroBias"]["count_raw"] == 3000
    assert res["total_rate_khz"] > 0


def test_rate_vs_mu_is_the_menu_rate_per_sample_and_figures_hold_the_numbers(tmp_path: Path) -> None:
    chain = load_chain(ROOT / "configs" / "default.yaml")
    d = study.rate_vs_mu(chain, {20.0: _batches(20.0), 80.0: _batches(80.0)}, ("L1_ETMHF100", "NoSuchSeed"))
    assert d["mu"] == [20.0, 80.0]
    at80 = study.menu_rates(chain, _batches(80.0))
    assert d["total_rate_khz"][1] == at80["total_rate_khz"]
    assert d["seeds"]["L1_ETMHF100"][1] == at80["seeds"]["L1_ETMHF100"]["rate_khz"]
    assert list(d["seeds"]) == ["L1_ETMHF100"]
    f = plot_rate_vs_mu(d, tmp_path)
    assert f.png.stat().st_size > 0
    assert json.loads(f.data.read_text())["data"]["mu"] == [20.0, 80.0]
    lumi = study.lumi_table(80.0)
    assert lumi["mu_to_lumi_cm2s"]["60"] == pytest.approx(60 * 2544 * 11245.613 / 80e-27)
    assert plot_lumi(lumi, tmp_path).png.exists()
    t = study.turn_on(np.linspace(0, 50, 100), np.linspace(0, 50, 100) > 20, np.linspace(0, 50, 6))
    assert plot_turn_ons({"SingleMu22": t}, {"SingleMu22": "gen pT"}, tmp_path).png.exists()


def test_cms_study_compares_every_cms_seed_and_curves_agree_with_the_menu(tmp_path: Path) -> None:
    chain = load_chain(ROOT / "configs" / "default.yaml")
    d = study.cms_study(chain, _batches(60.0, events=4000))
    assert set(d["comparison"]) == set(cms_rates.CMS_RATES_KHZ)  # the default menu carries all of them
    rates = study.menu_rates(chain, _batches(60.0, events=4000))["seeds"]
    for name, r in d["comparison"].items():
        assert r["l1emu_khz"] == rates[name]["rate_raw_khz"]
        assert r["ratio"] == pytest.approx(r["l1emu_khz"] / cms_rates.CMS_RATES_KHZ[name][0])
        assert r["within_goal"] == (1 / 1.5 <= r["ratio"] <= 1.5)
    # a curve at the seed's own threshold is the seed's rate (same cuts, same weights)
    for curve in d["curves"].values():
        seed = curve["cms_seed"]
        if seed is None:
            continue
        at = cms_rates.threshold_curve(_columns(chain), cms_rates.CURVES[curve["label"]],
                                       np.array([curve["cms_threshold"]]), crossing_khz=2544 * 11.245613)
        assert at["rate_khz"][0] == pytest.approx(rates[seed]["rate_raw_khz"], rel=1e-9, abs=1e-9), seed
    assert sum(r["share_of_total"] for r in d["composition"]) > 0
    assert plot_rate_curves(d["curves"], tmp_path).png.exists()
    assert plot_cms_ratios(d["comparison"], cms_rates.RATIO_GOAL, tmp_path).png.exists()


def _columns(chain: object) -> dict[str, np.ndarray]:
    from emulator.pipeline import Pipeline
    from streams.event import EventBatch

    out = EventBatch.concat(Pipeline.from_chain(chain).run_batches(_batches(60.0, events=4000)))  # type: ignore[arg-type]
    return {c: out[c] for c in out}
