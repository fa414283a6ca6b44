"""Run every benchmark script in this folder's explicit list, one after the other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("bench_chain.py", "bench_replay.py", "bench_fixedpoint.py", "bench_premix.py", "bench_menu.py",
              "bench_dask.py", "bench_rtl.py")  # fmt: skip


def main() -> int:
    status = 0
    for name in BENCHMARKS:
        path = HERE / name
        if not path.is_file():
            print(f"== {name}: not present, skipped")
            continue
        print(f"== {name}", flush=True)
        status |= subprocess.call([sys.executable, str(path)])
    return status


if __name__ == "__main__":
    raise SystemExit(main())
