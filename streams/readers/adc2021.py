"""Reader for HDF5 files in the ADC2021 (anomaly-detection challenge) layout.

Each event is a (19, 4) array: rows [MET, 4 e/γ, 4 μ, 10 jets], columns (pT [GeV],
η, φ [rad], type id); zero rows are empty slots. The dataset is ``Particles`` by
default. MET becomes ``etm`` (and ``etmhf``); e/γ, μ and jets fill the first 4, 4
and 10 slots of their collections in hardware units; τ, other sums and regions
stay zero. Muons get quality 15 and charge 0 (the layout carries neither).

>>> import tempfile, pathlib, h5py, numpy as np
>>> p = pathlib.Path(tempfile.mkdtemp()) / "adc.h5"
>>> x = np.zeros((3, 19, 4), np.float32); x[:, 0] = (40.0, 0.0, 1.0, 1); x[:, 9] = (100.0, 0.5, 0.2, 4)
>>> with h5py.File(p, "w") as f:
...     _ = f.create_dataset("Particles", data=x)
>>> src = ADC2021Source(p)
>>> b = next(src.batches(2))
>>> len(src), b["jet_pt"][0, 0], b["etm"][0]
(3, np.int16(200), np.int32(80))
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np

from streams.errors import SourceError
from streams.event import EventBatch
from streams.readers._physical import to_batch

__all__ = ["ADC2021_SLOTS", "ADC2021Source"]

#: (collection, first row, number of rows) in the (19, 4) event array.
ADC2021_SLOTS: tuple[tuple[str, int, int], ...] = (("egamma", 1, 4), ("muon", 5, 4), ("jet", 9, 10))


class ADC2021Source:
    """Events of an ADC2021-layout HDF5 file as batches."""

    def __init__(self, path: str | Path, *, dataset: str = "Particles") -> None:
        self.path = Path(path)
        self.dataset = dataset
        self.name = f"adc2021:{self.path.name}"
        if not self.path.is_file():
            msg = f"{self.path}: no such file"
            raise SourceError(msg)
        try:
            with h5py.File(self.path, "r") as f:
                if dataset not in f:
                    msg = f"{self.path}: no dataset {dataset!r} (has {sorted(f.keys())})"
                    raise SourceError(msg)
                shape = f[dataset].shape
        except OSError as exc:
            msg = f"{self.path}: not a readable HDF5 file ({exc})"
            raise SourceError(msg) from exc
        if len(shape) != 3 or shape[1:] != (19, 4):
            msg = f"{self.path}: dataset {dataset!r} has shape {shape}, expected (N, 19, 4)"
            raise SourceError(msg)
        self._n = int(shape[0])

    def __len__(self) -> int:
        return self._n

    def _convert(self, x: np.ndarray, first: int) -> EventBatch:
        x = np.asarray(x, np.float64)
        objects = {
            name: {"pt": x[:, r:r + k, 0], "eta": x[:, r:r + k, 1], "phi": x[:, r:r + k, 2]}
            for name, r, k in ADC2021_SLOTS
        }
        objects["muon"]["qual"] = np.where(x[:, 5:9, 0] > 0, 15, 0)
        met, met_phi = x[:, 0, 0], x[:, 0, 2]
        sums = {"etm": met, "etm_phi": met_phi, "etmhf": met, "etmhf_phi": met_phi}
        return to_batch(objects, sums, len(x), first=first, stream=self.name)

    def batches(self, batch_size: int, *, shard: tuple[int, int] = (0, 1)) -> Iterator[EventBatch]:
        index, count = shard
        try:
            with h5py.File(self.path, "r") as f:
                ds = f[self.dataset]
                for k, first in enumerate(range(0, self._n, batch_size)):
                    if k % count == index:
                        yield self._convert(ds[first:first + batch_size], first)
        except OSError as exc:
            msg = f"{self.path}: read failed ({exc}); is the file truncated?"
            raise SourceError(msg) from exc
