"""Prescale tables and seed masks of real menus: CMS prescale CSVs and uGT run-settings XML.

* CSV: ``Index,Name,<column>,...`` (one row per seed; columns like ``2p0E34``, ``Emergency``);
* run-settings XML (``<run-settings id="uGT">``): a ``prescales`` table of rows
  ``algo,ps0,ps1,...`` (columns named ``0``, ``1``, ...; the ``index`` parameter is the
  column in use), a ``finorMask`` table ``algo,mask`` and a ``vetoMask`` table ``algo,veto``.

Prescales may be fractional with two decimals; :func:`ugt_prescale` counts them as the
uGT does (the counter advances by 100 per pass and fires when it reaches 100 × prescale).

>>> table = read_prescale_csv("Index,Name,a,b\\n0,L1_X,1,0\\n1,L1_Y,2.5,3\\n", source="t.csv")
>>> table.columns, table.column("a").tolist()
(('a', 'b'), [1.0, 2.5])
>>> fired, c = ugt_prescale(np.ones((5, 1), bool), np.array([2.5]), np.zeros(1, np.int64))
>>> fired[:, 0].tolist(), c.tolist()
([False, False, True, False, True], [0])
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from emulator.errors import MenuError
from emulator.menu._xml_safe import parse_xml
from emulator.rates import ugt_counter

__all__ = ["PrescaleTable", "RunSettings", "SeedMask", "load_run_settings", "read_prescale_csv", "ugt_prescale"]

_HUNDREDTHS: Final = 100


@dataclass(frozen=True, eq=False)
class PrescaleTable:
    """Prescales (float64, rows × columns) keyed by algorithm index and, from a CSV, by name."""

    columns: tuple[str, ...]
    index: tuple[int, ...]
    names: tuple[str, ...] | None
    values: np.ndarray
    source: str
    default_column: str | None = None

    def column(self, name: str) -> np.ndarray:
        """One column's prescales in row order (a copy)."""
        if name not in self.columns:
            msg = f"{self.source}: no prescale column {name!r}; columns: {list(self.columns)}"
            raise MenuError(msg)
        return np.array(self.values[:, self.columns.index(name)])


@dataclass(frozen=True, eq=False)
class SeedMask:
    """A per-algorithm bit (FinOR mask: 1 = the seed enters the final OR; veto mask: 1 = vetoes)."""

    kind: str
    index: tuple[int, ...]
    values: np.ndarray
    source: str


@dataclass(frozen=True, eq=False)
class RunSettings:
    """What a uGT run-settings file holds (any part may be absent)."""

    prescales: PrescaleTable | None = None
    finor: SeedMask | None = None
    veto: SeedMask | None = None
    params: dict[str, str] = field(default_factory=dict)


def _prescale(text: str, where: str) -> float:
    try:
        p = float(text)
    except ValueError:
        p = -1.0
    if not (p == 0 or p >= 1) or p != p or abs(p * _HUNDREDTHS - round(p * _HUNDREDTHS)) > 1e-6:
        msg = f"{where}: prescale {text!r} must be 0 (disabled) or a number >= 1 with at most two decimals"
        raise MenuError(msg)
    return p


def _index(text: str, where: str) -> int:
    try:
        return int(text)
    except ValueError:
        msg = f"{where}: algorithm index {text!r} is not an integer"
        raise MenuError(msg) from None


def read_prescale_csv(text: str, *, source: str) -> PrescaleTable:
    """A CMS prescale CSV (``Index,Name,<column>,...``; a UTF-8 byte-order mark is allowed)."""
    rows = [r for r in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if any(c.strip() for c in r)]
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["index", "name"] or len(rows[0]) < 3:
        msg = f"{source}: line 1: expected the header 'Index,Name,<column>,...', got {rows[0] if rows else []}"
        raise MenuError(msg)
    columns = tuple(c.strip() for c in rows[0][2:])
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes or "" in columns:
        msg = f"{source}: line 1: column names must be unique and non-empty: {list(columns)}"
        raise MenuError(msg)
    index, names, values = [], [], []
    for line, row in enumerate(rows[1:], start=2):
        where = f"{source}: line {line}"
        if len(row) != len(columns) + 2:
            msg = f"{where}: {len(row)} fields, the header has {len(columns) + 2}"
            raise MenuError(msg)
        index.append(_index(row[0].strip(), where))
        names.append(row[1].strip())
        values.append([_prescale(v.strip(), f"{where}, column {c!r}") for v, c in zip(row[2:], columns, strict=True)])
    _check_unique(index, "algorithm index", source)
    _check_unique(names, "seed name", source)
    arr = np.array(values, np.float64).reshape(-1, len(columns))
    arr.flags.writeable = False
    return PrescaleTable(columns, tuple(index), tuple(names), arr, source)


def _check_unique(values: list[Any], what: str, source: str) -> None:
    dupes = sorted({v for v in values if values.count(v) > 1})
    if dupes:
        msg = f"{source}: {what}s repeat: {dupes[:10]}"
        raise MenuError(msg)


def _table(param: Any, where: str) -> tuple[list[str], list[list[str]]]:
    cols = (param.findtext("columns") or "").split(",")
    rows_el = param.find("rows")
    rows = [] if rows_el is None else [(r.text or "").split(",") for r in rows_el.findall("row")]
    for k, row in enumerate(rows):
        if len(row) != len(cols):
            msg = f"{where}: row {k + 1} has {len(row)} values, the table has {len(cols)} columns"
            raise MenuError(msg)
    return [c.strip() for c in cols], [[v.strip() for v in r] for r in rows]


def _mask(param: Any, kind: str, where: str) -> SeedMask:
    cols, rows = _table(param, where)
    if len(cols) != 2:
        msg = f"{where}: a {kind} mask has two columns (algo, value), got {cols}"
        raise MenuError(msg)
    index = [_index(r[0], where) for r in rows]
    _check_unique(index, "algorithm index", where)
    bad = [r[1] for r in rows if r[1] not in ("0", "1")]
    if bad:
        msg = f"{where}: {kind} mask values must be 0 or 1, got {bad[:5]}"
        raise MenuError(msg)
    return SeedMask(kind, tuple(index), np.array([r[1] == "1" for r in rows], bool), where)


def _prescale_param(param: Any, default: str | None, where: str) -> PrescaleTable:
    cols, rows = _table(param, where)
    if len(cols) < 2:
        msg = f"{where}: a prescale table needs 'algo/prescale-index,<column>,...', got {cols}"
        raise MenuError(msg)
    columns = tuple(cols[1:])
    index = [_index(r[0], where) for r in rows]
    _check_unique(index, "algorithm index", where)
    values = [[_prescale(v, f"{where}: algo {r[0]}, column {c!r}") for v, c in zip(r[1:], columns, strict=True)]
              for r in rows]  # fmt: skip
    arr = np.array(values, np.float64).reshape(-1, len(columns))
    arr.flags.writeable = False
    if default is not None and default not in columns:
        msg = f"{where}: the 'index' parameter {default!r} names no prescale column ({list(columns)})"
        raise MenuError(msg)
    return PrescaleTable(columns, tuple(index), None, arr, where, default)


def read_run_settings(text: str, *, source: str) -> RunSettings:
    """A uGT run-settings XML document (prescales, FinOR and veto masks)."""
    root = parse_xml(text, source=source)
    if root.tag != "run-settings":
        msg = f"{source}: expected a <run-settings> document, got <{root.tag}>"
        raise MenuError(msg)
    params = {p.get("id", ""): p for ctx in root.iter("context") for p in ctx.findall("param")}
    simple = {k: (p.text or "").strip() for k, p in params.items() if p.get("type") != "table"}
    out: dict[str, Any] = {"params": simple}
    if "prescales" in params:
        out["prescales"] = _prescale_param(params["prescales"], simple.get("index"), f"{source}: prescales")
    for key, kind in (("finorMask", "finor"), ("vetoMask", "veto")):
        if key in params:
            out[kind] = _mask(params[key], kind, f"{source}: {key}")
    if len(out) == 1:
        msg = f"{source}: no prescales, finorMask or vetoMask table (params: {sorted(params)})"
        raise MenuError(msg)
    return RunSettings(**out)


def load_run_settings(path: str | Path) -> RunSettings:
    """A prescale CSV or a uGT run-settings XML file (by suffix)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        msg = f"{p}: cannot read ({exc.strerror or exc})"
        raise MenuError(msg) from exc
    if p.suffix.lower() == ".csv":
        return RunSettings(prescales=read_prescale_csv(text, source=str(p)))
    if p.suffix.lower() == ".xml":
        return read_run_settings(text, source=str(p))
    msg = f"{p}: prescale tables are .csv (CMS prescale table) or .xml (uGT run settings)"
    raise MenuError(msg)


def ugt_prescale(raw: np.ndarray, prescales: np.ndarray, counters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply uGT (fractional) prescalers to pre-prescale decisions ``raw`` (N, S).

    Per seed the counter (in hundredths, from ``counters``) advances by 100 on each pass and
    the pass fires when it reaches ``F = 100 × prescale``, which it then subtracts; prescale 0
    never fires. Returns the fired decisions and the counters after the batch.
    """
    f = np.rint(np.asarray(prescales, np.float64) * _HUNDREDTHS).astype(np.int64)
    return ugt_counter(np.asarray(raw, bool), f, np.asarray(counters, np.int64))
