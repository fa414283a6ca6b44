"""Compile an hls4ml project's C++ with g++ and run it on a batch (the C simulation, without hls4ml).

The top function is called once per event from a small generated C loop (``ap_fixed``
inputs built from doubles as hls4ml's bridge does, outputs read with ``to_double()``), so a
project directory as CMS ships it (no Python bridge) can be checked against the engine.

>>> ProjectLibrary.build("/nonexistent")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
streams.errors.UnsupportedLayerError: /nonexistent: not an hls4ml project directory ...
"""

from __future__ import annotations

import ctypes
import logging
import math
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emulator.fixedpoint._project import read_project
from emulator.fixedpoint._project_parse import Project, parse_project
from emulator.fixedpoint.errors import FixedPointError

__all__ = ["ProjectLibrary"]

log = logging.getLogger(__name__)


def _support_dir(root: Path, name: str) -> Path:
    """``firmware/<name>`` of the project, else the copy inside the installed hls4ml."""
    local = root / "firmware" / name
    if local.is_dir():
        return local
    try:
        import hls4ml
    except ImportError as exc:
        msg = f"{root}: firmware/{name} is missing and hls4ml (which ships it) is not installed"
        raise FixedPointError(msg) from exc
    return Path(hls4ml.__file__).parent / "templates" / "vivado" / name


def _loop_source(project: Project, inputs: Sequence[str], outputs: Sequence[str], sizes: dict[str, int]) -> str:
    params = {p.name: p for p in project.params}
    lines = [f'#include "{project.name}.h"', 'extern "C" void l1emu_run(long n, const double** in, double** out) {',
             "  for (long e = 0; e < n; e++) {"]  # fmt: skip
    call = []
    stream = project.io_type == "io_stream"
    for i, name in enumerate([*inputs, *outputs]):
        t = params[name].type
        lines.append(f"    hls::stream<{t}> v{i};" if stream else f"    {t} v{i}[{sizes[name]}];")
        call.append(f"v{i}")
    for i, name in enumerate(inputs):
        size, t = sizes[name], params[name].type
        if stream:  # packs of t::size values, written in order
            lines += [f"    for (int k = 0; k < {size}; k += {t}::size) {{ {t} p;",
                      f"      for (unsigned j = 0; j < {t}::size; j++) p[j] = in[{i}][e * {size} + k + j];",
                      f"      v{i}.write(p); }}"]  # fmt: skip
        else:
            lines.append(f"    for (int k = 0; k < {size}; k++) v{i}[k] = in[{i}][e * ({size}) + k];")
    lines.append(f"    {project.name}({', '.join(call)});")
    for j, name in enumerate(outputs):
        i, size, t = len(inputs) + j, sizes[name], params[name].type
        if stream:
            lines += [f"    for (int k = 0; k < {size}; k += {t}::size) {{ {t} p = v{i}.read();",
                      f"      for (unsigned m = 0; m < {t}::size; m++)",
                      f"        out[{j}][e * {size} + k + m] = p[m].to_double(); }}"]  # fmt: skip
        else:
            lines.append(f"    for (int k = 0; k < {size}; k++) out[{j}][e * ({size}) + k] = v{i}[k].to_double();")
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ProjectLibrary:
    """A project's top function compiled into a shared library (one per process, temporary)."""

    root: Path
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    sizes: dict[str, int]
    library: ctypes.CDLL

    @classmethod
    def build(cls, root: str | Path, *, opt: str = "-O1") -> ProjectLibrary:
        """Compile ``root/firmware/<top>.cpp`` with a batch loop (needs ``g++``)."""
        base = Path(root)
        project = parse_project(base)
        dag = read_project(base)  # which arrays are inputs and outputs, and that the engine reads it
        inputs = tuple(i.name for i in dag.inputs)
        outputs = tuple(p.name for p in project.params if p.name not in inputs)  # the heads' arrays, in order
        shapes = {n.output: n.op.out_shape for n in dag.nodes}
        sizes = {i.name: i.size for i in dag.inputs}
        sizes |= {name: math.prod(shapes[head]) for name, head in zip(outputs, dag.outputs, strict=True)}
        gxx = shutil.which("g++")
        if gxx is None:
            msg = "g++ is not on PATH: cannot compile the project's C simulation"
            raise FixedPointError(msg)
        work = Path(tempfile.mkdtemp(prefix="l1emu-csim-"))
        loop = work / "l1emu_loop.cpp"
        loop.write_text(_loop_source(project, inputs, outputs, sizes))
        firmware = base / "firmware"
        weights = (firmware / "weights").resolve()
        flags = [opt, "-fPIC", "-shared", "-std=c++17", f"-I{firmware}", f"-I{_support_dir(base, 'ap_types')}",
                 f"-I{_support_dir(base, 'nnet_utils').parent}", f'-DWEIGHTS_DIR="{weights}"']  # fmt: skip
        lib = work / f"{project.name}.so"
        cmd = [gxx, *flags, str(firmware / f"{project.name}.cpp"), str(loop), "-o", str(lib)]
        log.info("compiling %s", " ".join(cmd))
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            msg = f"{base}: g++ failed ({done.returncode}): {done.stderr[-2000:]}"
            raise FixedPointError(msg)
        return cls(base, inputs, outputs, sizes, ctypes.CDLL(str(lib)))

    def predict(self, X: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
        """float64 outputs ``(n, size)`` of every head, the C++ run event by event."""
        xs = [X] if isinstance(X, np.ndarray) else list(X)
        n = xs[0].shape[0]
        ins = [np.ascontiguousarray(np.asarray(x, np.float64).reshape(n, self.sizes[name]))
               for x, name in zip(xs, self.inputs, strict=True)]  # fmt: skip
        outs = [np.zeros((n, self.sizes[name]), np.float64) for name in self.outputs]
        ptr = ctypes.POINTER(ctypes.c_double)
        in_ptrs = (ptr * len(ins))(*[a.ctypes.data_as(ptr) for a in ins])
        out_ptrs = (ptr * len(outs))(*[a.ctypes.data_as(ptr) for a in outs])
        self.library.l1emu_run(ctypes.c_long(n), in_ptrs, out_ptrs)
        return outs
