"""The real 2024 CMS menu (all 408 seeds, one compiled program) on zero-bias events, one core.

Run: ``.venv/bin/python benchmarks/bench_menu.py [--source out/zb_mu60.h5] [--events N] [--repeat R]``.
The menu is built from the shared tm-reporter tables (``../shared/data/cms-l1-menu-2024``) into
tmxsd XML and loaded with its prescale table; seeds the event model cannot evaluate yet never fire
and cost nothing. The source defaults to the ``make run`` Pythia zero-bias sample when it exists,
else the parametric generator at ⟨μ⟩ = 60. Events are read into memory first; the timed part is
``Menu.evaluate`` alone (the stacking of object columns included; the AXO seeds' ``score_axol1tl``, which
the chain's axol1tl stage adds, is computed before), batch by batch, after a warm-up
call. It prints events/s per round (the machine is shared: rounds differ), their median, and the
numpy evaluator's rate (:meth:`Menu.evaluate_reference`, condition by condition) for the ratio.
The kernel is single-threaded: the figure is one core's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from emulator.algorithm import BuildContext
from emulator.algorithms.anomaly import Axol1tl
from emulator.menu import Menu, load_menu
from emulator.menu.reporter import tmxsd_from_report
from streams.event import EventBatch
from streams.sources import open_source

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "tests" / "data" / "cms-l1-menu-2024"  # a copy of ../shared/data
STEM = "L1Menu_Collisions2024_v1_3_0"
DEFAULT_SOURCE = ROOT / "out" / "zb_mu60.h5"


def _menu(tmp: Path) -> Menu:
    algos = json.loads((SHARED / f"{STEM}.algorithms.json").read_text())
    xml = tmp / f"{STEM}.xml"
    xml.write_text(tmxsd_from_report(algos, (SHARED / f"{STEM}.cuts.csv").read_text(), name=STEM))
    return load_menu(xml, prescales=SHARED / f"{STEM}_prescales.csv", column="2p0E34")


def _rate(fn: Any, batches: list[EventBatch]) -> float:
    n = sum(len(b) for b in batches)
    t0 = time.perf_counter()
    for b in batches:
        fn(b)
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default=str(DEFAULT_SOURCE) if DEFAULT_SOURCE.exists() else "parametric")
    ap.add_argument("--events", type=int, default=None, help="events to use (default: the whole file / 20000)")
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        menu = _menu(Path(tmp))
    events = args.events or (None if args.source != "parametric" else 20_000)
    axo = Axol1tl.build("axol1tl", {"model": "models/axol1tl.fxp"}, BuildContext(ROOT / "configs"))
    batches = [axo.process(b) for b in open_source(args.source, events=events).batches(args.batch)]
    menu.evaluate(batches[0])  # compile / load the cached kernels
    rounds = [_rate(menu.evaluate, batches) for _ in range(args.repeat)]
    numpy_rate = _rate(menu.evaluate_reference, batches[:1])
    fired = sum(menu.evaluate(b).sum(axis=0) for b in batches)
    median = statistics.median(rounds)
    result = {
        "menu": STEM, "source": args.source, "events": sum(len(b) for b in batches), "batch": args.batch,
        "seeds": len(menu.seed_names), "evaluated_seeds": len(menu.seed_names) - len(menu.unsupported),
        "enabled_2p0E34": len(menu.enabled()), "seeds_that_fired": int((fired > 0).sum()),
        "events_per_s": [round(r) for r in rounds], "median_events_per_s": round(median),
        "us_per_event": round(1e6 / median, 3), "numpy_evaluator_events_per_s": round(numpy_rate),
        "speedup_vs_numpy": round(median / numpy_rate, 1), "goal_events_per_s": 500_000,
    }  # fmt: skip
    print(json.dumps(result, indent=1))
    print(f"\n{STEM}: {result['seeds']} seeds ({result['evaluated_seeds']} evaluated) on {result['events']} "
          f"events of {args.source}: median {median / 1e3:.0f} k events/s on one core "
          f"({result['us_per_event']} µs/event; numpy evaluator {numpy_rate / 1e3:.1f} k/s, "
          f"×{result['speedup_vs_numpy']}); goal 500 k/s: {'met' if median >= 500_000 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
