"""Latency from a replay report: end-to-end and per-stage percentiles, and histograms when present.

The report holds percentiles (p50, p90, p99, max, mean) of end-to-end latency per
event and of each stage's processing time per batch and per event. A latency entry
may also carry ``hist: {edges_us: [...], counts: [...]}``; such histograms are passed on.

>>> rep = {"latency_us": {"end_to_end": {"p50": 5.0, "p90": 9.0, "p99": 20.0, "max": 30.0, "mean": 6.0,
...        "samples": 10.0}, "stages": {}}}
>>> latency_study(rep)["rows"][0]["p99"]
20.0
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["QUANTITIES", "latency_study"]

QUANTITIES: tuple[str, ...] = ("p50", "p90", "p99", "max", "mean")


def _row(name: str, kind: str, s: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": name, "kind": kind, **{q: float(s.get(q, 0.0)) for q in QUANTITIES},
            "samples": int(s.get("samples", 0))}  # fmt: skip


def latency_study(report: Mapping[str, Any]) -> dict[str, Any]:
    """Rows (end-to-end per event; per stage per batch and per event) and any histograms, in µs."""
    lat = report["latency_us"]
    rows = [_row("end-to-end", "per_event_us", lat["end_to_end"])]
    hists: dict[str, Any] = {}
    if "hist" in lat["end_to_end"]:
        hists["end-to-end"] = lat["end_to_end"]["hist"]
    for stage, s in lat["stages"].items():
        for kind in ("per_batch_us", "per_event_us"):
            if kind in s:
                rows.append(_row(stage, kind, s[kind]))
                if "hist" in s[kind]:
                    hists[f"{stage} {kind}"] = s[kind]["hist"]
    return {"rows": rows, "histograms": hists, "has_end_to_end": rows[0]["samples"] > 0}
