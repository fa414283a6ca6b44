"""l1emu's processes skip other packages' numba extensions (1.3 s of CPU per process start)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = """
import sys
import streams
from streams.l1sim._kernel import *  # noqa: F403 - any module with kernels
import numba

@numba.njit
def one(x):
    return x + 1

one(1)
print('vector' in sys.modules, 'awkward' in sys.modules)
"""


@pytest.mark.parametrize(("env", "loaded"), [({}, "False False"), ({"L1EMU_NUMBA_EXTENSIONS": "1"}, "True True")])
def test_a_compile_loads_no_extension_unless_asked(env: dict[str, str], loaded: str) -> None:
    environ = {k: v for k, v in os.environ.items() if k != "L1EMU_NUMBA_EXTENSIONS"} | env
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True, env=environ)
    assert out.stdout.split("\n")[-2] == loaded
