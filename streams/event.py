"""Columnar event batches: N events, one numpy array per column.

A batch covers a contiguous range of *global sequence numbers* (``meta.first`` …
``meta.first + len - 1``), assigned by producers in source order. Those numbers,
not the physics event numbers, order events for deterministic prescale counters.

>>> from streams.event import EventBatch
>>> b = EventBatch.empty(4)
>>> len(b), b["jet_pt"].shape
(4, (4, 12))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from streams.errors import WireFormatError
from streams.schema import ALLOWED_DTYPES, BASE_COLUMNS, COLUMN_NAME_RE, SCHEMA_VERSION

__all__ = ["BatchMeta", "EventBatch", "Pack", "StageTrace"]


@dataclass(frozen=True, slots=True)
class StageTrace:
    """One stage's passage of a batch: when it arrived, how long it was processed."""

    stage: str
    worker: str
    t_recv: float  # wall clock, s since epoch
    proc_s: float  # processing time, s (perf counter)


@dataclass(frozen=True, slots=True)
class BatchMeta:
    """Where a batch comes from and where it has been."""

    stream: str = "local"
    seq: int = 0
    first: int = 0
    origin_t: float = 0.0
    trace: tuple[StageTrace, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class Pack:
    """One buffer holding several columns: ``members[name] = (byte offset, the array viewing it)``.

    Received batches keep their message frames as packs and producers pack their batches,
    so a worker forwards the columns it did not replace with the frame they came in
    (zero-copy) instead of one frame per column; see :mod:`streams.wire`.
    """

    buffer: Any  # a zmq.Frame, bytes or uint8 array: what the sender hands to the socket
    members: Mapping[str, tuple[int, np.ndarray]]


@dataclass(frozen=True, slots=True)
class EventBatch:
    """N events as named columns; arrays are shared, never copied implicitly."""

    columns: Mapping[str, np.ndarray]
    meta: BatchMeta = field(default_factory=BatchMeta)
    schema_version: int = SCHEMA_VERSION
    packs: tuple[Pack, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", dict(self.columns))
        self.validate()

    # -- construction -------------------------------------------------------
    @classmethod
    def empty(cls, n: int, *, meta: BatchMeta | None = None) -> EventBatch:
        """A batch of ``n`` events with every base column zero-filled."""
        cols = {
            s.name: np.zeros((n, *s.shape), dtype=s.dtype) for s in BASE_COLUMNS.values()
        }
        return cls(cols, meta or BatchMeta())

    @classmethod
    def concat(cls, batches: Iterable[EventBatch]) -> EventBatch:
        """Join batches that carry the same columns (meta of the first is kept)."""
        items = list(batches)
        if not items:
            msg = "cannot concatenate an empty list of batches"
            raise ValueError(msg)
        names = list(items[0].columns)
        for b in items[1:]:
            if list(b.columns) != names:
                msg = f"column sets differ: {sorted(set(names) ^ set(b.columns))}"
                raise ValueError(msg)
        cols = {k: np.concatenate([b.columns[k] for b in items]) for k in names}
        return cls(cols, items[0].meta)

    # -- access -------------------------------------------------------------
    def __len__(self) -> int:
        first = next(iter(self.columns.values()), None)
        return 0 if first is None else int(first.shape[0])

    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.columns[name]
        except KeyError:
            msg = f"batch has no column {name!r}"
            raise KeyError(msg) from None

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    @property
    def gid(self) -> np.ndarray:
        """Global sequence numbers of the events (``uint64``)."""
        return np.arange(self.meta.first, self.meta.first + len(self), dtype=np.uint64)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.columns.values())

    # -- derivation ---------------------------------------------------------
    def with_columns(self, **new: np.ndarray) -> EventBatch:
        """A batch with extra or replaced columns (others shared); only new ones are checked."""
        out = self._trusted({**self.columns, **new}, self.meta, self.schema_version, self.packs)
        out._validate_columns(new)
        return out

    def with_meta(self, **changes: Any) -> EventBatch:
        """A batch with changed :class:`BatchMeta` fields (columns shared, not re-checked)."""
        return self._trusted(self.columns, replace(self.meta, **changes), self.schema_version, self.packs)

    def with_packs(self, packs: tuple[Pack, ...]) -> EventBatch:
        """The same batch noting which of its columns live in which shared buffers."""
        return self._trusted(self.columns, self.meta, self.schema_version, packs)

    def with_packed(self, moved: Mapping[str, np.ndarray], pack: Pack) -> EventBatch:
        """Columns ``moved`` into ``pack``'s buffer: the same names, dtypes, shapes and values
        as before (checked cheaply, not re-validated), now views into one more pack."""
        for name, arr in moved.items():
            old = self.columns.get(name)
            if old is None or old.dtype != arr.dtype or old.shape != arr.shape:
                msg = f"column {name!r} cannot move into a pack as {arr.dtype}{arr.shape}"
                raise ValueError(msg)
        return self._trusted({**self.columns, **moved}, self.meta, self.schema_version, (*self.packs, pack))

    @classmethod
    def checked(cls, columns: Mapping[str, np.ndarray], meta: BatchMeta, packs: tuple[Pack, ...] = ()) -> EventBatch:
        """A batch whose column names, dtypes and shapes already passed :meth:`validate` in
        an earlier batch of the same description (the wire decoder's cached plans)."""
        return cls._trusted(columns, meta, SCHEMA_VERSION, packs)

    @classmethod
    def _trusted(
        cls, columns: Mapping[str, np.ndarray], meta: BatchMeta, version: int, packs: tuple[Pack, ...] = ()
    ) -> EventBatch:
        """Build without re-validating columns that an existing batch already validated."""
        out = object.__new__(cls)
        object.__setattr__(out, "columns", dict(columns))
        object.__setattr__(out, "meta", meta)
        object.__setattr__(out, "schema_version", version)
        object.__setattr__(out, "packs", packs)
        return out

    def select(self, index: slice | np.ndarray) -> EventBatch:
        """A sub-batch (slice or boolean/integer index). ``meta.first`` is kept."""
        return EventBatch({k: v[index] for k, v in self.columns.items()}, self.meta)

    # -- checks -------------------------------------------------------------
    def validate(self) -> None:
        """Check base columns and extra columns against the schema.

        Raises :class:`WireFormatError` naming the first offending column.
        """
        n = len(self)
        for spec in BASE_COLUMNS.values():
            arr = self.columns.get(spec.name)
            if arr is None:
                msg = f"missing base column {spec.name!r}"
                raise WireFormatError(msg, kind="schema")
            if arr.dtype != spec.dtype or arr.shape != (n, *spec.shape):
                msg = (
                    f"column {spec.name!r}: expected {spec.dtype}{(n, *spec.shape)}, "
                    f"got {arr.dtype}{arr.shape}"
                )
                raise WireFormatError(msg, kind="schema")
        self._validate_columns({k: v for k, v in self.columns.items() if k not in BASE_COLUMNS})

    def _validate_columns(self, columns: Mapping[str, np.ndarray]) -> None:
        n = len(self)
        for name, arr in columns.items():
            spec = BASE_COLUMNS.get(name)
            if spec is not None:
                if arr.dtype != spec.dtype or arr.shape != (n, *spec.shape):
                    msg = (
                        f"column {name!r}: expected {spec.dtype}{(n, *spec.shape)}, "
                        f"got {arr.dtype}{arr.shape}"
                    )
                    raise WireFormatError(msg, kind="schema")
                continue
            if not COLUMN_NAME_RE.match(name):
                msg = f"invalid column name {name!r}"
                raise WireFormatError(msg, kind="schema")
            if arr.dtype.str not in ALLOWED_DTYPES:
                msg = f"column {name!r}: dtype {arr.dtype} is not allowed"
                raise WireFormatError(msg, kind="dtype")
            if arr.ndim < 1 or arr.shape[0] != n:
                msg = f"column {name!r}: {arr.shape[0] if arr.ndim else 0} events, expected {n}"
                raise WireFormatError(msg, kind="shape")
