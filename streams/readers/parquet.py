"""Reader for Parquet files of L1 objects in physical units (column names: see ``_columnar``).

>>> import tempfile, pathlib, pyarrow as pa, pyarrow.parquet as pq
>>> p = pathlib.Path(tempfile.mkdtemp()) / "ev.parquet"
>>> pq.write_table(pa.table({"jet_pt": [[50.0, 20.0], []], "jet_eta": [[0.0, 1.0], []],
...                          "jet_phi": [[0.1, 0.2], []], "etm": [10.0, 3.0]}), p)
>>> b = next(ParquetSource(p).batches(10))
>>> b["jet_pt"][:, 0].tolist(), b["etm"].tolist()
([100, 0], [20, 6])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from streams.errors import SourceError
from streams.event import EventBatch
from streams.readers._columnar import resolve_names, table_to_batch

__all__ = ["ParquetSource"]


class ParquetSource:
    """Events of a Parquet file (pyarrow), read in row batches."""

    def __init__(self, path: str | Path, *, columns: Mapping[str, str] | None = None) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = Path(path)
        self.name = f"parquet:{self.path.name}"
        if not self.path.is_file():
            msg = f"{self.path}: no such file"
            raise SourceError(msg)
        try:
            self._meta = pq.ParquetFile(self.path)
        except (OSError, pa.ArrowException) as exc:
            msg = f"{self.path}: not a readable Parquet file ({exc})"
            raise SourceError(msg) from exc
        self._names = resolve_names(self._meta.schema_arrow.names, columns, str(self.path))
        self._n = int(self._meta.metadata.num_rows)

    def __len__(self) -> int:
        return self._n

    def batches(self, batch_size: int, *, shard: tuple[int, int] = (0, 1)) -> Iterator[EventBatch]:
        """Row batches; a shard skips (but still reads) the other shards' batches."""
        import awkward as ak
        import pyarrow as pa

        index, count = shard
        first = 0
        try:
            columns = sorted(set(self._names.values()))
            for k, rb in enumerate(self._meta.iter_batches(batch_size=batch_size, columns=columns)):
                if k % count == index:
                    arr = ak.from_arrow(rb)
                    cols = {ours: arr[theirs] for ours, theirs in self._names.items()}
                    yield table_to_batch(cols, rb.num_rows, first=first, stream=self.name, where=str(self.path))
                first += rb.num_rows
        except (OSError, pa.ArrowException) as exc:
            msg = f"{self.path}: read failed after {first} events ({exc}); is the file truncated?"
            raise SourceError(msg) from exc
