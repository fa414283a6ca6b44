"""utm atoms (objects, sums, counts, signals) and their cuts as l1emu conditions.

What the event model cannot express yet raises :class:`Unsupported` with the reason, naming
the event column that is missing; what is simply wrong raises :class:`MenuError`.

>>> from emulator.menu._cuts import CutDef
>>> from emulator.menu._grammar import Atom
>>> cuts = {"MU-QLTY_SNGL": CutDef("MU-QLTY_SNGL", "MU", "QLTY", data="12,13,14,15")}
>>> leg = object_leg(Atom("MU", "4p5", cuts=("MU-QLTY_SNGL",)), cuts, where="seed X")
>>> leg.type, leg.pt_min, leg.quality
('muon', 4.5, (12, 13, 14, 15))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeVar

from emulator.errors import MenuError
from emulator.menu._anomaly_points import resolve_axo
from emulator.menu._conditions import (
    Condition,
    ExternalCondition,
    LegConfig,
    ObjectCondition,
    ScoreCondition,
    SignalCondition,
    SumCondition,
)
from emulator.menu._cuts import OBJECT_CUTS, CutDef
from emulator.menu._grammar import COUNTS, OBJECTS, SUMS, Atom, format_expression
from streams.filling import BPTX_SIGNALS
from streams.schema import MU_SHOWER_BITS

__all__ = ["LEG_TYPES", "MISSING", "Unsupported", "atom_condition", "build", "object_leg", "sum_leg"]

T = TypeVar("T")

#: utm object and sum names -> l1emu leg types.
LEG_TYPES: Final = {"MU": "muon", "EG": "egamma", "TAU": "tau", "JET": "jet",
                    "ETM": "etm", "HTM": "htm", "ETMHF": "etmhf"}  # fmt: skip
_SUM_NAMES: Final = {"ETT": "ett", "HTT": "htt", "ETM": "etm", "HTM": "htm", "ETMHF": "etmhf"}
#: What each feature the event model lacks would need (the reason a seed is unsupported).
MISSING: Final = {
    "HTMHF": "HTMHF needs event columns htmhf and htmhf_phi",
    "ETTEM": "ETTEM needs event column ettem",
    "MBT": "minimum-bias HF counts need event columns mbt0hfp, mbt0hfm, mbt1hfp, mbt1hfm (4 bits each)",
    "ASYM": "asymmetry counts need event columns asymet, asymht, asymethf, asymhthf",
    "TOWERCOUNT": "the HCAL tower count needs event column towercount",
    "ZDC": "ZDC sums need event columns zdcp, zdcm",
    "EXT": "external conditions need an event column of external-condition bits",
    "EXT_BPTX": "this BPTX reference/beam-gas signal is not derived from the filling scheme (l1emu derives "
                + ", ".join(BPTX_SIGNALS) + ")",
    "CENT": "centrality bits need event column centrality (CENT0..7)",
    "AXO": "an AXO condition needs AXO-MODEL and AXO-SCORE cuts: l1emu maps CMS's named operating point "
           "of a known model to its own calibrated point (score_axol1tl is another model on another scale)",
    "TOPO": "the CMS TOPO score needs a column of that model's score",
    "CICADA": "the CMS CICADA score (CSCORE thresholds in its units) needs a column of that model's score "
              "(l1emu's score_cicada is another model on another scale, see l1emu calibrate)",
    "ADT": "the ADT anomaly score needs an event column of that score",
    "BX": "needs the objects of that crossing (event columns of bx {bx:+d}); samples carry other "
          "crossings' muons only (l1emu generate --neighbour-muons)",
}  # fmt: skip


class Unsupported(Exception):  # noqa: N818 - a signal within this package, never raised to users
    """A well-formed requirement the event model has no column for (each reason names one)."""

    def __init__(self, *reasons: str) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _unsupported(what: str, key: str, **fmt: Any) -> Unsupported:
    return Unsupported(f"{what}: {MISSING[key].format(**fmt)}")


def _cuts_of(atom: Atom, cuts: Mapping[str, CutDef], where: str) -> dict[str, list[CutDef]]:
    """The atom's cuts by type, each checked to exist and to belong to the atom's object."""
    by_type: dict[str, list[CutDef]] = {}
    allowed = OBJECT_CUTS.get(atom.name if not atom.name.startswith("EXT_") else "", frozenset())
    for name in atom.cuts:
        cut = cuts.get(name)
        if cut is None:
            msg = f"{where}: cut {name!r} (on {format_expression(atom)}) is not defined in the menu"
            raise MenuError(msg)
        if cut.object != atom.name or cut.type not in allowed:
            msg = (f"{where}: cut {name!r} is a {cut.object or 'function'} {cut.type} cut; "
                   f"{atom.name} takes {sorted(allowed) or 'no cuts'}")  # fmt: skip
            raise MenuError(msg)
        by_type.setdefault(cut.type, []).append(cut)
    limits = {"ETA": 5, "PHI": 2, "INDEX": 5}
    for kind, found in by_type.items():
        if len(found) > limits.get(kind, 1):
            msg = (f"{where}: {format_expression(atom)} has {len(found)} {kind} cuts "
                   f"({', '.join(c.name for c in found)}); at most {limits.get(kind, 1)}")  # fmt: skip
            raise MenuError(msg)
    return by_type


def _check_bx(atom: Atom) -> None:
    if atom.bx:
        raise _unsupported(format_expression(atom), "BX", bx=atom.bx)


def _pt(atom: Atom) -> dict[str, float | None]:
    return {"pt_min": atom.value, "pt_max": atom.value if atom.comparison == "eq" else None}


def object_leg(atom: Atom, cuts: Mapping[str, CutDef], *, where: str) -> LegConfig:
    """A MU/EG/TAU/JET atom as a leg; a feature without event column raises :class:`Unsupported`."""
    by_type = _cuts_of(atom, cuts, where)
    if atom.bx and atom.name != "MU":
        raise _unsupported(format_expression(atom), "BX", bx=atom.bx)
    kw: dict[str, Any] = _pt(atom)
    if atom.bx:
        kw["bx"] = atom.bx  # the muons of that crossing (bxm1_mu_* columns)
    if "UPT" in by_type:
        kw["upt_min"], kw["upt_max"] = by_type["UPT"][0].window()
    if "IP" in by_type:
        kw["ip"] = by_type["IP"][0].values()
    if "INDEX" in by_type:
        kw["index"] = tuple((round(c.minimum), round(c.maximum)) for c in by_type["INDEX"])
    if "DISP" in by_type:
        kw["displaced"] = by_type["DISP"][0].data == "1"
    kw["eta"] = tuple(c.window() for c in by_type.get("ETA", ()))
    kw["phi"] = tuple(c.window() for c in by_type.get("PHI", ()))
    if "QLTY" in by_type:
        kw["quality"] = by_type["QLTY"][0].values()
    if "ISO" in by_type:
        kw["iso"] = by_type["ISO"][0].values()
    if "CHG" in by_type:
        kw["charge"] = by_type["CHG"][0].data
    if "SLICE" in by_type:
        kw["slots"] = by_type["SLICE"][0].slice()
    return build(LegConfig, where, type=LEG_TYPES[atom.name], **kw)


def sum_leg(atom: Atom, cuts: Mapping[str, CutDef], *, where: str) -> LegConfig:
    """An ETM/HTM/ETMHF atom as the one-object leg of a correlation (its φ and ET)."""
    if atom.name == "HTMHF":
        raise _unsupported(format_expression(atom), "HTMHF")
    by_type = _cuts_of(atom, cuts, where)
    _check_bx(atom)
    phi = tuple(c.window() for c in by_type.get("PHI", ()))
    return build(LegConfig, where, type=LEG_TYPES[atom.name], phi=phi, **_pt(atom))


def build(cls: type[T], where: str, **kw: Any) -> T:
    """``cls(**kw)``, its ValueError a :class:`MenuError` starting with ``where``."""
    try:
        return cls(**kw)
    except ValueError as exc:
        msg = f"{where}: {exc}"
        raise MenuError(msg) from exc


def _signal_key(name: str) -> str:
    if name.startswith("EXT_"):
        return "EXT_BPTX" if "BPTX" in name else "EXT"
    for prefix in ("MUS", "CENT", "AXO", "TOPO", "CICADA", "ADT"):
        if name.startswith(prefix):
            return prefix
    return "EXT"  # pragma: no cover - the grammar admits no other signal


def _count_key(name: str) -> str:
    return next(k for k in ("MBT", "ASYM", "TOWERCOUNT", "ZDC") if name.startswith(k))


def atom_condition(atom: Atom, cuts: Mapping[str, CutDef], *, where: str) -> Condition:
    """A stand-alone atom (``MU22[...]``, ``HTT280``, ``EXT_...``) as one condition."""
    if atom.name in OBJECTS:
        return ObjectCondition((object_leg(atom, cuts, where=where),))
    text = format_expression(atom)
    if atom.name in SUMS:
        by_type = _cuts_of(atom, cuts, where)
        if atom.name in ("HTMHF", "ETTEM"):
            raise _unsupported(text, atom.name)
        _check_bx(atom)
        phi = tuple(c.window() for c in by_type.get("PHI", ()))
        hi = atom.value if atom.comparison == "eq" else None
        return build(SumCondition, where, sum=_SUM_NAMES[atom.name], min=atom.value, max=hi, phi=phi)
    _cuts_of(atom, cuts, where)  # undefined or misplaced cuts are errors even where unsupported
    if atom.name in COUNTS:
        raise _unsupported(text, _count_key(atom.name))
    if atom.name in BPTX_SIGNALS:
        return build(ExternalCondition, where, external=atom.name, bx=atom.bx)
    if atom.name in MU_SHOWER_BITS and not atom.bx:
        return build(SignalCondition, where, signal=atom.name)
    if atom.name == "AXO" and not atom.bx:
        return _axo(atom, cuts, where)
    key = _signal_key(atom.name)
    raise _unsupported(text, "BX" if atom.bx and key in ("MUS", "AXO") else key, bx=atom.bx)


def _axo(atom: Atom, cuts: Mapping[str, CutDef], where: str) -> Condition:
    """``AXO[AXO-MODEL_vN, AXO-SCORE_<point>]`` as l1emu's calibrated operating point of that name."""
    by_type = _cuts_of(atom, cuts, where)
    if "SCORE" not in by_type or "MODEL" not in by_type:
        raise _unsupported(format_expression(atom), "AXO")
    score = by_type["SCORE"][0]
    point = score.name.split("_", 1)[1] if "_" in score.name else score.name
    found = resolve_axo(by_type["MODEL"][0].data, point)
    if isinstance(found, str):
        msg = f"{format_expression(atom)}: {found}"
        raise Unsupported(msg)
    return build(ScoreCondition, where, score=found[0], min=found[1])
