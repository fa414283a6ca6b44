"""``l1emu generate``: a premixed Pythia sample with L1 objects, written as EventBatch HDF5.

    l1emu generate --process minbias --pileup 60 --events 20000 --out zb.h5 [--seed S]
    l1emu generate --process minbias --pileup 20,40,60,80 --events 40000 --out profile.h5

Zero bias is stitched (soft minimum bias + weighted hard p̂T bins, W, Z, γ) unless --plain.
A comma-separated --pileup is a ⟨μ⟩ profile, cycled per chunk of 1024 crossings.
With --dask, pools and premixing run on a Dask cluster: --out is then a manifest over shards of
--shard-events crossings (in OUT.shards/), the same content for any number of workers (docs/dask.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from streams.generators import PROCESSES, SampleSpec, build_source
from streams.generators.sample import DEFAULT_HARD_EVENTS
from streams.hdf5 import HDF5Writer

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("generate", help="generate a premixed Pythia sample (EventBatch HDF5)",
                       description=__doc__)
    p.add_argument("--process", default="minbias", choices=sorted(PROCESSES),
                   help="physics process of the hard scatter (minbias: pileup only, zero bias)")
    p.add_argument("--pileup", type=_mu_list, default=(60.0,),
                   help="<mu>, mean pileup interactions (0-400); a comma-separated list is a <mu> profile")
    p.add_argument("--events", type=int, default=10_000, help="bunch crossings to write")
    p.add_argument("--out", type=Path, required=True, help="output HDF5 file")
    p.add_argument("--seed", type=int, default=1, help="premixing and hard-scatter seed")
    p.add_argument("--pool-events", type=int, default=20_000, help="minimum-bias pool size")
    p.add_argument("--pool-seed", type=int, default=1, help="minimum-bias pool seed")
    p.add_argument("--plain", action="store_true",
                   help="zero bias without stitching: unweighted crossings of the minimum-bias pool only")
    p.add_argument("--hard-events", type=int, default=DEFAULT_HARD_EVENTS,
                   help="hard events of stitched zero bias, shared by its pools as they are drawn (%(default)s)")
    p.add_argument("--pthat-min", type=float, default=20.0, help="soft/hard split of stitched zero bias, GeV")
    p.add_argument("--ecm", type=float, default=13600.0, help="centre-of-mass energy, GeV")
    p.add_argument("--cache-dir", type=Path, default=None, help="pool cache (default $L1EMU_CACHE or ~/.cache/l1emu)")
    p.add_argument("--neighbour-muons", type=_bx_list, default=(), metavar="BX[,BX]",
                   help="also write the muons of the crossings at these offsets (e.g. -1: bxm1_mu_* columns, "
                        "which menu conditions at bx -1 read); each an independent crossing of the same kind")
    p.add_argument("--batch-size", type=int, default=4096)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--dask", default=None, metavar="ADDRESS|local[:N]",
                   help="generate on a Dask cluster (a scheduler address or local[:N]): shards plus a manifest "
                        "at --out that --source reads; the pool cache must be shared by the workers")
    p.add_argument("--shard-events", type=int, default=100_000, help="crossings per shard with --dask")
    p.set_defaults(func=run)


def _comma_list(text: str, kind: type, flag: str, expected: str) -> tuple[Any, ...]:
    try:
        return tuple(kind(v) for v in text.split(","))
    except ValueError:
        msg = f"{flag} {text!r}: expected {expected}"
        raise argparse.ArgumentTypeError(msg) from None


def _mu_list(text: str) -> tuple[float, ...]:
    return _comma_list(text, float, "--pileup", "a number or comma-separated numbers")


def _bx_list(text: str) -> tuple[int, ...]:
    return _comma_list(text, int, "--neighbour-muons", "crossing offsets such as -1 or -1,1")


def run(args: argparse.Namespace) -> int:
    mu = args.pileup
    spec = SampleSpec(process=args.process, mu=sum(mu) / len(mu), events=args.events, seed=args.seed,
                      pool_events=args.pool_events, pool_seed=args.pool_seed, ecm_gev=args.ecm,
                      stitch=not args.plain, hard_events=args.hard_events, pthat_min=args.pthat_min,
                      mu_profile=mu if len(mu) > 1 else (), neighbour_muons=args.neighbour_muons)
    if args.dask:
        return _run_dask(args, spec)
    t0 = time.perf_counter()
    source, provenance = build_source(spec, cache_dir=args.cache_dir, progress=not args.no_progress)
    t_pools = time.perf_counter() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with HDF5Writer(args.out, provenance=provenance) as writer, tqdm(
        total=len(source), desc="premix", unit="ev", disable=args.no_progress, leave=False
    ) as bar:
        for batch in source.batches(args.batch_size):
            writer.append(batch)
            bar.update(len(batch))
    dt = time.perf_counter() - t0 - t_pools
    sigma = provenance["pileup_pool"]["sigma_mb"]
    print(f"wrote {len(source)} crossings ({spec.process}, <mu> = {spec.mu:g}) to {args.out} "
          f"in {dt:.1f} s (+{t_pools:.1f} s pools); pythia sigma_inel = {sigma:.1f} mb")
    return 0


def _run_dask(args: argparse.Namespace, spec: SampleSpec) -> int:
    from streams.run.dask import DaskSession, DaskTarget
    from streams.sharded import generate_sharded

    t0 = time.perf_counter()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with DaskSession(DaskTarget.parse(args.dask)) as dask, tqdm(
        total=spec.events, desc="premix", unit="ev", disable=args.no_progress, leave=False
    ) as bar:
        info = dask.describe()
        print(f"dask: scheduler {info['scheduler']}, {info['workers']} workers, dashboard {info['dashboard']}",
              file=sys.stderr)
        manifest = generate_sharded(dask, spec, args.out, shard_events=args.shard_events, batch_size=args.batch_size,
                                    cache_dir=args.cache_dir,
                                    on_progress=lambda done, _: bar.update(done - bar.n))
    print(f"wrote {manifest.events} crossings ({spec.process}, <mu> = {spec.mu:g}) as {len(manifest.shards)} "
          f"shards, manifest {args.out}, in {time.perf_counter() - t0:.1f} s on {info['workers']} Dask workers")
    return 0
