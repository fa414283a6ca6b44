"""The whole default chain in one process on one core, and streamed through processes per core used
(issue: throughput).

Run: ``.venv/bin/python benchmarks/bench_chain.py [--events N] [--mu MU] [--batch-sizes 1024,4096,16384]
[--repeat R] [--source FILE] [--no-streamed] [--json]``.

The sample is stitched Pythia 8 zero bias from the generator (``l1emu generate``'s pools, cached in
``~/.cache/l1emu``), held in memory so the figure is the chain's, not the disk's (reading it back is
timed separately as ``read_us_per_event``). One process, one thread: numba and BLAS are pinned to one
thread before numpy is imported. Every algorithm of every stage and the collector's rate accumulation
run on every batch; each is timed per batch and the fastest of ``--repeat`` passes over the sample is
kept (a shared machine only ever slows a pass down). ``cores_for_40mhz`` = 40 × 10⁶ / (events/s) at
the best batch size.

The streamed figure runs ``l1emu replay`` through real node processes and divides the events by the
CPU seconds every process spent (this one and its waited-for children, from ``getrusage``) beyond
those of a one-batch replay (start-up), i.e. events per second per core used; its seed counts are
compared with the in-process ones.
"""

from __future__ import annotations

import os

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402 - the thread pins above must precede numpy's import
import json  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from emulator.chain import load_chain  # noqa: E402
from emulator.menu import Menu  # noqa: E402
from emulator.pipeline import Pipeline  # noqa: E402
from emulator.replay import ReplayOptions, replay  # noqa: E402
from emulator.replay_report import RateSink  # noqa: E402
from streams.event import EventBatch  # noqa: E402
from streams.generators import SampleSpec, build_source  # noqa: E402
from streams.hdf5 import HDF5Source, HDF5Writer  # noqa: E402

CONFIG = str(Path(__file__).resolve().parents[1] / "configs" / "default.yaml")
RATES = "rates"


def _sample(args: argparse.Namespace, path: Path) -> float:
    """Write the zero-bias sample to ``path`` (unless ``--source``); seconds to read it back."""
    if args.source is None:
        spec = SampleSpec(process="minbias", mu=args.mu, events=args.events, seed=args.seed)
        source, provenance = build_source(spec, progress=False)
        with HDF5Writer(path, provenance=provenance) as writer:
            for batch in source.batches(8192):
                writer.append(batch)
    t = time.perf_counter()
    n = sum(len(b) for b in HDF5Source(path).batches(4096))
    return (time.perf_counter() - t) / max(n, 1)


def _menu(pipe: Pipeline) -> Menu:
    for _, spec, algo in pipe.algorithms():
        if spec.type == "menu":
            return algo.menu  # type: ignore[attr-defined,no-any-return]
    msg = "the chain has no menu"
    raise SystemExit(msg)


def _one_pass(pipe: Pipeline, batches: list[EventBatch]) -> tuple[float, dict[str, float], dict[str, int]]:
    """One pass over the sample: wall seconds, seconds per algorithm, per-seed counts."""
    sink = RateSink(_menu(pipe), pipe.chain)
    per: dict[str, float] = {f"{st.name}/{spec.type}": 0.0 for st in pipe.stages for spec in st.config.algorithms}
    per[RATES] = 0.0
    t0 = time.perf_counter()
    for batch in batches:
        b = batch
        for st in pipe.stages:
            for spec, algo in zip(st.config.algorithms, st.algorithms, strict=True):
                t = time.perf_counter()
                b = algo.process(b)
                per[f"{st.name}/{spec.type}"] += time.perf_counter() - t
        t = time.perf_counter()
        sink.on_batch(b)
        per[RATES] += time.perf_counter() - t
    wall = time.perf_counter() - t0
    counts = {name: s["count"] for name, s in sink.acc.result()["seeds"].items()}
    return wall, per, counts


def in_process(path: Path, batch_size: int, repeat: int) -> dict[str, Any]:
    pipe = Pipeline.from_chain(load_chain(CONFIG))
    pipe.warm_up()
    batches = list(HDF5Source(path).batches(batch_size))
    n = sum(len(b) for b in batches)
    passes = [_one_pass(pipe, batches) for _ in range(max(1, repeat))]
    counts = passes[0][2]
    if any(p[2] != counts for p in passes):
        msg = "per-seed counts differ between passes over the same sample"
        raise SystemExit(msg)
    wall = min(p[0] for p in passes)
    per = {k: min(p[1][k] for p in passes) * 1e6 / n for k in passes[0][1]}
    return {"batch_size": batch_size, "events": n, "events_per_s": n / wall, "us_per_event": wall * 1e6 / n,
            "per_algorithm_us": {k: round(v, 4) for k, v in per.items()}, "seed_counts": counts}  # fmt: skip


def streamed(path: Path, batch_size: int) -> dict[str, Any]:
    """The chain through node processes: events per CPU-second of every process involved.

    Node start-up (imports, numba loading, warm-up) costs the same for any number of events, so
    the figure is marginal: the CPU seconds of a replay of the whole sample minus those of a
    replay of one batch, over the difference in events.
    """
    runs = []
    # a first one-batch replay fills the on-disk caches (numba, columnar plans), so the two measured
    # replays start the same way; without it the start-up difference can exceed the marginal cost
    for events in (batch_size, batch_size, None):
        cpu = _cpu_seconds()
        report = replay(ReplayOptions(config=CONFIG, source=str(path), batch_size=batch_size, events=events))
        runs.append((int(report["events"]["produced"]), _cpu_seconds() - cpu, report))
    _, (n0, cpu0, _), (n, used, report) = runs
    return {"batch_size": batch_size, "events": n, "wall_events_per_s": report["throughput_eps"],
            "cpu_seconds": used, "startup_cpu_seconds": cpu0, "events_per_core_s": (n - n0) / (used - cpu0),
            "seed_counts": {k: v["count"] for k, v in report["seeds"].items()}}  # fmt: skip


def _cpu_seconds() -> float:
    self_, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return self_.ru_utime + self_.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--mu", type=float, default=55.0)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--batch-sizes", default="1024,4096,16384")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--source", type=Path, default=None, help="an existing EventBatch HDF5 sample instead")
    ap.add_argument("--no-streamed", action="store_true")
    ap.add_argument("--json", action="store_true", help="one JSON document on stdout, nothing else")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.source or Path(tmp) / "zb.h5"
        read = _sample(args, path)
        runs = [in_process(path, int(b), args.repeat) for b in args.batch_sizes.split(",")]
        best = max(runs, key=lambda r: r["events_per_s"])
        out: dict[str, Any] = {
            "sample": {"events": best["events"], "mu": args.mu, "source": str(args.source or "generated")},
            "threads": 1, "batch_sizes": [{k: v for k, v in r.items() if k != "seed_counts"} for r in runs],
            "best_batch_size": best["batch_size"], "events_per_s": best["events_per_s"],
            "us_per_event": best["us_per_event"], "per_algorithm_us": best["per_algorithm_us"],
            "cores_for_40mhz": 40e6 / best["events_per_s"], "read_us_per_event": read * 1e6,
            "identical_counts_across_batch_sizes": all(r["seed_counts"] == runs[0]["seed_counts"] for r in runs),
        }  # fmt: skip
        if not args.no_streamed:
            st = streamed(path, 4096)
            out["streamed"] = {k: v for k, v in st.items() if k != "seed_counts"}
            out["streamed"]["over_in_process_per_core"] = st["events_per_core_s"] / best["events_per_s"]
            out["streamed"]["identical_counts"] = st["seed_counts"] == best["seed_counts"]
    if args.json:
        print(json.dumps(out, indent=1))
        return
    for r in runs:
        print(f"batch {r['batch_size']:6d}: {r['events_per_s']:12,.0f} events/s  ({r['us_per_event']:.3f} µs/event)")
    print(f"best batch {out['best_batch_size']}: per algorithm (µs/event):")
    for k, v in out["per_algorithm_us"].items():
        print(f"  {k:36s} {v:7.3f}")
    print(f"cores for 40 MHz: {out['cores_for_40mhz']:.1f}   (reading the sample back: "
          f"{out['read_us_per_event']:.3f} µs/event, not included)")
    if "streamed" in out:
        s = out["streamed"]
        print(f"streamed through processes: {s['events_per_core_s']:,.0f} events per core-second "
              f"({s['over_in_process_per_core']:.2f} of in-process), wall {s['wall_events_per_s']:,.0f} events/s, "
              f"identical counts: {s['identical_counts']}")
    print(f"identical counts across batch sizes: {out['identical_counts_across_batch_sizes']}")


if __name__ == "__main__":
    main()
