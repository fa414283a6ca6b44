"""Sharded samples: shard files plus a manifest that every l1emu reader opens as one file.

A manifest is itself an l1emu HDF5 file: its ``/events`` columns are HDF5 *virtual datasets*
that map the shards' rows in order (shard paths relative to the manifest), so ``--source
manifest.h5`` works wherever an HDF5 sample does. Its ``/events`` attribute ``manifest`` lists
the shards (file, first event, events) as JSON; :func:`check_manifest` verifies them, since a
virtual dataset reads a missing shard as fill values (``weight`` is NaN there, so it cannot
pass for real events). The Dask executor reads each shard file directly.

>>> import tempfile, pathlib
>>> from streams.hdf5 import HDF5Source, write_batches
>>> from streams.sources import open_source
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> src = open_source(None, events=300, mu=20.0)
>>> shards = [Shard(f"s{i}.h5", b.meta.first, write_batches(d / f"s{i}.h5", [b]))
...           for i, b in enumerate(src.batches(200))]
>>> m = write_manifest(d / "all.h5", shards, provenance={"note": "doctest"})
>>> len(HDF5Source(d / "all.h5")), [p.events for p in m.partitions(batch_size=100, partition_events=1000)]
(300, [200, 100])
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from streams.errors import SourceError
from streams.partitions import Partition, plan_partitions
from streams.schema import SCHEMA_VERSION

__all__ = ["MANIFEST_FORMAT", "Manifest", "Shard", "check_manifest", "read_manifest", "shard_name",
           "write_manifest"]

MANIFEST_FORMAT = "l1emu-shards/1"


def shard_name(index: int) -> str:
    """File name of shard ``index`` (``shard-00003.h5``)."""
    return f"shard-{index:05d}.h5"


@dataclass(frozen=True, slots=True)
class Shard:
    """One shard file (relative to the manifest), the global number of its first event, its events."""

    path: str
    first: int
    events: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """The shards of one sample, in event order."""

    path: Path
    shards: tuple[Shard, ...]
    provenance: Mapping[str, Any] = field(default_factory=dict)

    @property
    def events(self) -> int:
        return sum(s.events for s in self.shards)

    def shard_path(self, shard: Shard) -> Path:
        return self.path.parent / shard.path

    def partitions(self, *, batch_size: int, partition_events: int, limit: int | None = None) -> list[Partition]:
        """Partitions within shards (none straddles two), up to ``limit`` events."""
        out: list[Partition] = []
        left = self.events if limit is None else min(limit, self.events)
        for s in self.shards:
            n = min(s.events, left)
            if n <= 0:
                break
            out += plan_partitions(n, batch_size=batch_size, partition_events=partition_events,
                                   first_index=len(out), offset=s.first, shard=str(self.shard_path(s)))
            left -= n
        return out


def write_manifest(path: str | Path, shards: Sequence[Shard], *, provenance: Mapping[str, Any]) -> Manifest:
    """Write the manifest of ``shards`` (contiguous, in order) to ``path``; the shards must exist."""
    path = Path(path)
    expected = 0
    for s in shards:
        if s.first != expected:
            msg = f"{path}: shard {s.path} starts at event {s.first}, expected {expected}"
            raise SourceError(msg)
        expected += s.events
    if not shards:
        msg = f"{path}: a manifest needs at least one shard"
        raise SourceError(msg)
    with h5py.File(path.parent / shards[0].path, "r") as f:
        columns = {name: (ds.dtype, ds.shape[1:]) for name, ds in f["events"].items()}
    with h5py.File(path, "w") as f:
        g = f.create_group("events")
        g.attrs["l1emu_format"] = "eventbatch"
        g.attrs["schema_version"] = SCHEMA_VERSION
        g.attrs["provenance"] = json.dumps(dict(provenance), sort_keys=True)
        g.attrs["manifest"] = json.dumps({"format": MANIFEST_FORMAT, "shards": [asdict(s) for s in shards]})
        g.attrs["events"] = expected
        for name, (dtype, shape) in columns.items():
            layout = h5py.VirtualLayout(shape=(expected, *shape), dtype=dtype)
            for s in shards:
                layout[s.first : s.first + s.events] = h5py.VirtualSource(s.path, f"events/{name}",
                                                                          shape=(s.events, *shape))
            fill = np.nan if name == "weight" and np.dtype(dtype).kind == "f" else 0
            g.create_virtual_dataset(name, layout, fillvalue=fill)
    return Manifest(path, tuple(shards), dict(provenance))


def read_manifest(path: str | Path | None) -> Manifest | None:
    """The manifest at ``path``; None when ``path`` is not a manifest (another file or source)."""
    if path is None or Path(path).suffix.lower() not in (".h5", ".hdf5") or not Path(path).is_file():
        return None
    try:
        with h5py.File(path, "r") as f:
            attrs = f["events"].attrs if "events" in f else {}
            text, prov = attrs.get("manifest"), attrs.get("provenance", "{}")
    except OSError:
        return None
    if text is None:
        return None
    body = json.loads(text)
    if body.get("format") != MANIFEST_FORMAT:
        msg = f"{path}: manifest format {body.get('format')!r}, this l1emu reads {MANIFEST_FORMAT}"
        raise SourceError(msg)
    return Manifest(Path(path), tuple(Shard(**s) for s in body["shards"]), json.loads(prov))


def check_manifest(manifest: Manifest) -> None:
    """Every shard is there and has its events; else a SourceError naming the shard."""
    for s in manifest.shards:
        p = manifest.shard_path(s)
        try:
            with h5py.File(p, "r") as f:
                n = {len(ds) for ds in f["events"].values()}
        except (OSError, KeyError) as exc:
            msg = f"{manifest.path}: shard {p} (events {s.first}-{s.first + s.events - 1}) unreadable: {exc}"
            raise SourceError(msg) from exc
        if n != {s.events}:
            msg = f"{manifest.path}: shard {p} has {sorted(n)} events, the manifest says {s.events}"
            raise SourceError(msg)
