"""Replay throughput on a Dask LocalCluster of 1 and 2 worker processes against the in-process
replay of the same events, and the per-worker efficiency (issue 23, item 6; goal >= 0.8 of linear).

Run: ``.venv/bin/python benchmarks/bench_dask.py [--events N] [--repeat R] [--partition-events P]``.
The events are parametric crossings written to an HDF5 file first. Each cluster is started once
and reused for every round; a replay's throughput is events over the span from its first
submitted partition to its last result (the executor warms every worker's pipeline before), so
cluster start-up and JIT compilation are left out, as they are for the in-process figure. The
driver (this process: reading results, the rate sink) shares the machine's cores with the workers.
Prints every round and the medians as JSON, then a summary.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
from pathlib import Path
from typing import Any

from distributed import LocalCluster

from emulator.replay import ReplayOptions, replay
from emulator.replay_report import seed_counts
from streams.hdf5 import write_batches
from streams.sources.parametric import ParametricConfig, ParametricSource

CONFIG = str(Path(__file__).resolve().parents[1] / "configs" / "default.yaml")


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in rows), 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=400_000)
    ap.add_argument("--repeat", type=int, default=2, help="rounds of every measurement")
    ap.add_argument("--partition-events", type=int, default=None, help="default: about 4 partitions a worker")
    args = ap.parse_args()
    logging.getLogger("distributed").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "zb.h5"
        src = ParametricSource(ParametricConfig(events=args.events, mu=60.0, seed=1))
        write_batches(path, src.batches(4096))
        common = {"config": CONFIG, "source": str(path)}
        clusters = {k: LocalCluster(n_workers=k, threads_per_worker=1, processes=True, dashboard_address=None,
                                    silence_logs=logging.ERROR) for k in (1, 2)}
        rows = []
        try:
            for _ in range(args.repeat):
                ref = replay(ReplayOptions(**common, in_process=True))
                row: dict[str, Any] = {"in_process_eps": ref["throughput_eps"]}
                for k, cluster in clusters.items():
                    rep = replay(ReplayOptions(**common, dask=cluster.scheduler_address,
                                               partition_events=args.partition_events))
                    row[f"dask{k}_eps"] = rep["throughput_eps"]
                    row[f"dask{k}_partitions"] = rep["run"]["dask"]["partitions"]
                    row[f"dask{k}_identical_counts"] = seed_counts(rep) == seed_counts(ref)
                row["dask1_over_in_process"] = row["dask1_eps"] / row["in_process_eps"]
                row["efficiency_2_workers"] = row["dask2_eps"] / (2 * row["dask1_eps"])
                row["efficiency_2_vs_in_process"] = row["dask2_eps"] / (2 * row["in_process_eps"])
                print(json.dumps(row), flush=True)
                rows.append(row)
        finally:
            for cluster in clusters.values():
                cluster.close()
    keys = ("in_process_eps", "dask1_eps", "dask2_eps", "dask1_over_in_process", "efficiency_2_workers",
            "efficiency_2_vs_in_process")
    medians = {k: _median(rows, k) for k in keys}
    identical = all(r["dask1_identical_counts"] and r["dask2_identical_counts"] for r in rows)
    print(json.dumps({"events": args.events, "rounds": len(rows), "median": medians,
                      "identical_seed_counts": identical}))
    print(f"\n{args.events} events, {len(rows)} rounds (medians): in-process {medians['in_process_eps']:,.0f} ev/s, "
          f"dask 1 worker {medians['dask1_eps']:,.0f} ev/s ({medians['dask1_over_in_process']:.2f} of in-process), "
          f"2 workers {medians['dask2_eps']:,.0f} ev/s: efficiency {medians['efficiency_2_workers']:.2f} of linear "
          f"on 2 workers ({medians['efficiency_2_vs_in_process']:.2f} against 2x in-process); "
          f"seed counts identical: {identical}")


if __name__ == "__main__":
    main()
