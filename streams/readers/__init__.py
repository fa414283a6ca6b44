"""Readers for events users bring: ADC2021 HDF5, Parquet, flat ROOT TTrees.

Each reader is a :class:`~streams.sources.base.Source`; bad or truncated files raise
:class:`~streams.errors.SourceError` naming the file and the problem.
:func:`open_file` picks the reader from the file (l1emu HDF5 included).

>>> open_file("missing.parquet")
Traceback (most recent call last):
...
streams.errors.SourceError: missing.parquet: no such file
"""

from __future__ import annotations

from pathlib import Path

import h5py

from streams.errors import SourceError
from streams.hdf5 import HDF5Source
from streams.readers.adc2021 import ADC2021Source
from streams.readers.parquet import ParquetSource
from streams.readers.root import RootSource
from streams.sources.base import Source

__all__ = ["ADC2021Source", "ParquetSource", "RootSource", "open_file"]


def _is_l1emu_hdf5(path: Path) -> bool:
    try:
        with h5py.File(path, "r") as f:
            return "events" in f
    except OSError as exc:
        msg = f"{path}: not a readable HDF5 file ({exc})"
        raise SourceError(msg) from exc


def open_file(path: str | Path) -> Source:
    """The reader for ``path`` by suffix: .h5/.hdf5 (l1emu or ADC2021), .parquet, .root."""
    p = Path(path)
    if not p.is_file():
        msg = f"{p}: no such file"
        raise SourceError(msg)
    suffix = p.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        return HDF5Source(p) if _is_l1emu_hdf5(p) else ADC2021Source(p)
    if suffix in (".parquet", ".pq"):
        return ParquetSource(p)
    if suffix == ".root":
        return RootSource(p)
    msg = f"{p}: unknown file type {suffix!r} (expected .h5, .parquet or .root)"
    raise SourceError(msg)
