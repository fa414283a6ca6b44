"""Replay throughput through real processes vs the same chain in one process, and
paced-mode latency at about half the streamed maximum (issue: foundation, item 12).

Run: ``.venv/bin/python benchmarks/bench_replay.py [--events N] [--workers K] [--repeat R]``.
Every measurement is repeated ``R`` times in this run (on a shared 2-core machine one run's p99
rests on a handful of batches and moves by several ms from run to run); it prints every run, the
median and the range, as JSON and as a summary.

The paced point is measured twice per round, back to back at the same rate (which runs first
alternates between rounds): with normal scheduling, and with every node under SCHED_FIFO
(``--realtime-priority``, default 10; 0 skips it), the deployment the docs recommend for
latency measurements (docs/streaming.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from emulator.replay import ReplayOptions, replay
from streams.hdf5 import write_batches
from streams.sources.parametric import ParametricConfig, ParametricSource

CONFIG = str(Path(__file__).resolve().parents[1] / "configs" / "default.yaml")


def _spread(values: list[float]) -> dict[str, Any]:
    return {"runs": [round(v, 3) for v in values], "median": round(statistics.median(values), 3),
            "min": round(min(values), 3), "max": round(max(values), 3)}


def _percentiles(report: dict[str, Any]) -> dict[str, float]:
    """End-to-end latency percentiles of a report, without the histogram."""
    return {k: v for k, v in report["latency_us"]["end_to_end"].items() if k != "hist"}


def _one_round(common: dict[str, Any], args: argparse.Namespace, index: int) -> dict[str, Any]:
    inproc = replay(ReplayOptions(**common, in_process=True))
    streamed = replay(ReplayOptions(**common, workers=args.workers))
    # paced mode: the maximum is measured with the paced batch size, then halved
    small = replay(ReplayOptions(**common, events=args.paced_events, workers=args.workers,
                                 batch_size=args.paced_batch))
    half = 0.5 * small["throughput_eps"]
    paced_opts = ReplayOptions(**common, events=args.paced_events, workers=args.workers, rate_hz=half,
                               batch_size=args.paced_batch)
    rt_opts = replace(paced_opts, realtime_priority=args.realtime_priority) if args.realtime_priority else None
    if rt_opts is not None and index % 2:  # alternate which of the pair runs first
        rt, paced = replay(rt_opts), replay(paced_opts)
    else:
        paced = replay(paced_opts)
        rt = replay(rt_opts) if rt_opts is not None else None
    row = {
        "in_process_eps": inproc["throughput_eps"],
        "streamed_eps": streamed["throughput_eps"],
        "streamed_over_in_process": streamed["throughput_eps"] / inproc["throughput_eps"],
        "max_eps_at_paced_batch": small["throughput_eps"],
        "paced_rate_hz": half,
        "paced_eps": paced["throughput_eps"],
        "paced_latency_us": _percentiles(paced),
        "paced_p99_ms": paced["latency_us"]["end_to_end"]["p99"] / 1000.0,
        "paced_p50_ms": paced["latency_us"]["end_to_end"]["p50"] / 1000.0,
        "identical_seed_counts": {k: v["count"] for k, v in inproc["seeds"].items()}
        == {k: v["count"] for k, v in streamed["seeds"].items()},
    }
    if rt is not None:
        granted = {n["policy"] for n in rt["scheduling"]["nodes"].values()} == {"fifo"}
        row |= {"realtime_granted": granted, "paced_rt_latency_us": _percentiles(rt),
                "paced_rt_p99_ms": rt["latency_us"]["end_to_end"]["p99"] / 1000.0,
                "paced_rt_p50_ms": rt["latency_us"]["end_to_end"]["p50"] / 1000.0}
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=400_000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--paced-events", type=int, default=200_000)
    ap.add_argument("--paced-batch", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3, help="rounds of every measurement")
    ap.add_argument("--realtime-priority", type=int, default=10,
                    help="also measure the paced point with SCHED_FIFO nodes at this priority (0: skip)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sample = str(Path(tmp) / "zb.h5")
        write_batches(sample, ParametricSource(ParametricConfig(events=args.events, mu=60, seed=11)).batches(8192))
        os.sync()  # the sample's write-back must not land in the middle of a measurement
        common = {"config": CONFIG, "source": sample}
        rounds = [_one_round(common, args, i) for i in range(max(1, args.repeat))]
    summary: dict[str, Any] = {key: _spread([r[key] for r in rounds]) for key in (
        "in_process_eps", "streamed_eps", "streamed_over_in_process", "max_eps_at_paced_batch",
        "paced_eps", "paced_p99_ms", "paced_p50_ms")}
    if args.realtime_priority:
        summary |= {key: _spread([r[key] for r in rounds]) for key in ("paced_rt_p99_ms", "paced_rt_p50_ms")}
        summary["realtime_granted"] = all(r["realtime_granted"] for r in rounds)
    summary["paced_batch"] = args.paced_batch
    summary["identical_seed_counts"] = all(r["identical_seed_counts"] for r in rounds)
    print(json.dumps(summary, indent=2))
    ratio, p99 = summary["streamed_over_in_process"], summary["paced_p99_ms"]
    print(f"streamed/in-process throughput ratio over {len(rounds)} rounds: median {ratio['median']:.2f}, "
          f"range {ratio['min']:.2f}-{ratio['max']:.2f} (goal >= 0.7)")
    print(f"paced p99 latency at half the maximum over {len(rounds)} rounds: median {p99['median']:.2f} ms, "
          f"range {p99['min']:.2f}-{p99['max']:.2f} ms, normal scheduling (goal <= 10 ms)")
    if args.realtime_priority:
        rt = summary["paced_rt_p99_ms"]
        how = "granted" if summary["realtime_granted"] else "NOT granted to every node"
        print(f"paced p99 latency, same rate, SCHED_FIFO priority {args.realtime_priority} ({how}): "
              f"median {rt['median']:.2f} ms, range {rt['min']:.2f}-{rt['max']:.2f} ms (goal <= 10 ms)")


if __name__ == "__main__":
    main()
