"""Replay throughput through real processes vs the same chain in one process, and
paced-mode latency at about half the streamed maximum (issue: foundation, item 12).

Run: ``.venv/bin/python benchmarks/bench_replay.py [--events N] [--workers K]``.
Prints one JSON line per measurement and a summary with the ratios of this run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from emulator.replay import ReplayOptions, replay
from streams.hdf5 import write_batches
from streams.sources.parametric import ParametricConfig, ParametricSource

CONFIG = str(Path(__file__).resolve().parents[1] / "configs" / "default.yaml")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=400_000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--paced-events", type=int, default=200_000)
    ap.add_argument("--paced-batch", type=int, default=256)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sample = str(Path(tmp) / "zb.h5")
        write_batches(sample, ParametricSource(ParametricConfig(events=args.events, mu=60, seed=11)).batches(8192))
        common = {"config": CONFIG, "source": sample}
        inproc = replay(ReplayOptions(**common, in_process=True))
        streamed = replay(ReplayOptions(**common, workers=args.workers))
        # paced mode: the maximum is measured with the paced batch size, then halved
        small = replay(ReplayOptions(**common, events=args.paced_events, workers=args.workers,
                                     batch_size=args.paced_batch))
        half = 0.5 * small["throughput_eps"]
        paced = replay(ReplayOptions(**common, events=args.paced_events, workers=args.workers, rate_hz=half,
                                     batch_size=args.paced_batch))
    rows = {
        "in_process_eps": inproc["throughput_eps"],
        "streamed_eps": streamed["throughput_eps"],
        "streamed_over_in_process": streamed["throughput_eps"] / inproc["throughput_eps"],
        "streamed_latency_us": streamed["latency_us"]["end_to_end"],
        "max_eps_at_paced_batch": small["throughput_eps"],
        "paced_batch": args.paced_batch,
        "paced_rate_hz": half,
        "paced_eps": paced["throughput_eps"],
        "paced_latency_us": paced["latency_us"]["end_to_end"],
        "paced_p99_ms": paced["latency_us"]["end_to_end"]["p99"] / 1000.0,
        "identical_seed_counts": {k: v["count"] for k, v in inproc["seeds"].items()}
        == {k: v["count"] for k, v in streamed["seeds"].items()},
    }
    print(json.dumps(rows, indent=2))
    print(f"streamed/in-process throughput ratio: {rows['streamed_over_in_process']:.2f} (goal >= 0.7)")
    print(f"paced p99 latency at {half:,.0f} ev/s: {rows['paced_p99_ms']:.2f} ms (goal <= 10 ms)")


if __name__ == "__main__":
    main()
