"""Latency rows and histograms from a replay report."""

from __future__ import annotations

from emulator.studies.latency import latency_study


def _s(p50: float, samples: float = 4.0) -> dict[str, float]:
    return {"p50": p50, "p90": 2 * p50, "p99": 3 * p50, "max": 4 * p50, "mean": 1.5 * p50, "samples": samples}


def test_rows_per_stage_and_histograms_passed_on() -> None:
    hist = {"edges_us": [1.0, 10.0, 100.0], "counts": [5, 2]}
    rep = {"latency_us": {"end_to_end": {**_s(7.0), "hist": hist},
                          "stages": {"gt": {"per_batch_us": _s(100.0), "per_event_us": _s(0.5, 0.0)}}}}  # fmt: skip
    study = latency_study(rep)
    assert [(r["name"], r["kind"]) for r in study["rows"]] == [
        ("end-to-end", "per_event_us"), ("gt", "per_batch_us"), ("gt", "per_event_us")]  # fmt: skip
    assert study["rows"][1]["p99"] == 300.0
    assert study["rows"][2]["samples"] == 0
    assert study["histograms"] == {"end-to-end": hist}
    assert study["has_end_to_end"]


def test_in_process_reports_have_no_end_to_end_samples() -> None:
    rep = {"latency_us": {"end_to_end": _s(0.0, 0.0), "stages": {}}}
    assert not latency_study(rep)["has_end_to_end"]
