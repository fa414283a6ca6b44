"""Plots are checked by their data: each PNG has a JSON beside it holding exactly what it shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.chain import load_chain
from emulator.menu import load_menu
from emulator.plots import ReportInputs, plot_pileup, plot_scan, plot_turnon, render_report
from emulator.replay import ReplayOptions, replay
from emulator.studies import collect, parse_range, pileup_study, scan_thresholds, turnon
from emulator.studies.sample import Sample
from streams.sources import open_source
from tests.helpers import DEFAULT_CONFIG

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_ok(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 500
    assert height >= 500


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def test_scan_plot_data_is_the_scan(tmp_path: Path) -> None:
    chain = load_chain(DEFAULT_CONFIG)
    res = scan_thresholds(chain, open_source(None, events=3000), [("L1_SingleMu7", "pt")], parse_range("0:40:2"),
                          target_khz=3.0)  # fmt: skip
    out = plot_scan(res["scans"][0], tmp_path, right="parametric")
    _png_ok(out.png)
    data = _json(out.data)
    assert data["title"] == "L1_SingleMu7: rate vs pt threshold"
    assert data["data"] == json.loads(json.dumps(res["scans"][0]))
    assert data["data"]["target"]["target_khz"] == 3.0


def test_pileup_plot_carries_points_fit_and_extrapolation(tmp_path: Path) -> None:
    mu = [30.0, 45.0, 60.0, 75.0]
    prof = {"mu": mu, "events": [100] * 4,
            "seeds": {"A": {"rate_khz": [1.0, 2.0, 3.0, 4.0], "rate_err_khz": [0.1] * 4}},
            "total": {"rate_khz": [10.0, 14.5, 20.0, 26.5], "rate_err_khz": [0.5] * 4}}  # fmt: skip
    study = pileup_study(prof, target_mu=(200.0,))
    total = _json(plot_pileup(study, tmp_path).data)["data"]
    assert total["series"]["total"]["rate_khz"] == prof["total"]["rate_khz"]
    assert total["series"]["total"]["fit"]["params"] == pytest.approx(study["total"]["fit"]["params"])
    assert total["series"]["total"]["extrapolation"][0]["mu"] == 200.0
    seeds = plot_pileup(study, tmp_path, seeds=["A"])
    _png_ok(seeds.png)
    assert list(_json(seeds.data)["data"]["series"]) == ["A"]


def test_turnon_plot_has_bin_contents_and_points(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 100, 20_000)
    t = turnon(x, x + rng.normal(0, 5, x.size) > 50, np.linspace(0, 100, 21))
    out = plot_turnon("L1_SingleMu22", "sig", "gen_mu_pt", t, tmp_path)
    _png_ok(out.png)
    d = _json(out.data)["data"]
    assert d["events"] == t["events"]
    assert d["passed"] == t["passed"]
    assert d["fit"]["x50"] == pytest.approx(50.0, abs=1.0)
    assert d["points"]["fit"]["x95"] == pytest.approx(t["points"]["fit"]["x95"])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """A full report: replay report, a scan, zero bias with scores and a signal with gen and score columns."""
    out = tmp_path_factory.mktemp("report")
    report = replay(ReplayOptions(config=DEFAULT_CONFIG, events=6000, in_process=True))
    chain = load_chain(DEFAULT_CONFIG)
    menu = load_menu(chain.menu_path)  # type: ignore[arg-type]
    scan = scan_thresholds(chain, open_source(None, events=6000), [("L1_SingleMu22", "pt")], parse_range("5:40:5"))
    zb, cols = collect(chain, open_source(None, events=6000), name="zero bias")
    rng = np.random.default_rng(2)
    zb.columns["score_axo"] = rng.exponential(1.0, len(zb)).astype(np.float32)
    sig_events = 3000
    raw = np.zeros((sig_events, len(menu.seed_names)), bool)
    gen = rng.uniform(0, 60, sig_events)
    raw[:, menu.seed_names.index("L1_SingleMu22")] = gen + rng.normal(0, 2, sig_events) > 18
    sig = Sample("hh4b", menu.seed_names, raw, np.ones(sig_events), np.full(sig_events, 60.0),
                 {"gen_mu_pt": gen.astype(np.float32), "score_axo": (rng.exponential(1.0, sig_events) + 3).astype(
                     np.float32)})  # fmt: skip
    inputs = ReportInputs(report=report, scans=[scan], menu=menu, zero_bias=zb, column_rates=cols, signals=[sig],
                          turnon_seeds=["L1_SingleMu22"])  # fmt: skip
    return out, render_report(inputs, out), {"report": report, "scan": scan, "columns": cols}


_LATENCY_HISTS = {"latency_end_to_end"} | {
    f"latency_{s}_{k}" for s in ("calo_layer1", "objects", "global_trigger") for k in ("per_batch_us", "per_event_us")
}


def test_full_report_writes_every_plot_family(rendered: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    out, result, _ = rendered
    assert set(result["plots"]) == {
        "pure_rates", "overlap", "scan_L1_SingleMu22_pt", "pileup_total", "pileup_seeds", "prescale_columns",
        "turnon_L1_SingleMu22_hh4b", "score_axo_distributions", "score_axo_rate", "score_axo_efficiency",
        "latency_percentiles", *_LATENCY_HISTS,
    }  # fmt: skip
    for name in result["plots"]:
        _png_ok(out / f"{name}.png")
        assert _json(out / f"{name}.json")["data"]
    assert (out / "index.html").is_file()


def test_report_numbers_are_the_inputs(rendered: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    out, _, given = rendered
    studies = _json(out / "studies.json")
    report = given["report"]
    ov = _json(out / "overlap.json")["data"]
    assert ov["counts"] == report["overlap"]["counts"]
    assert ov["rate_khz"] == [s["rate_khz"] for s in report["seeds"].values()]
    cols = _json(out / "prescale_columns.json")["data"]
    assert cols["total_rate_khz"] == pytest.approx(given["columns"]["total_rate_khz"])
    assert studies["scans"][0]["scans"][0]["rate_khz"] == pytest.approx(given["scan"]["scans"][0]["rate_khz"])
    lat = _json(out / "latency_percentiles.json")["data"]["rows"]
    stage = report["latency_us"]["stages"]["global_trigger"]["per_batch_us"]
    assert next(r for r in lat if r["name"] == "global_trigger" and r["kind"] == "per_batch_us")["p99"] == stage["p99"]
    pu = _json(out / "pileup_total.json")["data"]["series"]["total"]
    kept = [r for r, n in zip(report["pileup"]["total_rate_khz"], report["pileup"]["events"], strict=True) if n >= 50]
    assert pu["rate_khz"] == pytest.approx(kept)
    turn = _json(out / "turnon_L1_SingleMu22_hh4b.json")["data"]
    assert turn["fit"]["x50"] == pytest.approx(18.0, abs=1.5)
    assert studies["turnons"][0]["efficiency"] == pytest.approx(turn["efficiency"])
    anomaly = _json(out / "score_axo_rate.json")["data"]
    assert anomaly["rate_khz"] == pytest.approx(studies["anomaly"]["score_axo"]["rate_khz"])


def test_report_alone_draws_only_what_it_can(tmp_path: Path, rendered: tuple[Path, dict[str, Any], Any]) -> None:
    report = rendered[2]["report"]
    result = render_report(ReportInputs(report=report), tmp_path)
    assert set(result["plots"]) == {
        "pure_rates", "overlap", "pileup_total", "pileup_seeds", "latency_percentiles", *_LATENCY_HISTS}
    assert not any(p.name.startswith("score_") for p in tmp_path.iterdir())


def test_several_reports_give_rate_against_mean_pileup(tmp_path: Path, rendered: tuple[Path, Any, Any]) -> None:
    base = rendered[2]["report"]

    def at(mu: float, scale: float) -> dict[str, Any]:
        seeds = {n: {**s, "rate_khz": s["rate_khz"] * scale} for n, s in base["seeds"].items()}
        total = base["total_rate_khz"] * scale
        pileup = {**base["pileup"], "mean": mu}
        return {**base, "run": {**base["run"], "mu": mu}, "pileup": pileup, "seeds": seeds, "total_rate_khz": total}

    reports = [at(60.0, 1.0), at(20.0, 0.2), at(40.0, 0.5)]
    render_report(ReportInputs(report=reports[0], more_reports=reports[1:], target_mu=(100.0,), fit_model="linear"),
                  tmp_path)  # fmt: skip
    total = _json(tmp_path / "pileup_total.json")["data"]
    assert total["mu"] == [20.0, 40.0, 60.0]
    r0 = base["total_rate_khz"]
    assert total["series"]["total"]["rate_khz"] == pytest.approx([0.2 * r0, 0.5 * r0, r0])
    assert total["target_mu"] == [100.0]
    assert total["series"]["total"]["extrapolation"][0]["mu"] == 100.0
