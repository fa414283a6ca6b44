"""Columnar plans compile once per machine: the generated module on disk, numba's cache beside it.

Each check runs the shipped AXOL1TL model in fresh Python processes (as ZeroMQ nodes and Dask
workers start), with the cache in a temporary directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT

_SCRIPT = """
import json, sys
import numpy as np
from emulator.fixedpoint import FixedPointModel
from emulator.fixedpoint._columnar import _compile
model = FixedPointModel.load(sys.argv[1])
x = np.random.default_rng(5).normal(0, 4, (2000, model.n_inputs))
y = model.predict(x)
plan = model._plan
fn = _compile(plan.source)
stats = getattr(fn, "stats", None)
print(json.dumps({"hits": sum(stats.cache_hits.values()) if stats else 0,
                  "misses": sum(stats.cache_misses.values()) if stats else 0,
                  "sum": float(np.asarray(y, np.float64).sum()), "module": fn.py_func.__code__.co_filename}))
"""


def _run(cache: Path, **env: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(ROOT / "configs" / "models" / "axol1tl.fxp")],
        env={**os.environ, "L1EMU_CACHE": str(cache), "PYTHONPATH": str(ROOT), **env},
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    out: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def test_a_second_process_loads_the_compiled_plan(tmp_path: Path) -> None:
    first, second = _run(tmp_path), _run(tmp_path)
    assert (first["misses"], first["hits"]) == (1, 0)
    assert (second["misses"], second["hits"]) == (0, 1)  # machine code from disk, nothing compiled
    assert first["sum"] == second["sum"]
    module = Path(str(second["module"]))
    assert module.parent == tmp_path / "columnar"
    assert module.is_file()
    assert list((module.parent / "__pycache__").glob(f"{module.stem}.run-*.nbi"))


def test_the_cache_can_be_switched_off_and_an_unwritable_one_is_skipped(tmp_path: Path) -> None:
    off = _run(tmp_path, L1EMU_PLAN_CACHE="off")
    assert not (tmp_path / "columnar").exists()
    assert off["hits"] == 0  # compiled in memory
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    fallback = _run(blocked)
    assert fallback["sum"] == off["sum"]
