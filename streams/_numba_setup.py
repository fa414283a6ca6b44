"""Numba as l1emu's processes use it: without other packages' numba extensions.

Numba imports every installed ``numba_extensions`` entry point before its first compile or
cache load. Here those are awkward's and vector's (installed for uproot and fastjet), about
1.3 s of CPU in every process that runs a kernel — each replay node, CLI command and Dask
worker, at each start — and no l1emu kernel takes an awkward array or a vector. Marking the
extensions as loaded skips them (the flag ``numba.core.entrypoints`` keeps; numba 0.68 as pinned).
``L1EMU_NUMBA_EXTENSIONS=1`` keeps numba's own behaviour (for kernels of your own that need
them).
"""

from __future__ import annotations

import os

__all__ = ["skip_numba_extensions"]


def skip_numba_extensions() -> bool:
    """Skip the ``numba_extensions`` entry points in this process (unless the variable says
    not to, or numba already loaded them); whether they are skipped now."""
    if os.environ.get("L1EMU_NUMBA_EXTENSIONS", "") == "1":
        return False
    try:
        from numba.core import entrypoints
    except ImportError:  # pragma: no cover - numba is a dependency
        return False
    if getattr(entrypoints, "_already_initialized", True):
        return False  # loaded already, or a numba without the flag
    entrypoints._already_initialized = True
    return True
