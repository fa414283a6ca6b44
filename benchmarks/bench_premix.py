"""Premixed ⟨μ⟩ = 60 crossings per second per core, from a ready pool (goal ≥ 20 000).

Compares the full premix + L1 emulation with a bare loop that only draws the pool
indices and sums their tower deposits (no quantisation, objects, sums), and with
stitched zero bias (soft pool + weighted hard pools, the default sample; goal ≥ 10 000).
Reports the best of several repetitions (the machine is shared) and the ratios.

    .venv/bin/python benchmarks/bench_premix.py [--pool 5000] [--crossings 8192] [--mu 60] [--no-stitched]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numba
import numpy as np
from _timing import best_of  # this folder (the script's sys.path[0])

from streams.generators.pool import PoolSettings, load_pool
from streams.generators.premix import PremixConfig, PremixSource, draw_crossings
from streams.generators.sample import SampleSpec, build_source
from streams.l1sim.config import L1SimConfig
from streams.l1sim.response import compute_towers


@numba.njit(cache=True)
def _bare(off: np.ndarray, idx: np.ndarray, dep_off: np.ndarray, dep_em: np.ndarray) -> float:
    """Draw-and-sum only: Σ of the deposits of every drawn pool event."""
    total = 0.0
    for r in range(len(off) - 1):
        for j in range(off[r], off[r + 1]):
            ev = idx[j]
            for k in range(dep_off[ev], dep_off[ev + 1]):
                total += dep_em[k]
    return total



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pool", type=int, default=5000, help="minimum-bias pool events")
    ap.add_argument("--crossings", type=int, default=8192)
    ap.add_argument("--mu", type=float, default=60.0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--no-stitched", action="store_true", help="skip stitched zero bias (its pools: ~2 min once)")
    args = ap.parse_args()
    numba.set_num_threads(1)
    pool = load_pool(PoolSettings(events=args.pool, seed=1), progress=True)
    t0 = time.perf_counter()
    towers = compute_towers(offsets=pool.offsets, pt=pool.pt, eta=pool.eta, phi=pool.phi, e=pool.e,
                            pid=pool.pid, charge=pool.charge, config=L1SimConfig(), seed=1)
    t_resp = time.perf_counter() - t0
    cfg = PremixConfig(mu=args.mu, events=args.crossings, seed=3)
    src = PremixSource(towers, config=cfg)
    src.batch_at(0, 8)  # compile
    n = args.crossings
    t_full = best_of(lambda: src.batch_at(0, n), args.reps)
    d = draw_crossings(cfg, 0, n, len(towers))
    off = np.concatenate([[0], np.cumsum(d.counts)]).astype(np.int64)
    _bare(off[:2], d.idx, towers.dep_off, towers.dep_em)
    t_draw = best_of(lambda: draw_crossings(cfg, 0, n, len(towers)), args.reps)
    t_bare = best_of(lambda: _bare(off, d.idx, towers.dep_off, towers.dep_em), args.reps) + t_draw
    print(f"pool: {len(pool)} events, {pool.n_particles / len(pool):.0f} particles/event, "
          f"{len(towers.dep_em) / len(towers):.0f} tower deposits/event; response {t_resp:.2f} s")
    print(f"<mu> = {args.mu:g}, {n} crossings, best of {args.reps}:")
    print(f"  premix + L1 emulation : {n / t_full:10.0f} crossings/s/core ({1e6 * t_full / n:.1f} us each)")
    print(f"  bare draw + sum loop  : {n / t_bare:10.0f} crossings/s/core ({1e6 * t_bare / n:.1f} us each)")
    print(f"  full / bare time ratio: {t_full / t_bare:.2f}")
    box = PremixSource(towers, config=cfg, l1=replace(L1SimConfig(), tau_clustering="box"))
    box.batch_at(0, 8)
    t_box = best_of(lambda: box.batch_at(0, n), args.reps)
    print(f"  with the box τ model  : {n / t_box:10.0f} crossings/s/core (CMS τ / box time {t_full / t_box:.2f})")
    if not args.no_stitched:
        stitched, _ = build_source(SampleSpec(mu=args.mu, events=n, pool_events=args.pool, seed=3))
        stitched.batch_at(0, 8)
        t_st = best_of(lambda: stitched.batch_at(0, n), args.reps)
        print(f"  stitched zero bias    : {n / t_st:10.0f} crossings/s/core ({1e6 * t_st / n:.1f} us each; "
              f"{t_st / t_full:.2f} x plain)")


if __name__ == "__main__":
    main()
