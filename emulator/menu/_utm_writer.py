"""l1emu conditions as utm expressions and cuts (for writing native YAML seeds as uGT XML).

Cut names are made from their values (``MU-QLTY_0xF000``, ``JET-ETA_m2p5to2p5``,
``DR_0to1p2``), so equal cuts share one name. What the grammar cannot say raises
:class:`MenuError` naming the seed: pT windows, sum maxima, score and ``always``
conditions, pair cuts on some but not all legs of three or more objects, correlations of
objects of different types with whole-set cuts.

>>> from emulator.menu._conditions import CorrelationConfig, LegConfig, ObjectCondition
>>> mu = LegConfig("muon", pt_min=4.5, quality=12)
>>> text, cuts = seed_expression("S", (ObjectCondition((mu, mu), (CorrelationConfig(dr_max=1.2, charge="opposite"),)),))
>>> text
'dist{MU4p5[MU-QLTY_0xF000], MU4p5[MU-QLTY_0xF000]}[DR_0to1p2, CHGCOR_OS]'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from emulator.errors import MenuError
from emulator.menu._conditions import (
    Condition,
    CorrelationConfig,
    ExternalCondition,
    LegConfig,
    ObjectCondition,
    SignalCondition,
    SumCondition,
)
from emulator.menu._cuts import CutDef

__all__ = ["seed_expression"]

_UTM_TYPE: Final = {"muon": "MU", "egamma": "EG", "tau": "TAU", "jet": "JET", "etm": "ETM", "htm": "HTM",
                    "etmhf": "ETMHF"}  # fmt: skip
_ETA_EDGE: Final = {"MU": 2.45, "EG": 3.0, "TAU": 3.0, "JET": 5.0}  # the uGT η scales' ends
Cuts = dict[str, CutDef]


def _num(x: float) -> str:
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return text.replace("-", "m").replace(".", "p")


def _add(cuts: Cuts, cut: CutDef) -> str:
    cuts.setdefault(cut.name, cut)
    return cut.name


def _lut(mask_of: int | tuple[int, ...], top: int) -> tuple[int, ...]:
    return tuple(range(mask_of, top + 1)) if isinstance(mask_of, int) else tuple(sorted(set(mask_of)))


def _eta_windows(leg: LegConfig, t: str) -> list[tuple[float, float]]:
    if leg.eta:
        return list(leg.eta)
    if leg.eta_max is None and leg.eta_min is None:
        return []
    hi = _ETA_EDGE[t] if leg.eta_max is None else leg.eta_max
    if not leg.eta_min:
        return [(-hi, hi)]
    return [(-hi, -leg.eta_min), (leg.eta_min, hi)]


def _atom(leg: LegConfig, cuts: Cuts, where: str) -> str:
    t = _UTM_TYPE[leg.type]
    cmp = ""
    if leg.pt_max is not None:
        if leg.pt_max != leg.pt_min:
            msg = f"{where}: a pT window [{leg.pt_min}, {leg.pt_max}] has no utm form (thresholds are >= or ==)"
            raise MenuError(msg)
        cmp = ".eq."
    names = [_add(cuts, CutDef(f"{t}-ETA_{_num(a)}to{_num(b)}", t, "ETA", a, b)) for a, b in _eta_windows(leg, t)]
    names += [_add(cuts, CutDef(f"{t}-PHI_{_num(a)}to{_num(b)}", t, "PHI", a, b)) for a, b in leg.phi]
    for kind, value, top in (("QLTY", leg.quality, 15), ("ISO", leg.iso, 3)):
        if value is not None:
            vals = _lut(value, top)
            mask = sum(1 << v for v in vals)
            names.append(_add(cuts, CutDef(f"{t}-{kind}_0x{mask:04X}" if kind == "QLTY" else f"{t}-{kind}_0x{mask:X}",
                                           t, kind, data=",".join(map(str, vals)))))  # fmt: skip
    if leg.charge:
        names.append(_add(cuts, CutDef(f"MU-CHG_{leg.charge[:3].upper()}", "MU", "CHG", data=leg.charge)))
    if leg.slots:
        lo, hi = leg.slots
        names.append(_add(cuts, CutDef(f"{t}-SLICE_{lo}to{hi}", t, "SLICE", data=f"{lo},{hi}")))
    names += _extra_cuts(leg, t, cuts)
    bx = f"{leg.bx:+d}" if leg.bx else ""
    return f"{t}{cmp}{_num(leg.pt_min)}{bx}" + (f"[{', '.join(names)}]" if names else "")


def _extra_cuts(leg: LegConfig, t: str, cuts: Cuts) -> list[str]:
    """UPT, IP, INDEX (muons) and DISP (jets) cuts of a leg."""
    out = []
    if leg.upt_min is not None or leg.upt_max is not None:
        lo, hi = leg.upt_min or 0.0, 255.0 if leg.upt_max is None else leg.upt_max
        out.append(_add(cuts, CutDef(f"MU-UPT_{_num(lo)}to{_num(hi)}", "MU", "UPT", lo, hi)))
    if leg.ip is not None:
        vals = _lut(leg.ip, 3)
        mask = sum(1 << v for v in vals)
        out.append(_add(cuts, CutDef(f"MU-IP_0x{mask:X}", "MU", "IP", data=",".join(map(str, vals)))))
    out += [_add(cuts, CutDef(f"MU-INDEX_{lo}to{hi}", "MU", "INDEX", lo, hi)) for lo, hi in leg.index]
    if leg.displaced is not None:
        flag = int(leg.displaced)
        out.append(_add(cuts, CutDef(f"{t}-DISP_{flag}", t, "DISP", data=str(flag))))
    return out


def _window(cuts: Cuts, kind: str, lo: float | None, hi: float | None, top: float) -> str | None:
    if lo is None and hi is None:
        return None
    a, b = lo or 0.0, top if hi is None else hi
    return _add(cuts, CutDef(f"{kind}_{_num(a)}to{_num(b)}", "", kind, a, b))


def _corr_cuts(corr: CorrelationConfig, cuts: Cuts, orm: bool = False) -> list[str]:
    prefix = "ORM" if orm else ""
    out = [
        _window(cuts, f"{prefix}DETA", corr.deta_min, corr.deta_max, 10.0),
        _window(cuts, f"{prefix}DPHI", corr.dphi_min, corr.dphi_max, 3.15),
        _window(cuts, f"{prefix}DR", corr.dr_min, corr.dr_max, 11.8),
        _window(cuts, "MASSUPT" if corr.upt else "MASS", corr.mass_min, corr.mass_max, 151982.0),
        _window(cuts, "MASSDR", corr.massdr_min, corr.massdr_max, 151982.0),
    ]
    if corr.tbpt_min is not None:
        out.append(_add(cuts, CutDef(f"TBPT_{_num(corr.tbpt_min)}", "", "TBPT", corr.tbpt_min)))
    if corr.charge:
        tag = "os" if corr.charge == "opposite" else "ls"
        out.append(_add(cuts, CutDef(f"CHGCOR_{tag.upper()}", "", "CHGCOR", data=tag)))
    return [c for c in out if c]


def _fn(name: str, legs: Sequence[str], cut_names: list[str]) -> str:
    return f"{name}{{{', '.join(legs)}}}" + (f"[{', '.join(cut_names)}]" if cut_names else "")


def _objects(cond: ObjectCondition, cuts: Cuts, where: str) -> str:
    atoms = [_atom(leg, cuts, where) for leg in cond.legs]
    types = [leg.type for leg in cond.legs]
    vetoes = [c for c in cond.correlations if c.veto]
    pairs = [c for c in cond.correlations if not c.veto]
    if vetoes:
        return _orm(cond, atoms, pairs, vetoes, cuts, where)
    if cond.mass3_min is not None or cond.mass3_max is not None:
        extra = [_window(cuts, "MASS", cond.mass3_min, cond.mass3_max, 151982.0), *_chg(cond, cuts)]
        return _fn("mass_inv_3", atoms, [c for c in extra if c])
    if not pairs:
        groups: dict[str, list[str]] = {}
        for t, a in zip(types, atoms, strict=True):
            groups.setdefault(t, []).append(a)
        if cond.charge and len(groups) > 1:
            msg = f"{where}: an all-legs charge correlation needs legs of one type in utm"
            raise MenuError(msg)
        parts = [g[0] if len(g) == 1 else _fn("comb", g, _chg(cond, cuts)) for g in groups.values()]
        return " AND ".join(f"({p})" if " AND " in p else p for p in parts)
    if len(pairs) > 1 or len(atoms) != 2 or cond.charge:
        msg = f"{where}: pair cuts on {len(atoms)} legs ({len(pairs)} correlations) have no utm form (2 legs, 1 pair)"
        raise MenuError(msg)
    corr = pairs[0]
    names = _corr_cuts(corr, cuts)
    if corr.transverse:
        return _fn("mass_trv", atoms, names)
    if corr.massdr_min is not None or corr.massdr_max is not None:
        return _fn("mass_inv_dr", atoms, names)
    if corr.mass_min is not None or corr.mass_max is not None:
        return _fn("mass_inv_upt" if corr.upt else "mass_inv", atoms, names)
    geometric = any(getattr(corr, f) is not None for f in ("deta_min", "deta_max", "dphi_min", "dphi_max", "dr_min",
                                                          "dr_max"))  # fmt: skip
    return _fn("dist" if geometric or types[0] != types[1] else "comb", atoms, names)


def _chg(cond: ObjectCondition, cuts: Cuts) -> list[str]:
    if not cond.charge:
        return []
    tag = "os" if cond.charge == "opposite" else "ls"
    return [_add(cuts, CutDef(f"CHGCOR_{tag.upper()}", "", "CHGCOR", data=tag))]


def _orm(cond: ObjectCondition, atoms: list[str], pairs: list[CorrelationConfig], vetoes: list[CorrelationConfig],
         cuts: Cuts, where: str) -> str:  # fmt: skip
    x = len(atoms) - 1
    windows = {tuple(getattr(v, f) for f in ("deta_min", "deta_max", "dphi_min", "dphi_max", "dr_min", "dr_max"))
               for v in vetoes}  # fmt: skip
    if sorted(v.legs for v in vetoes) != [(i, x) for i in range(x)] or len(windows) != 1 or len(pairs) > 1:
        msg = f"{where}: overlap removal has a utm form only as one window between every leg and the last leg"
        raise MenuError(msg)
    names = _corr_cuts(vetoes[0], cuts, orm=True)
    if not pairs:
        return _fn("comb_orm", atoms, names)
    if pairs[0].legs != (0, 1) or x > 2:
        msg = f"{where}: overlap removal with pair cuts needs the pair on legs 0 and 1 of at most 3"
        raise MenuError(msg)
    mass = pairs[0].mass_min is not None or pairs[0].mass_max is not None
    return _fn("mass_inv_orm" if mass else "dist_orm", atoms, _corr_cuts(pairs[0], cuts) + names)


def _sum(cond: SumCondition, cuts: Cuts, where: str) -> str:
    t = _UTM_TYPE.get(cond.sum, cond.sum.upper())
    cmp = ""
    if cond.max is not None:
        if cond.max != cond.min:
            msg = f"{where}: a sum window [{cond.min}, {cond.max}] has no utm form (thresholds are >= or ==)"
            raise MenuError(msg)
        cmp = ".eq."
    names = [_add(cuts, CutDef(f"{t}-PHI_{_num(a)}to{_num(b)}", t, "PHI", a, b)) for a, b in cond.phi]
    return f"{t}{cmp}{_num(cond.min)}" + (f"[{', '.join(names)}]" if names else "")


def _condition(cond: Condition, cuts: Cuts, where: str) -> str:
    if isinstance(cond, ObjectCondition):
        return _objects(cond, cuts, where)
    if isinstance(cond, SumCondition):
        return _sum(cond, cuts, where)
    if isinstance(cond, ExternalCondition):
        return cond.external + (f"{cond.bx:+d}" if cond.bx else "")
    if isinstance(cond, SignalCondition):
        return cond.signal
    kind = "a score column" if hasattr(cond, "score") else "an always-true condition"
    msg = f"{where}: {kind} has no utm form (uGT anomaly scores and zero bias are their own signals)"
    raise MenuError(msg)


def seed_expression(name: str, conditions: Sequence[Condition]) -> tuple[str, dict[str, CutDef]]:
    """The utm expression (AND of the conditions) of a native seed and the cuts it names."""
    cuts: dict[str, Any] = {}
    parts = [_condition(c, cuts, f"seed {name}") for c in conditions]
    text = " AND ".join(f"({p})" if " AND " in p and len(parts) > 1 else p for p in parts)
    return text, cuts
