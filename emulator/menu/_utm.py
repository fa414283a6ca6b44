"""A utm expression as l1emu conditions and the seed logic over them (uGT semantics).

Each atom outside a function and each function becomes one condition; ``AND``/``OR``/``NOT``
become the seed's logic, a postfix program over the seed's conditions (:data:`AND`,
:data:`OR`, :data:`NOT`; a number ``k >= 0`` pushes condition ``k``). Functions:

* ``comb{o1..o4}``: distinct objects of one type; ``CHGCOR`` (muons), ``TBPT`` (two objects)
* ``dist{a, b}``: ``DETA DPHI DR TBPT CHGCOR``; one of them may be ETM/HTM/ETMHF (Δφ only)
* ``mass_inv{a, b}[MASS ...]``, ``mass_inv_dr{a, b}[MASSDR ...]`` (M/ΔR), ``mass_trv{o, sum}[MASS]``
* ``mass_inv_3{a, b, c}[MASS]``: M² = M₁₂² + M₁₃² + M₂₃²
* ``comb_orm{o1..on, x}``, ``dist_orm``/``mass_inv_orm{a, b[, x]}``: the overlap-removal object
  ``x`` (the last) must not lie within any ``ORMDETA/ORMDPHI/ORMDR`` window of another object
  of the chosen set, as the uGT's "2 plus 1" / "1 plus 1" conditions.

>>> from emulator.menu._cuts import CutDef
>>> cuts = {"DR_MAX_0p4": CutDef("DR_MAX_0p4", "", "DR", 0.0, 0.4)}
>>> out = compile_expression("dist{MU3, JET16}[DR_MAX_0p4] AND NOT HTT100", cuts, seed="L1_X")
>>> out.logic, out.conditions[0].correlations[0].dr_max, out.unsupported
((0, 1, -3, -1), 0.4, ())
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from emulator.errors import MenuError
from emulator.menu._conditions import Condition, CorrelationConfig, LegConfig, ObjectCondition
from emulator.menu._cuts import FUNCTION_CUTS, CutDef
from emulator.menu._grammar import OBJECTS, And, Atom, Function, Node, Not, Or, parse_expression
from emulator.menu._utm_atoms import Unsupported, atom_condition, build, object_leg, sum_leg

__all__ = ["AND", "NOT", "OR", "Compiled", "compile_expression"]

AND: Final = -1
OR: Final = -2
NOT: Final = -3
_WINDOW_FIELDS: Final = {"DETA": "deta", "DPHI": "dphi", "DR": "dr", "MASS": "mass", "MASSDR": "massdr"}
_ORM_FIELDS: Final = {"ORMDETA": "deta", "ORMDPHI": "dphi", "ORMDR": "dr"}
_NEEDS: Final = {"mass_inv": "MASS", "mass_trv": "MASS", "mass_inv_3": "MASS", "mass_inv_dr": "MASSDR",
                 "mass_inv_upt": "MASSUPT"}  # fmt: skip
_SUM_OBJECTS: Final = ("ETM", "HTM", "ETMHF", "HTMHF")


@dataclass(frozen=True, slots=True)
class Compiled:
    """A seed's conditions, its postfix logic over them, and why it cannot run (empty: it can)."""

    tree: Node
    conditions: tuple[Condition, ...]
    logic: tuple[int, ...]
    unsupported: tuple[str, ...]


class _Seed:
    def __init__(self, cuts: Mapping[str, CutDef], where: str) -> None:
        self.cuts, self.where = cuts, where
        self.conditions: list[Condition] = []
        self.reasons: list[str] = []

    def emit(self, node: Node, code: list[int]) -> None:
        if isinstance(node, And | Or):
            self.emit(node.operands[0], code)
            for op in node.operands[1:]:
                self.emit(op, code)
                code.append(AND if isinstance(node, And) else OR)
        elif isinstance(node, Not):
            self.emit(node.operand, code)
            code.append(NOT)
        else:
            code.append(self.leaf(node))

    def leaf(self, node: Atom | Function) -> int:
        try:
            cond = atom_condition(node, self.cuts, where=self.where) if isinstance(node, Atom) else self.function(node)
        except Unsupported as exc:
            self.reasons += [r for r in exc.reasons if r not in self.reasons]
            return 0
        if cond not in self.conditions:
            self.conditions.append(cond)
        return self.conditions.index(cond)

    def function_cuts(self, fn: Function) -> dict[str, CutDef]:
        out: dict[str, CutDef] = {}
        allowed = FUNCTION_CUTS[fn.name]
        for name in fn.cuts:
            cut = self.cuts.get(name)
            if cut is None:
                msg = f"{self.where}: cut {name!r} (on {fn.name}{{...}}) is not defined in the menu"
                raise MenuError(msg)
            if cut.object or cut.type not in allowed:
                msg = (f"{self.where}: cut {name!r} ({cut.object + ' ' if cut.object else ''}{cut.type}) cannot "
                       f"go on {fn.name}{{...}}, which takes {sorted(allowed)}")  # fmt: skip
                raise MenuError(msg)
            if cut.type in out:
                msg = f"{self.where}: {fn.name}{{...}} has two {cut.type} cuts ({out[cut.type].name}, {name})"
                raise MenuError(msg)
            out[cut.type] = cut
        need = _NEEDS.get(fn.name)
        if need and need not in out:
            msg = f"{self.where}: {fn.name}{{...}} needs a {need} cut"
            raise MenuError(msg)
        if fn.name.endswith("_orm") and not set(out) & set(_ORM_FIELDS):
            msg = f"{self.where}: {fn.name}{{...}} needs an overlap-removal cut (ORMDETA, ORMDPHI or ORMDR)"
            raise MenuError(msg)
        if fn.name == "dist" and not out:
            msg = f"{self.where}: dist{{...}} needs at least one cut (DETA, DPHI, DR, TBPT, CHGCOR)"
            raise MenuError(msg)
        return out

    def function(self, fn: Function) -> Condition:
        fcuts = self.function_cuts(fn)
        legs = self.legs(fn)
        if fn.name.endswith("_orm"):
            return self.orm(fn, legs, fcuts)
        if fn.name in ("comb", "mass_inv_3"):
            return self.combination(fn, legs, fcuts)
        corr = _correlation((0, 1), fcuts, transverse=fn.name == "mass_trv", where=self.where)
        return build(ObjectCondition, self.where, legs=legs, correlations=(corr,))

    def legs(self, fn: Function) -> tuple[LegConfig, ...]:
        types = [o.name for o in fn.objects]
        sums = [t for t in types if t in _SUM_OBJECTS]
        others = [t for t in types if t not in OBJECTS and t not in _SUM_OBJECTS]
        if others:
            msg = f"{self.where}: {fn.name}{{...}} takes MU, EG, TAU, JET (and ETM/HTM/ETMHF in dist), not {others}"
            raise MenuError(msg)
        if sums and (fn.name not in ("dist", "mass_trv") or len(sums) > 1):
            msg = f"{self.where}: {fn.name}{{...}} cannot take {', '.join(sums)} (only dist and mass_trv, once)"
            raise MenuError(msg)
        if fn.name == "mass_trv" and not sums:
            msg = f"{self.where}: mass_trv{{...}} needs an ETM, HTM or ETMHF object"
            raise MenuError(msg)
        orm = fn.name.endswith("_orm")
        same = types[:-1] if orm else types
        if (fn.name in ("comb", "mass_inv_3") or orm) and len(set(same)) > 1:
            msg = f"{self.where}: {fn.name}{{...}} needs objects of one type, got {same}"
            raise MenuError(msg)
        if orm and (types[-1] in same or "MU" in types):
            msg = (f"{self.where}: {fn.name}{{...}} removes overlaps of one calo object type with another "
                   f"(the last object), got {types}")  # fmt: skip
            raise MenuError(msg)
        out, reasons = [], []
        for o in fn.objects:
            try:
                out.append(sum_leg(o, self.cuts, where=self.where) if o.name in _SUM_OBJECTS
                           else object_leg(o, self.cuts, where=self.where))  # fmt: skip
            except Unsupported as exc:
                reasons += [r for r in exc.reasons if r not in reasons]
        if reasons:
            raise Unsupported(*reasons)
        return tuple(out)

    def combination(self, fn: Function, legs: tuple[LegConfig, ...], fcuts: dict[str, CutDef]) -> Condition:
        kw: dict[str, Any] = {"legs": legs}
        chg = fcuts.pop("CHGCOR", None)
        if chg is not None and legs[0].type != "muon":
            msg = f"{self.where}: {chg.name} (charge correlation) needs muons, not {legs[0].type}"
            raise MenuError(msg)
        if "MASS" in fcuts:
            kw |= {"mass3_min": fcuts["MASS"].minimum, "mass3_max": fcuts["MASS"].maximum}
        charge = None if chg is None else {"os": "opposite", "ls": "same"}[chg.data]
        if len(legs) == 2 and (charge or "TBPT" in fcuts):
            tbpt = fcuts["TBPT"].minimum if "TBPT" in fcuts else None
            kw["correlations"] = (build(CorrelationConfig, self.where, charge=charge, tbpt_min=tbpt),)
        elif "TBPT" in fcuts:
            msg = f"{self.where}: {fcuts['TBPT'].name} (two-body pT) needs exactly two objects"
            raise MenuError(msg)
        elif charge:
            kw["charge"] = charge
        return build(ObjectCondition, self.where, **kw)

    def orm(self, fn: Function, legs: tuple[LegConfig, ...], fcuts: dict[str, CutDef]) -> Condition:
        x = len(legs) - 1
        veto = {f"{_ORM_FIELDS[t]}_{e}": getattr(c, m) for t, c in fcuts.items() if t in _ORM_FIELDS
                for e, m in (("min", "minimum"), ("max", "maximum"))}  # fmt: skip
        vetoes = [build(CorrelationConfig, self.where, legs=(i, x), veto=True, **veto) for i in range(x)]
        rest = {t: c for t, c in fcuts.items() if t not in _ORM_FIELDS}
        corrs = []
        if fn.name == "comb_orm" and "TBPT" in rest:
            if x != 2:
                msg = f"{self.where}: {rest['TBPT'].name} (two-body pT) needs exactly two objects before the last"
                raise MenuError(msg)
            corrs.append(_correlation((0, 1), rest, transverse=False, where=self.where))
        elif fn.name != "comb_orm" and rest:
            corrs.append(_correlation((0, 1), rest, transverse=False, where=self.where))
        elif fn.name == "mass_inv_orm":
            msg = f"{self.where}: mass_inv_orm{{...}} needs a MASS cut"
            raise MenuError(msg)
        return build(ObjectCondition, self.where, legs=legs, correlations=(*corrs, *vetoes))


def _correlation(
    legs: tuple[int, int], fcuts: Mapping[str, CutDef], *, transverse: bool, where: str
) -> CorrelationConfig:
    kw: dict[str, Any] = {"legs": legs, "transverse": transverse}
    for t, c in fcuts.items():
        if t in _WINDOW_FIELDS:
            kw |= {f"{_WINDOW_FIELDS[t]}_min": c.minimum, f"{_WINDOW_FIELDS[t]}_max": c.maximum}
        elif t == "TBPT":
            kw["tbpt_min"] = c.minimum
        elif t == "CHGCOR":
            kw["charge"] = {"os": "opposite", "ls": "same"}[c.data]
        elif t == "MASSUPT":  # mass_inv_upt: the mass of the muons' unconstrained pT
            kw |= {"mass_min": c.minimum, "mass_max": c.maximum, "upt": True}
    return build(CorrelationConfig, where, **kw)


def _grouped(reasons: list[str]) -> tuple[str, ...]:
    """``"A: why"``, ``"B: why"`` -> ``"A, B: why"`` (in first-seen order)."""
    by_why: dict[str, list[str]] = {}
    for r in reasons:
        what, _, why = r.partition(": ")
        by_why.setdefault(why, []).append(what)
    return tuple(f"{', '.join(whats)}: {why}" for why, whats in by_why.items())


def compile_expression(text: str, cuts: Mapping[str, CutDef], *, seed: str) -> Compiled:
    """Parse and compile one seed's expression; errors are :class:`MenuError` naming ``seed``."""
    where = f"seed {seed}"
    tree = parse_expression(text, where=f"{where}: expression")
    s = _Seed(cuts, where)
    code: list[int] = []
    s.emit(tree, code)
    if s.reasons:
        return Compiled(tree, (), (), _grouped(s.reasons))
    return Compiled(tree, tuple(s.conditions), tuple(code), ())

