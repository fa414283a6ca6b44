"""Event sources: the parametric generator and files.

>>> src = open_source(None, events=10, mu=20.0, seed=1)
>>> src.name, len(src)
('parametric', 10)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from streams.errors import SourceError
from streams.event import EventBatch
from streams.hdf5 import HDF5Source
from streams.sources.base import Source
from streams.sources.parametric import ParametricConfig, ParametricSource

__all__ = ["LimitedSource", "Source", "open_source"]


class LimitedSource:
    """The first ``limit`` events of another source."""

    def __init__(self, inner: HDF5Source, limit: int) -> None:
        self.inner = inner
        self.limit = min(limit, len(inner))
        self.name = inner.name

    def __len__(self) -> int:
        return self.limit

    def batches(self, batch_size: int, *, shard: tuple[int, int] = (0, 1)) -> Iterator[EventBatch]:
        return self.inner.batches(batch_size, shard=shard, limit=self.limit)


def open_source(spec: str | Path | None, *, events: int | None = None, mu: float = 60.0, seed: int = 1) -> Source:
    """``None`` or ``"parametric"``: the parametric generator; a path: an l1emu HDF5 file.

    ``events`` limits a file (default: all of it) or sizes the generator (default 100 000).
    """
    if spec is None or str(spec) == "parametric":
        return ParametricSource(ParametricConfig(events=events or 100_000, mu=mu, seed=seed))
    path = Path(spec)
    if path.suffix.lower() not in (".h5", ".hdf5"):
        msg = f"{path}: unknown source type (expected an .h5 file or 'parametric')"
        raise SourceError(msg)
    src = HDF5Source(path)
    return src if events is None else LimitedSource(src, events)
