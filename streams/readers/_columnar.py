"""Flat columnar events (Parquet tables, ROOT TTrees) → :class:`EventBatch`.

The default names are the EventBatch column names, in physical units: per-object
columns ``<prefix>_<field>`` (``eg_pt``, ``mu_eta``, ``jet_phi`` …; pT in GeV, φ in
rad) are variable- or fixed-length lists; sums (``ett``, ``etm``, ``etm_phi`` …) and
bookkeeping columns (``run``, ``event``, ``pileup``, ``weight`` …) are scalars. A
mapping renames them: ``{"jet_pt": "L1Jet_pt"}`` reads our ``jet_pt`` from the
file's ``L1Jet_pt``. Absent columns are zero; at least one must be present.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from streams.errors import SourceError
from streams.event import EventBatch
from streams.readers._physical import to_batch
from streams.schema import COLLECTIONS, SUMS

__all__ = ["BOOKKEEPING", "known_names", "resolve_names", "table_to_batch"]

BOOKKEEPING = ("run", "lumi", "event", "bx", "pileup", "weight")


def known_names() -> list[str]:
    """Every column name the readers understand."""
    names = [c.column(f) for c in COLLECTIONS.values() for f in c.fields]
    names += [n for s, phi in SUMS.items() for n in ((s, f"{s}_phi") if phi else (s,))]
    return names + list(BOOKKEEPING)


def resolve_names(available: list[str], mapping: Mapping[str, str] | None, where: str) -> dict[str, str]:
    """Our name → the file's name for every known column present in the file."""
    mapping = dict(mapping or {})
    unknown = sorted(set(mapping) - set(known_names()))
    if unknown:
        msg = f"{where}: unknown l1emu column(s) {unknown} in the name mapping"
        raise SourceError(msg)
    out = {}
    for ours in known_names():
        theirs = mapping.get(ours, ours)
        if theirs in available:
            out[ours] = theirs
        elif ours in mapping:
            msg = f"{where}: mapped column {theirs!r} (for {ours}) is not in the file"
            raise SourceError(msg)
    if not out:
        msg = f"{where}: none of the l1emu columns found (file has {sorted(available)[:12]} …)"
        raise SourceError(msg)
    return out


def _fixed(arr: Any, width: int, where: str) -> np.ndarray:
    """A list column (awkward or numpy) as a zero-padded (n, width) float array."""
    import awkward as ak

    a = ak.Array(arr) if not isinstance(arr, np.ndarray) else arr
    if isinstance(a, np.ndarray):
        if a.ndim == 1:
            msg = f"{where}: expected a list per event, got scalars"
            raise SourceError(msg)
        out = np.zeros((len(a), width))
        k = min(width, a.shape[1])
        out[:, :k] = a[:, :k]
        return out
    if a.ndim != 2:
        msg = f"{where}: expected a list per event, got {a.type}"
        raise SourceError(msg)
    return np.asarray(ak.to_numpy(ak.fill_none(ak.pad_none(a, width, clip=True), 0)), np.float64)


def table_to_batch(
    columns: Mapping[str, Any], n: int, *, first: int, stream: str, where: str,
) -> EventBatch:
    """Convert one chunk (our names → arrays) to a batch."""
    objects: dict[str, dict[str, np.ndarray]] = {}
    for name, coll in COLLECTIONS.items():
        width = max(coll.size, 16)  # more than the slots, so that the pT sort sees every object
        data = {f: _fixed(columns[coll.column(f)], width, f"{where}: {coll.column(f)}")
                for f in coll.fields if coll.column(f) in columns}
        if data and "pt" not in data:
            msg = f"{where}: {name} columns without {coll.column('pt')}"
            raise SourceError(msg)
        objects[name] = data
    sums = {k: np.asarray(v, np.float64) for k, v in columns.items() if k in SUMS or (k.endswith("_phi")
            and k[:-4] in SUMS)}
    extra = {k: np.asarray(v) for k, v in columns.items() if k in BOOKKEEPING}
    return to_batch(objects, sums, n, first=first, stream=stream, extra=extra)
