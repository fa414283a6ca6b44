"""Reader for flat ROOT TTrees (or RNTuples) of L1 objects in physical units, via uproot.

Branch names default to the l1emu column names (``jet_pt`` …, see ``_columnar``);
``branches`` maps ours to the file's, e.g. ``{"jet_pt": "L1Jet_pt"}``.

>>> import tempfile, pathlib, uproot, awkward as ak, numpy as np
>>> p = pathlib.Path(tempfile.mkdtemp()) / "ev.root"
>>> with uproot.recreate(p) as f:
...     _ = f.mktree("l1", {"L1Jet_pt": "var * float64", "etm": "float64"})
...     f["l1"].extend({"L1Jet_pt": ak.Array([[50.0], [70.0, 10.0]]), "etm": np.array([5.0, 6.0])})
>>> src = RootSource(p, tree="l1", branches={"jet_pt": "L1Jet_pt"})
>>> b = next(src.batches(10))
>>> len(src), b["jet_pt"][:, 0].tolist()
(2, [100, 140])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from streams.errors import SourceError
from streams.event import EventBatch
from streams.readers._columnar import resolve_names, table_to_batch

__all__ = ["RootSource"]


def _open_tree(path: Path, tree: str | None) -> Any:
    import uproot

    try:
        f = uproot.open(path)
    except Exception as exc:  # uproot raises many types for damaged files
        msg = f"{path}: not a readable ROOT file ({type(exc).__name__}: {exc})"
        raise SourceError(msg) from exc
    trees = [k.split(";")[0] for k, c in f.classnames().items() if c.startswith(("TTree", "ROOT::RNTuple"))]
    name = tree or (trees[0] if len(trees) == 1 else None)
    if name is None or name not in trees:
        msg = f"{path}: tree {tree!r} not found; trees in the file: {trees}"
        raise SourceError(msg)
    return f[name]


class RootSource:
    """Events of a flat TTree, read with uproot in entry ranges."""

    def __init__(self, path: str | Path, *, tree: str | None = None,
                 branches: Mapping[str, str] | None = None) -> None:
        self.path = Path(path)
        self.name = f"root:{self.path.name}"
        if not self.path.is_file():
            msg = f"{self.path}: no such file"
            raise SourceError(msg)
        self._tree = _open_tree(self.path, tree)
        self._names = resolve_names(list(self._tree.keys()), branches, str(self.path))
        self._n = int(self._tree.num_entries)

    def __len__(self) -> int:
        return self._n

    def batches(self, batch_size: int, *, shard: tuple[int, int] = (0, 1)) -> Iterator[EventBatch]:
        wanted = sorted(set(self._names.values()))
        index, count = shard
        for k, first in enumerate(range(0, self._n, batch_size)):
            if k % count != index:
                continue
            stop = min(first + batch_size, self._n)
            try:
                arrays = self._tree.arrays(wanted, entry_start=first, entry_stop=stop, library="ak")
            except Exception as exc:  # decompression / basket errors on damaged files
                msg = f"{self.path}: read failed at entries {first}-{stop} ({type(exc).__name__}: {exc})"
                raise SourceError(msg) from exc
            cols = {ours: arrays[theirs] for ours, theirs in self._names.items()}
            yield table_to_batch(cols, stop - first, first=first, stream=self.name, where=str(self.path))
