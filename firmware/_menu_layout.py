"""The menu harness's event record: which columns, in which order, as int64 words.

Every event is one record of int64 words (little-endian): each collection's fields
(``COLLECTIONS`` order, all slots), the five energy sums, then one word per score
column (float32 scores carry their IEEE bits in the low 32 bits, float64 their 64).
The same list drives the C++ struct, the C++ reader and the Python writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from emulator.menu.hardware import HwExternal, HwObjects, HwSeed, HwSignal
from firmware.errors import UnsupportedError
from streams.event import EventBatch
from streams.schema import BASE_COLUMNS, COLLECTIONS, SUMS

__all__ = ["RECORD_FIELDS", "Field", "ScoreKind", "check_board_inputs", "menu_fields", "pack_events", "score_kind"]

ScoreKind = Literal["float", "double", "int"]

_CPP_INT = {"int8": "ap_int<8>", "int16": "ap_int<16>", "int32": "ap_int<32>", "uint8": "ap_uint<8>"}
_CPP_SCORE = {"float": "float", "double": "double", "int": "ap_int<64>"}


@dataclass(frozen=True, slots=True)
class Field:
    """One member of the C++ ``MenuInput`` struct: ``count`` words (1 = scalar)."""

    column: str
    cpp_type: str
    count: int
    kind: Literal["int", "float", "double"] = "int"

    @property
    def member(self) -> str:
        return self.column.replace(".", "_")


def score_kind(dtype: np.dtype) -> ScoreKind:
    """How a score column of ``dtype`` is stored and compared (as ``Menu.evaluate`` does)."""
    if dtype == np.float32:
        return "float"
    if dtype == np.float64:
        return "double"
    if dtype.kind in "iub":
        return "int"
    msg = f"score columns of dtype {dtype} are not supported (float32, float64 or integer)"
    raise UnsupportedError(msg)


#: Object fields the generated menu reads; seeds cutting on the others (uPT, IP, track-finder index,
#: displaced flag) are named unsupported by the writers, so the record leaves them out.
RECORD_FIELDS: Final = ("pt", "eta", "phi", "iso", "qual", "charge")


def menu_fields(scores: dict[str, ScoreKind]) -> tuple[Field, ...]:
    """Record layout for a menu reading the score columns ``scores`` (name -> kind)."""
    fields: list[Field] = []
    for coll in COLLECTIONS.values():
        for f in (f for f in coll.fields if f in RECORD_FIELDS):
            spec = BASE_COLUMNS[coll.column(f)]
            fields.append(Field(spec.name, _CPP_INT[spec.dtype.name], coll.size))
    fields += [Field(name, _CPP_INT[BASE_COLUMNS[name].dtype.name], 1) for name in SUMS]
    for name, kind in scores.items():
        fields.append(Field(name, _CPP_SCORE[kind], 1, "int" if kind == "int" else kind))
    return tuple(fields)


def pack_events(batch: EventBatch, fields: tuple[Field, ...]) -> np.ndarray:
    """int64 records ``(N, words)`` of ``batch`` in the order of ``fields``."""
    n = len(batch)
    parts: list[np.ndarray] = []
    for f in fields:
        col = np.asarray(batch[f.column]).reshape(n, -1)
        if col.shape[1] != f.count:
            msg = f"column {f.column!r}: {col.shape[1]} values per event, the menu record expects {f.count}"
            raise UnsupportedError(msg)
        if f.kind == "float":
            words = col.astype(np.float32).view(np.uint32).astype(np.int64)
        elif f.kind == "double":
            words = col.astype(np.float64).view(np.int64)
        else:
            words = col.astype(np.int64)
        parts.append(words)
    return np.ascontiguousarray(np.concatenate(parts, axis=1), dtype="<i8")


def check_board_inputs(seed: HwSeed, target: str) -> None:
    """Raise UnsupportedError for what neither generated menu (``target``: "HLS" or "RTL") holds: seeds
    the emulator cannot evaluate, the uGT board's own inputs (external conditions, muon showers), the
    schema-2 cuts and masses, and OR/NOT logic."""
    if seed.unsupported:
        msg = f"not evaluated by the emulator either ({seed.unsupported})"
        raise UnsupportedError(msg)
    for cond in seed.conditions:
        if isinstance(cond, HwExternal):
            msg = f"{cond.signal}: external conditions are inputs of the uGT board, not in the generated {target}"
            raise UnsupportedError(msg)
        if isinstance(cond, HwSignal):
            msg = f"{cond.signal}: muon-shower bits are inputs of the uGT board, not in the generated {target}"
            raise UnsupportedError(msg)
        for leg in cond.legs if isinstance(cond, HwObjects) else ():
            if leg.extra_cuts:
                msg = f"{leg.collection} {'/'.join(leg.extra_cuts)} cuts (schema-2 columns) have no {target} form yet"
                raise UnsupportedError(msg)
        if isinstance(cond, HwObjects) and any(c.upt for c in cond.correlations):
            msg = f"a mass of unconstrained pT (mass_inv_upt) has no {target} form yet"
            raise UnsupportedError(msg)
    if seed.logic:
        msg = f"OR/NOT seed logic has no {target} form yet (the writer ANDs a seed's conditions)"
        raise UnsupportedError(msg)
