"""Event sources: the parametric generator and files (l1emu HDF5, ADC2021, Parquet, ROOT).

>>> src = open_source(None, events=10, mu=20.0, seed=1)
>>> src.name, len(src)
('parametric', 10)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from streams.event import EventBatch
from streams.sources.base import Source
from streams.sources.parametric import ParametricConfig, ParametricSource

__all__ = ["LimitedSource", "Source", "open_source"]


class LimitedSource:
    """The first ``limit`` events of another source (shards stay consistent)."""

    def __init__(self, inner: Source, limit: int) -> None:
        self.inner = inner
        self.limit = min(limit, len(inner))
        self.name = inner.name

    def __len__(self) -> int:
        return self.limit

    def batches(self, batch_size: int, *, shard: tuple[int, int] = (0, 1)) -> Iterator[EventBatch]:
        for batch in self.inner.batches(batch_size, shard=shard):
            first = batch.meta.first
            if first >= self.limit:
                return
            yield batch if first + len(batch) <= self.limit else batch.select(slice(0, self.limit - first))


def open_source(spec: str | Path | None, *, events: int | None = None, mu: float = 60.0, seed: int = 1) -> Source:
    """``None`` or ``"parametric"``: the parametric generator; a path: a file reader.

    Files: l1emu HDF5, ADC2021 HDF5, Parquet, flat ROOT (see :mod:`streams.readers`).
    ``events`` limits a file (default: all of it) or sizes the generator (default 100 000).
    """
    if spec is None or str(spec) == "parametric":
        return ParametricSource(ParametricConfig(events=events or 100_000, mu=mu, seed=seed))
    from streams.readers import open_file  # readers pull in pyarrow/uproot: only when a file is asked for

    src = open_file(spec)
    return src if events is None else LimitedSource(src, events)
