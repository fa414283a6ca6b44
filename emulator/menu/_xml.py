"""uGT XML menus (tmxsd, as the L1 menu editor writes them): read into the menu mapping, write back.

Reading gives the same mapping a utm YAML menu has (``name``, ``columns``, ``seeds`` with
``expression``/``index``/``module_id``/``module_index``/``comment``, ``cuts``, ``utm``
metadata), so :func:`emulator.menu._config.parse_menu` checks both alike. Algorithms are
ordered by index. Every ``<object_requirement>`` must match an object of its expression
(type, comparison, threshold, bx offset); a cut defined twice must be defined alike. A
``<scale_set>`` is read and its ET/η/φ steps checked against the event model's LSBs
(``streams.schema``): menus on other scales are refused, not re-binned.
XML menus carry no prescales: the menu gets one column, ``unprescaled`` (all 1).
"""

from __future__ import annotations

import logging
import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from emulator.errors import MenuError
from emulator.menu._cuts import CutDef
from emulator.menu._grammar import COUNTS, OBJECTS, SUMS, Atom, atoms, parse_expression
from emulator.menu._xml_safe import parse_xml
from streams.schema import CALO_ETA_LSB, CALO_PHI_LSB, MU_ETA_LSB, MU_PHI_LSB, PT_LSB

__all__ = ["GRAMMAR_VERSION", "META_FIELDS", "XmlAlgorithm", "read_tmxsd", "write_tmxsd"]

log = logging.getLogger(__name__)

GRAMMAR_VERSION: Final = "0.13"
#: Menu-level elements kept as metadata (and written back), in tmxsd order.
META_FIELDS: Final = ("ancestor_id", "uuid_menu", "uuid_firmware", "global_tag", "grammar_version", "n_modules",
                      "is_valid", "is_obsolete", "comment")  # fmt: skip
_META_DEFAULTS: Final = {"ancestor_id": "0", "uuid_menu": "00000000-0000-0000-0000-000000000000",
                         "uuid_firmware": "00000000-0000-0000-0000-000000000000", "global_tag": "",
                         "grammar_version": GRAMMAR_VERSION, "n_modules": "0", "is_valid": "true",
                         "is_obsolete": "false", "comment": ""}  # fmt: skip
_CALO: Final = {"ET": PT_LSB, "ETA": CALO_ETA_LSB, "PHI": CALO_PHI_LSB}
#: (object, scale type) -> the event model's step.
_STEPS: Final = {
    **{(o, t): v for o in ("EG", "TAU", "JET") for t, v in _CALO.items()},
    ("MU", "ET"): PT_LSB, ("MU", "ETA"): MU_ETA_LSB, ("MU", "PHI"): MU_PHI_LSB,
    **{(s, "ET"): PT_LSB for s in ("ETT", "HTT", "ETM", "HTM", "ETMHF", "ETTEM", "HTMHF")},
    **{(s, "PHI"): CALO_PHI_LSB for s in ("ETM", "HTM", "ETMHF", "HTMHF")},
}  # fmt: skip
UNPRESCALED: Final = "unprescaled"


@dataclass(frozen=True, slots=True)
class XmlAlgorithm:
    """One ``<algorithm>`` to write: the expression, its cuts, its indices."""

    name: str
    expression: str
    index: int
    cuts: tuple[CutDef, ...]
    module_id: int = 0
    module_index: int = 0
    comment: str = ""


def _int(el: ET.Element, tag: str, where: str, *, required: bool = True) -> int | None:
    text = (el.findtext(tag) or "").strip()
    if not text and not required:
        return None
    try:
        return int(text)
    except ValueError:
        msg = f"{where}: <{tag}> must be an integer, got {text!r}"
        raise MenuError(msg) from None


def _float(text: str | None, where: str) -> float:
    try:
        value = float((text or "0").strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        msg = f"{where}: expected a number, got {text!r}"
        raise MenuError(msg)
    return value


def _check_scales(root: ET.Element, source: str) -> str:
    scale_set = root.find("scale_set")
    if scale_set is None:
        return ""
    for scale in scale_set.findall("scale"):
        key = ((scale.findtext("object") or "").strip(), (scale.findtext("type") or "").strip())
        want = _STEPS.get(key)
        if want is None:
            continue
        step = _float(scale.findtext("step"), f"{source}: scale {key[0]}-{key[1]} <step>")
        if abs(step - want) > 1e-6 * want:
            msg = (f"{source}: scale {key[0]}-{key[1]} has step {step:g}, the event model's is {want:g} "
                   "(events are in fixed uGT units; a menu on another scale cannot run on them)")  # fmt: skip
            raise MenuError(msg)
    return (scale_set.findtext("name") or "").strip()


def _requirement_ok(req: ET.Element, found: Sequence[Atom], where: str) -> None:
    name = (req.findtext("name") or "").strip()
    kind = (req.findtext("type") or "").strip()
    if kind not in (*OBJECTS, *SUMS, *COUNTS):
        return  # signals (EXT, MUS0, AXO, ...) carry no threshold to check
    cmp = (req.findtext("comparison_operator") or ".ge.").strip()
    thr = _float(req.findtext("threshold"), f"{where}: object requirement {name}")
    bx = _int(req, "bx_offset", where, required=False) or 0
    for a in found:
        if a.name == kind and abs(a.value - thr) < 1e-9 and a.bx == bx and f".{a.comparison}." == cmp:
            return
    msg = (f"{where}: object requirement {name!r} ({kind} {cmp} {thr:g}, bx {bx:+d}) matches no object "
           "of the expression")  # fmt: skip
    raise MenuError(msg)


def _read_cut(el: ET.Element, where: str) -> CutDef:
    name = (el.findtext("name") or "").strip()
    raw = {k: (el.findtext(k) or "").strip() for k in ("object", "type", "minimum", "maximum", "data")}
    return CutDef.build(raw, name=name, where=f"{where}: cut")


def _read_algorithm(el: ET.Element, source: str, cuts: dict[str, tuple[CutDef, str]]) -> dict[str, Any]:
    name = (el.findtext("name") or "").strip()
    where = f"{source}: algorithm {name or '?'}"
    expression = (el.findtext("expression") or "").strip()
    if not name or not expression:
        msg = f"{where}: an algorithm needs a <name> and an <expression>"
        raise MenuError(msg)
    for cut_el in el.findall("cut"):
        cut = _read_cut(cut_el, where)
        seen = cuts.setdefault(cut.name, (cut, name))
        if seen[0] != cut:
            msg = f"{where}: cut {cut.name} differs from its definition in algorithm {seen[1]}: {cut} vs {seen[0]}"
            raise MenuError(msg)
    found = atoms(parse_expression(expression, where=f"{source}: seed {name}: expression"))
    for req in el.findall("object_requirement"):
        _requirement_ok(req, found, where)
    out: dict[str, Any] = {"name": name, "expression": expression, "index": _int(el, "index", where)}
    for tag in ("module_id", "module_index"):
        value = _int(el, tag, where, required=False)
        if value is not None:
            out[tag] = value
    comment = (el.findtext("comment") or "").strip()
    if comment:
        out["comment"] = comment
    return out


def read_tmxsd(text: str, *, source: str) -> dict[str, Any]:
    """The menu mapping of a tmxsd document (see the module docstring)."""
    root = parse_xml(text, source=source)
    if root.tag != "menu":
        msg = f"{source}: expected a tmxsd <menu> document, got <{root.tag}>"
        raise MenuError(msg)
    meta = {k: (root.findtext(k) or "").strip() for k in META_FIELDS if root.find(k) is not None}
    version = meta.get("grammar_version", "")
    if version != GRAMMAR_VERSION:
        log.warning("%s: grammar version %r; l1emu reads grammar %s", source, version, GRAMMAR_VERSION)
    scale_set = _check_scales(root, source)
    if scale_set:
        meta["scale_set"] = scale_set
    cuts: dict[str, tuple[CutDef, str]] = {}
    seeds = [_read_algorithm(el, source, cuts) for el in root.findall("algorithm")]
    seeds.sort(key=lambda s: s["index"])
    return {
        "name": (root.findtext("name") or "").strip() or "unnamed",
        "columns": [UNPRESCALED],
        "default_column": UNPRESCALED,
        "seeds": seeds,
        "cuts": {n: c.as_dict() for n, (c, _) in sorted(cuts.items())},
        "utm": meta,
    }


def _sub(parent: ET.Element, tag: str, text: str | None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    el.text = text or None
    return el


def _num(x: float) -> str:
    return f"{x:+.16E}"


def _write_algorithm(root: ET.Element, algo: XmlAlgorithm) -> None:
    el = ET.SubElement(root, "algorithm")
    for tag, value in (("name", algo.name), ("expression", algo.expression), ("index", str(algo.index)),
                       ("module_id", str(algo.module_id)), ("module_index", str(algo.module_index))):  # fmt: skip
        _sub(el, tag, value)
    if algo.comment:
        _sub(el, "comment", algo.comment)
    for cut in algo.cuts:
        c = ET.SubElement(el, "cut")
        fields = (("name", cut.name), ("object", cut.object), ("type", cut.type), ("minimum", _num(cut.minimum)),
                  ("maximum", _num(cut.maximum)), ("data", cut.data))  # fmt: skip
        for tag, value in fields:
            _sub(c, tag, value)
    for a in dict.fromkeys(atoms(parse_expression(algo.expression, where=f"seed {algo.name}: expression"))):
        req = ET.SubElement(el, "object_requirement")
        head = a.name if a.threshold is None else f"{a.name}{'.eq.' if a.comparison == 'eq' else ''}{a.threshold}"
        _sub(req, "name", head + (f"{a.bx:+d}" if a.bx else ""))
        _sub(req, "type", "EXT" if a.name.startswith("EXT_") else a.name)
        _sub(req, "comparison_operator", f".{a.comparison}.")
        _sub(req, "threshold", _num(a.value))
        _sub(req, "bx_offset", str(a.bx))


def write_tmxsd(name: str, algorithms: Sequence[XmlAlgorithm], meta: Mapping[str, Any]) -> str:
    """A tmxsd document (the layout of the menu editor's files, without a scale set)."""
    root = ET.Element("tmxsd:menu", {
        "xmlns:tmxsd": "http://www.cern.ch/tmxsd/1.0.0",
        "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "xsi:schemaLocation": "http://www.cern.ch/tmxsd/1.0.0 menu.xsd",
    })  # fmt: skip
    values = {**_META_DEFAULTS, **{k: str(v) for k, v in meta.items()}}
    for tag in ("ancestor_id", "name", *META_FIELDS[1:]):
        _sub(root, tag, name if tag == "name" else values[tag])
    for algo in sorted(algorithms, key=lambda a: a.index):
        _write_algorithm(root, algo)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return '<?xml version="1.0" encoding="UTF-8" standalone="no" ?>\n' + body + "\n"
