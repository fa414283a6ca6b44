"""Compile generated C++ with g++ against the ``ap_types`` headers hls4ml ships.

>>> ap_types_dir().name
'ap_types'
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import subprocess
from pathlib import Path

from firmware.errors import FirmwareError

__all__ = ["ap_types_dir", "compile_cpp"]

log = logging.getLogger(__name__)


def ap_types_dir() -> Path:
    """hls4ml's bundled ``ap_types`` directory (found without importing hls4ml / TensorFlow)."""
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.submodule_search_locations:
        msg = "hls4ml is not installed: the ap_types headers come with it (pip install l1emu[ml])"
        raise FirmwareError(msg)
    path = Path(next(iter(spec.submodule_search_locations))) / "templates" / "vivado" / "ap_types"
    if not (path / "ap_int.h").is_file():
        msg = f"{path}: hls4ml's ap_types headers are missing (no ap_int.h)"
        raise FirmwareError(msg)
    return path


def compile_cpp(sources: list[Path], exe: Path, *, include: list[Path] | None = None) -> Path:
    """``g++ -O2 -std=c++14`` the ``sources`` into ``exe``; a failure shows g++'s first errors."""
    gxx = shutil.which("g++")
    if gxx is None:
        msg = "g++ is not on PATH: it is needed to compile the C simulation"
        raise FirmwareError(msg)
    incs = [f"-I{p}" for p in [ap_types_dir(), *(include or [])]]
    cmd = [gxx, "-O2", "-std=c++14", "-Wno-unknown-pragmas", *incs, *map(str, sources), "-o", str(exe)]
    log.info("compiling %s", exe.name)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        errors = "\n".join(proc.stderr.splitlines()[:20])
        msg = f"g++ failed to compile {', '.join(s.name for s in sources)} (exit {proc.returncode}):\n{errors}"
        raise FirmwareError(msg)
    return exe
