"""Generated numba modules kept on disk, so that their machine code is cached across processes.

numba caches a compiled function next to its source file, keyed by that file; a function made by
``exec`` has no file and is compiled again in every process (numba issue 3501). The columnar plan
writes its generated module (kernel factories with their literal arguments, then the loop) to a file
named by the SHA-256 of its text under ``$L1EMU_CACHE/columnar`` (default ``~/.cache/l1emu``), imports
it and compiles with ``cache=True``: the first process of a network compiles and stores, every later
one (each ZeroMQ node, each Dask worker, each run) loads the machine code. The file's name is its
content, so a file is never rewritten and a stale cache cannot be read. Where the directory cannot
be written, or ``$L1EMU_PLAN_CACHE`` is ``off`` (tests of random networks), the module is executed in
memory and compiled as before.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from streams.generators.pool import default_cache_dir

__all__ = ["CACHE_FLAG", "PLAN_CACHE_ENV", "load_module"]

log = logging.getLogger(__name__)

#: the placeholder a module's source writes for numba's ``cache=`` argument
CACHE_FLAG = "__L1EMU_NUMBA_CACHE__"
#: ``off`` keeps generated modules in memory
PLAN_CACHE_ENV = "L1EMU_PLAN_CACHE"


def _write_once(path: Path, text: str) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".py")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    Path(tmp).replace(path)  # atomic: a concurrent writer writes the same bytes


def _import(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        msg = f"cannot import the generated module {path}"
        raise ImportError(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]  # never leave a half-imported plan behind for the next look-up
        raise
    return module


def load_module(source: str, *, prefix: str) -> dict[str, Any]:
    """The namespace of generated ``source`` (our own text: names and numbers), from its cached file
    with numba caching on, or executed in memory with it off when the cache cannot be written."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    name = f"l1emu_{prefix}_{digest}"
    if name in sys.modules:
        return vars(sys.modules[name])
    if os.environ.get(PLAN_CACHE_ENV, "").lower() != "off":
        path = default_cache_dir() / "columnar" / f"{name}.py"
        try:
            _write_once(path, source.replace(CACHE_FLAG, "True"))
            return vars(_import(path, name))
        except OSError as exc:
            log.info("columnar plan cache unavailable (%s): compiling in memory", exc)
    namespace: dict[str, Any] = {"__name__": name}
    exec(compile(source.replace(CACHE_FLAG, "False"), f"<{name}>", "exec"), namespace)  # our own source
    return namespace
