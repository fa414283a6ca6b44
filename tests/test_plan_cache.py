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
for path in sys.argv[1:]:  # the last model is reported
    model = FixedPointModel.load(path)
    x = np.random.default_rng(5).normal(0, 4, (2000, model.n_inputs))
    y = model.predict(x)
plan = model._plan
fn = _compile(plan.source)
stats = getattr(fn, "stats", None)
print(json.dumps({"hits": sum(stats.cache_hits.values()) if stats else 0,
                  "misses": sum(stats.cache_misses.values()) if stats else 0,
                  "sum": float(np.asarray(y, np.float64).sum()), "module": fn.py_func.__code__.co_filename}))
"""


def _run(cache: Path, *before: str, **env: str) -> dict[str, object]:
    """The shipped AXOL1TL model run in a fresh process (after the shipped models ``before``)."""
    models = [str(ROOT / "configs" / "models" / f"{name}.fxp") for name in (*before, "axol1tl")]
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *models],
        env={**os.environ, "L1EMU_CACHE": str(cache), "PYTHONPATH": str(ROOT), **env},
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    out: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def test_a_second_process_loads_the_compiled_plan(tmp_path: Path) -> None:
    """The second process compiles CICADA's plan first, then loads AXOL1TL's from disk. numba names
    compiled kernels by a per-process counter: before the kernels' names carried their arguments,
    AXOL1TL's cached code called CICADA's kernels of the same name here (sum -14799 for -5011)."""
    first, second = _run(tmp_path), _run(tmp_path, "cicada")
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
