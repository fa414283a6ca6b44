"""What a menu holds, as plain data: ``l1emu menu inspect`` underneath.

Per seed: its algorithm index, prescale in the chosen column, expression (or l1emu
conditions), the grammar features it uses, and why it cannot be evaluated when it cannot.

>>> from emulator.menu import load_menu
>>> info = inspect_menu(load_menu("configs/menus/cms2024.yaml"))
>>> info["enabled"] == len(info["seeds"]) - sum(1 for s in info["seeds"] if not s["enabled"])
True
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from emulator.menu._conditions import KINDS, OFFSET_MUONS
from emulator.menu._config import SeedConfig
from emulator.menu._evaluate import offset_collections
from emulator.menu._grammar import And, Atom, Function, Node, Not, atoms, functions
from emulator.menu.menu import Menu
from streams.schema import neighbour_column

__all__ = ["format_inspection", "inspect_menu", "seed_features"]

_KEY = {cls: key for key, cls in KINDS.items()}


def _logic(node: Node) -> set[str]:
    if isinstance(node, Atom | Function):
        return set()
    if isinstance(node, Not):
        return {"NOT"} | _logic(node.operand)
    out = {"AND" if isinstance(node, And) else "OR"}
    for op in node.operands:
        out |= _logic(op)
    return out


def seed_features(seed: SeedConfig, cut_types: dict[str, str]) -> list[str]:
    """Grammar features of a seed: functions, objects, ``OBJECT-CUT`` and function-cut types, logic, bx."""
    if seed.utm is None:
        return sorted({f"l1emu:{_KEY[type(c)]}" for c in seed.conditions})
    tree = seed.utm.tree
    out = {f.name for f in functions(tree)} | _logic(tree)
    for a in atoms(tree):
        out.add("EXT" if a.name.startswith("EXT_") else a.name)
        out |= {f"{a.name}-{cut_types.get(c, '?')}" for c in a.cuts}
        if a.bx:
            out.add("bx offset")
    out |= {cut_types.get(c, "?") for f in functions(tree) for c in f.cuts}
    return sorted(out)


def inspect_menu(menu: Menu, column: str | None = None) -> dict[str, Any]:
    """The menu's seeds, prescales in ``column`` (default: the menu's), features and unsupported seeds."""
    col = column or menu.default_column
    prescales = menu.prescale_values(col)
    cut_types = {c.name: c.type for c in menu.config.cuts}
    seeds, features = [], Counter[str]()
    masks = zip(np.asarray(menu.finor_mask), np.asarray(menu.veto_mask), strict=True)
    for s, hw, p, (finor, veto) in zip(menu.config.seeds, menu.hw_seeds, prescales, masks, strict=True):
        feats = seed_features(s, cut_types)
        features.update(feats)
        entry: dict[str, Any] = {
            "name": s.name, "index": None if s.utm is None else s.utm.index,
            "prescale": int(p) if p == int(p) else float(p), "enabled": bool(p != 0),
            "expression": None if s.utm is None else s.utm.expression, "features": feats,
        }  # fmt: skip
        if not finor:
            entry["finor_masked"] = True
        if veto:
            entry["veto"] = True
        if s.unsupported:
            entry["unsupported"] = s.unsupported
        other = [f"{neighbour_column('mu', OFFSET_MUONS[c])}_*" for c in offset_collections(hw)]
        if other:
            entry["needs_columns"] = other  # another crossing's muons: a sample without them never fires it
        seeds.append(entry)
    unsupported = menu.unsupported
    enabled = [e["name"] for e in seeds if e["enabled"]]
    return {
        "name": menu.name,
        "source": menu.config.path,
        "column": col,
        "columns": list(menu.columns),
        "seeds": seeds,
        "n_seeds": len(seeds),
        "enabled": len(enabled),
        "enabled_evaluated": sum(1 for n in enabled if n not in unsupported),
        "unsupported": unsupported,
        "unsupported_enabled": {n: unsupported[n] for n in enabled if n in unsupported},
        "features": dict(sorted(features.items(), key=lambda kv: (-kv[1], kv[0]))),
        "meta": dict(menu.config.meta),
    }


def format_inspection(info: dict[str, Any], *, width: int = 100) -> str:
    """A readable summary of :func:`inspect_menu`'s data (one line per seed)."""
    head = (
        f"menu {info['name']} ({info['source']}): {info['n_seeds']} seeds, {info['enabled']} enabled in column "
        f"{info['column']!r} ({info['enabled_evaluated']} evaluated, {len(info['unsupported_enabled'])} need "
        f"event columns the event model lacks); columns: {', '.join(info['columns'])}"
    )
    lines = [
        head,
        "",
        f"{'index':>5}  {'seed':<52} {'prescale':>9}  status       expression",
    ]
    for s in info["seeds"]:
        status = "unsupported" if "unsupported" in s else "ok" if s["enabled"] else "disabled"
        text = s["expression"] or ", ".join(s["features"])
        text = text if len(text) <= width else text[: width - 1] + "…"
        index = "" if s["index"] is None else s["index"]
        lines.append(f"{index:>5}  {s['name']:<52} {s['prescale']:>9}  {status:<12} {text}")
    lines += ["", "features (seeds using each): " + ", ".join(f"{k} {v}" for k, v in info["features"].items())]
    if info["unsupported"]:
        lines += ["", f"unsupported ({len(info['unsupported'])} seeds; * = enabled):"]
        for name, reason in info["unsupported"].items():
            star = "*" if name in info["unsupported_enabled"] else " "
            lines.append(f" {star} {name}: {reason}")
    return "\n".join(lines)
