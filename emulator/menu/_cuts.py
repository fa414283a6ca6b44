"""The cuts a utm expression names: ``MU-QLTY_SNGL``, ``EG-ETA_2p13``, ``DR_MAX_0p4``, ...

Each cut is defined once per menu (``<cut>`` in the XML, ``cuts:`` in YAML) by an object
(``MU``, ``EG``, ...; empty for function cuts), a type, a minimum and maximum and LUT/text
``data``, as the L1 menu editor writes them. This module checks a definition and reads its
values; which objects and functions may use which cut types is in :data:`OBJECT_CUTS` and
:data:`FUNCTION_CUTS`.

>>> cut = CutDef.build({"object": "MU", "type": "QLTY", "data": "12,13,14,15"}, name="MU-QLTY_SNGL")
>>> cut.values()
(12, 13, 14, 15)
>>> CutDef.build({"type": "DR", "minimum": 0, "maximum": 0.4}, name="DR_MAX_0p4").window()
(0.0, 0.4)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from emulator.errors import MenuError

__all__ = ["FUNCTION_CUTS", "OBJECT_CUTS", "CutDef", "parse_cuts"]

#: Object (or sum, count, signal) -> the cut types it takes.
OBJECT_CUTS: Final[dict[str, frozenset[str]]] = {
    "MU": frozenset({"UPT", "ETA", "PHI", "QLTY", "ISO", "CHG", "IP", "SLICE", "INDEX"}),
    "EG": frozenset({"ETA", "PHI", "ISO", "SLICE"}),
    "TAU": frozenset({"ETA", "PHI", "ISO", "SLICE"}),
    "JET": frozenset({"ETA", "PHI", "DISP", "SLICE"}),
    **{s: frozenset({"PHI"}) for s in ("ETM", "HTM", "ETMHF", "HTMHF")},
    **{s: frozenset({"COUNT"}) for s in ("ETT", "HTT", "ETTEM", "ASYMET", "ASYMHT", "ASYMETHF", "ASYMHTHF",
                                          "MBT0HFP", "MBT0HFM", "MBT1HFP", "MBT1HFM", "TOWERCOUNT", "ZDCP", "ZDCM")},
    "AXO": frozenset({"SCORE", "MODEL"}),
    "TOPO": frozenset({"SCORE", "MODEL"}),
    "CICADA": frozenset({"CSCORE"}),
    "ADT": frozenset({"ASCORE"}),
}  # fmt: skip
_CORR: Final = frozenset({"DETA", "DPHI", "DR", "TBPT", "CHGCOR"})
_ORM: Final = frozenset({"ORMDETA", "ORMDPHI", "ORMDR"})
#: Function -> the function-cut types it takes.
FUNCTION_CUTS: Final[dict[str, frozenset[str]]] = {
    "comb": frozenset({"CHGCOR", "TBPT"}),
    "dist": _CORR,
    "mass_inv": _CORR | {"MASS"},
    "mass_inv_upt": _CORR | {"MASSUPT"},
    "mass_inv_dr": _CORR | {"MASSDR"},
    "mass_trv": frozenset({"MASS", "DPHI", "TBPT", "CHGCOR"}),
    "mass_inv_3": frozenset({"MASS", "CHGCOR"}),
    "comb_orm": _ORM | {"TBPT"},
    "dist_orm": _ORM | _CORR,
    "mass_inv_orm": _ORM | _CORR | {"MASS"},
}
_FUNCTION_TYPES: Final = frozenset().union(*FUNCTION_CUTS.values())
_RANGE_TYPES: Final = frozenset({"ETA", "PHI", "UPT", "INDEX", "DETA", "DPHI", "DR", "MASS", "MASSUPT", "MASSDR",
                                 "ORMDETA", "ORMDPHI", "ORMDR"})  # fmt: skip
_LUT_TYPES: Final = {"QLTY": 15, "ISO": 3, "IP": 3}  # highest value each field holds
_TEXT_DATA: Final = {"CHG": ("positive", "negative"), "CHGCOR": ("os", "ls")}
_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")


@dataclass(frozen=True, slots=True)
class CutDef:
    """One cut as the menu editor writes it; :meth:`build` checks it."""

    name: str
    object: str
    type: str
    minimum: float = 0.0
    maximum: float = 0.0
    data: str = ""

    @classmethod
    def build(cls, raw: Mapping[str, Any], *, name: str, where: str = "cuts") -> CutDef:
        """A checked cut from ``{object, type, minimum, maximum, data}`` (``where`` names it in errors)."""
        here = f"{where}.{name}"
        unknown = sorted(set(raw) - {"object", "type", "minimum", "maximum", "data"})
        if unknown:
            msg = f"{here}: unknown field(s) {unknown}; known: data, maximum, minimum, object, type"
            raise MenuError(msg)
        if not _NAME.fullmatch(name):
            msg = f"{here}: {name!r} is not a cut name (letters, digits, '_', '-', '.')"
            raise MenuError(msg)
        cut = cls(name, str(raw.get("object") or ""), str(raw.get("type", "")), _number(raw, "minimum", here),
                  _number(raw, "maximum", here), str(raw.get("data") or "").strip().strip('"'))  # fmt: skip
        cut._check(here)
        return cut

    def _check(self, here: str) -> None:
        if self.object:
            allowed = OBJECT_CUTS.get(self.object)
            if allowed is None:
                msg = f"{here}: unknown object {self.object!r}; known: {', '.join(OBJECT_CUTS)}"
                raise MenuError(msg)
            if self.type not in allowed:
                msg = f"{here}: {self.object} takes cut types {sorted(allowed)}, not {self.type!r}"
                raise MenuError(msg)
        elif self.type not in _FUNCTION_TYPES:
            msg = f"{here}: {self.type!r} is no function-cut type ({', '.join(sorted(_FUNCTION_TYPES))}); "
            msg += "object cuts need their object"
            raise MenuError(msg)
        if self.type in _LUT_TYPES:
            self.values(here)
        elif self.type in _TEXT_DATA and self.data not in _TEXT_DATA[self.type]:
            msg = f"{here}: {self.type} data must be one of {list(_TEXT_DATA[self.type])}, not {self.data!r}"
            raise MenuError(msg)
        elif self.type == "SLICE":
            self.slice(here)
        elif self.type == "DISP" and self.data not in ("0", "1"):
            msg = f"{here}: DISP data must be 1 (displaced) or 0 (not displaced), not {self.data!r}"
            raise MenuError(msg)
        elif self.type in _RANGE_TYPES and self.type != "PHI" and self.minimum > self.maximum:
            msg = f"{here}: minimum {self.minimum} exceeds maximum {self.maximum}"
            raise MenuError(msg)

    def values(self, where: str = "") -> tuple[int, ...]:
        """The accepted values of a LUT cut (QLTY, ISO, IP): ``data`` ``"8,9,...,15"``."""
        here = where or f"cut {self.name}"
        top = _LUT_TYPES.get(self.type, 15)
        try:
            vals = tuple(sorted({int(v) for v in self.data.split(",") if v.strip()}))
        except ValueError:
            vals = ()
        if not vals or not all(0 <= v <= top for v in vals):
            msg = f"{here}: {self.type} data must list values 0..{top} it accepts ('8,9,10'), not {self.data!r}"
            raise MenuError(msg)
        return vals

    def slice(self, where: str = "") -> tuple[int, int]:
        """[first, last] object slot of a SLICE cut (``data`` ``"0,3"``)."""
        parts = self.data.split(",")
        try:
            lo, hi = (int(p) for p in parts)
        except ValueError:
            lo, hi = 1, 0
        if not 0 <= lo <= hi <= 11:
            msg = f"{where or f'cut {self.name}'}: SLICE data must be 'first,last' within 0..11, not {self.data!r}"
            raise MenuError(msg)
        return lo, hi

    def window(self) -> tuple[float, float]:
        return self.minimum, self.maximum

    def as_dict(self) -> dict[str, Any]:
        """The YAML form (``object`` omitted for function cuts, zero bounds and empty data left out)."""
        out: dict[str, Any] = {"object": self.object} if self.object else {}
        out["type"] = self.type
        if self.minimum or self.maximum or self.type in _RANGE_TYPES:
            out |= {"minimum": self.minimum, "maximum": self.maximum}
        if self.data:
            out["data"] = self.data
        return out


def _number(raw: Mapping[str, Any], key: str, here: str) -> float:
    value = raw.get(key, 0.0)
    try:
        out = float(value if value not in (None, "") else 0.0)
    except (TypeError, ValueError):
        out = float("nan")
    if isinstance(value, bool) or out != out or out in (float("inf"), float("-inf")):
        msg = f"{here}.{key}: expected a finite number, got {value!r}"
        raise MenuError(msg)
    return out


def parse_cuts(raw: Any, *, where: str) -> dict[str, CutDef]:
    """A menu's ``cuts:`` mapping (name -> fields) into checked :class:`CutDef` s."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        msg = f"{where}.cuts: expected a mapping of cut name to fields, got {type(raw).__name__}"
        raise MenuError(msg)
    out = {}
    for name, fields in raw.items():
        if not isinstance(fields, Mapping):
            msg = f"{where}.cuts.{name}: expected a mapping (object, type, minimum, maximum, data)"
            raise MenuError(msg)
        out[str(name)] = CutDef.build(fields, name=str(name), where=f"{where}.cuts")
    return out
