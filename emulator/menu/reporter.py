"""A uGT XML menu from the tables of its tm-reporter page (``algorithms.json`` + ``cuts.csv``).

The reporter lists every seed (``{name: {index, expression}}``) and every cut
(``name,minimum,maximum,minimum_hw,maximum_hw,data_hw``). A cut's object and type are in
its name (``MU-QLTY_SNGL``: object MU, type QLTY; ``DR_MAX_0p4``: function cut DR); LUT
cuts list their accepted values as a hex mask (``0xff00``: 8..15), text cuts quote their
data (``"os"``), and the displaced-jet flag shows its value (``0x0001``: displaced).

>>> algos = {"L1_SingleMu22": {"index": 33, "expression": "MU22[MU-QLTY_SNGL]"}}
>>> cuts = "name,minimum,maximum,minimum_hw,maximum_hw,data_hw\\nMU-QLTY_SNGL,,,,,0xf000\\n"
>>> "<data>12,13,14,15</data>" in tmxsd_from_report(algos, cuts, name="L1Menu_Test")
True
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any, Final

from emulator.errors import MenuError
from emulator.menu._cuts import CutDef
from emulator.menu._grammar import atoms, functions, parse_expression
from emulator.menu._xml import GRAMMAR_VERSION, XmlAlgorithm, write_tmxsd

__all__ = ["cut_from_report_row", "tmxsd_from_report"]

_LUTS: Final = ("QLTY", "ISO", "IP")


def _number(text: str) -> float:
    return float(text) if text.strip() else 0.0


def cut_from_report_row(row: Mapping[str, str]) -> CutDef:
    """One ``cuts.csv`` row as a checked cut definition."""
    name = row["name"].strip()
    obj, sep, rest = name.partition("-")
    kind = rest.split("_", 1)[0] if sep else name.split("_", 1)[0]
    data = (row.get("data_hw") or "").strip().strip('"')
    if kind in _LUTS and data:
        mask = int(data, 16)
        data = ",".join(str(v) for v in range(16) if mask >> v & 1)
    elif kind == "DISP" and data:
        data = str(int(data, 16))
    raw = {"object": obj if sep else "", "type": kind, "minimum": _number(row.get("minimum", "")),
           "maximum": _number(row.get("maximum", "")), "data": data}  # fmt: skip
    return CutDef.build(raw, name=name, where="cuts.csv")


def _names(expression: str, seed: str) -> list[str]:
    tree = parse_expression(expression, where=f"seed {seed}: expression")
    return list(dict.fromkeys([c for a in atoms(tree) for c in a.cuts] + [c for f in functions(tree) for c in f.cuts]))


def tmxsd_from_report(algorithms: Mapping[str, Any], cuts_csv: str, *, name: str, comment: str = "") -> str:
    """The tmxsd text of a menu whose seeds and cuts come from a tm-reporter page's tables."""
    rows = csv.DictReader(io.StringIO(cuts_csv.lstrip("\ufeff")))
    table = {c.name: c for c in (cut_from_report_row(r) for r in rows)}
    algos = []
    for seed, entry in algorithms.items():
        used = _names(str(entry["expression"]), seed)
        missing = [n for n in used if n not in table]
        if missing:
            msg = f"seed {seed}: cuts {missing} are not in the cut table"
            raise MenuError(msg)
        algos.append(XmlAlgorithm(seed, str(entry["expression"]), int(entry["index"]),
                                  tuple(table[n] for n in used)))  # fmt: skip
    meta = {"grammar_version": GRAMMAR_VERSION, "comment": comment}
    return write_tmxsd(name, algos, meta)
